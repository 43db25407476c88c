#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "cryo/cleanup.h"
#include "cryo/cut.h"
#include "cryo/netlink.h"
#include "cryo/output.h"
#include "cryo/pcap.h"
#include "cryo/sockdiag.h"
#include "cryo/util.h"

#define CUT_FORMAT 1
#define MAX_ENTRIES 256
#define MAX_CANDIDATES 1024

/* One link of the container and what cutting it means. */
struct entry {
	struct cryo_link inside;   /* the container's side */
	bool has_peer;             /* a host-side peer exists (veth) */
	struct cryo_link peer;
	uint64_t peer_ns_ino;
	char peer_ns_ref[256];
	const char *how;           /* "peer-down" | "quarantine" | "inside-down" */
	cJSON *addresses;          /* of the acted-on link, restored afterwards */
	cJSON *routes;             /* through it: the kernel flushes them */
};

static void close_sock(struct nl_sock **sk)
{
	cryo_rtnl_close(*sk);
}
#define cleanup_nl __attribute__((cleanup(close_sock)))

static void close_ns(struct cryo_netns *ns)
{
	cryo_netns_close(ns);
}
#define cleanup_netns __attribute__((cleanup(close_ns)))

/* Namespaces that may hold a peer: ours, the named ones, then every
 * process's.  Only those the container has an nsid for are kept (the
 * kernel gives a peer's namespace one; RTM_GETNSID does not allocate), so
 * a host with thousands of namespaces costs a query each, not an fd each.
 * Deduplicated by inode; the container's own is skipped. */
struct candidate {
	struct cryo_netns ns;
	int32_t nsid;
};

struct candidates {
	struct candidate v[MAX_CANDIDATES];
	size_t n;
	struct nl_sock *csk; /* in the container's namespace */
	uint64_t skip_ino;
	bool scanned_proc;
};

#define NSID_UNASKED INT32_MIN

/* eager: ask the container's nsid for it now and keep it only if it has
 * one (the /proc scan: thousands of namespaces, no fd kept for nothing);
 * otherwise it is asked when needed (the host's and the named ones: few,
 * and the host's usually answers first). */
static void cand_add(struct candidates *c, const char *path, bool eager)
{
	if (c->n >= MAX_CANDIDATES)
		return;
	struct stat st;
	if (stat(path, &st) < 0 || st.st_ino == c->skip_ino)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].ns.ino == st.st_ino)
			return;
	struct candidate cand;
	struct cryo_error e;
	if (cryo_netns_open(path, &cand.ns, &e) < 0)
		return;
	cand.nsid = NSID_UNASKED;
	/* a namespace that vanished or will not answer is not the peer's */
	if (cand.ns.ino == c->skip_ino ||
	    (eager && (cryo_rtnl_nsid_of(c->csk, &cand.ns, &cand.nsid, &e) < 0 || cand.nsid < 0))) {
		cryo_netns_close(&cand.ns);
		return;
	}
	c->v[c->n++] = cand;
}

static void cand_add_dir(struct candidates *c, const char *dir, const char *suffix, bool eager)
{
	cleanup_closedir DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (suffix[0] && (de->d_name[0] < '0' || de->d_name[0] > '9'))
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s%s", dir, de->d_name, suffix);
		cand_add(c, path, eager);
	}
}

static void cand_free(struct candidates *c)
{
	for (size_t i = 0; i < c->n; i++)
		cryo_netns_close(&c->v[i].ns);
	c->n = 0;
}

/* Which namespace the container calls nsid. */
static int find_peer_ns(struct candidates *cands, int32_t nsid, struct cryo_netns **out,
			struct cryo_error *err)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cands->n; i++) {
			struct cryo_error e;
			if (cands->v[i].nsid == NSID_UNASKED &&
			    cryo_rtnl_nsid_of(cands->csk, &cands->v[i].ns, &cands->v[i].nsid, &e) < 0)
				cands->v[i].nsid = -1;
			if (cands->v[i].nsid == nsid) {
				*out = &cands->v[i].ns;
				return 0;
			}
		}
		if (cands->scanned_proc)
			break;
		/* not among the named ones: look at every process's */
		cand_add_dir(cands, "/proc", "/ns/net", true);
		cands->scanned_proc = true;
	}
	return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
			      "the namespace the container calls nsid %d is not ours, not in /run/netns or /run/docker/netns, and no process is in it",
			      nsid);
}

static cJSON *entry_json(const struct entry *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "inside", cryo_link_to_json(&e->inside));
	if (e->has_peer) {
		cJSON_AddItemToObject(o, "peer", cryo_link_to_json(&e->peer));
		cryo_json_num(o, "peer_netns", (double)e->peer_ns_ino);
		cryo_json_str(o, "peer_netns_ref", e->peer_ns_ref);

	} else {
		cJSON_AddNullToObject(o, "peer");
	}
	cryo_json_str(o, "how", e->how);
	if (e->addresses)
		cJSON_AddItemToObject(o, "addresses", e->addresses);
	if (e->routes)
		cJSON_AddItemToObject(o, "routes", e->routes);
	return o;
}

