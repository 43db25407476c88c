#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/neighbour.h>
#include "cryo/cleanup.h"
#include "cryo/netlink.h"
#include "cryo/output.h"
#include "cryo/util.h"

int cryo_netns_open(const char *path, struct cryo_netns *ns, struct cryo_error *err)
{
	memset(ns, 0, sizeof(*ns));
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0)
		return cryo_error_sys(err, "open network namespace %s", path);
	struct stat st;
	if (fstat(ns->fd, &st) < 0) {
		cryo_error_sys(err, "stat %s", path);
		cryo_netns_close(ns);
		return -1;
	}
	ns->ino = st.st_ino;
	snprintf(ns->ref, sizeof(ns->ref), "%s", path);
	return 0;
}

void cryo_netns_close(struct cryo_netns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}

int cryo_netns_self(struct cryo_netns *ns, struct cryo_error *err)
{
	if (cryo_netns_open("/proc/self/ns/net", ns, err) < 0)
		return -1;
	snprintf(ns->ref, sizeof(ns->ref), "host");
	return 0;
}

static int try_ns(const char *path, uint64_t ino, struct cryo_netns *ns)
{
	struct stat st;
	if (stat(path, &st) < 0 || st.st_ino != ino)
		return 0;
	struct cryo_error e;
	return cryo_netns_open(path, ns, &e) == 0 && ns->ino == ino;
}

static int scan_dir_ns(const char *dir, const char *suffix, uint64_t ino, struct cryo_netns *ns)
{
	cleanup_closedir DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s%s", dir, de->d_name, suffix);
		if (try_ns(path, ino, ns))
			return 1;
	}
	return 0;
}

int cryo_netns_find(uint64_t ino, const char *ref_hint, struct cryo_netns *ns,
		    struct cryo_error *err)
{
	if (cryo_netns_self(ns, err) < 0)
		return -1;
	if (ns->ino == ino)
		return 0;
	cryo_netns_close(ns);
	if (ref_hint && ref_hint[0] == '/' && try_ns(ref_hint, ino, ns))
		return 0;
	if (scan_dir_ns("/run/netns", "", ino, ns) || scan_dir_ns("/run/docker/netns", "", ino, ns) ||
	    scan_dir_ns("/proc", "/ns/net", ino, ns))
		return 0;
	return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
			      "network namespace %llu is gone (no process or bind mount holds it)",
			      (unsigned long long)ino);
}

struct run_job {
	int nsfd; /* -1: unshare a new namespace */
	int (*fn)(void *);
	void *arg;
	int err;
	bool joined;
};

static void *run_in_ns(void *arg)
{
	struct run_job *j = arg;
	/* network namespaces are per thread: only this thread moves, and it
	 * ends right after, so the process never leaves its own namespace */
	if ((j->nsfd >= 0 ? setns(j->nsfd, CLONE_NEWNET) : unshare(CLONE_NEWNET)) < 0) {
		j->err = errno;
		return NULL;
	}
	j->joined = true;
	j->err = j->fn(j->arg);
	return NULL;
}

int cryo_netns_run(const struct cryo_netns *ns, int (*fn)(void *arg), void *arg,
		   struct cryo_error *err)
{
	struct run_job j = { .nsfd = ns ? ns->fd : -1, .fn = fn, .arg = arg };
	pthread_t t;
	int r = pthread_create(&t, NULL, run_in_ns, &j);
	if (r) {
		errno = r;
		return cryo_error_sys(err, "thread for a network namespace");
	}
	pthread_join(t, NULL);
	if (j.err) {
		errno = j.err;
		return cryo_error_sys(err, "%s network namespace %s", j.joined ? "in" : "joining",
				      ns ? ns->ref : "(new)");
	}
	return 0;
}

struct open_job {
	struct nl_sock *sk;
	int nlerr;
};

static int open_rtnl(void *arg)
{
	struct open_job *j = arg;
	j->sk = nl_socket_alloc();
	if (!j->sk)
		return ENOMEM;
	int r = nl_connect(j->sk, NETLINK_ROUTE);
	if (r < 0) {
		j->nlerr = r;
		nl_socket_free(j->sk);
		j->sk = NULL;
	}
	return 0;
}

int cryo_rtnl_open(const struct cryo_netns *ns, struct nl_sock **sk, struct cryo_error *err)
{
	struct open_job j = { 0 };
	if (ns) {
		if (cryo_netns_run(ns, open_rtnl, &j, err) < 0)
			return -1;
	} else {
		open_rtnl(&j);
	}
	if (!j.sk)
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "netlink connect: %s",
				      j.nlerr ? nl_geterror(j.nlerr) : "out of memory");
	*sk = j.sk;
	return 0;
}

