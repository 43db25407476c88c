/* cryo-hook: the detector's hand.  Reads Falco alerts (JSON lines on
 * stdin, from program_output; and with --listen, HTTP POSTs from
 * http_output or falcosidekick's webhook), matches them against a policy,
 * and responds: the container is frozen here, in this process, within
 * milliseconds of the alert line being read; the slower steps (cut,
 * capture, seal) run in a cryo-respond child, a bounded number at a time,
 * while alerts go on being read.  One response per container: later alerts
 * for it are handed to the running response (recorded in its case) or
 * journaled.  Every input and every decision goes to the journal (JSON
 * lines).  One thread, one poll loop: nothing here blocks on a child. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cryo/alert.h"
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/container.h"
#include "cryo/freeze.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/policy.h"
#include "cryo/spawn.h"
#include "cryo/util.h"

#define MAX_TRACKED 4096        /* containers remembered (debounce) */
#define MAX_NOTIFY 64           /* notify commands running at once */
#define RESP_OUT_MAX (1u << 20) /* a response's JSON summary */
#define FREEZE_WAIT_MS 200      /* the loop waits this long; the freeze stays requested */
#define UNKNOWN_CACHE 1024
#define RESCAN_BURST 8          /* rescans for unknown ids: at most 8 at once, */
#define RESCAN_PER_S 4          /* then 4 a second */
#define PIPE_SIZE (2u << 20)

struct options {
	const char *policy, *case_root, *key, *password_env, *listen, *token_file, *journal;
	bool unsigned_ok, dry_run, json, check;
	int argc;
	char **argv;
};

/* What a rule asked for, copied (a SIGHUP may replace the policy while the
 * response runs). */
struct plan {
	unsigned actions;
	bool memory, merged, quarantine, thaw;
	char rule[128];
	char *notify[CRYO_POLICY_MAX_LIST + 1];
	int notify_timeout;
};

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct slot {
	enum slot_state state;
	char id[129], name[256];
	struct plan plan;
	char *first_line;  /* for cryo-respond: the trigger, sent when it starts */
	pid_t pid;
	int alerts_fd, out_fd;
	char *out;
	size_t olen;
	uint64_t t_queued, t_done; /* monotonic ns */
	unsigned long first_seq, added, not_added;
	int exit;
};

struct notify {
	pid_t pid;
	uint64_t deadline;
	char rule[128];
};

static struct options opt;
static struct cryo_policy policy;
static struct slot *slots;
static struct notify notifies[MAX_NOTIFY];
static size_t nrunning, nqueued;
static unsigned long seq;
static int journal_fd = -1;
static struct cryo_containers all;
static uint64_t last_discover;
static struct {
	char id[129];
	uint64_t until;
} unknown[UNKNOWN_CACHE];
static size_t unknown_next;
/* A freezer ready for each known container (its control files already
 * open): when the alert comes, the freeze is one write. */
#define READY_MAX 1024
static struct ready {
	char id[129];
	struct cryo_freezer f;
	bool ok;
	bool self; /* cryo-hook runs in it (worked out here, not when the alert comes) */
} *ready;
static size_t nready;
static char token[512];
static size_t token_len;
static char respond_path[PATH_MAX];
static char self_cgroup[PATH_MAX];
static bool stopping, stdin_open = true;
static struct MHD_Daemon *httpd;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-hook [OPTIONS]\n\n"
		"Take a detector's alerts and respond by policy.  Reads Falco alerts as JSON\n"
		"lines on standard input (Falco program_output with json_output: true and\n"
		"keep_alive: true) and, with --listen, as HTTP POSTs (Falco http_output,\n"
		"falcosidekick's webhook output).  For an alert the policy answers, the\n"
		"container is frozen at once, here; cut, capture and seal then run in a\n"
		"cryo-respond child (one case per container), a few at a time, while\n"
		"alerts go on being read.  Later alerts for a container being responded\n"
		"to are added to its case.  Every alert and every decision goes to the\n"
		"journal, one JSON line each.\n\n"
		"Options:\n"
		"  -p, --policy FILE     the policy (JSON; see cryo-hook(1)); without it:\n"
		"                        Critical and above get freeze, cut, capture,\n"
		"                        seal, kept contained; the rest is journaled\n"
		"      --check           check the policy, print it, exit\n"
		"      --case-root DIR   where cases are made (default /var/lib/cryo/cases)\n"
		"  -k, --key FILE        sign sealed cases (default: $CRYO_KEY)\n"
		"      --password-env V  the key's password is in environment variable V\n"
		"      --unsigned        seal without a signature\n"
		"  -l, --listen ADDR:PORT  also take HTTP POSTs there (127.0.0.1:8767;\n"
		"                        [::1]:8767; port 0 picks one, journaled)\n"
		"      --token-file FILE a shared secret the sender must give, as header\n"
		"                        X-Cryo-Token or Authorization: Bearer; required\n"
		"                        to listen on an address other than loopback\n"
		"      --journal FILE    the journal (default CASE_ROOT/hook-journal.jsonl;\n"
		"                        - for standard output)\n"
		"  -n, --dry-run         decide and journal, change nothing\n"
		"  -j, --json            also copy the journal to standard output\n"
		"  -q, -v, -h, -V        quiet, verbose, help, version\n\n"
		"Signals: SIGTERM and SIGINT stop reading, let each running response\n"
		"finish its current step (it can be resumed: cryo-respond --resume), and\n"
		"exit; SIGHUP reloads the policy (a policy that does not parse is refused\n"
		"and the old one kept).  At the end of standard input without --listen,\n"
		"cryo-hook waits for the responses it started, then exits.\n\n"
		"Exit status: 0 stopped cleanly; 64 usage; 65 the policy does not parse;\n"
		"69 cryo-respond or the HTTP listener unavailable; 74 the journal cannot\n"
		"be written; 77 not root (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },       { "check", no_argument, NULL, 'C' },
		{ "case-root", required_argument, NULL, 'R' },    { "key", required_argument, NULL, 'k' },
		{ "password-env", required_argument, NULL, 'E' }, { "unsigned", no_argument, NULL, 'U' },
		{ "listen", required_argument, NULL, 'l' },       { "token-file", required_argument, NULL, 'T' },
		{ "journal", required_argument, NULL, 'J' },      { "dry-run", no_argument, NULL, 'n' },
		CRYO_COMMON_LONGOPTS,                             { NULL, 0, NULL, 0 },
	};
	o->case_root = "/var/lib/cryo/cases";
	o->argc = argc;
	o->argv = argv;
	int c, rc;
	while ((c = getopt_long(argc, argv, "p:k:l:n" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->policy = optarg; break;
		case 'C': o->check = true; break;
		case 'R': o->case_root = optarg; break;
		case 'k': o->key = optarg; break;
		case 'E': o->password_env = optarg; break;
		case 'U': o->unsigned_ok = true; break;
		case 'l': o->listen = optarg; break;
		case 'T': o->token_file = optarg; break;
		case 'J': o->journal = optarg; break;
		case 'n': o->dry_run = true; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (optind != argc)
		return cryo_usage_error("no arguments beyond options (alerts come on standard input or over HTTP)");
	if (!o->key && !o->unsigned_ok && getenv("CRYO_KEY") && *getenv("CRYO_KEY"))
		o->key = getenv("CRYO_KEY");
	if (o->key && o->unsigned_ok)
		return cryo_usage_error("a key and --unsigned exclude each other");
	return -1;
}

/* ---- the journal ------------------------------------------------------------ */

static void journal(cJSON *o)
{
	char when[40];
	cryo_format_utc_ns(cryo_now_realtime_ns(), when, sizeof(when));
	cJSON *t = cJSON_CreateString(when);
	cJSON_InsertItemInArray(o, 0, t);
	/* cJSON has no "insert into object at front": give the item its key */
	t->string = strdup("time");
	cJSON_AddNumberToObject(o, "mono_ns", (double)cryo_now_monotonic_ns());
	char *line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!line)
		return;
	size_t n = strlen(line);
	line[n++] = '\n'; /* the NUL's place: one write, one line */
	if (journal_fd >= 0) {
		ssize_t w = write(journal_fd, line, n);
		if (w != (ssize_t)n) {
			static bool said;
			if (!said)
				fprintf(stderr, "%s: JOURNAL NOT WRITTEN: %s\n", cryo_progname, w < 0 ? strerror(errno) : "short write");
			said = true;
		}
	}
	if (opt.json && journal_fd != STDOUT_FILENO) {
		fwrite(line, 1, n, stdout);
		fflush(stdout);
	}
	free(line);
}

static cJSON *event(const char *name)
{
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "event", name);
	return o;
}