static int save_plan(struct cryo_case *k, cJSON *plan, const char *state,
		     struct cryo_custody_entry *ce, struct cryo_error *err)
{
	cJSON_ReplaceItemInObjectCaseSensitive(plan, "state", cJSON_CreateString(state));
	char now[40];
	cryo_format_utc_ns(cryo_now_realtime_ns(), now, sizeof(now));
	cJSON_ReplaceItemInObjectCaseSensitive(plan, "updated", cJSON_CreateString(now));
	cleanup_free char *text = cJSON_Print(plan);
	if (!text)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "cut state");
	cleanup_free char *line = cryo_strdup_printf("%s\n", text);
	/* the final record is the artifact; intermediate ones are not logged */
	return cryo_case_write_artifact(k, CRYO_CUT_STATE, line, strlen(line),
					strcmp(state, "cutting") ? ce : NULL, err);
}

static int load_plan(struct cryo_case *k, cJSON **plan, struct cryo_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_case_read_artifact(k, CRYO_CUT_STATE, 4u << 20, &text, &len, err) < 0) {
		if (err->errnum == ENOENT)
			return 0;
		return -1;
	}
	cJSON *j = cryo_json_parse(text, len);
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(j, "links");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
	if (!cJSON_IsObject(j) || !cJSON_IsArray(links) || !cJSON_IsNumber(fmt) ||
	    fmt->valuedouble != CUT_FORMAT || !cryo_json_get_str(j, "state")) {
		cJSON_Delete(j);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "%s/%s is corrupt or of another format; not acting on it", k->path,
				      CRYO_CUT_STATE);
	}
	*plan = j;
	return 1;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One recorded link checked against reality.  Fills sk (an rtnl socket in
 * the link's namespace) and now (its current state).  Refuses when the
 * link vanished or was renamed. */
static int locate(const cJSON *rec, const char *ns_ref, uint64_t ns_ino, struct nl_sock **sk,
		  struct cryo_link *now, struct cryo_error *err)
{
	cleanup_netns struct cryo_netns ns = { .fd = -1 };
	if (cryo_netns_find(ns_ino, ns_ref, &ns, err) < 0)
		return -1;
	if (cryo_rtnl_open(&ns, sk, err) < 0)
		return -1;
	struct cryo_links links;
	if (cryo_rtnl_links(*sk, &links, err) < 0)
		return -1;
	int ifindex = (int)num(rec, "ifindex");
	const char *name = cryo_json_get_str(rec, "name");
	const struct cryo_link *l = cryo_links_find(&links, ifindex);
	if (!l || !name || strcmp(l->name, name) != 0) {
		char safe[64];
		cryo_text_safe(l ? l->name : "", safe, sizeof(safe));
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
			       "link %s (ifindex %d) in namespace %llu %s%s%s; the record no longer matches reality",
			       name ? name : "?", ifindex, (unsigned long long)ns_ino,
			       l ? "was renamed to '" : "vanished", l ? safe : "", l ? "'" : "");
		cryo_links_free(&links);
		return -1;
	}
	*now = *l;
	cryo_links_free(&links);
	return 0;
}

/* The link a plan entry acts on: the peer, or the inside link. */
static int entry_target(const cJSON *e, const cJSON *plan, const cJSON **rec, const char **ref,
			uint64_t *ino)
{
	const char *how = cryo_json_get_str(e, "how");
	if (!how)
		return -1;
	if (strcmp(how, "peer-down") == 0 || strcmp(how, "quarantine") == 0) {
		*rec = cJSON_GetObjectItemCaseSensitive(e, "peer");
		*ref = cryo_json_get_str(e, "peer_netns_ref");
		*ino = (uint64_t)num(e, "peer_netns");
	} else {
		*rec = cJSON_GetObjectItemCaseSensitive(e, "inside");
		*ref = cryo_json_get_str(plan, "container_netns_ref");
		*ino = (uint64_t)num(plan, "container_netns");
	}
	return cJSON_IsObject(*rec) ? 0 : -1;
}

static bool rec_up(const cJSON *rec)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "up"));
}

static bool is_quarantine(const cJSON *e)
{
	const char *how = cryo_json_get_str(e, "how");
	return how && strcmp(how, "quarantine") == 0;
}

static int no_ipv6(void *unused)
{
	(void)unused;
	static const char *const knobs[] = { "/proc/sys/net/ipv6/conf/all/disable_ipv6",
					     "/proc/sys/net/ipv6/conf/default/disable_ipv6" };
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(knobs); i++) {
		int fd = open(knobs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				return 0; /* a kernel without IPv6 */
			return errno;
		}
		ssize_t w = write(fd, "1", 1);
		int e = errno;
		close(fd);
		if (w != 1)
			return e;
	}
	return 0;
}

/* The quarantine namespace of a plan: made on a cut, opened otherwise
 * (absent when nothing was ever moved there). */
static int quarantine_ns(const cJSON *plan, bool create, struct cryo_netns *q, bool *exists,
			 struct cryo_error *err)
{
	const char *name = cryo_json_get_str(plan, "quarantine_netns_name");
	char path[PATH_MAX];
	*exists = false;
	if (!name)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "cut state: quarantine without a namespace name");
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	struct cryo_error e2;
	if (cryo_netns_open(path, q, &e2) == 0) {
		*exists = true;
		return 0;
	}
	if (!create)
		return 0;
	if (cryo_netns_create_named(name, q, err) < 0)
		return -1;
	*exists = true;
	/* No IPv6 there: a link-local address on the quarantined peer would
	 * answer the container (neighbour discovery, ping6). */
	if (cryo_netns_run(q, no_ipv6, NULL, err) < 0) {
		struct cryo_error e3;
		cryo_netns_close(q);
		cryo_netns_delete_named(name, &e3);
		*exists = false;
		return cryo_error_wrap(err, "quarantine namespace %s", name);
	}
	return 0;
}