void cryo_rtnl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

/* RTM_GETNSID by hand on the socket's descriptor: a single request and its
 * reply, matched by sequence number (libnl has no helper for it). */
int cryo_rtnl_nsid_of(struct nl_sock *sk, const struct cryo_netns *other, int32_t *nsid,
		      struct cryo_error *err)
{
	static uint32_t seq = 0x63727900;
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		char pad[3];
		struct nlattr a;
		uint32_t fd;
	} req = { 0 };
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETNSID;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = ++seq;
	req.g.rtgen_family = AF_UNSPEC;
	req.a.nla_len = sizeof(req.a) + sizeof(req.fd);
	req.a.nla_type = NETNSA_FD;
	req.fd = (uint32_t)other->fd;
	int fd = nl_socket_get_fd(sk);
	if (send(fd, &req, sizeof(req), 0) < 0)
		return cryo_error_sys(err, "RTM_GETNSID");
	for (int tries = 0; tries < 16; tries++) {
		char buf[4096] __attribute__((aligned(4)));
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cryo_error_sys(err, "RTM_GETNSID reply");
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != req.h.nlmsg_seq)
				continue; /* something else queued on this socket */
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				errno = -e->error;
				return cryo_error_sys(err, "RTM_GETNSID");
			}
			if (h->nlmsg_type != RTM_NEWNSID)
				continue;
			*nsid = -1;
			size_t off = NLMSG_ALIGN(sizeof(struct rtgenmsg));
			size_t len = h->nlmsg_len - NLMSG_HDRLEN;
			while (off + sizeof(struct nlattr) <= len) {
				struct nlattr *at = (struct nlattr *)((char *)NLMSG_DATA(h) + off);
				if (at->nla_len < sizeof(*at) || off + at->nla_len > len)
					break;
				if ((at->nla_type & NLA_TYPE_MASK) == NETNSA_NSID &&
				    at->nla_len >= sizeof(*at) + sizeof(int32_t))
					memcpy(nsid, (char *)at + NLA_HDRLEN, sizeof(*nsid));
				off += NLA_ALIGN(at->nla_len);
			}
			return 0;
		}
	}
	return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "RTM_GETNSID: no reply");
}

void cryo_links_free(struct cryo_links *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct cryo_link *cryo_links_find(const struct cryo_links *l, int ifindex)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	return NULL;
}

int cryo_rtnl_links(struct nl_sock *sk, struct cryo_links *out, struct cryo_error *err)
{
	memset(out, 0, sizeof(*out));
	struct nl_cache *cache = NULL;
	int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "listing links: %s", nl_geterror(r));
	int n = nl_cache_nitems(cache);
	out->v = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->v));
	if (!out->v) {
		nl_cache_free(cache);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "links");
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		struct cryo_link *c = &out->v[out->n++];
		c->ifindex = rtnl_link_get_ifindex(l);
		snprintf(c->name, sizeof(c->name), "%s", rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "");
		const char *kind = rtnl_link_get_type(l);
		snprintf(c->kind, sizeof(c->kind), "%s", kind ? kind : "");
		c->flags = rtnl_link_get_flags(l);
		c->mtu = rtnl_link_get_mtu(l);
		c->master = rtnl_link_get_master(l);
		c->link = rtnl_link_get_link(l);
		c->link_netnsid = -1;
		int32_t id;
		if (rtnl_link_get_link_netnsid(l, &id) == 0)
			c->link_netnsid = id;
		struct nl_addr *a = rtnl_link_get_addr(l);
		if (a)
			nl_addr2str(a, c->mac, sizeof(c->mac));
		rtnl_link_operstate2str(rtnl_link_get_operstate(l), c->operstate, sizeof(c->operstate));
		c->carrier = rtnl_link_get_carrier(l);
	}
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].master) {
			const struct cryo_link *m = cryo_links_find(out, out->v[i].master);
			if (m)
				snprintf(out->v[i].master_name, sizeof(out->v[i].master_name), "%s", m->name);
		}
	nl_cache_free(cache);
	return 0;
}