/* The alert as journaled: the whole of it when it parsed (bounded by the
 * parser), else a short excerpt, its size and hash. */
static void add_excerpt(cJSON *o, const char *text, size_t len)
{
	char ex[257];
	size_t n = len < 256 ? len : 256;
	memcpy(ex, text, n);
	ex[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (ex[i] == '\0')
			ex[i] = '?';
	cryo_json_str(o, "excerpt", ex);
	cryo_json_num(o, "bytes", (double)len);
	char hex[CRYO_SHA256_HEX];
	cryo_sha256_hex(text, len, hex);
	cryo_json_str(o, "sha256", hex);
}

/* The journal line of one input (every input gets one, numbered). */
static cJSON *alert_event(const char *source, const char *peer)
{
	seq++;
	cJSON *j = event("alert");
	cryo_json_num(j, "seq", (double)seq);
	cryo_json_str(j, "source", source);
	if (peer)
		cryo_json_str(j, "peer", peer);
	return j;
}

/* An input that is not acted on: one "alert" line all the same. */
static void reject(const char *source, const char *peer, const char *reason, const char *text, size_t len,
		   size_t bytes)
{
	cJSON *j = alert_event(source, peer);
	cryo_json_str(j, "decision", "rejected");
	cryo_json_str(j, "reason", reason);
	if (text)
		add_excerpt(j, text, len); /* sets "bytes" to what is kept */
	if (bytes && !cJSON_ReplaceItemInObjectCaseSensitive(j, "bytes", cJSON_CreateNumber((double)bytes)))
		cryo_json_num(j, "bytes", (double)bytes);
	journal(j);
}

/* ---- containers -------------------------------------------------------------- */

static bool is_self(const struct cryo_container *c);

static struct ready *ready_of(const char *id)
{
	for (size_t i = 0; i < nready; i++)
		if (!strcmp(ready[i].id, id))
			return &ready[i];
	return NULL;
}

static void ready_all(void)
{
	for (size_t i = 0; i < nready; i++)
		cryo_freezer_close(&ready[i].f);
	nready = 0;
	for (size_t i = 0; i < all.n && nready < READY_MAX && ready; i++) {
		struct cryo_error err;
		struct ready *r = &ready[nready];
		snprintf(r->id, sizeof(r->id), "%s", all.v[i].id);
		r->ok = cryo_freezer_init(&r->f, &all.roots, &all.v[i], CRYO_FREEZE_NONE, &err) == 0;
		r->self = is_self(&all.v[i]);
		nready++;
	}
}

static void rediscover(void)
{
	struct cryo_containers fresh = { 0 };
	struct cryo_error err = { 0 };
	if (cryo_discover(&fresh, &err) < 0) {
		cryo_warn("discovering containers: %s", err.msg);
		return;
	}
	cryo_containers_free(&all);
	all = fresh;
	last_discover = cryo_now_monotonic_ns();
	ready_all();
}

static bool is_hex(const char *s)
{
	return cryo_is_hex(s, strlen(s));
}

/* By exact id, or by a unique prefix of 12+ hex digits (Falco's short id). */
static struct cryo_container *lookup(const char *id, bool *ambiguous)
{
	struct cryo_container *hit = NULL;
	size_t l = strlen(id);
	*ambiguous = false;
	for (size_t i = 0; i < all.n; i++) {
		if (!strcmp(all.v[i].id, id))
			return &all.v[i];
		if (l >= 12 && is_hex(id) && !strncmp(all.v[i].id, id, l)) {
			if (hit)
				*ambiguous = true;
			hit = &all.v[i];
		}
	}
	return *ambiguous ? NULL : hit;
}

static struct cryo_container *find_container(const char *id, bool *ambiguous)
{
	struct cryo_container *c = lookup(id, ambiguous);
	if (c || *ambiguous)
		return c;
	uint64_t now = cryo_now_monotonic_ns();
	for (size_t i = 0; i < UNKNOWN_CACHE; i++)
		if (unknown[i].until > now && !strcmp(unknown[i].id, id))
			return NULL; /* asked about a moment ago: an unknown id cannot make us rescan in a loop */
	/* a flood of made-up ids must not turn into a flood of rescans that
	 * stall the loop: a token bucket */
	static double tokens = RESCAN_BURST;
	static uint64_t last;
	tokens += (double)(now - last) / 1e9 * RESCAN_PER_S;
	if (tokens > RESCAN_BURST)
		tokens = RESCAN_BURST;
	last = now;
	if (tokens < 1) {
		*ambiguous = false;
		return NULL;
	}
	tokens -= 1;
	rediscover();
	if ((c = lookup(id, ambiguous)) || *ambiguous)
		return c;
	snprintf(unknown[unknown_next].id, sizeof(unknown[0].id), "%s", id);
	unknown[unknown_next].until = now + 2000000000ull;
	unknown_next = (unknown_next + 1) % UNKNOWN_CACHE;
	return NULL;
}

/* cryo-hook's own container (a DaemonSet pod): freezing it would stop the
 * hand that is to respond, and nothing would thaw it.  By our cgroup paths
 * (v2 and the v1 freezer) when they are known; otherwise (a private cgroup
 * namespace shows "/") by looking for our pid among the container's. */
static char self_freezer[PATH_MAX];

static bool path_within(const char *self, const char *dir)
{
	size_t l = strlen(dir);
	return l > 1 && self[0] && !strncmp(self, dir, l) && (self[l] == '/' || self[l] == '\0');
}

static bool is_self(const struct cryo_container *c)
{
	bool v2_known = self_cgroup[0] && strcmp(self_cgroup, "/");
	bool v1_known = self_freezer[0] && strcmp(self_freezer, "/");
	if ((v2_known && path_within(self_cgroup, c->cgroup_v2)) || (v1_known && path_within(self_freezer, c->freezer)))
		return true;
	if ((v2_known || !c->cgroup_v2[0]) && (v1_known || !c->freezer[0]))
		return false;
	char dir[PATH_MAX];
	pid_t me = getpid();
	for (int k = 0; k < 2; k++) {
		if (k == 0)
			cryo_container_v2_dir(&all.roots, c, dir, sizeof(dir));
		else
			cryo_container_freezer_dir(&all.roots, c, dir, sizeof(dir));
		struct cryo_pids p = { 0 };
		struct cryo_error err;
		if (!dir[0] || cryo_cgroup_pids(dir, false, &p, &err) < 0)
			continue;
		bool found = false;
		for (size_t i = 0; i < p.n && !found; i++)
			found = p.v[i] == me;
		cryo_pids_free(&p);
		if (found)
			return true;
	}
	return false;
}

static void read_self_cgroup(void)
{
	cleanup_free char *text = NULL;
	size_t len;
	struct cryo_error err;
	if (cryo_read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, false, &text, &len, &err) < 0)
		return;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		char *ctl = c1 + 1;
		const char *path = c2 + 1;
		if (!strcmp(line, "0") && !*ctl)
			snprintf(self_cgroup, sizeof(self_cgroup), "%s", path);
		else
			for (char *save = NULL, *t = strtok_r(ctl, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (!strcmp(t, "freezer"))
					snprintf(self_freezer, sizeof(self_freezer), "%s", path);
	}
}

/* ---- slots ----------------------------------------------------------------- */

static struct slot *slot_of(const char *id)
{
	for (size_t i = 0; i < MAX_TRACKED; i++)
		if (slots[i].state != SLOT_FREE && !strcmp(slots[i].id, id))
			return &slots[i];
	return NULL;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; p->notify[i]; i++)
		free(p->notify[i]);
	memset(p, 0, sizeof(*p));
}