/* Where a quarantined peer is now: in its own namespace (as recorded) or
 * in the quarantine namespace (found by name: its ifindex may change). */
enum where { IN_ORIG, IN_QUARANTINE };

static int q_locate(const cJSON *rec, const char *ref, uint64_t ino, struct cryo_netns *q,
		    bool q_exists, enum where *w, struct nl_sock **sk, struct cryo_link *now,
		    struct cryo_error *err)
{
	if (q_exists) {
		struct nl_sock *qsk = NULL;
		struct cryo_links ql;
		if (cryo_rtnl_open(q, &qsk, err) < 0)
			return -1;
		if (cryo_rtnl_links(qsk, &ql, err) < 0) {
			cryo_rtnl_close(qsk);
			return -1;
		}
		const char *name = cryo_json_get_str(rec, "name");
		const struct cryo_link *l = name ? cryo_links_find_name(&ql, name) : NULL;
		if (l) {
			*now = *l;
			*w = IN_QUARANTINE;
			*sk = qsk;
			cryo_links_free(&ql);
			return 0;
		}
		cryo_links_free(&ql);
		cryo_rtnl_close(qsk);
	}
	*w = IN_ORIG;
	return locate(rec, ref, ino, sk, now, err);
}

/* Something that could not be done as asked: the run goes on with the
 * rest and ends partial (exit 2), every problem listed. */
static void add_problem(cJSON *result, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(cJSON *result, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(result, "problems");
	if (!arr)
		arr = cJSON_AddArrayToObject(result, "problems");
	cJSON_AddItemToArray(arr, cJSON_CreateString(msg));
}

/* After a link is back up: its addresses (IPv6 ones go with the link
 * going down, all of them with a move between namespaces) and the routes
 * through it, which the kernel flushed.  One that will not go back must
 * not keep the other links cut: each failure is a problem and the restore
 * goes on. */
static void restore_extras(struct nl_sock *sk, const cJSON *e, const cJSON *rec, int ifindex,
			   cJSON *result)
{
	const cJSON *x;
	struct cryo_error e2;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "addresses"))
		if (cJSON_IsString(x) && cryo_rtnl_addr_add(sk, ifindex, x->valuestring, &e2) < 0)
			add_problem(result, "not restored: %s", e2.msg);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "routes"))
		if (cryo_rtnl_route_add(sk, x, (int)num(rec, "ifindex"), ifindex, &e2) < 0)
			add_problem(result, "not restored: %s", e2.msg);
}

/* Bring a quarantined peer to where it should be: into the quarantine
 * namespace and up (cut), or home with its master, addresses and flags
 * (restore). */
static int q_apply(const cJSON *e, const cJSON *rec, const char *ref, uint64_t ino, bool cut,
		   struct cryo_netns *q, enum where w, struct nl_sock *sk, const struct cryo_link *now,
		   cJSON *result, struct cryo_error *err)
{
	const char *name = cryo_json_get_str(rec, "name");
	cleanup_netns struct cryo_netns home = { .fd = -1 };
	if (!cut && cryo_netns_find(ino, ref, &home, err) < 0)
		return -1;
	struct cryo_netns *dest = cut ? q : &home;
	if ((cut && w == IN_ORIG) || (!cut && w == IN_QUARANTINE)) {
		if (cryo_rtnl_link_move(sk, now->ifindex, dest, err) < 0)
			return -1;
	}
	cleanup_nl struct nl_sock *dsk = NULL;
	struct cryo_links dl;
	if (cryo_rtnl_open(dest, &dsk, err) < 0 || cryo_rtnl_links(dsk, &dl, err) < 0)
		return -1;
	const struct cryo_link *l = cryo_links_find_name(&dl, name);
	if (!l) {
		cryo_links_free(&dl);
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "link %s not found after the move", name);
	}
	int ifindex = l->ifindex, master = l->master;
	cryo_links_free(&dl);
	if (cut)
		return cryo_rtnl_link_set_up(dsk, ifindex, true, err);
	int rec_master = (int)num(rec, "master");
	if (rec_master > 0 && master != rec_master && cryo_rtnl_link_set_master(dsk, ifindex, rec_master, err) < 0)
		return -1;
	if (cryo_rtnl_link_set_up(dsk, ifindex, rec_up(rec), err) < 0)
		return -1;
	if (rec_up(rec))
		restore_extras(dsk, e, rec, ifindex, result);
	return 0;
}

/* Put every link of the plan down or into quarantine (cut), or back to its
 * recorded state (restore).  Every link is checked against reality before
 * anything changes; one that vanished, was renamed or is no longer what
 * was recorded is a problem and is left alone, and the others are still
 * acted on: one link the container controls must not keep the rest up.
 * Returns -1 only when nothing could be done. */