cJSON *cryo_link_to_json(const struct cryo_link *l)
{
	cJSON *o = cJSON_CreateObject();
	char flags[256];
	cryo_json_num(o, "ifindex", l->ifindex);
	cryo_json_str(o, "name", l->name);
	cryo_json_str(o, "kind", l->kind);
	cryo_json_num(o, "flags", l->flags);
	rtnl_link_flags2str((int)l->flags, flags, sizeof(flags));
	cryo_json_str(o, "flags_text", flags);
	cryo_json_bool(o, "up", l->flags & IFF_UP);
	cryo_json_num(o, "mtu", l->mtu);
	if (l->master) {
		cryo_json_num(o, "master", l->master);
		cryo_json_str(o, "master_name", l->master_name);
	} else {
		cJSON_AddNullToObject(o, "master");
		cJSON_AddNullToObject(o, "master_name");
	}
	cryo_json_num(o, "link", l->link);
	cryo_json_num(o, "link_netnsid", l->link_netnsid);
	cryo_json_str(o, "mac", l->mac);
	cryo_json_str(o, "operstate", l->operstate);
	cryo_json_bool(o, "carrier", l->carrier);
	return o;
}

static void addr_str(struct nl_addr *a, char *buf, size_t size)
{
	if (a)
		nl_addr2str(a, buf, size);
	else
		snprintf(buf, size, "%s", "");
}

/* A route as recorded in snapshots and restore plans (and read back by
 * cryo_rtnl_route_add). */
static cJSON *route_json(struct rtnl_route *rt)
{
	char buf[128];
	cJSON *x = cJSON_CreateObject();
	cryo_json_num(x, "family", rtnl_route_get_family(rt));
	addr_str(rtnl_route_get_dst(rt), buf, sizeof(buf));
	cryo_json_str(x, "dst", buf);
	cryo_json_num(x, "table", rtnl_route_get_table(rt));
	cryo_json_num(x, "protocol", rtnl_route_get_protocol(rt));
	cryo_json_num(x, "scope", rtnl_route_get_scope(rt));
	cryo_json_num(x, "priority", rtnl_route_get_priority(rt));
	cryo_json_num(x, "type", rtnl_route_get_type(rt));
	addr_str(rtnl_route_get_pref_src(rt), buf, sizeof(buf));
	cryo_json_str(x, "prefsrc", buf);
	uint32_t mtu = 0;
	if (rtnl_route_get_metric(rt, RTAX_MTU, &mtu) == 0 && mtu)
		cryo_json_num(x, "mtu", mtu);
	cJSON *nhs = cJSON_AddArrayToObject(x, "nexthops");
	for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
		cJSON *y = cJSON_CreateObject();
		addr_str(rtnl_route_nh_get_gateway(nh), buf, sizeof(buf));
		cryo_json_str(y, "gateway", buf);
		cryo_json_num(y, "ifindex", rtnl_route_nh_get_ifindex(nh));
		cryo_json_num(y, "flags", rtnl_route_nh_get_flags(nh)); /* onlink, ... */
		cJSON_AddItemToArray(nhs, y);
	}
	return x;
}

cJSON *cryo_rtnl_state_json(struct nl_sock *sk, struct cryo_error *err)
{
	cleanup_cjson cJSON *root = cJSON_CreateObject();
	struct cryo_links links;
	if (cryo_rtnl_links(sk, &links, err) < 0)
		return NULL;
	cJSON *jl = cJSON_AddArrayToObject(root, "links");
	for (size_t i = 0; i < links.n; i++)
		cJSON_AddItemToArray(jl, cryo_link_to_json(&links.v[i]));
	cryo_links_free(&links);

	char buf[128];
	struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0) {
		cryo_error_set(err, CRYO_EXIT_OSERR, 0, "listing addresses: %s", nl_geterror(r));
		return NULL;
	}
	cJSON *ja = cJSON_AddArrayToObject(root, "addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		cJSON *x = cJSON_CreateObject();
		cryo_json_num(x, "ifindex", rtnl_addr_get_ifindex(a));
		cryo_json_str(x, "family", rtnl_addr_get_family(a) == AF_INET6 ? "inet6" : "inet");
		addr_str(rtnl_addr_get_local(a), buf, sizeof(buf));
		cryo_json_str(x, "local", buf);
		cryo_json_num(x, "prefixlen", rtnl_addr_get_prefixlen(a));
		cryo_json_num(x, "scope", rtnl_addr_get_scope(a));
		cJSON_AddItemToArray(ja, x);
	}
	nl_cache_free(cache);

	cache = NULL;
	r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (r < 0) {
		cryo_error_set(err, CRYO_EXIT_OSERR, 0, "listing routes: %s", nl_geterror(r));
		return NULL;
	}
	cJSON *jr = cJSON_AddArrayToObject(root, "routes");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
		cJSON_AddItemToArray(jr, route_json((struct rtnl_route *)o));
	nl_cache_free(cache);

	cache = NULL;
	r = rtnl_neigh_alloc_cache(sk, &cache);
	if (r < 0) {
		cryo_error_set(err, CRYO_EXIT_OSERR, 0, "listing neighbours: %s", nl_geterror(r));
		return NULL;
	}
	cJSON *jn = cJSON_AddArrayToObject(root, "neighbours");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *ne = (struct rtnl_neigh *)o;
		cJSON *x = cJSON_CreateObject();
		addr_str(rtnl_neigh_get_dst(ne), buf, sizeof(buf));
		cryo_json_str(x, "dst", buf);
		addr_str(rtnl_neigh_get_lladdr(ne), buf, sizeof(buf));
		cryo_json_str(x, "lladdr", buf);
		cryo_json_num(x, "ifindex", rtnl_neigh_get_ifindex(ne));
		rtnl_neigh_state2str(rtnl_neigh_get_state(ne), buf, sizeof(buf));
		cryo_json_str(x, "state", buf);
		cJSON_AddItemToArray(jn, x);
	}
	nl_cache_free(cache);
	return steal_pointer(&root);
}