static void slot_free(struct slot *s)
{
	plan_free(&s->plan);
	free(s->first_line);
	free(s->out);
	if (s->alerts_fd >= 0)
		close(s->alerts_fd);
	if (s->out_fd >= 0)
		close(s->out_fd);
	memset(s, 0, sizeof(*s));
	s->alerts_fd = s->out_fd = -1;
}

/* A free slot: a never-used one, or the longest-finished response whose
 * debounce window is over (or, when every slot is busy, none). */
static struct slot *slot_new(void)
{
	uint64_t now = cryo_now_monotonic_ns(), window = (uint64_t)policy.debounce_seconds * 1000000000ull;
	struct slot *oldest = NULL;
	for (size_t i = 0; i < MAX_TRACKED; i++) {
		if (slots[i].state == SLOT_FREE)
			return &slots[i];
		if (slots[i].state == SLOT_DONE && now - slots[i].t_done >= window &&
		    (!oldest || slots[i].t_done < oldest->t_done))
			oldest = &slots[i];
	}
	if (oldest)
		slot_free(oldest);
	return oldest;
}

static void plan_from_rule(struct plan *p, const struct cryo_policy_rule *r)
{
	p->actions = r->actions;
	p->memory = r->memory;
	p->merged = r->merged;
	p->quarantine = r->quarantine;
	p->thaw = r->thaw;
	p->notify_timeout = r->notify_timeout;
	snprintf(p->rule, sizeof(p->rule), "%s", r->name);
	for (size_t i = 0; r->notify[i]; i++)
		p->notify[i] = strdup(r->notify[i]);
}

/* ---- children: cryo-respond and notify ------------------------------------------ */

static void start_response(struct slot *s)
{
	const char *argv[32];
	size_t n = 0;
	argv[n++] = respond_path;
	argv[n++] = "--json";
	argv[n++] = "-q";
	argv[n++] = "--case-root";
	argv[n++] = opt.case_root;
	if (s->plan.actions & CRYO_ACT_SEAL) {
		if (opt.key) {
			argv[n++] = "--key";
			argv[n++] = opt.key;
			if (opt.password_env) {
				argv[n++] = "--password-env";
				argv[n++] = opt.password_env;
			}
		} else {
			argv[n++] = "--unsigned";
		}
	} else {
		argv[n++] = "--no-seal";
	}
	if (!(s->plan.actions & CRYO_ACT_CUT))
		argv[n++] = "--no-cut";
	else if (s->plan.quarantine)
		argv[n++] = "--quarantine";
	if (!(s->plan.actions & CRYO_ACT_CAPTURE)) {
		argv[n++] = "--no-capture";
	} else {
		if (!s->plan.memory)
			argv[n++] = "--no-memory";
		if (s->plan.merged)
			argv[n++] = "--merged";
	}
	if (s->plan.actions & CRYO_ACT_KILL) {
		argv[n++] = "--then";
		argv[n++] = "kill";
	} else if (s->plan.thaw) {
		argv[n++] = "--then";
		argv[n++] = "thaw";
	}
	argv[n++] = "--alerts-fd";
	argv[n++] = "0";
	argv[n++] = "--"; /* an id is never an option */
	argv[n++] = s->id;
	argv[n] = NULL;

	int p[2];
	struct cryo_error err = { 0 };
	cJSON *j = event("response-start");
	cryo_json_str(j, "container", s->id);
	cryo_json_str(j, "rule", s->plan.rule);
	if (pipe2(p, O_CLOEXEC) < 0) {
		cryo_error_sys(&err, "pipe");
	} else {
		fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* may be refused: the size is asked again below */
		struct cryo_spawn sp = { .argv = (char *const *)argv, .stdin_fd = p[0], .capture_stdout = true,
					 .new_pgrp = true };
		if (cryo_spawn_start(&sp, &err) == 0) {
			s->pid = sp.pid;
			s->out_fd = sp.out_fd;
			s->alerts_fd = p[1];
			fcntl(p[1], F_SETFL, O_NONBLOCK);
		} else {
			close(p[1]);
		}
		close(p[0]);
	}
	if (s->pid <= 0) {
		cryo_json_str(j, "error", err.msg);
		journal(j);
		cryo_warn("%s: cryo-respond did not start: %s (the container stays frozen)", s->id, err.msg);
		s->state = SLOT_DONE;
		s->t_done = cryo_now_monotonic_ns();
		s->exit = err.exit;
		return;
	}
	/* the trigger first: the response records it in the case's plan */
	size_t l = strlen(s->first_line);
	s->first_line[l] = '\n';
	if (write(s->alerts_fd, s->first_line, l + 1) != (ssize_t)(l + 1))
		cryo_json_str(j, "warning", "the trigger could not be handed over");
	s->first_line[l] = '\0';
	cryo_json_num(j, "pid", s->pid);
	cryo_json_num(j, "queued_ms", (double)(cryo_now_monotonic_ns() - s->t_queued) / 1e6);
	journal(j);
	s->state = SLOT_RUNNING;
	nrunning++;
}