static int apply(cJSON *plan, bool cut, cJSON *result, uint64_t *t_done, int *changed,
		 int *link_problems, struct cryo_error *err)
{
	cJSON *report = cJSON_GetObjectItemCaseSensitive(result, "links");
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(plan, "links"), *e;
	size_t n = (size_t)cJSON_GetArraySize(links), i = 0;
	struct nl_sock **socks = calloc(n ? n : 1, sizeof(*socks));
	struct cryo_link *now = calloc(n ? n : 1, sizeof(*now));
	enum where *where = calloc(n ? n : 1, sizeof(*where));
	bool *skip = calloc(n ? n : 1, sizeof(*skip));
	cleanup_netns struct cryo_netns q = { .fd = -1 };
	bool q_exists = false, any_q = false;
	int rc = 0, problems = 0;
	if (!socks || !now || !where || !skip) {
		rc = cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "cut");
		goto out;
	}
	cJSON_ArrayForEach(e, links)
		any_q |= is_quarantine(e);
	if (any_q && quarantine_ns(plan, false, &q, &q_exists, err) < 0) {
		rc = -1;
		goto out;
	}
	cJSON_ArrayForEach(e, links) {
		const cJSON *rec;
		const char *ref;
		uint64_t ino;
		struct cryo_error e2;
		if (i >= n)
			break;
		skip[i] = true;
		if (entry_target(e, plan, &rec, &ref, &ino) < 0) {
			add_problem(result, "cut state: bad link entry %zu; left alone", i);
		} else if ((is_quarantine(e) ? q_locate(rec, ref, ino, &q, q_exists, &where[i], &socks[i], &now[i], &e2)
					     : locate(rec, ref, ino, &socks[i], &now[i], &e2)) < 0) {
			add_problem(result, "%s; left alone", e2.msg);
		} else if (strcmp(cryo_json_get_str(e, "how"), "inside-down") != 0 && strcmp(now[i].kind, "veth") != 0) {
			/* a record edited to name one of the host's own links */
			char safe[32];
			add_problem(result, "link %s in namespace %llu is not a veth peer (kind '%s'); left alone",
				    now[i].name, (unsigned long long)ino, cryo_text_safe(now[i].kind, safe, sizeof(safe)));
		} else {
			skip[i] = false;
		}
		problems += skip[i];
		i++;
	}
	if (problems == (int)n && n > 0) {
		rc = cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "no recorded link could be found: %s",
				    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(result, "problems"), 0)->valuestring);
		goto out;
	}
	/* everything checked: only now may a quarantine namespace appear */
	if (any_q && cut && !q_exists && quarantine_ns(plan, true, &q, &q_exists, err) < 0) {
		rc = -1;
		goto out;
	}
	i = 0;
	cJSON_ArrayForEach(e, links) {
		const cJSON *rec;
		const char *ref;
		uint64_t ino;
		if (i >= n)
			break;
		if (skip[i++])
			continue;
		size_t k = i - 1;
		entry_target(e, plan, &rec, &ref, &ino);
		bool q_entry = is_quarantine(e);
		/* quarantined peers stay up, in the quarantine namespace */
		bool want_up = cut ? q_entry : rec_up(rec);
		bool is_up = now[k].flags & IFF_UP;
		bool moves = q_entry && ((cut && where[k] == IN_ORIG) || (!cut && where[k] == IN_QUARANTINE));
		cJSON *r = cJSON_CreateObject();
		cryo_json_str(r, "link", now[k].name);
		cryo_json_str(r, "how", cryo_json_get_str(e, "how"));
		cryo_json_bool(r, "was_up", is_up);
		cryo_json_bool(r, "up", want_up);
		if (q_entry)
			cryo_json_str(r, "netns", cut ? "quarantine" : "home");
		cJSON_AddItemToArray(report, r);
		struct cryo_error e2;
		int ok = q_entry ? q_apply(e, rec, ref, ino, cut, &q, where[k], socks[k], &now[k], result, &e2)
				 : (want_up == is_up ? 0
						     : cryo_rtnl_link_set_up(socks[k], now[k].ifindex, want_up, &e2));
		if (ok == 0 && !cut && !q_entry && want_up)
			restore_extras(socks[k], e, rec, now[k].ifindex, result);
		cryo_json_bool(r, "changed", ok == 0 && (want_up != is_up || moves));
		if (ok < 0) {
			cryo_json_str(r, "problem", e2.msg);
			add_problem(result, "%s: %s", now[k].name, e2.msg);
			problems++;
		} else if (want_up != is_up || moves) {
			(*changed)++;
		}
	}
	*t_done = cryo_now_monotonic_ns();
	*link_problems = problems;
	if (!cut && q_exists && problems == 0) {
		/* everything is home: the quarantine namespace goes */
		cryo_netns_close(&q);
		if (cryo_netns_delete_named(cryo_json_get_str(plan, "quarantine_netns_name"), err) < 0)
			rc = -1;
	}
out:
	for (size_t k = 0; k < n && socks; k++)
		cryo_rtnl_close(socks[k]);
	free(socks);
	free(now);
	free(where);
	free(skip);
	return rc;
}

/* The recorder a plan names, if it still runs: same pid, same start time
 * and the name it gives itself, so a reused pid or an edited record never
 * gets a signal meant for the recorder. */
static bool recorder_alive(const cJSON *p)
{
	pid_t pid = (pid_t)num(p, "recorder_pid");
	struct cryo_proc_stat st;
	struct cryo_error e;
	if (pid <= 1 || cryo_proc_stat_read(pid, &st, &e) < 0 || (double)st.start_time != num(p, "recorder_start"))
		return false;
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return strcmp(comm, CRYO_PCAP_COMM "\n") == 0;
}

/* Record what the quarantined container sends: a recorder on the whole
 * quarantine namespace (loopback left out), started before any link moves
 * there.  Its pid and start time go into the plan so restore can stop it. */