const struct cryo_link *cryo_links_find_name(const struct cryo_links *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static int pin_ns(void *path)
{
	/* pinned by a bind mount of its nsfs file before the thread exits */
	return mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? errno : 0;
}

int cryo_netns_create_named(const char *name, struct cryo_netns *ns, struct cryo_error *err)
{
	char path[PATH_MAX];
	if (!name[0] || strchr(name, '/') || strlen(name) > 64)
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "bad namespace name '%s'", name);
	if (mkdir("/run/netns", 0755) < 0 && errno != EEXIST)
		return cryo_error_sys(err, "create /run/netns");
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return cryo_error_sys(err, "create %s", path);
	close(fd);
	if (cryo_netns_run(NULL, pin_ns, path, err) < 0) {
		unlink(path);
		return cryo_error_wrap(err, "create %s", path);
	}
	return cryo_netns_open(path, ns, err);
}

int cryo_netns_delete_named(const char *name, struct cryo_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return cryo_error_sys(err, "unmount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return cryo_error_sys(err, "remove %s", path);
	return 0;
}

static int link_change(struct nl_sock *sk, int ifindex, void (*set)(struct rtnl_link *, int), int v,
		       const char *what, struct cryo_error *err)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	if (!orig || !change) {
		rtnl_link_put(orig);
		rtnl_link_put(change);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "link");
	}
	rtnl_link_set_ifindex(orig, ifindex);
	set(change, v);
	int r = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(orig);
	rtnl_link_put(change);
	if (r < 0)
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "%s of link %d: %s", what, ifindex,
				      nl_geterror(r));
	return 0;
}

int cryo_rtnl_link_move(struct nl_sock *sk, int ifindex, const struct cryo_netns *to,
			struct cryo_error *err)
{
	return link_change(sk, ifindex, rtnl_link_set_ns_fd, to->fd, "move to another namespace", err);
}

int cryo_rtnl_link_set_master(struct nl_sock *sk, int ifindex, int master, struct cryo_error *err)
{
	return link_change(sk, ifindex, rtnl_link_set_master, master, "set master", err);
}

cJSON *cryo_rtnl_addrs_of(struct nl_sock *sk, int ifindex, struct cryo_error *err)
{
	struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0) {
		cryo_error_set(err, CRYO_EXIT_OSERR, 0, "listing addresses: %s", nl_geterror(r));
		return NULL;
	}
	cJSON *a = cJSON_CreateArray();
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *x = (struct rtnl_addr *)o;
		char buf[128];
		if (rtnl_addr_get_ifindex(x) != ifindex || !rtnl_addr_get_local(x))
			continue;
		/* link-local IPv6 comes back by itself when the link is up */
		nl_addr2str(rtnl_addr_get_local(x), buf, sizeof(buf));
		if (rtnl_addr_get_family(x) == AF_INET6 && cryo_has_prefix(buf, "fe80:"))
			continue;
		if (!strchr(buf, '/'))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%d", rtnl_addr_get_prefixlen(x));
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	nl_cache_free(cache);
	return a;
}

int cryo_rtnl_addr_add(struct nl_sock *sk, int ifindex, const char *addr, struct cryo_error *err)
{
	struct nl_addr *local = NULL;
	int r = nl_addr_parse(addr, AF_UNSPEC, &local);
	if (r < 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "address '%s': %s", addr, nl_geterror(r));
	struct rtnl_addr *a = rtnl_addr_alloc();
	if (!a) {
		nl_addr_put(local);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "address");
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	r = rtnl_addr_add(sk, a, 0);
	rtnl_addr_put(a);
	nl_addr_put(local);
	if (r < 0 && r != -NLE_EXIST)
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "add address %s: %s", addr, nl_geterror(r));
	return 0;
}