static void start_queued(void)
{
	while (!stopping && nqueued && (int)nrunning < policy.max_concurrent) {
		struct slot *first = NULL;
		for (size_t i = 0; i < MAX_TRACKED; i++)
			if (slots[i].state == SLOT_QUEUED && (!first || slots[i].t_queued < first->t_queued))
				first = &slots[i];
		if (!first)
			break;
		nqueued--;
		start_response(first);
	}
}

/* Run a notify command with text on its standard input (a memfd: written
 * at once, never a pipe that could block the loop). */
static void notify(const struct plan *p, const char *text, const char *container)
{
	cJSON *j = event("notify");
	cryo_json_str(j, "container", container);
	cryo_json_str(j, "rule", p->rule);
	cryo_json_str(j, "command", p->notify[0]);
	size_t k;
	for (k = 0; k < MAX_NOTIFY && notifies[k].pid; k++)
		;
	struct cryo_error err = { 0 };
	int fd = -1;
	if (k == MAX_NOTIFY) {
		cryo_json_str(j, "error", "64 notify commands already running: not run");
	} else if ((fd = memfd_create("cryo-notify", MFD_CLOEXEC)) < 0 || write(fd, text, strlen(text)) < 0 ||
		   lseek(fd, 0, SEEK_SET) < 0) {
		cryo_error_sys(&err, "memfd");
		cryo_json_str(j, "error", err.msg);
	} else {
		/* the key and its password stay with cryo-hook */
		static const char *scrub[3];
		scrub[0] = "CRYO_KEY";
		scrub[1] = opt.password_env;
		struct cryo_spawn sp = { .argv = p->notify, .stdin_fd = fd, .new_pgrp = true, .unset_env = scrub };
		if (cryo_spawn_start(&sp, &err) < 0) {
			cryo_json_str(j, "error", err.msg);
		} else {
			notifies[k].pid = sp.pid;
			notifies[k].deadline = cryo_now_monotonic_ns() + (uint64_t)p->notify_timeout * 1000000000ull;
			snprintf(notifies[k].rule, sizeof(notifies[k].rule), "%s", p->rule);
			cryo_json_num(j, "pid", sp.pid);
		}
	}
	if (fd >= 0)
		close(fd);
	journal(j);
}

static void drain_out(struct slot *s)
{
	char buf[65536];
	for (;;) {
		ssize_t r = read(s->out_fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 || errno != EAGAIN) {
				close(s->out_fd);
				s->out_fd = -1;
			}
			return;
		}
		if (s->olen + (size_t)r <= RESP_OUT_MAX) {
			char *nb = realloc(s->out, s->olen + (size_t)r + 1);
			if (!nb)
				continue;
			s->out = nb;
			memcpy(s->out + s->olen, buf, (size_t)r);
			s->olen += (size_t)r;
			s->out[s->olen] = '\0';
		}
	}
}

static void response_ended(struct slot *s, int status)
{
	if (s->out_fd >= 0) {
		fcntl(s->out_fd, F_SETFL, 0); /* the child is gone: read to EOF */
		drain_out(s);
	}
	if (s->alerts_fd >= 0) {
		close(s->alerts_fd);
		s->alerts_fd = -1;
	}
	s->exit = cryo_wait_code(status);
	s->state = SLOT_DONE;
	s->t_done = cryo_now_monotonic_ns();
	nrunning--;
	cleanup_cjson cJSON *res = s->out ? cryo_json_parse(s->out, s->olen) : NULL;
	const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "responses"), 0);
	cJSON *j = event("response-end");
	cryo_json_str(j, "container", s->id);
	cryo_json_str(j, "rule", s->plan.rule);
	cryo_json_num(j, "exit", s->exit);
	cryo_json_str(j, "result", cryo_json_get_str(r0, "result"));
	cryo_json_str(j, "case", cryo_json_get_str(r0, "case"));
	cryo_json_str(j, "archive", cryo_json_get_str(r0, "archive"));
	cryo_json_str(j, "sha256", cryo_json_get_str(r0, "sha256"));
	cryo_json_num(j, "alerts_added", (double)s->added);
	cryo_json_num(j, "alerts_not_added", (double)s->not_added);
	cryo_json_num(j, "seconds", (double)(s->t_done - s->t_queued) / 1e9);
	journal(j);
	if (cryo_verbosity >= 0)
		fprintf(stderr, "%s: response for %s: %s, case %s\n", cryo_progname, s->id,
			cryo_json_get_str(r0, "result") ? cryo_json_get_str(r0, "result") : "failed",
			cryo_json_get_str(r0, "case") ? cryo_json_get_str(r0, "case") : "(none)");
	if (s->plan.notify[0]) {
		cleanup_cjson cJSON *msg = cJSON_CreateObject();
		cryo_json_str(msg, "container", s->id);
		cryo_json_str(msg, "rule", s->plan.rule);
		cryo_json_num(msg, "exit", s->exit);
		cJSON_AddItemToObject(msg, "response", res ? cJSON_Duplicate(res, 1) : cJSON_CreateNull());
		cJSON *first = cryo_json_parse(s->first_line, strlen(s->first_line));
		cJSON_AddItemToObject(msg, "trigger",
				      first ? cJSON_DetachItemFromObjectCaseSensitive(first, "trigger") : cJSON_CreateNull());
		cJSON_Delete(first);
		cleanup_free char *text = cJSON_PrintUnformatted(msg);
		if (text)
			notify(&s->plan, text, s->id);
	}
	/* a finished slot is kept for the debounce only: not its megabytes */
	free(s->first_line);
	s->first_line = NULL;
	free(s->out);
	s->out = NULL;
	s->olen = 0;
}

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		bool found = false;
		for (size_t i = 0; i < MAX_TRACKED && !found; i++)
			if (slots[i].state == SLOT_RUNNING && slots[i].pid == pid) {
				response_ended(&slots[i], status);
				found = true;
			}
		for (size_t k = 0; k < MAX_NOTIFY && !found; k++)
			if (notifies[k].pid == pid) {
				cJSON *j = event("notify-end");
				cryo_json_str(j, "rule", notifies[k].rule);
				cryo_json_num(j, "exit", cryo_wait_code(status));
				journal(j);
				notifies[k].pid = 0;
				found = true;
			}
	}
	start_queued();
}

/* ---- an alert ------------------------------------------------------------------ */

/* Freeze now, in this process: the step that stops the attacker does not
 * wait for anything slower. */