static int start_pcap(const struct cryo_cut_request *req, cJSON *plan, cJSON *result,
		      struct cryo_error *err)
{
	const cJSON *e;
	bool any = false;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(plan, "links"))
		any |= is_quarantine(e);
	if (!any)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				      "--pcap: no link to quarantine (no host-side veth peer)");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(plan, "pcap");
	if (recorder_alive(old))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "a recorder is already running for this cut (pid %d)",
				      (int)num(old, "recorder_pid"));
	cleanup_netns struct cryo_netns q = { .fd = -1 };
	bool exists;
	if (quarantine_ns(plan, true, &q, &exists, err) < 0)
		return -1;
	char target[160];
	snprintf(target, sizeof(target), "%s", req->c->id);
	struct cryo_pcap_request pr = {
		.ns = &q, .ifindex = 0, .path = req->pcap_path, .max_bytes = req->pcap_max_bytes,
		.max_seconds = req->pcap_seconds, .case_path = req->kase->path, .target = target,
	};
	pid_t pid;
	if (cryo_pcap_start(&pr, &pid, err) < 0)
		return -1;
	struct cryo_proc_stat st;
	struct cryo_error e2;
	cJSON *p = cJSON_CreateObject();
	cryo_json_str(p, "path", req->pcap_path);
	cryo_json_num(p, "recorder_pid", pid);
	cryo_json_num(p, "recorder_start", cryo_proc_stat_read(pid, &st, &e2) == 0 ? (double)st.start_time : 0);
	cryo_json_num(p, "max_bytes", (double)req->pcap_max_bytes);
	cryo_json_num(p, "max_seconds", req->pcap_seconds);
	cJSON_AddItemToObject(result, "pcap", cJSON_Duplicate(p, 1));
	cJSON_DeleteItemFromObjectCaseSensitive(plan, "pcap");
	cJSON_AddItemToObject(plan, "pcap", p);
	return 0;
}

/* Restore ends the capture: the recorder finishes its file and logs it. */
static void stop_recorder(const cJSON *plan, cJSON *result)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(plan, "pcap");
	if (!recorder_alive(p))
		return; /* finished already, or the pid is someone else's now */
	pid_t pid = (pid_t)num(p, "recorder_pid");
	if (kill(pid, SIGTERM) == 0)
		cryo_json_num(result, "stopped_recorder", pid);
}

/* The snapshot of the namespace before the cut, under the first free
 * name: evidence is never overwritten, a later cut of the same case gets
 * state-before-cut.2.json, and so on. */
static int write_snapshot(const struct cryo_cut_request *req, const char *text, char *snap,
			  size_t size, struct cryo_error *err)
{
	snprintf(snap, size, "%s", CRYO_NET_BEFORE);
	for (int i = 2; i <= 1000; i++) {
		if (cryo_case_write_artifact_new(req->kase, snap, text, strlen(text), req->entry, err) == 0)
			return 0;
		if (err->errnum != EEXIST)
			return -1;
		snprintf(snap, size, "net/state-before-cut.%d.json", i);
	}
	return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0, "too many snapshots in %s/net", req->kase->path);
}

/* A veth's peer in its own namespace, with the addresses and routes a
 * restore puts back. */
static int resolve_peer(struct candidates *cands, const struct cryo_link *l, struct entry *en,
			struct cryo_error *err)
{
	struct cryo_netns *pns = NULL;
	if (find_peer_ns(cands, l->link_netnsid, &pns, err) < 0)
		return -1;
	cleanup_nl struct nl_sock *psk = NULL;
	struct cryo_links plinks;
	if (cryo_rtnl_open(pns, &psk, err) < 0 || cryo_rtnl_links(psk, &plinks, err) < 0)
		return -1;
	const struct cryo_link *p = cryo_links_find(&plinks, l->link);
	if (!p || strcmp(p->kind, "veth") != 0) {
		cryo_links_free(&plinks);
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "peer ifindex %d %s in namespace %s",
				      l->link, p ? "is not a veth" : "not found", pns->ref);
	}
	en->peer = *p;
	cryo_links_free(&plinks);
	if (!(en->addresses = cryo_rtnl_addrs_of(psk, en->peer.ifindex, err)) ||
	    !(en->routes = cryo_rtnl_routes_of(psk, en->peer.ifindex, err))) {
		cJSON_Delete(en->addresses);
		en->addresses = NULL;
		return -1;
	}
	en->has_peer = true;
	en->peer_ns_ino = pns->ino;
	snprintf(en->peer_ns_ref, sizeof(en->peer_ns_ref), "%s", pns->ref);
	return 0;
}

static bool has_outside_peer(const struct cryo_link *l)
{
	return strcmp(l->kind, "veth") == 0 && l->link_netnsid >= 0 && l->link > 0;
}