static void set_up_flag(struct rtnl_link *l, int up)
{
	if (up)
		rtnl_link_set_flags(l, IFF_UP);
	else
		rtnl_link_unset_flags(l, IFF_UP);
}

int cryo_rtnl_link_set_up(struct nl_sock *sk, int ifindex, bool up, struct cryo_error *err)
{
	return link_change(sk, ifindex, set_up_flag, up, up ? "set up" : "set down", err);
}

cJSON *cryo_rtnl_routes_of(struct nl_sock *sk, int ifindex, struct cryo_error *err)
{
	struct nl_cache *cache = NULL;
	int r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (r < 0) {
		cryo_error_set(err, CRYO_EXIT_OSERR, 0, "listing routes: %s", nl_geterror(r));
		return NULL;
	}
	cJSON *arr = cJSON_CreateArray();
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		if (rtnl_route_get_protocol(rt) == RTPROT_KERNEL || rtnl_route_get_table(rt) == RT_TABLE_LOCAL ||
		    rtnl_route_get_type(rt) != RTN_UNICAST)
			continue;
		bool via = false;
		for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++)
			via |= rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, i)) == ifindex;
		if (!via)
			continue;
		cJSON_AddItemToArray(arr, route_json(rt));
	}
	nl_cache_free(cache);
	return arr;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int cryo_rtnl_route_add(struct nl_sock *sk, const cJSON *route, int old_ifindex, int new_ifindex,
			struct cryo_error *err)
{
	int family = (int)jnum(route, "family", AF_INET);
	const char *dst = cryo_json_get_str(route, "dst");
	struct nl_addr *d = NULL;
	if (nl_addr_parse(dst && dst[0] ? dst : "default", family, &d) < 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "route destination '%s'", dst ? dst : "");
	struct rtnl_route *rt = rtnl_route_alloc();
	if (!rt) {
		nl_addr_put(d);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "route");
	}
	rtnl_route_set_family(rt, (uint8_t)family);
	rtnl_route_set_dst(rt, d);
	nl_addr_put(d);
	rtnl_route_set_table(rt, (uint32_t)jnum(route, "table", RT_TABLE_MAIN));
	rtnl_route_set_protocol(rt, (uint8_t)jnum(route, "protocol", RTPROT_BOOT));
	rtnl_route_set_scope(rt, (uint8_t)jnum(route, "scope", RT_SCOPE_UNIVERSE));
	rtnl_route_set_priority(rt, (uint32_t)jnum(route, "priority", 0));
	const char *src = cryo_json_get_str(route, "prefsrc");
	struct nl_addr *sa = NULL;
	if (src && src[0] && nl_addr_parse(src, family, &sa) == 0) {
		rtnl_route_set_pref_src(rt, sa);
		nl_addr_put(sa);
	}
	if (jnum(route, "mtu", 0) > 0)
		rtnl_route_set_metric(rt, RTAX_MTU, (unsigned)jnum(route, "mtu", 0));
	const cJSON *nh;
	cJSON_ArrayForEach(nh, cJSON_GetObjectItemCaseSensitive(route, "nexthops")) {
		struct rtnl_nexthop *n = rtnl_route_nh_alloc();
		if (!n)
			break;
		int ifi = (int)jnum(nh, "ifindex", 0);
		rtnl_route_nh_set_ifindex(n, ifi == old_ifindex ? new_ifindex : ifi);
		/* only what a route is added with: the kernel reports state flags
		 * (dead, linkdown) too, and refuses them on input */
		rtnl_route_nh_set_flags(n, (unsigned)jnum(nh, "flags", 0) & RTNH_F_ONLINK);
		const char *gw = cryo_json_get_str(nh, "gateway");
		struct nl_addr *g = NULL;
		if (gw && gw[0] && nl_addr_parse(gw, family, &g) == 0) {
			rtnl_route_nh_set_gateway(n, g);
			nl_addr_put(g);
		}
		rtnl_route_add_nexthop(rt, n);
	}
	int r = rtnl_route_add(sk, rt, NLM_F_EXCL);
	rtnl_route_put(rt);
	if (r < 0 && r != -NLE_EXIST)
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "restore route to %s: %s", dst ? dst : "default",
				      nl_geterror(r));
	return 0;
}