static void freeze_now(struct cryo_container *c, cJSON *j, uint64_t t_read)
{
	struct cryo_freezer fresh, *f = NULL;
	struct cryo_error err = { 0 };
	struct ready *r = ready_of(c->id);
	if (r && r->ok)
		f = &r->f;
	uint64_t t0 = cryo_now_monotonic_ns();
	int rc = f ? cryo_freezer_request(f, true, &err) : -1;
	if (rc < 0) {
		/* not ready, or its cgroup was replaced: open it now */
		f = &fresh;
		if (cryo_freezer_init(f, &all.roots, c, CRYO_FREEZE_NONE, &err) < 0) {
			cryo_json_str(j, "freeze_error", err.msg);
			return;
		}
		rc = cryo_freezer_request(f, true, &err);
	}
	if (rc < 0) {
		cryo_json_str(j, "freeze_error", err.msg);
	} else {
		f->result = 0;
		cryo_freezers_wait(f, 1, FREEZE_WAIT_MS);
		uint64_t t1 = cryo_now_monotonic_ns();
		cryo_json_str(j, "freeze", f->result == 0 ? cryo_freeze_state_name(f->state) : "requested");
		if (f->result < 0)
			cryo_json_str(j, "freeze_error", f->err.msg);
		cryo_json_str(j, "mechanism", cryo_freeze_mech_name(f->mech));
		cryo_json_num(j, "freeze_ms", (double)(t1 - t0) / 1e6);
		cryo_json_num(j, "alert_to_frozen_ms", (double)(t1 - t_read) / 1e6);
		cryo_json_num(j, "frozen_mono_ns", (double)t1);
	}
	if (f == &fresh)
		cryo_freezer_close(&fresh);
}

static bool still_frozen(struct cryo_container *c)
{
	struct cryo_freezer fresh, *f = NULL;
	struct cryo_error err;
	enum cryo_freeze_state st = CRYO_THAWED;
	struct ready *r = ready_of(c->id);
	if (r && r->ok)
		f = &r->f;
	if (!f) {
		if (cryo_freezer_init(&fresh, &all.roots, c, CRYO_FREEZE_NONE, &err) < 0)
			return true; /* cannot tell: keep the debounce */
		f = &fresh;
	}
	bool known = cryo_freezer_state(f, &st, &err) == 0;
	if (f == &fresh)
		cryo_freezer_close(&fresh);
	return !known || st == CRYO_FROZEN || st == CRYO_FREEZING;
}

/* Hand a later alert to the running response (it records it in the case
 * before sealing), only whole: a line that does not fit in the pipe now is
 * not added (it is in the journal all the same). */
static bool hand_over(struct slot *s, const char *raw, const char *when)
{
	if (s->state != SLOT_RUNNING || s->alerts_fd < 0)
		return false;
	cleanup_cjson cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "alert", cJSON_CreateRaw(raw));
	cryo_json_str(o, "received", when);
	cleanup_free char *line = cJSON_PrintUnformatted(o);
	if (!line)
		return false;
	size_t l = strlen(line);
	int queued = 0, size = fcntl(s->alerts_fd, F_GETPIPE_SZ);
	/* half the room that looks free: a pipe is counted in pages, and a
	 * write that does not fit would tear the line */
	if (size <= 0 || ioctl(s->alerts_fd, FIONREAD, &queued) < 0 || queued > size ||
	    (l + 1) * 2 > (size_t)(size - queued))
		return false;
	line[l] = '\n';
	ssize_t w = write(s->alerts_fd, line, l + 1);
	if (w != (ssize_t)(l + 1)) {
		/* sealed (EPIPE), or torn after all: nothing more goes to this
		 * case (a torn last line has no newline, so the response drops it) */
		close(s->alerts_fd);
		s->alerts_fd = -1;
		return false;
	}
	return true;
}