static int do_plan(const struct cryo_cut_request *req, struct cryo_netns *cns, cJSON **plan_out,
		   cJSON *result, struct cryo_error *err)
{
	const struct cryo_container *c = req->c;
	cleanup_nl struct nl_sock *csk = NULL;
	if (cryo_rtnl_open(cns, &csk, err) < 0)
		return -1;
	/* the evidence first: the namespace as it was, before any change */
	cleanup_cjson cJSON *state = cryo_rtnl_state_json(csk, err);
	if (!state)
		return cryo_error_wrap(err, "network state of the container");
	/* its sockets too, with the processes that hold them; without them
	 * the cut still goes on: containment comes first */
	struct cryo_pids pids = { 0 };
	char dir[PATH_MAX];
	cryo_container_v2_dir(req->roots, c, dir, sizeof(dir));
	if (!dir[0])
		cryo_container_freezer_dir(req->roots, c, dir, sizeof(dir));
	struct cryo_error perr;
	if (dir[0] && cryo_cgroup_pids(dir, false, &pids, &perr) < 0)
		add_problem(result, "socket owners not matched: %s", perr.msg);
	cJSON *socks = cryo_sockets_json(cns, &pids, &perr);
	cryo_pids_free(&pids);
	if (socks)
		cJSON_AddItemToObject(state, "sockets", socks);
	else
		add_problem(result, "sockets not recorded: %s", perr.msg);
	cleanup_free char *text = cJSON_Print(state);
	cleanup_free char *line = text ? cryo_strdup_printf("%s\n", text) : NULL;
	char snap[64];
	if (!line)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "network state");
	if (write_snapshot(req, line, snap, sizeof(snap), err) < 0)
		return -1;

	struct cryo_links links;
	if (cryo_rtnl_links(csk, &links, err) < 0)
		return -1;
	struct candidates *cands = calloc(1, sizeof(*cands));
	if (!cands) {
		cryo_links_free(&links);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "cut");
	}
	cands->csk = csk;
	cands->skip_ino = cns->ino;
	cand_add(cands, "/proc/self/ns/net", false);
	if (cands->n)
		snprintf(cands->v[0].ns.ref, sizeof(cands->v[0].ns.ref), "host");
	cand_add_dir(cands, "/run/netns", "", false);
	cand_add_dir(cands, "/run/docker/netns", "", false);

	cleanup_cjson cJSON *plan = cJSON_CreateObject();
	cryo_json_num(plan, "format", CUT_FORMAT);
	cryo_json_str(plan, "state", "planned");
	cryo_json_str(plan, "updated", "");
	bool quarantine = req->mode == CRYO_CUT_MODE_QUARANTINE;
	cryo_json_str(plan, "mode", quarantine ? "quarantine" : "down");
	if (quarantine) {
		char qname[96];
		snprintf(qname, sizeof(qname), "cryo-q-%s", req->kase->id);
		cryo_json_str(plan, "quarantine_netns_name", qname);
	}
	cryo_container_json_identity(plan, c);
	cryo_json_num(plan, "init_pid", c->init_pid);
	cryo_json_num(plan, "container_netns", (double)cns->ino);
	cryo_json_str(plan, "snapshot", snap);
	char ref[64];
	snprintf(ref, sizeof(ref), "/proc/%d/ns/net", (int)c->init_pid);
	cryo_json_str(plan, "container_netns_ref", ref);
	cJSON *jl = cJSON_AddArrayToObject(plan, "links");
	cJSON *warnings = cJSON_GetObjectItemCaseSensitive(result, "warnings");
	int planned = 0;
	/* Links with a peer outside first: they are the cables.  A container
	 * that made hundreds of links of its own then fills the bound with
	 * its decoys, not in place of the real ones. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < links.n; i++) {
			const struct cryo_link *l = &links.v[i];
			char safe[32];
			cryo_text_safe(l->name, safe, sizeof(safe));
			if ((l->flags & IFF_LOOPBACK) || has_outside_peer(l) != (pass == 0))
				continue;
			if (planned >= MAX_ENTRIES) {
				add_problem(result, "more than %d links: %s and the ones after it were not cut",
					    MAX_ENTRIES, safe);
				pass = 2;
				break;
			}
			struct entry en = { .inside = *l };
			struct cryo_error e2;
			if (pass == 0 && resolve_peer(cands, l, &en, &e2) == 0) {
				en.how = quarantine ? "quarantine" : "peer-down";
			} else {
				if (pass == 0)
					add_problem(result, "peer of %s unreachable (%s): cut inside the container instead",
						    safe, e2.msg);
				/* macvlan, ipvlan, a veth whose peer is inside too, ...:
				 * only the inside can be cut, and root inside can undo it */
				en.how = "inside-down";
				char msg[256];
				snprintf(msg, sizeof(msg),
					 "%s (%s) has no host-side peer: cut inside the container, where a root process with CAP_NET_ADMIN could undo it",
					 safe, l->kind[0] ? l->kind : "no kind");
				cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
				if (!(en.addresses = cryo_rtnl_addrs_of(csk, l->ifindex, &e2)) ||
				    !(en.routes = cryo_rtnl_routes_of(csk, l->ifindex, &e2))) {
					/* cut it all the same; restore will lack them */
					add_problem(result, "addresses and routes of %s not recorded: %s", safe, e2.msg);
					cJSON_Delete(en.addresses);
					en.addresses = NULL;
				}
			}
			cJSON_AddItemToArray(jl, entry_json(&en));
			planned++;
		}
	}
	cryo_links_free(&links);
	cand_free(cands);
	free(cands);
	*plan_out = steal_pointer(&plan);
	return 0;
}

/* Does reality match "cut" for every entry?  A quarantined peer counts as
 * cut while it sits in the quarantine namespace. */
static int reality(cJSON *plan, cJSON *links_out, int *n_up, int *n_down, struct cryo_error *err)
{
	const cJSON *e;
	*n_up = *n_down = 0;
	cleanup_netns struct cryo_netns q = { .fd = -1 };
	bool q_exists = false;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(plan, "links"))
		if (is_quarantine(e) && !q_exists && q.fd < 0 && quarantine_ns(plan, false, &q, &q_exists, err) < 0)
			return -1;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(plan, "links")) {
		const cJSON *rec;
		const char *ref;
		uint64_t ino;
		if (entry_target(e, plan, &rec, &ref, &ino) < 0)
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "cut state: bad link entry");
		cleanup_nl struct nl_sock *sk = NULL;
		struct cryo_link now;
		enum where w = IN_ORIG;
		cJSON *r = cJSON_CreateObject();
		cryo_json_str(r, "link", cryo_json_get_str(rec, "name"));
		cryo_json_str(r, "how", cryo_json_get_str(e, "how"));
		cryo_json_bool(r, "recorded_up", rec_up(rec));
		cJSON_AddItemToArray(links_out, r);
		if ((is_quarantine(e) ? q_locate(rec, ref, ino, &q, q_exists, &w, &sk, &now, err)
				      : locate(rec, ref, ino, &sk, &now, err)) < 0) {
			cryo_json_str(r, "problem", err->msg);
			continue;
		}
		cryo_json_bool(r, "up", now.flags & IFF_UP);
		if (is_quarantine(e))
			cryo_json_str(r, "netns", w == IN_QUARANTINE ? "quarantine" : "home");
		bool connected = is_quarantine(e) ? w == IN_ORIG && (now.flags & IFF_UP) : (now.flags & IFF_UP);
		if (connected)
			(*n_up)++;
		else
			(*n_down)++;
	}
	return 0;
}

/* A record about to be acted on must describe this container's namespace
 * as it is now, and nothing of the host's: the case directory is evidence,
 * not a source of orders. */
static int check_record(const struct cryo_cut_request *req, const cJSON *plan, const struct cryo_netns *cns,
			const struct cryo_netns *host, struct cryo_error *err)
{
	uint64_t rec_ns = (uint64_t)num(plan, "container_netns");
	if (rec_ns == host->ino)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "%s/%s names the host's network namespace as the container's; not acting on it",
				      req->kase->path, CRYO_CUT_STATE);
	if (rec_ns != cns->ino)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "%s/%s was made for network namespace %llu, the container is in %llu now (restarted?); not acting on it",
				      req->kase->path, CRYO_CUT_STATE, (unsigned long long)rec_ns,
				      (unsigned long long)cns->ino);
	const char *q = cryo_json_get_str(plan, "quarantine_netns_name");
	char want[96];
	snprintf(want, sizeof(want), "cryo-q-%s", req->kase->id);
	if (q && strcmp(q, want) != 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "%s/%s names a quarantine namespace other than %s; not acting on it",
				      req->kase->path, CRYO_CUT_STATE, want);
	return 0;
}

static bool state_is(const char *state, const char *a, const char *b, const char *c)
{
	return !strcmp(state, a) || (b && !strcmp(state, b)) || (c && !strcmp(state, c));
}