static void handle_alert(const char *text, size_t len, const char *source, const char *peer)
{
	uint64_t t_read = cryo_now_monotonic_ns();
	char when[40];
	cryo_format_utc_ns(cryo_now_realtime_ns(), when, sizeof(when));
	cJSON *j = alert_event(source, peer);
	struct cryo_alert a;
	struct cryo_error err = { 0 };
	if (cryo_alert_parse(text, len, &a, &err) < 0) {
		cryo_json_str(j, "decision", "rejected");
		cryo_json_str(j, "reason", err.msg);
		add_excerpt(j, text, len);
		journal(j);
		return;
	}
	/* the alert as it came (checked strict JSON, without insignificant
	 * whitespace: no line break can reach the journal), not cJSON's reprint,
	 * which would round evt.time's nanoseconds */
	const char *raw = a.raw;
	cryo_json_str(j, "rule", a.rule);
	cryo_json_str(j, "priority", cryo_priority_name(a.priority));
	cryo_json_str(j, "container", a.container_id);
	const struct cryo_policy_rule *r = cryo_policy_match(&policy, &a);
	cryo_json_str(j, "policy_rule", r ? r->name : NULL);
	const char *decision = NULL, *reason = NULL;
	char actions[128];
	cryo_policy_actions_text(r ? r->actions : 0, actions, sizeof(actions));
	cryo_json_str(j, "actions", actions);
	if (!a.container_id[0]) {
		decision = "ignored";
		reason = a.no_container_why;
	} else if (!r || !r->actions) {
		decision = "journal";
		reason = r ? "the matching rule has no actions" : "no policy rule matches";
	} else if (opt.dry_run || r->dry_run) {
		decision = "dry-run";
		reason = opt.dry_run ? "--dry-run" : "the rule is dry_run";
	} else if (stopping) {
		decision = "shutting-down";
		reason = "cryo-hook is stopping";
	}
	if (decision) {
		cryo_json_str(j, "decision", decision);
		cryo_json_str(j, "reason", reason);
		add_excerpt(j, raw, strlen(raw)); /* not acted on: what it was, not all of it */
		journal(j);
		cryo_alert_free(&a);
		return;
	}
	if (!(r->actions & CRYO_ACT_CONTAIN)) {
		/* notify only: the alert goes to the command, nothing is frozen */
		cleanup_cjson cJSON *msg = cJSON_CreateObject();
		cryo_json_str(msg, "container", a.container_id);
		cryo_json_str(msg, "rule", r->name);
		cJSON_AddItemToObject(msg, "trigger", cJSON_CreateRaw(raw));
		cleanup_free char *mtext = cJSON_PrintUnformatted(msg);
		cryo_json_str(j, "decision", "notify");
		cryo_json_str(j, "reason", "the rule only notifies");
		cJSON_AddItemToObject(j, "alert", cJSON_CreateRaw(raw));
		journal(j);
		struct plan np = { 0 };
		plan_from_rule(&np, r);
		if (mtext)
			notify(&np, mtext, a.container_id);
		plan_free(&np);
		cryo_alert_free(&a);
		return;
	}
	bool ambiguous = false;
	struct cryo_container *c = NULL;
	struct slot *s = NULL;
	/* the debounce is on the id as the detector gives it and on the full id */
	if (!(s = slot_of(a.container_id)) && (c = find_container(a.container_id, &ambiguous)))
		s = slot_of(c->id);
	if (s && s->state == SLOT_DONE && !c)
		c = find_container(a.container_id, &ambiguous);
	/* debounce only what is still contained: after the window, or once the
	 * container is no longer frozen (thawed by its response's plan, or
	 * restarted under the same id), an alert starts a new case */
	if (s && s->state == SLOT_DONE &&
	    (cryo_now_monotonic_ns() - s->t_done >= (uint64_t)policy.debounce_seconds * 1000000000ull ||
	     (c && !still_frozen(c)))) {
		slot_free(s);
		s = NULL;
	}
	if (s) {
		if (hand_over(s, raw, when)) {
			s->added++;
			decision = "added";
			reason = "added to the running response's case";
		} else {
			s->not_added++;
			decision = "debounced";
			reason = s->state == SLOT_QUEUED	   ? "a response for this container is queued"
				 : s->state == SLOT_RUNNING ? "the response already sealed its case (or is busy): journal only"
							    : "a response for this container ended within debounce_seconds";
		}
		cryo_json_str(j, "decision", decision);
		cryo_json_str(j, "reason", reason);
		cryo_json_num(j, "first_seq", (double)s->first_seq);
		if (!strcmp(decision, "added"))
			cJSON_AddItemToObject(j, "alert", cJSON_CreateRaw(raw));
		else
			add_excerpt(j, raw, strlen(raw));
		journal(j);
		cryo_alert_free(&a);
		return;
	}
	if (!c) {
		cryo_json_str(j, "decision", ambiguous ? "ambiguous-container" : "unknown-container");
		cryo_json_str(j, "reason", ambiguous ? "the id names several containers" : "no running container has this id");
		add_excerpt(j, raw, strlen(raw));
		journal(j);
		cryo_alert_free(&a);
		return;
	}
	const struct ready *rd = ready_of(c->id);
	if (rd ? rd->self : is_self(c)) {
		cryo_json_str(j, "decision", "refused");
		cryo_json_str(j, "reason", "cryo-hook runs in this container: it does not freeze itself");
		cJSON_AddItemToObject(j, "alert", cJSON_CreateRaw(raw));
		journal(j);
		cryo_alert_free(&a);
		return;
	}
	/* the first alert for this container: contain it now */
	freeze_now(c, j, t_read);
	cryo_json_str(j, "container_id", c->id);
	cryo_json_str(j, "container_name", c->name);
	s = slot_new();
	if (!s || (nqueued >= (size_t)policy.max_queue)) {
		cryo_json_str(j, "decision", "frozen-only");
		cryo_json_str(j, "reason", !s ? "4096 containers already being responded to" : "the response queue is full");
		cJSON_AddItemToObject(j, "alert", cJSON_CreateRaw(raw));
		journal(j);
		cryo_warn("%s frozen, but no response could be queued: run cryo-respond %s", c->id, c->id);
		cryo_alert_free(&a);
		return;
	}
	s->state = SLOT_QUEUED;
	snprintf(s->id, sizeof(s->id), "%s", c->id);
	snprintf(s->name, sizeof(s->name), "%s", c->name);
	plan_from_rule(&s->plan, r);
	s->t_queued = cryo_now_monotonic_ns();
	s->first_seq = seq;
	cJSON *first = cJSON_CreateObject();
	cJSON_AddItemToObject(first, "trigger", cJSON_CreateRaw(raw));
	cryo_json_str(first, "received", when);
	cryo_json_str(first, "source", source);
	cJSON *hf = cJSON_AddObjectToObject(first, "hook_freeze");
	char fz[32];
	snprintf(fz, sizeof(fz), "%s", cryo_json_get_str(j, "freeze") ? cryo_json_get_str(j, "freeze") : "NOT frozen");
	cryo_json_str(hf, "state", fz);
	cJSON_AddItemToObject(hf, "ms", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(j, "freeze_ms"), 1));
	cJSON_AddItemToObject(hf, "alert_to_frozen_ms",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(j, "alert_to_frozen_ms"), 1));
	cryo_json_str(hf, "error", cryo_json_get_str(j, "freeze_error"));
	s->first_line = cJSON_PrintUnformatted(first);
	cJSON_Delete(first);
	if (!s->first_line)
		s->first_line = strdup("{}");
	nqueued++;
	cryo_json_str(j, "decision", "respond");
	cJSON_AddItemToObject(j, "alert", cJSON_CreateRaw(raw));
	journal(j);
	if (cryo_verbosity >= 0)
		fprintf(stderr, "%s: %s: %s -> %s\n", cryo_progname, c->id, fz, actions);
	cryo_alert_free(&a);
	start_queued();
}

/* ---- standard input --------------------------------------------------------- */

static struct {
	char *buf;
	size_t len;
	size_t overlong; /* bytes of a line past the bound, being skipped */
} in;

static void read_stdin(void)
{
	char chunk[65536];
	ssize_t r = read(STDIN_FILENO, chunk, sizeof(chunk));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		if (in.len || in.overlong)
			reject("stdin", NULL, "a partial line at the end of input (no newline): not acted on", in.buf, in.len,
			       in.len + in.overlong);
		in.len = in.overlong = 0;
		stdin_open = false;
		journal(event("stdin-closed"));
		return;
	}
	for (ssize_t i = 0; i < r; i++) {
		char ch = chunk[i];
		if (ch == '\n') {
			if (in.overlong)
				reject("stdin", NULL, "line longer than 1 MiB: skipped", in.buf, in.len, in.len + in.overlong);
			else if (in.len)
				handle_alert(in.buf, in.len, "stdin", NULL);
			in.len = in.overlong = 0;
		} else if (in.overlong || in.len == CRYO_ALERT_MAX) {
			in.overlong++;
		} else {
			in.buf[in.len++] = ch;
		}
	}
}

/* ---- HTTP -------------------------------------------------------------------- */

struct request {
	char *body;
	size_t len;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static bool authorized(struct MHD_Connection *conn)
{
	if (!token_len)
		return true;
	const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Cryo-Token");
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if (!t && auth && !strncasecmp(auth, "Bearer ", 7))
		t = auth + 7;
	return t && strlen(t) == token_len && sodium_memcmp(t, token, token_len) == 0;
}

static void peer_text(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	buf[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	char a[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)sa;
		inet_ntop(AF_INET, &in4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)version;
	struct request *rq = *con_cls;
	if (!rq) {
		if (strcmp(method, "POST"))
			return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"POST alerts\"}\n");
		if (!authorized(conn)) {
			char peer[80];
			peer_text(conn, peer, sizeof(peer));
			cJSON *j = event("http-refused");
			cryo_json_str(j, "peer", peer);
			cryo_json_str(j, "reason", "no or wrong token");
			journal(j);
			return reply(conn, MHD_HTTP_UNAUTHORIZED, "{\"error\":\"token\"}\n");
		}
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->too_big || rq->len + *upload_size > CRYO_ALERT_MAX) {
			rq->too_big = true;
		} else {
			char *nb = realloc(rq->body, rq->len + *upload_size + 1);
			if (!nb) {
				rq->too_big = true;
			} else {
				rq->body = nb;
				memcpy(rq->body + rq->len, upload, *upload_size);
				rq->len += *upload_size;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	char peer[80];
	peer_text(conn, peer, sizeof(peer));
	if (rq->too_big) {
		reject("http", peer, "body larger than 1 MiB", NULL, 0, 0);
		return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, "{\"error\":\"too large\"}\n");
	}
	/* one alert, or several as JSON lines */
	size_t n = 0;
	for (size_t i = 0; i < rq->len;) {
		char *nl = memchr(rq->body + i, '\n', rq->len - i);
		size_t end = nl ? (size_t)(nl - rq->body) : rq->len;
		size_t b = i, e = end;
		while (b < e && (rq->body[b] == ' ' || rq->body[b] == '\r' || rq->body[b] == '\t'))
			b++;
		while (e > b && (rq->body[e - 1] == ' ' || rq->body[e - 1] == '\r' || rq->body[e - 1] == '\t'))
			e--;
		if (e > b) {
			handle_alert(rq->body + b, e - b, "http", peer);
			n++;
		}
		i = end + 1;
	}
	char msg[64];
	snprintf(msg, sizeof(msg), "{\"received\":%zu}\n", n);
	return reply(conn, n ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST, msg);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct request *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, struct cryo_error *err)
{
	char host[256];
	const char *colon;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "--listen: want [ADDR]:PORT, not '%s'", s);
		snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "--listen: want ADDR:PORT, not '%s'", s);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	}
	long port;
	if (cryo_parse_long(colon + 1, 0, 65535, &port) < 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "--listen: bad port in '%s'", s);
	struct sockaddr_in *in4 = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*in6);
	} else {
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "--listen: '%s' is not an IP address", host);
	}
	return 0;
}

static int start_http(struct cryo_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (parse_listen(opt.listen, &ss, &sl, err) < 0)
		return -1;
	if (!is_loopback(&ss) && !token_len)
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
				      "--listen %s is not loopback: give --token-file (anyone who can reach it could "
				      "freeze containers)",
				      opt.listen);
	unsigned flags = MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, 64u,
				 MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256u << 10), MHD_OPTION_END);
	if (!httpd)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, errno, "cannot listen on %s", opt.listen);
	const union MHD_DaemonInfo *pi = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
	cJSON *j = event("listening");
	char addr[300];
	if (ss.ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr, a, sizeof(a));
		snprintf(addr, sizeof(addr), "[%s]:%u", a, pi ? pi->port : 0);
	} else {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&ss)->sin_addr, a, sizeof(a));
		snprintf(addr, sizeof(addr), "%s:%u", a, pi ? pi->port : 0);
	}
	cryo_json_str(j, "address", addr);
	cryo_json_num(j, "port", pi ? pi->port : 0);
	cryo_json_bool(j, "token", token_len > 0);
	journal(j);
	cryo_info("listening on http://%s/ %s", addr, token_len ? "(token required)" : "(loopback, no token)");
	return 0;
}

/* ---- policy ------------------------------------------------------------------ */

static int load_policy(struct cryo_policy *p, struct cryo_error *err)
{
	int rc = opt.policy ? cryo_policy_load(opt.policy, p, err) : cryo_policy_default(p, err);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < p->n; i++)
		if ((p->rules[i].actions & CRYO_ACT_SEAL) && !opt.key && !opt.unsigned_ok && !opt.dry_run &&
		    !opt.check && !p->rules[i].dry_run) {
			cryo_error_set(err, CRYO_EXIT_USAGE, 0,
				       "policy rule \"%s\" seals: give -k KEY.sec (or CRYO_KEY), or --unsigned",
				       p->rules[i].name);
			cryo_policy_free(p);
			return -1;
		}
	return 0;
}

static void print_policy(const struct cryo_policy *p)
{
	printf("policy %s: %zu rule(s), debounce %d s, %d response(s) at once, queue %d\n", p->origin, p->n,
	       p->debounce_seconds, p->max_concurrent, p->max_queue);
	for (size_t i = 0; i < p->n; i++) {
		const struct cryo_policy_rule *r = &p->rules[i];
		char acts[128], safe[300];
		cryo_policy_actions_text(r->actions, acts, sizeof(acts));
		printf("  %zu. %s:", i + 1, cryo_text_safe(r->name, safe, sizeof(safe)));
		const char *sep = " ";
		for (size_t k = 0; k < r->nrules; k++) {
			printf("%srule~'%s'", k ? " or " : sep, cryo_text_safe(r->rules[k], safe, sizeof(safe)));
			sep = ", ";
		}
		if (r->priority != CRYO_PRIO_UNKNOWN) {
			printf("%spriority>=%s", sep, cryo_priority_name(r->priority));
			sep = ", ";
		}
		if (r->source) {
			printf("%ssource %s", sep, cryo_text_safe(r->source, safe, sizeof(safe)));
			sep = ", ";
		}
		for (size_t k = 0; k < r->ntags; k++) {
			printf("%stag %s", sep, cryo_text_safe(r->tags[k], safe, sizeof(safe)));
			sep = ", ";
		}
		for (size_t k = 0; k < r->nfields; k++) {
			char safe2[300];
			printf("%s%s~'%s'", sep, cryo_text_safe(r->fields[k].key, safe2, sizeof(safe2)),
			       cryo_text_safe(r->fields[k].pattern, safe, sizeof(safe)));
			sep = ", ";
		}
		if (!strcmp(sep, " "))
			printf(" any alert");
		printf(" -> %s%s%s\n", acts, r->thaw ? ", then thaw" : "", r->dry_run ? " (dry run)" : "");
	}
}

/* ---- main loop ------------------------------------------------------------------ */

static void begin_stop(const char *why)
{
	if (stopping)
		return;
	stopping = true;
	cJSON *j = event("stopping");
	cryo_json_str(j, "why", why);
	cryo_json_num(j, "running", (double)nrunning);
	cryo_json_num(j, "queued", (double)nqueued);
	journal(j);
	for (size_t i = 0; i < MAX_TRACKED; i++) {
		if (slots[i].state == SLOT_RUNNING) {
			kill(slots[i].pid, SIGTERM); /* finishes its current step, then stops (resumable) */
		} else if (slots[i].state == SLOT_QUEUED) {
			cJSON *q = event("not-started");
			cryo_json_str(q, "container", slots[i].id);
			cryo_json_str(q, "reason", "cryo-hook stopped before its turn: the container is frozen; respond with cryo-respond");
			journal(q);
			cryo_warn("%s stays frozen with no response: run cryo-respond %s", slots[i].id, slots[i].id);
			slots[i].state = SLOT_DONE;
			nqueued--;
		}
	}
	if (httpd) {
		MHD_stop_daemon(httpd);
		httpd = NULL;
	}
	stdin_open = false;
}