int cryo_cut_run(const struct cryo_cut_request *req, cJSON **result_out, struct cryo_error *err)
{
	const struct cryo_container *c = req->c;
	cleanup_cjson cJSON *result = cJSON_CreateObject();
	cryo_json_str(result, "action", req->op == CRYO_CUT ? "cut" : req->op == CRYO_CUT_RESTORE ? "restore" : "status");
	cryo_container_json_identity(result, c);
	cJSON_AddArrayToObject(result, "warnings");
	cJSON *report = cJSON_AddArrayToObject(result, "links");
	*result_out = NULL;
	uint64_t t0 = cryo_now_monotonic_ns(), t_done = 0;

	cleanup_cjson cJSON *plan = NULL;
	cleanup_netns struct cryo_netns cns = { .fd = -1 }, host = { .fd = -1 };
	cleanup_close int lock = -1;
	if (req->op != CRYO_CUT_STATUS && (lock = cryo_case_lock(req->kase, "cryo-cut", err)) < 0)
		goto fail;
	int have = load_plan(req->kase, &plan, err);
	if (have < 0)
		goto fail;
	/* a copy: save_plan() replaces the record's "state" string */
	char state[32];
	snprintf(state, sizeof(state), "%s", have ? cryo_json_get_str(plan, "state") : "none");
	if (have && strcmp(cryo_json_get_str(plan, "id") ? cryo_json_get_str(plan, "id") : "", c->id) != 0) {
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				    "%s/%s records container %s, not %s", req->kase->path, CRYO_CUT_STATE,
				    cryo_json_get_str(plan, "id") ? cryo_json_get_str(plan, "id") : "?", c->id);
		goto fail;
	}

	if (req->op == CRYO_CUT_STATUS) {
		cryo_json_str(result, "recorded", state);
		if (!have) {
			cryo_json_str(result, "state", "not cut (nothing recorded in this case)");
			goto done;
		}
		int up, down;
		if (reality(plan, report, &up, &down, err) < 0)
			goto fail;
		int problems = cJSON_GetArraySize(report) - up - down;
		const char *s = up == 0 && down > 0 ? "cut" : down == 0 ? "connected" : "partially cut";
		if (cJSON_GetArraySize(report) == 0)
			s = "nothing to cut (no link besides loopback)";
		if (problems)
			s = "the record no longer matches reality (see PROBLEM)";
		if (!strcmp(state, "cutting") && !problems)
			s = up ? "interrupted while cutting: some links still up (cryo-cut again finishes, --restore undoes)"
			       : "cut (the record says it was interrupted before confirming)";
		cryo_json_str(result, "state", s);
		goto done;
	}

	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->init_pid);
	if (cryo_netns_open(path, &cns, err) < 0 || cryo_netns_self(&host, err) < 0)
		goto fail;
	/* the pid could have been reused between discovery and the open */
	struct cryo_proc_stat pst;
	if (cryo_proc_stat_read(c->init_pid, &pst, err) < 0)
		goto fail;
	if (c->init_start && pst.start_time != c->init_start) {
		cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "container %s: its init process (pid %d) exited during the cut",
			       c->id, (int)c->init_pid);
		goto fail;
	}
	if (cns.ino == host.ino) {
		cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				    "container %s shares the host's network namespace: cutting its links would cut the host; refused",
				    c->id);
		goto fail;
	}
	/* "cut", "cutting" and "restore-partial" describe the original state
	 * and must be acted on; "restored" (or none) means plan afresh */
	bool in_force = have && state_is(state, "cut", "cutting", "restore-partial");
	if ((in_force || (have && req->op == CRYO_CUT_RESTORE)) && check_record(req, plan, &cns, &host, err) < 0)
		goto fail;

	if (have && !strcmp(state, "cutting")) {
		/* a cut killed before it could confirm (or log) itself */
		cryo_json_bool(result, "interrupted_before", true);
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(result, "warnings"),
				     cJSON_CreateString("a previous cut was interrupted before it was confirmed; acting on its record"));
	}
	if (req->op == CRYO_CUT_RESTORE) {
		if (!have) {
			cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
					    "no cut recorded in %s (%s missing): nothing to restore",
					    req->kase->path, CRYO_CUT_STATE);
			goto fail;
		}
		int changed = 0, link_problems = 0;
		if (apply(plan, false, result, &t_done, &changed, &link_problems, err) < 0)
			goto fail;
		bool partial = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, "problems")) > 0;
		/* the recorder goes with the quarantine namespace: when every link
		 * is home (an address that did not go back keeps neither) */
		if (link_problems == 0)
			stop_recorder(plan, result);
		if (save_plan(req->kase, plan, partial ? "restore-partial" : "restored", req->entry, err) < 0)
			goto fail;
		cryo_json_str(result, "state", partial ? "partially restored" : "restored");
		cryo_json_bool(result, "already", changed == 0);
		goto done;
	}

	/* cut */
	const char *want_mode = req->mode == CRYO_CUT_MODE_QUARANTINE ? "quarantine" : "down";
	if (in_force && strcmp(cryo_json_get_str(plan, "mode") ? cryo_json_get_str(plan, "mode") : "down", want_mode) != 0) {
		cryo_error_set(err, CRYO_EXIT_USAGE, 0,
				    "already cut in %s mode; restore first to change the mode",
				    cryo_json_get_str(plan, "mode"));
		goto fail;
	}
	if (!in_force) {
		/* A new plan only when not cut: re-planning over a record of
		 * the original state would record the links as already down. */
		cJSON_Delete(steal_pointer(&plan));
		if (do_plan(req, &cns, &plan, result, err) < 0)
			goto fail;
		if (save_plan(req->kase, plan, "cutting", NULL, err) < 0)
			goto fail;
	}
	/* The recorder starts before the first link moves, listening on the
	 * whole quarantine namespace, so nothing sent after the cut is missed.
	 * If it cannot start, the cut goes on: containment comes first. */
	struct cryo_error pcap_err = { 0 };
	if (req->pcap_path && start_pcap(req, plan, result, &pcap_err) < 0)
		add_problem(result, "the capture did not start: %s", pcap_err.msg);
	else if (req->pcap_path && save_plan(req->kase, plan, in_force ? state : "cutting", NULL, err) < 0)
		goto fail; /* the recorder is in the record before any link moves */
	int changed = 0, link_problems = 0;
	if (apply(plan, true, result, &t_done, &changed, &link_problems, err) < 0)
		goto fail;
	cryo_json_bool(result, "already", changed == 0);
	if (save_plan(req->kase, plan, "cut", req->entry, err) < 0)
		goto fail;
	cryo_json_str(result, "state", "cut");
	cryo_json_str(result, "mode", cryo_json_get_str(plan, "mode"));
	cryo_json_num(result, "ms_to_down", (double)(t_done - t0) / 1e6);
done:
	cryo_json_num(result, "links_count", cJSON_GetArraySize(report));
	const cJSON *problems = cJSON_GetObjectItemCaseSensitive(result, "problems");
	if (cJSON_GetArraySize(problems) > 0) {
		cryo_error_set(err, CRYO_EXIT_PARTIAL, 0, "%s%s, with %d problem(s); the first: %s",
			       cryo_json_get_str(result, "state"),
			       req->op == CRYO_CUT ? " as far as possible" : "", cJSON_GetArraySize(problems),
			       cJSON_GetArrayItem(problems, 0)->valuestring);
		goto fail_noupdate;
	}
	*result_out = steal_pointer(&result);
	return 0;
fail:
	cryo_json_num(result, "links_count", cJSON_GetArraySize(report));
fail_noupdate:
	cryo_json_str(result, "error", err->msg);
	*result_out = steal_pointer(&result);
	return -1;
}