static void housekeeping(void)
{
	uint64_t now = cryo_now_monotonic_ns();
	for (size_t k = 0; k < MAX_NOTIFY; k++)
		if (notifies[k].pid && now > notifies[k].deadline) {
			kill(-notifies[k].pid, SIGKILL);
			kill(notifies[k].pid, SIGKILL);
			cJSON *j = event("notify-timeout");
			cryo_json_str(j, "rule", notifies[k].rule);
			journal(j);
			notifies[k].deadline = UINT64_MAX;
		}
}

static int run(void)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		struct cryo_error err;
		cryo_error_sys(&err, "signalfd");
		return cryo_report_error(&err);
	}
	for (;;) {
		bool notifying = false;
		for (size_t k = 0; k < MAX_NOTIFY; k++)
			notifying |= notifies[k].pid != 0;
		if (!stdin_open && !httpd && !nrunning && !nqueued && !notifying)
			break;
		struct pollfd pf[3 + 64];
		size_t n = 0;
		pf[n++] = (struct pollfd){ sfd, POLLIN, 0 };
		pf[n++] = (struct pollfd){ stdin_open ? STDIN_FILENO : -1, POLLIN, 0 };
		int mhd_fd = -1;
		if (httpd) {
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_EPOLL_FD);
			mhd_fd = di ? di->epoll_fd : -1;
		}
		pf[n++] = (struct pollfd){ mhd_fd, POLLIN, 0 };
		struct slot *polled[64];
		size_t np = 0;
		for (size_t i = 0; i < MAX_TRACKED && np < 64; i++)
			if (slots[i].state == SLOT_RUNNING && slots[i].out_fd >= 0) {
				polled[np++] = &slots[i];
				pf[n++] = (struct pollfd){ slots[i].out_fd, POLLIN, 0 };
			}
		int timeout = 1000;
		MHD_UNSIGNED_LONG_LONG mt;
		if (httpd && MHD_get_timeout(httpd, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mt;
		int r = poll(pf, n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					reap();
				} else if (si.ssi_signo == SIGHUP) {
					struct cryo_policy fresh;
					struct cryo_error err = { 0 };
					cJSON *j = event("policy-reload");
					if (load_policy(&fresh, &err) < 0) {
						cryo_json_str(j, "error", err.msg);
						cryo_warn("policy not reloaded, the old one stays: %s", err.msg);
					} else {
						cryo_policy_free(&policy);
						policy = fresh;
						cryo_json_num(j, "rules", (double)policy.n);
						cryo_info("policy reloaded: %zu rule(s)", policy.n);
					}
					journal(j);
				} else {
					begin_stop(si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
				}
			}
		}
		if (stdin_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_stdin();
		if (httpd && mhd_fd >= 0)
			MHD_run(httpd);
		for (size_t i = 0; i < np; i++)
			if (pf[3 + i].revents && polled[i]->out_fd >= 0)
				drain_out(polled[i]);
		housekeeping();
		reap(); /* a SIGCHLD merged with another is still reaped */
	}
	close(sfd);
	journal(event("stopped"));
	return 0;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	int rc = parse(argc, argv, &opt);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	struct cryo_error err = { 0 };
	if (load_policy(&policy, &err) < 0)
		return cryo_close_stdout(err.exit == CRYO_EXIT_USAGE ? cryo_usage_error("%s", err.msg) : cryo_report_error(&err));
	if (opt.check) {
		print_policy(&policy);
		return cryo_close_stdout(0);
	}
	if (cryo_require_root(&err) < 0 || cryo_tool_path("respond", respond_path, sizeof(respond_path), &err) < 0)
		return cryo_report_error(&err);
	if (opt.token_file) {
		cleanup_free char *t = NULL;
		size_t tl;
		if (cryo_read_file_at(AT_FDCWD, opt.token_file, sizeof(token) - 1, false, &t, &tl, &err) < 0)
			return cryo_report_error(&err);
		while (tl && (t[tl - 1] == '\n' || t[tl - 1] == '\r'))
			tl--;
		if (tl < 16)
			return cryo_usage_error("--token-file: a token of at least 16 characters");
		memcpy(token, t, tl);
		token_len = tl;
		sodium_memzero(t, tl);
	}
	if (sodium_init() < 0)
		return CRYO_EXIT_SOFTWARE;
	signal(SIGPIPE, SIG_IGN);
	/* the journal: appended, 0600, never through a symlink */
	char jpath[PATH_MAX];
	if (opt.journal && !strcmp(opt.journal, "-")) {
		journal_fd = STDOUT_FILENO;
	} else {
		if (!opt.journal)
			snprintf(jpath, sizeof(jpath), "%s/hook-journal.jsonl", opt.case_root);
		else
			snprintf(jpath, sizeof(jpath), "%s", opt.journal);
		char jdir[PATH_MAX];
		snprintf(jdir, sizeof(jdir), "%s", jpath);
		char *slash = strrchr(jdir, '/');
		if (slash && slash != jdir) {
			*slash = '\0';
			if (cryo_mkdir_p(jdir, 0700, &err) < 0) {
				err.exit = CRYO_EXIT_IOERR;
				return cryo_report_error(&err);
			}
		}
		journal_fd = open(jpath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (journal_fd < 0) {
			cryo_error_sys(&err, "open the journal %s", jpath);
			err.exit = CRYO_EXIT_IOERR; /* whatever the cause: no journal, no hook */
			return cryo_report_error(&err);
		}
	}
	/* two descriptors per ready freezer */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	slots = calloc(MAX_TRACKED, sizeof(*slots));
	ready = calloc(READY_MAX, sizeof(*ready));
	in.buf = malloc(CRYO_ALERT_MAX);
	if (!slots || !in.buf)
		return CRYO_EXIT_OSERR;
	for (size_t i = 0; i < MAX_TRACKED; i++)
		slots[i].alerts_fd = slots[i].out_fd = -1;
	read_self_cgroup();
	rediscover();
	cJSON *j = event("start");
	cryo_json_str(j, "policy", policy.origin);
	cryo_json_num(j, "rules", (double)policy.n);
	cryo_json_bool(j, "dry_run", opt.dry_run);
	cryo_json_str(j, "case_root", opt.case_root);
	cryo_json_num(j, "pid", getpid());
	cryo_json_num(j, "containers_known", (double)all.n);
	journal(j);
	if (opt.listen && start_http(&err) < 0)
		return cryo_report_error(&err);
	cryo_info("reading alerts on standard input; policy %s (%zu rule(s))%s", policy.origin, policy.n,
		  opt.dry_run ? "; DRY RUN: nothing will be changed" : "");
	rc = run();
	cryo_policy_free(&policy);
	cryo_containers_free(&all);
	return cryo_close_stdout(rc);
}
