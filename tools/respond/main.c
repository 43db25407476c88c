/* cryo-respond: the whole response to a compromised container, in the
 * order of RFC 3227 (most volatile first, contain first): freeze, cut,
 * processes and sockets, filesystem, seal; then keep it contained, thaw
 * it, or kill it.  Each step is the cryo tool that does it, run beside
 * this one with --json: the response composes them and writes no capture
 * logic of its own.  A step that fails is recorded and the next one runs;
 * containment is never undone because of a failure.  The plan is written
 * to the case first, so an interrupted response resumes (--resume). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/container.h"
#include "cryo/freeze.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/pack.h"
#include "cryo/spawn.h"
#include "cryo/target.h"
#include "cryo/util.h"

#define MAX_CONTAINERS 256
#define PLAN "respond.json"
#define TOOL_JSON_MAX (64u << 20)
#define ALERTS_MAX 10000
#define ALERTS_BYTES_MAX (32u << 20)
#define ALERT_LINE_MAX ((1u << 20) + 65536) /* an alert of CRYO_ALERT_MAX, wrapped by the hook */

enum then { THEN_KEEP, THEN_THAW, THEN_KILL };
static const char *then_names[] = { "keep", "thaw", "kill" };

enum step { ST_FREEZE, ST_CUT, ST_PROC, ST_FS, ST_SEAL, ST_THEN, ST_N };
static const char *step_names[] = { "freeze", "cut", "proc", "fs", "seal", "then" };

struct options {
	char **targets;
	int ntargets;
	const char *case_root, *key, *resume, *trigger_file, *password_env;
	bool unsigned_ok, merged, no_cut, no_memory, no_capture, no_seal, dry_run, json, pod, quarantine;
	enum then then;
	bool then_given;
	long freeze_timeout;
	int alerts_fd;
	int argc;
	char **argv;
};

struct step_result {
	const char *result; /* NULL: not run; "ok" "partial" "error" "skipped" "done" (earlier) */
	int exit;
	double seconds, bytes;
	char msg[512];
};

struct resp {
	struct cryo_container *c; /* NULL when the container is gone (resume) */
	char id[129], sid[130], name[256];
	char case_dir[PATH_MAX];
	struct cryo_case kase;
	bool have_case;
	struct step_result st[ST_N];
	bool done[ST_N]; /* by an earlier run of this response (resume) */
	char archive[PATH_MAX], sha256[CRYO_SHA256_HEX], signature[PATH_MAX + 16];
	bool frozen, cut;
	int rc;
};

/* Alerts that a detector's hook sends while the response runs (--alerts-fd):
 * the first line is the trigger, the rest are added to the case before it
 * is sealed. */
struct alerts {
	int fd;
	char *line;
	size_t llen;
	bool overlong;
	cJSON *first;  /* the first line, parsed */
	char *first_raw; /* and as it came (cJSON would round evt.time's nanoseconds) */
	char *later;   /* the others, as they came, one per line */
	size_t later_len, later_cap, nlater, dropped;
};

static struct options opt;
static bool resuming;
static bool reseal; /* a step ran again after an earlier seal: a new archive */
static struct alerts alerts = { .fd = -1 };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-respond [OPTIONS] TARGET...\n"
		"       cryo-respond --resume CASE_DIR [-k KEY.sec | --unsigned] [--json]\n\n"
		"The whole response to a compromised container, in order: freeze (every\n"
		"target first, together), cut the network, capture the processes (state,\n"
		"executables, sockets, memory), capture the filesystem, seal the case into\n"
		"a signed archive; then leave it frozen and cut (default), thaw it, or\n"
		"kill it.  Each step is the cryo tool that does it (cryo-freeze, cryo-cut,\n"
		"cryo-proc, cryo-fs, cryo-pack), run from beside this one; each records\n"
		"itself in the case's custody log.  A step that fails is recorded and the\n"
		"response goes on; containment is never undone because of a failure (a\n"
		"thaw or kill asked for is then not done).  One case directory per\n"
		"container, named after the time and the container, under --case-root.\n\n"
		"TARGET: ID | ID-PREFIX | NAME | NS/POD[/CONTAINER] | pid:N[@START] | cgroup:/PATH\n\n"
		"Options:\n"
		"      --case-root DIR    where cases are made (default /var/lib/cryo/cases)\n"
		"  -k, --key FILE         sign with this minisign secret key (default: the\n"
		"                         file named by $CRYO_KEY)\n"
		"      --password-env V   the key's password is in environment variable V\n"
		"      --unsigned         seal without a signature\n"
		"      --then WHAT        after sealing: keep (default: frozen and cut),\n"
		"                         thaw (network restored, processes thawed), or\n"
		"                         kill (every process, through cgroup.kill)\n"
		"      --pod              respond to every container of each target's pod\n"
		"      --no-cut           do not cut the network\n"
		"      --quarantine       cut in quarantine mode (cryo-cut --mode quarantine)\n"
		"      --no-memory        capture processes without their memory\n"
		"      --no-capture       no process or filesystem capture\n"
		"      --merged           also capture the merged filesystem view (for replay)\n"
		"      --no-seal          leave the case unsealed\n"
		"      --trigger FILE     the alert that caused the response (JSON), recorded\n"
		"      --alerts-fd N      read alerts from descriptor N, one JSON per line:\n"
		"                         the first is the trigger, later ones are added to\n"
		"                         the case before it is sealed (used by cryo-hook)\n"
		"  -t, --freeze-timeout MS  wait for the freeze at most MS (default 5000)\n"
		"      --resume CASE_DIR  finish a response that was interrupted (killed,\n"
		"                         power lost): containment is asserted again and\n"
		"                         the steps not yet completed are run\n"
		"  -n, --dry-run          say what would be done; change nothing\n"
		"  -j, --json             the summary as JSON on stdout\n"
		"  -q, -v, -h, -V         quiet, verbose, help, version\n\n"
		"Exit status: 0 complete; 2 partial (contained, but a step failed or was\n"
		"partial: see the steps and the custody log); 3 target not found; 4\n"
		"ambiguous; 5 the freeze did not complete in time (it stays requested);\n"
		"64 usage; 65 a case's plan is unreadable; 69 a cryo tool is missing; 74\n"
		"the case could not be written; 75 interrupted (SIGINT, SIGTERM: the\n"
		"current step finished; run --resume); 77 not root.  With several\n"
		"containers: 0 when all are complete, else 2 or the failures' common\n"
		"code (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "case-root", required_argument, NULL, 'R' }, { "key", required_argument, NULL, 'k' },
		{ "password-env", required_argument, NULL, 'E' }, { "unsigned", no_argument, NULL, 'U' },
		{ "then", required_argument, NULL, 'T' },      { "pod", no_argument, NULL, 'P' },
		{ "no-cut", no_argument, NULL, 'C' },          { "quarantine", no_argument, NULL, 'Q' },
		{ "no-memory", no_argument, NULL, 'M' },       { "no-capture", no_argument, NULL, 'X' },
		{ "merged", no_argument, NULL, 'G' },          { "no-seal", no_argument, NULL, 'S' },
		{ "trigger", required_argument, NULL, 'g' },   { "alerts-fd", required_argument, NULL, 'A' },
		{ "freeze-timeout", required_argument, NULL, 't' }, { "resume", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },         CRYO_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	o->case_root = "/var/lib/cryo/cases";
	o->freeze_timeout = 5000;
	o->alerts_fd = -1;
	o->argc = argc;
	o->argv = argv;
	int c, rc;
	long v;
	while ((c = getopt_long(argc, argv, "k:t:n" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'R': o->case_root = optarg; break;
		case 'k': o->key = optarg; break;
		case 'E': o->password_env = optarg; break;
		case 'U': o->unsigned_ok = true; break;
		case 'T':
			if (!strcmp(optarg, "keep"))
				o->then = THEN_KEEP;
			else if (!strcmp(optarg, "thaw"))
				o->then = THEN_THAW;
			else if (!strcmp(optarg, "kill"))
				o->then = THEN_KILL;
			else
				return cryo_usage_error("--then is keep, thaw or kill, not '%s'", optarg);
			o->then_given = true;
			break;
		case 'P': o->pod = true; break;
		case 'C': o->no_cut = true; break;
		case 'Q': o->quarantine = true; break;
		case 'M': o->no_memory = true; break;
		case 'X': o->no_capture = true; break;
		case 'G': o->merged = true; break;
		case 'S': o->no_seal = true; break;
		case 'g': o->trigger_file = optarg; break;
		case 'A':
			if (cryo_parse_long(optarg, 0, 1 << 20, &v) < 0)
				return cryo_usage_error("--alerts-fd wants a descriptor number, not '%s'", optarg);
			o->alerts_fd = (int)v;
			break;
		case 't':
			if (cryo_parse_long(optarg, 1, 3600000, &o->freeze_timeout) < 0)
				return cryo_usage_error("--freeze-timeout wants 1 to 3600000 ms, not '%s'", optarg);
			break;
		case 'r': o->resume = optarg; break;
		case 'n': o->dry_run = true; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	o->targets = argv + optind;
	o->ntargets = argc - optind;
	if (o->resume) {
		if (o->ntargets)
			return cryo_usage_error("--resume takes the case directory, not targets");
		if (o->pod || o->no_cut || o->no_memory || o->no_capture || o->merged || o->no_seal || o->trigger_file ||
		    o->alerts_fd >= 0 || o->quarantine || o->then_given || o->dry_run)
			return cryo_usage_error("--resume follows the plan recorded in the case; only -k, --unsigned, "
						"--password-env and --json go with it");
		return -1;
	}
	if (!o->ntargets)
		return cryo_usage_error("no target given");
	if (o->no_cut && o->quarantine)
		return cryo_usage_error("--no-cut and --quarantine exclude each other");
	if (o->no_capture && (o->no_memory || o->merged))
		return cryo_usage_error("--no-capture excludes --no-memory and --merged");
	if (!o->key && !o->unsigned_ok && !o->no_seal && getenv("CRYO_KEY") && *getenv("CRYO_KEY"))
		o->key = getenv("CRYO_KEY");
	if (!o->key && !o->unsigned_ok && !o->no_seal)
		return cryo_usage_error("no key: -k KEY.sec (or CRYO_KEY=KEY.sec) signs the evidence; --unsigned seals "
					"without a signature; --no-seal leaves the case unsealed");
	if (o->key && o->unsigned_ok)
		return cryo_usage_error("a key and --unsigned exclude each other");
	return -1;
}

/* ---- alerts from the hook ------------------------------------------------ */

static void alert_line(struct alerts *a, const char *line, size_t len)
{
	cJSON *v = len ? cryo_json_parse(line, len) : NULL;
	if (!v || !cJSON_IsObject(v)) {
		cJSON_Delete(v);
		a->dropped++;
		return;
	}
	if (!a->first) {
		a->first = v;
		a->first_raw = strndup(line, len);
		return;
	}
	cJSON_Delete(v);
	if (a->nlater >= ALERTS_MAX || a->later_len + len + 1 > ALERTS_BYTES_MAX ||
	    cryo_grow(&a->later, &a->later_cap, a->later_len + len + 1, 1, 65536) < 0) {
		a->dropped++;
		return;
	}
	memcpy(a->later + a->later_len, line, len);
	a->later_len += len;
	a->later[a->later_len++] = '\n';
	a->nlater++;
}

/* Drain what is there; never blocks (the descriptor is non-blocking). */
static void alerts_read(int fd, void *arg)
{
	struct alerts *a = arg;
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 || errno != EAGAIN) {
				close(a->fd);
				a->fd = -1;
			}
			return;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == '\n') {
				if (!a->overlong)
					alert_line(a, a->line, a->llen);
				else
					a->dropped++;
				a->llen = 0;
				a->overlong = false;
			} else if (a->llen < ALERT_LINE_MAX) {
				a->line[a->llen++] = buf[i];
			} else {
				a->overlong = true;
			}
		}
	}
}

static void alerts_drain(void)
{
	if (alerts.fd >= 0)
		alerts_read(alerts.fd, &alerts);
}

/* The trigger: the first line, waited for a few seconds (the hook writes
 * it before anything else). */
static void alerts_open(int fd)
{
	alerts.fd = fd;
	alerts.line = malloc(ALERT_LINE_MAX);
	if (!alerts.line) {
		alerts.fd = -1;
		return;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	uint64_t until = cryo_now_monotonic_ns() + 5000000000ull;
	uint64_t now;
	while (!alerts.first && alerts.fd >= 0 && (now = cryo_now_monotonic_ns()) < until) {
		struct pollfd pf = { alerts.fd, POLLIN, 0 };
		if (poll(&pf, 1, (int)((until - now) / 1000000 + 1)) > 0)
			alerts_drain();
	}
}

/* ---- the record ------------------------------------------------------------- */

static void say_step(const struct resp *r, enum step s)
{
	const struct step_result *x = &r->st[s];
	if (opt.json || cryo_verbosity < 0 || !x->result)
		return;
	char dur[32] = "", size[32] = "";
	if (x->seconds > 0)
		snprintf(dur, sizeof(dur), x->seconds < 1 ? "%.0f ms" : "%.2f s",
			 x->seconds < 1 ? x->seconds * 1000 : x->seconds);
	if (x->bytes > 0)
		snprintf(size, sizeof(size), "%.1f MiB", x->bytes / 1048576.0);
	char safe[600];
	fprintf(stderr, "  %-7s %-8s %9s %10s  %s\n", step_names[s], x->result, dur, size,
		cryo_text_safe(x->msg, safe, sizeof(safe)));
}

static void set_step(struct resp *r, enum step s, const char *result, int exit, double secs, double bytes,
		     const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void set_step(struct resp *r, enum step s, const char *result, int exit, double secs, double bytes,
		     const char *fmt, ...)
{
	struct step_result *x = &r->st[s];
	x->result = result;
	x->exit = exit;
	x->seconds = secs;
	x->bytes = bytes;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	if (s != ST_FREEZE) /* shown under the case's name, once it has one */
		say_step(r, s);
}

/* An entry of cryo-respond's own (the plan, the group freeze, the alerts
 * added, a kill, the end).  A log that cannot be written makes the
 * response partial, never stops it. */
static void record(struct resp *r, const char *action, const char *result, const char *message, cJSON *details,
		   struct cryo_custody_entry *prepared)
{
	struct cryo_custody_entry e = { 0 };
	if (prepared)
		e = *prepared;
	else
		cryo_custody_begin(&e, "cryo-respond", action, r->id, opt.argc, opt.argv);
	if (details) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(e.obj, "details"), *x;
		while ((x = details->child)) {
			cJSON_DetachItemViaPointer(details, x);
			cJSON_AddItemToObject(d, x->string, x);
		}
	}
	cJSON_Delete(details);
	struct cryo_error err;
	if (!r->have_case) {
		cryo_custody_abandon(&e);
		return;
	}
	if (cryo_custody_commit(&r->kase, &e, result, message, &err) < 0) {
		cryo_report_error(&err);
		fprintf(stderr, "%s: NOT RECORDED in the custody log of %s: %s %s\n", cryo_progname, r->case_dir,
			action, result);
		if (!r->rc)
			r->rc = CRYO_EXIT_PARTIAL;
	}
}

/* ---- running a step's tool ------------------------------------------------ */

/* Run cryo-VERB ARGS... with --json -q; *json gets its parsed output (NULL
 * when none), cmd (when not NULL) the command line.  Returns its exit code
 * (or a cryo code when it could not run). */
static int run_tool_cmd(const char *verb, const char *const *args, cJSON **json, double *secs, char *why,
			size_t whysz, char *cmd_out, size_t cmdsz)
{
	*json = NULL;
	char path[PATH_MAX];
	struct cryo_error err = { 0 };
	uint64_t t0 = cryo_now_monotonic_ns();
	if (cryo_tool_path(verb, path, sizeof(path), &err) < 0) {
		snprintf(why, whysz, "%s", err.msg);
		*secs = 0;
		return err.exit;
	}
	size_t nargs = 0;
	while (args[nargs])
		nargs++;
	cleanup_free const char **argv = calloc(nargs + 4, sizeof(*argv));
	if (!argv) {
		snprintf(why, whysz, "out of memory");
		*secs = 0;
		return CRYO_EXIT_OSERR;
	}
	size_t n = 0;
	argv[n++] = path;
	argv[n++] = "--json";
	if (cryo_verbosity <= 0)
		argv[n++] = "-q";
	for (size_t i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cleanup_free char *cmd = cryo_join_argv((int)n, (char *const *)argv);
	if (cmd_out)
		snprintf(cmd_out, cmdsz, "%s", cmd ? cmd : "");
	cryo_debug("run %s", cmd ? cmd : verb);
	struct cryo_spawn s = { .argv = (char *const *)argv, .stdin_fd = -1, .capture_stdout = true };
	char *out = NULL;
	size_t len = 0;
	bool trunc = false;
	int status = 0;
	if (cryo_spawn_run(&s, TOOL_JSON_MAX, &out, &len, &trunc, &status, alerts.fd, alerts_read, &alerts, &err) < 0) {
		snprintf(why, whysz, "%s", err.msg);
		*secs = (double)(cryo_now_monotonic_ns() - t0) / 1e9;
		return err.exit;
	}
	*secs = (double)(cryo_now_monotonic_ns() - t0) / 1e9;
	int code = cryo_wait_code(status);
	if (out && !trunc)
		*json = cryo_json_parse(out, len);
	free(out);
	const char *e = cryo_json_get_str(*json, "error");
	if (code == 127 && !*json)
		snprintf(why, whysz, "cryo-%s could not be run", verb);
	else if (code > 128 && !*json)
		snprintf(why, whysz, "cryo-%s was killed by signal %d", verb, code - 128);
	else
		snprintf(why, whysz, "%s", e ? e : "");
	return code;
}

static int run_tool(const char *verb, const char *const *args, cJSON **json, double *secs, char *why, size_t whysz)
{
	return run_tool_cmd(verb, args, json, secs, why, whysz, NULL, 0);
}

static const char *result_of(int code)
{
	return code == 0 ? "ok" : code == CRYO_EXIT_PARTIAL ? "partial" : "error";
}

static double num(const cJSON *o, const char *path)
{
	const cJSON *v = cryo_json_path(o, path);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A step's directory left by a run that was killed before its custody
 * entry: set aside (kept, and sealed as unrecorded), so the step can run
 * again into a fresh one. */
static void set_aside(struct resp *r, const char *dir)
{
	struct stat sb;
	if (fstatat(r->kase.dirfd, dir, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	char to[128];
	for (int i = 1; i < 1000; i++) {
		snprintf(to, sizeof(to), "%s.interrupted-%d", dir, i);
		if (renameat2(r->kase.dirfd, dir, r->kase.dirfd, to, RENAME_NOREPLACE) == 0) {
			cryo_warn("%s: %s/ was left by an interrupted run: kept as %s/", r->case_dir, dir, to);
			cJSON *d = cJSON_CreateObject();
			cryo_json_str(d, "from", dir);
			cryo_json_str(d, "to", to);
			record(r, "set-aside", "ok", "incomplete output of an interrupted step kept aside", d, NULL);
			return;
		}
		if (errno != EEXIST)
			break;
	}
	cryo_warn("%s: could not set %s/ aside: %s", r->case_dir, dir, strerror(errno));
}

static void step_cut(struct resp *r)
{
	if (r->done[ST_CUT]) {
		r->cut = true;
		return set_step(r, ST_CUT, "done", 0, 0, 0, "cut by an earlier run");
	}
	const char *args[] = { "--case", r->case_dir, "--mode", opt.quarantine ? "quarantine" : "down", r->id, NULL };
	cJSON *j;
	double secs;
	char why[512];
	int code = run_tool("cut", args, &j, &secs, why, sizeof(why));
	if (code == 0 || code == CRYO_EXIT_PARTIAL)
		r->cut = true;
	if (code == 0)
		set_step(r, ST_CUT, "ok", 0, secs, 0, "%g link(s) %s%s", num(j, "links_count"),
			 opt.quarantine ? "quarantined" : "down",
			 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "already")) ? " (already)" : "");
	else
		set_step(r, ST_CUT, result_of(code), code, secs, 0, "%s", why[0] ? why : "cut failed");
	cJSON_Delete(j);
}

static void step_capture(struct resp *r, enum step s)
{
	bool isproc = s == ST_PROC;
	if (r->done[s])
		return set_step(r, s, "done", 0, 0, 0, "captured by an earlier run");
	set_aside(r, isproc ? "proc" : "fs");
	const char *args[8];
	size_t n = 0;
	args[n++] = "--case";
	args[n++] = r->case_dir;
	if (isproc && opt.no_memory)
		args[n++] = "--no-memory";
	if (!isproc && opt.merged)
		args[n++] = "--merged";
	args[n++] = r->id;
	args[n] = NULL;
	cJSON *j;
	double secs;
	char why[512];
	int code = run_tool(isproc ? "proc" : "fs", args, &j, &secs, why, sizeof(why));
	int np = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "problems"));
	if (!cJSON_GetObjectItemCaseSensitive(j, "counts") || (code && code != CRYO_EXIT_PARTIAL))
		set_step(r, s, result_of(code), code, secs, 0, "%s", why[0] ? why : "capture failed");
	else if (isproc)
		set_step(r, s, result_of(code), code, secs, num(j, "counts.memory_bytes"),
			 "%g processes, %g threads, %g files, %g sockets%s%.0d%s", num(j, "counts.processes"),
			 num(j, "counts.threads"), num(j, "counts.files"),
			 (double)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "sockets")),
			 np ? ", " : "", np, np ? " problem(s)" : "");
	else
		set_step(r, s, result_of(code), code, secs, num(j, "counts.bytes"),
			 "%g added, %g modified, %g deleted%s%.0d%s", num(j, "counts.added"), num(j, "counts.modified"),
			 num(j, "counts.deleted"), np ? ", " : "", np, np ? " problem(s)" : "");
	cJSON_Delete(j);
}

/* The later alerts a hook sent, as an artifact, before the seal. */
static void record_alerts(struct resp *r)
{
	alerts_drain();
	/* from here nothing more can go into this case: the hook sees the
	 * pipe closed and journals later alerts only */
	if (alerts.fd >= 0) {
		close(alerts.fd);
		alerts.fd = -1;
	}
	if (!alerts.nlater || !r->have_case)
		return;
	struct cryo_custody_entry e = { 0 };
	cryo_custody_begin(&e, "cryo-respond", "alerts", r->id, opt.argc, opt.argv);
	struct cryo_error err;
	cJSON *d = cJSON_CreateObject();
	cryo_json_num(d, "alerts", (double)alerts.nlater);
	cryo_json_num(d, "dropped", (double)alerts.dropped);
	if (cryo_case_write_artifact(&r->kase, "alerts.jsonl", alerts.later, alerts.later_len, &e, &err) < 0) {
		cryo_report_error(&err);
		record(r, "alerts", "error", err.msg, d, &e);
		return;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "%zu later alert(s) for this container added", alerts.nlater);
	record(r, "alerts", "ok", msg, d, &e);
}

static void step_seal(struct resp *r)
{
	char out[PATH_MAX];
	struct stat sb;
	snprintf(out, sizeof(out), "%s.tar.zst", r->case_dir);
	for (int k = 2; reseal && k < 1000 && lstat(out, &sb) == 0; k++)
		snprintf(out, sizeof(out), "%s.%d.tar.zst", r->case_dir, k);
	if (r->done[ST_SEAL] && lstat(out, &sb) == 0) {
		snprintf(r->archive, sizeof(r->archive), "%s", out);
		return set_step(r, ST_SEAL, "done", 0, 0, (double)sb.st_size, "sealed by an earlier run");
	}
	if (!r->done[ST_SEAL] && lstat(out, &sb) == 0) {
		/* published by a run killed before its seal entry: kept aside */
		char aside[PATH_MAX + 32];
		snprintf(aside, sizeof(aside), "%s.unrecorded", out);
		if (rename(out, aside) == 0)
			cryo_warn("%s was published by an interrupted seal without its custody entry: kept as %s", out, aside);
		snprintf(aside, sizeof(aside), "%s.minisig", out);
		char aside2[PATH_MAX + 48];
		snprintf(aside2, sizeof(aside2), "%s.minisig.unrecorded", out);
		rename(aside, aside2);
	}
	if (resuming)
		cryo_pack_remove_temporaries(out);
	record_alerts(r);
	const char *args[12];
	size_t n = 0;
	if (opt.key) {
		args[n++] = "-s";
		args[n++] = opt.key;
		if (opt.password_env) {
			args[n++] = "--password-env";
			args[n++] = opt.password_env;
		}
	} else {
		args[n++] = "--unsigned";
	}
	args[n++] = "-o";
	args[n++] = out;
	args[n++] = r->case_dir;
	args[n] = NULL;
	cJSON *j;
	double secs;
	char why[512];
	int code = run_tool("pack", args, &j, &secs, why, sizeof(why));
	if (code == 0) {
		snprintf(r->archive, sizeof(r->archive), "%s", out);
		snprintf(r->sha256, sizeof(r->sha256), "%s", cryo_json_get_str(j, "sha256") ? cryo_json_get_str(j, "sha256") : "");
		const char *sig = cryo_json_get_str(j, "signature");
		snprintf(r->signature, sizeof(r->signature), "%s", sig ? sig : "");
		set_step(r, ST_SEAL, "ok", 0, secs, num(j, "size"), "%g members, %s", num(j, "members"),
			 opt.key ? "signed" : "UNSIGNED");
	} else {
		set_step(r, ST_SEAL, "error", code, secs, 0, "%s", why[0] ? why : "seal failed");
	}
	cJSON_Delete(j);
}

static bool all_ok_so_far(const struct resp *r)
{
	for (int s = ST_FREEZE; s < ST_THEN; s++)
		if (r->st[s].result && strcmp(r->st[s].result, "ok") && strcmp(r->st[s].result, "done") &&
		    strcmp(r->st[s].result, "skipped") && !(s == ST_PROC || s == ST_FS ? !strcmp(r->st[s].result, "partial") : 0))
			return false;
	return true;
}

static void step_then(struct resp *r, struct cryo_containers *all)
{
	if (opt.then == THEN_KEEP) {
		return set_step(r, ST_THEN, "ok", 0, 0, 0, "left %s%s", r->frozen ? "frozen" : "NOT frozen",
				r->cut ? " and cut" : opt.no_cut ? " (network not cut, as asked)" : ", network NOT cut");
	}
	/* Undoing containment or destroying the processes is done only when the
	 * evidence is safe: every step done, the case sealed. */
	if (!all_ok_so_far(r) || (!opt.no_seal && !r->archive[0])) {
		record(r, opt.then == THEN_THAW ? "thaw" : "kill", "error",
		       "not done: a step before it failed; the container stays contained", NULL, NULL);
		return set_step(r, ST_THEN, "error", CRYO_EXIT_PARTIAL, 0, 0, "%s NOT done: a step failed; left contained",
				then_names[opt.then]);
	}
	uint64_t t0 = cryo_now_monotonic_ns();
	if (opt.then == THEN_THAW) {
		char why[512] = "", why2[512] = "";
		int c1 = 0, c2;
		double s1 = 0, s2;
		cJSON *j = NULL;
		if (r->cut) {
			const char *a1[] = { "--restore", "--case", r->case_dir, r->id, NULL };
			c1 = run_tool("cut", a1, &j, &s1, why, sizeof(why));
			cJSON_Delete(j);
			if (c1 == 0)
				r->cut = false;
		}
		const char *a2[] = { "--thaw", "--case", r->case_dir, r->id, NULL };
		c2 = run_tool("freeze", a2, &j, &s2, why2, sizeof(why2));
		cJSON_Delete(j);
		if (c2 == 0)
			r->frozen = false;
		double secs = (double)(cryo_now_monotonic_ns() - t0) / 1e9;
		if (c1 == 0 && c2 == 0)
			return set_step(r, ST_THEN, "ok", 0, secs, 0, "network restored, thawed");
		return set_step(r, ST_THEN, "error", c1 ? c1 : c2, secs, 0, "thaw: %s%s%s", why, why[0] && why2[0] ? "; " : "",
				why2);
	}
	/* kill */
	struct cryo_error err = { 0 };
	struct cryo_freezer f;
	size_t killed = 0, left = 0;
	int rc = -1;
	if (!r->c)
		cryo_error_set(&err, CRYO_EXIT_NOTFOUND, 0, "container not found");
	else if (cryo_freezer_init(&f, &all->roots, r->c, CRYO_FREEZE_NONE, &err) == 0) {
		rc = cryo_freezer_kill(&f, 5000, &killed, &left, &err);
		cryo_freezer_close(&f);
	}
	double secs = (double)(cryo_now_monotonic_ns() - t0) / 1e9;
	cJSON *d = cJSON_CreateObject();
	cryo_json_num(d, "killed", (double)killed);
	cryo_json_num(d, "left", (double)left);
	char msg[256];
	if (rc == 0) {
		snprintf(msg, sizeof(msg), "%zu process(es) killed; none left", killed);
		r->frozen = false;
	} else {
		snprintf(msg, sizeof(msg), "kill: %s", err.msg);
	}
	record(r, "kill", rc == 0 ? "ok" : "error", msg, d, NULL);
	set_step(r, ST_THEN, rc == 0 ? "ok" : "error", rc == 0 ? 0 : err.exit, secs, 0, "%s", msg);
}

/* ---- cases and plans -------------------------------------------------------- */

static void safe_name(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = in; *p && n + 1 < size && n < 64; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			    *p == '_' || (*p == '.' && n);
		out[n++] = keep ? *p : '_';
	}
	out[n] = '\0';
}

/* A new directory under the case root, claimed by mkdir(2) (so two
 * responses in the same second never share one). */
static int make_case_dir(struct resp *r, struct cryo_error *err)
{
	if (cryo_mkdir_p(opt.case_root, 0700, err) < 0)
		return -1;
	char stamp[32], nm[80];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	safe_name(r->name[0] ? r->name : r->sid, nm, sizeof(nm));
	for (int i = 1; i < 1000; i++) {
		char sfx[16] = "";
		if (i > 1)
			snprintf(sfx, sizeof(sfx), "-%d", i);
		if (snprintf(r->case_dir, sizeof(r->case_dir), "%s/%s-%s%s", opt.case_root, stamp, nm, sfx) >=
		    (int)sizeof(r->case_dir))
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "--case-root too long");
		if (mkdir(r->case_dir, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return cryo_error_sys(err, "mkdir %s", r->case_dir);
	}
	return cryo_error_set(err, CRYO_EXIT_OSERR, EEXIST, "no free case name under %s", opt.case_root);
}

static cJSON *plan_json(const struct resp *r, const struct resp *group, size_t ngroup, cJSON *trigger)
{
	cJSON *p = cJSON_CreateObject();
	cryo_json_num(p, "version", 1);
	cJSON *c = r->c ? cryo_container_to_json(r->c) : cJSON_CreateObject();
	cJSON_AddItemToObject(p, "container", c);
	cryo_json_str(p, "target", r->id);
	cJSON *o = cJSON_AddObjectToObject(p, "options");
	cryo_json_bool(o, "cut", !opt.no_cut);
	cryo_json_str(o, "cut_mode", opt.quarantine ? "quarantine" : "down");
	cryo_json_bool(o, "capture", !opt.no_capture);
	cryo_json_bool(o, "memory", !opt.no_memory);
	cryo_json_bool(o, "merged", opt.merged);
	cryo_json_bool(o, "seal", !opt.no_seal);
	cryo_json_bool(o, "signed", opt.key != NULL);
	cryo_json_str(o, "key", opt.key);
	cryo_json_str(o, "then", then_names[opt.then]);
	cJSON *g = cJSON_AddArrayToObject(p, "group");
	for (size_t i = 0; i < ngroup; i++)
		cJSON_AddItemToArray(g, cJSON_CreateString(group[i].id));
	cJSON_AddItemToObject(p, "trigger", trigger ? trigger : cJSON_CreateNull());
	return p;
}

static void apply_plan(const cJSON *p)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, "options");
	opt.no_cut = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "cut"));
	opt.quarantine = !strcmp(cryo_json_get_str(o, "cut_mode") ? cryo_json_get_str(o, "cut_mode") : "", "quarantine");
	opt.no_capture = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "capture"));
	opt.no_memory = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "memory"));
	opt.merged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "merged"));
	opt.no_seal = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "seal"));
	const char *then = cryo_json_get_str(o, "then");
	opt.then = then && !strcmp(then, "thaw") ? THEN_THAW : then && !strcmp(then, "kill") ? THEN_KILL : THEN_KEEP;
	if (!opt.key && !opt.unsigned_ok && !opt.no_seal) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "signed")))
			opt.key = cryo_json_get_str(o, "key");
		else
			opt.unsigned_ok = true;
	}
}

/* What an earlier run of this case completed, from its custody log. */
static int completed_steps(struct resp *r, bool *finished, bool *planned, struct cryo_error *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	*finished = *planned = false;
	if (cryo_case_read_artifact(&r->kase, "custody.jsonl", 512u << 20, &text, &len, err) < 0) {
		if (err->errnum != ENOENT)
			return -1;
		return 0; /* killed before the first entry: nothing was completed */
	}
	for (char *line = text, *nl; line < text + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		if (!nl)
			nl = text + len;
		cleanup_cjson cJSON *e = cryo_json_parse(line, (size_t)(nl - line));
		const char *tool = cryo_json_get_str(e, "tool"), *action = cryo_json_get_str(e, "action"),
			   *res = cryo_json_get_str(e, "result");
		if (!tool || !action || !res)
			continue;
		bool good = !strcmp(res, "ok") || !strcmp(res, "partial");
		if (!strcmp(tool, "cryo-cut") && !strcmp(action, "cut") && good)
			r->done[ST_CUT] = true;
		else if (!strcmp(tool, "cryo-cut") && !strcmp(action, "restore") && !strcmp(res, "ok"))
			r->done[ST_CUT] = false;
		else if (!strcmp(tool, "cryo-proc") && !strcmp(action, "snapshot") && good)
			r->done[ST_PROC] = true;
		else if (!strcmp(tool, "cryo-fs") && !strcmp(action, "snapshot") && good)
			r->done[ST_FS] = true;
		else if (!strcmp(tool, "cryo-pack") && !strcmp(action, "seal") && !strcmp(res, "ok"))
			r->done[ST_SEAL] = true;
		else if (!strcmp(tool, "cryo-respond") && !strcmp(action, "respond"))
			*finished = !strcmp(res, "ok"); /* partial: resume redoes what failed */
		else if (!strcmp(tool, "cryo-respond") && !strcmp(action, "plan"))
			*planned = true;
		else if ((!strcmp(tool, "cryo-respond") && !strcmp(action, "kill") && !strcmp(res, "ok")) ||
			 (!strcmp(tool, "cryo-freeze") && !strcmp(action, "thaw") && !strcmp(res, "ok")))
			r->done[ST_THEN] = true; /* thawed or killed after the seal: only the end is missing */
	}
	return 0;
}

/* ---- the response ---------------------------------------------------------- */

static void open_case(struct resp *r, const cJSON *plan)
{
	struct cryo_error err = { 0 };
	if (cryo_case_open(r->case_dir, "cryo-respond", r->id, &r->kase, &err) < 0) {
		cryo_report_error(&err);
		fprintf(stderr, "%s: %s: NO CASE: the container stays contained, nothing can be captured or recorded\n",
			cryo_progname, r->name[0] ? r->name : r->sid);
		return;
	}
	r->have_case = true;
	if (!plan)
		return;
	cleanup_free char *text = cJSON_Print(plan);
	struct cryo_custody_entry e = { 0 };
	cryo_custody_begin(&e, "cryo-respond", "plan", r->id, opt.argc, opt.argv);
	const cJSON *trig = cJSON_GetObjectItemCaseSensitive(plan, "trigger");
	if (trig && !cJSON_IsNull(trig))
		cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(e.obj, "details"), "trigger", cJSON_Duplicate(trig, 1));
	if (alerts.first_raw &&
	    cryo_case_write_artifact_new(&r->kase, "trigger.json", alerts.first_raw, strlen(alerts.first_raw), &e, &err) < 0)
		cryo_report_error(&err);
	if (!text || cryo_case_write_artifact_new(&r->kase, PLAN, text, strlen(text), &e, &err) < 0) {
		cryo_report_error(&err);
		record(r, "plan", "error", err.msg, NULL, &e);
		return;
	}
	record(r, "plan", "ok", "response planned", NULL, &e);
}

/* The steps as JSON: for the custody log (brief) and the summary (full). */
static cJSON *steps_json(const struct resp *r, bool full)
{
	cJSON *steps = cJSON_CreateArray();
	for (int s = 0; s < ST_N; s++) {
		if (!r->st[s].result)
			continue;
		cJSON *x = cJSON_CreateObject();
		cryo_json_str(x, "step", step_names[s]);
		cryo_json_str(x, "result", r->st[s].result);
		cryo_json_num(x, "exit", r->st[s].exit);
		cryo_json_num(x, "seconds", r->st[s].seconds);
		if (full) {
			cryo_json_num(x, "bytes", r->st[s].bytes);
			cryo_json_str(x, "message", r->st[s].msg);
		}
		cJSON_AddItemToArray(steps, x);
	}
	return steps;
}

static void finish(struct resp *r)
{
	int worst = 0;
	for (int s = 0; s < ST_N; s++) {
		const char *x = r->st[s].result;
		if (x && strcmp(x, "ok") && strcmp(x, "done") && strcmp(x, "skipped"))
			worst = 1;
	}
	if (!r->st[ST_FREEZE].result || !strcmp(r->st[ST_FREEZE].result, "error"))
		r->rc = r->st[ST_FREEZE].exit ? r->st[ST_FREEZE].exit : CRYO_EXIT_SOFTWARE;
	else if (worst && !r->rc)
		r->rc = CRYO_EXIT_PARTIAL;
	if (cryo_interrupted)
		r->rc = CRYO_EXIT_TEMPFAIL;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "steps", steps_json(r, false));
	cryo_json_bool(d, "frozen", r->frozen);
	cryo_json_bool(d, "cut", r->cut);
	cryo_json_str(d, "archive", r->archive);
	char msg[512];
	if (cryo_interrupted)
		snprintf(msg, sizeof(msg), "interrupted; resume with: cryo-respond --resume %s", r->case_dir);
	else
		snprintf(msg, sizeof(msg), "%s: %s", r->rc == 0 ? "complete" : r->rc == CRYO_EXIT_PARTIAL ? "partial" : "failed",
			 r->frozen ? (r->cut ? "frozen and cut" : "frozen") : opt.then == THEN_KILL && !r->frozen ? "killed" : "not frozen");
	/* an interrupted response is not ended: --resume looks for this entry */
	record(r, cryo_interrupted ? "interrupted" : "respond",
	       r->rc == 0 ? "ok" : r->rc == CRYO_EXIT_PARTIAL || r->rc == CRYO_EXIT_TEMPFAIL ? "partial" : "error", msg, d,
	       NULL);
}

static bool stop_now(struct resp *r)
{
	if (!cryo_interrupted)
		return false;
	cryo_warn("interrupted: the step in progress finished; the container stays as it is. Resume with: cryo-respond "
		  "--resume %s",
		  r->case_dir);
	return true;
}

/* Everything after the freeze, for one container. */
static void respond_one(struct resp *r, struct cryo_containers *all)
{
	if (!opt.json && cryo_verbosity >= 0)
		fprintf(stderr, "%s: case %s\n", cryo_progname, r->case_dir[0] ? r->case_dir : "(none)");
	say_step(r, ST_FREEZE);
	if (!r->have_case) {
		for (int s = ST_CUT; s < ST_N; s++)
			set_step(r, s, "error", CRYO_EXIT_IOERR, 0, 0, "no case directory");
		if (!r->rc)
			r->rc = CRYO_EXIT_IOERR;
		return;
	}
	if (opt.no_cut)
		set_step(r, ST_CUT, "skipped", 0, 0, 0, "--no-cut");
	else
		step_cut(r);
	if (stop_now(r))
		return finish(r);
	if (opt.no_capture) {
		set_step(r, ST_PROC, "skipped", 0, 0, 0, "--no-capture");
		set_step(r, ST_FS, "skipped", 0, 0, 0, "--no-capture");
	} else {
		step_capture(r, ST_PROC);
		if (stop_now(r))
			return finish(r);
		step_capture(r, ST_FS);
		if (stop_now(r))
			return finish(r);
	}
	if (opt.no_seal) {
		record_alerts(r);
		set_step(r, ST_SEAL, "skipped", 0, 0, 0, "--no-seal");
	} else {
		step_seal(r);
	}
	if (stop_now(r))
		return finish(r);
	step_then(r, all);
	finish(r);
}

static void fill_identity(struct resp *r, struct cryo_container *c)
{
	r->c = c;
	snprintf(r->id, sizeof(r->id), "%s", c->id);
	cryo_container_short_id(c, r->sid);
	snprintf(r->name, sizeof(r->name), "%s", c->name);
}

/* Freeze every container of the group with one cryo-freeze: requested
 * together, waited on together. */
static void freeze_group(struct resp *rs, size_t n, cJSON **rows_out, char *cmd_out, size_t cmdsz)
{
	const char *args[MAX_CONTAINERS + 3];
	size_t k = 0;
	char tmo[32], why[512];
	snprintf(tmo, sizeof(tmo), "%ld", opt.freeze_timeout);
	args[k++] = "--timeout";
	args[k++] = tmo;
	for (size_t i = 0; i < n; i++)
		args[k++] = rs[i].id;
	args[k] = NULL;
	cJSON *j;
	double secs;
	cmd_out[0] = '\0';
	int code = run_tool_cmd("freeze", args, &j, &secs, why, sizeof(why), cmd_out, cmdsz);
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "containers");
	for (size_t i = 0; i < n; i++) {
		const cJSON *row = NULL, *x;
		cJSON_ArrayForEach(x, rows)
			if (!strcmp(cryo_json_get_str(x, "id") ? cryo_json_get_str(x, "id") : "", rs[i].id))
				row = x;
		const char *res = cryo_json_get_str(row, "result"), *state = cryo_json_get_str(row, "state");
		if (res && !strcmp(res, "ok")) {
			rs[i].frozen = true;
			const cJSON *ms = cJSON_GetObjectItemCaseSensitive(row, "ms");
			set_step(&rs[i], ST_FREEZE, "ok", 0, secs, 0, "%s via %s%s%.3f ms%s", state ? state : "frozen",
				 cryo_json_get_str(row, "mechanism") ? cryo_json_get_str(row, "mechanism") : "?",
				 cJSON_IsNumber(ms) ? " in " : "", cJSON_IsNumber(ms) ? ms->valuedouble : 0,
				 n > 1 ? " (with the group)" : "");
		} else {
			const char *e = row ? cryo_json_get_str(row, "error") : cryo_json_get_str(j, "error");
			int c = code == CRYO_EXIT_PARTIAL || code == 0 ? CRYO_EXIT_OSERR : code;
			if (e && strstr(e, "exited"))
				c = CRYO_EXIT_NOTFOUND;
			if (e && strstr(e, "did not complete"))
				c = CRYO_EXIT_TIMEOUT;
			/* a freeze that timed out stays requested: still containment */
			rs[i].frozen = false;
			set_step(&rs[i], ST_FREEZE, "error", c, secs, 0, "%s", e ? e : why[0] ? why : "cryo-freeze failed");
		}
	}
	*rows_out = j ? cJSON_DetachItemFromObjectCaseSensitive(j, "containers") : NULL;
	cJSON_Delete(j);
}

static void to_json(cJSON *arr, const struct resp *r)
{
	cJSON *o = cJSON_CreateObject();
	if (r->c)
		cryo_container_json_identity(o, r->c);
	else
		cryo_json_str(o, "id", r->id);
	cryo_json_str(o, "case", r->case_dir);
	cryo_json_str(o, "archive", r->archive);
	cryo_json_str(o, "sha256", r->sha256);
	cryo_json_str(o, "signature", r->signature);
	cryo_json_bool(o, "frozen", r->frozen);
	cryo_json_bool(o, "cut", r->cut);
	cryo_json_num(o, "exit", r->rc);
	cryo_json_str(o, "result", r->rc == 0 ? "complete" : r->rc == CRYO_EXIT_PARTIAL ? "partial"
						 : r->rc == CRYO_EXIT_TEMPFAIL  ? "interrupted"
										: "failed");
	cJSON_AddItemToObject(o, "steps", steps_json(r, true));
	cJSON_AddItemToArray(arr, o);
}

static int overall(const struct resp *rs, size_t n)
{
	int first = -1;
	bool same = true;
	for (size_t i = 0; i < n; i++) {
		if (first < 0)
			first = rs[i].rc;
		else if (rs[i].rc != first)
			same = false;
	}
	if (n == 0)
		return CRYO_EXIT_SOFTWARE;
	if (same)
		return first;
	for (size_t i = 0; i < n; i++)
		if (rs[i].rc == CRYO_EXIT_TEMPFAIL)
			return CRYO_EXIT_TEMPFAIL;
	return CRYO_EXIT_PARTIAL;
}

static int output(struct resp *rs, size_t n, int rc)
{
	if (opt.json) {
		cleanup_cjson cJSON *res = cJSON_CreateObject();
		cryo_json_num(res, "exit", rc);
		cryo_json_str(res, "then", then_names[opt.then]);
		cJSON *arr = cJSON_AddArrayToObject(res, "responses");
		for (size_t i = 0; i < n; i++)
			to_json(arr, &rs[i]);
		cryo_print_json(stdout, res);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (rs[i].archive[0]) {
			printf("%s\n", rs[i].archive);
			if (rs[i].sha256[0])
				cryo_info("archive sha256 %s%s%s", rs[i].sha256, rs[i].signature[0] ? ", signature " : " (UNSIGNED)",
					  rs[i].signature);
		}
		const char *what = rs[i].rc == 0 ? "complete" : rs[i].rc == CRYO_EXIT_PARTIAL ? "PARTIAL" : "FAILED";
		if (rs[i].rc == CRYO_EXIT_TEMPFAIL)
			what = "INTERRUPTED";
		cryo_info("%s %s: %s (%s)", what, rs[i].name[0] ? rs[i].name : rs[i].sid, rs[i].case_dir,
			  rs[i].frozen ? (rs[i].cut ? "frozen and cut" : "frozen") : "not frozen");
	}
	return rc;
}

static void dry_run(struct resp *rs, size_t n)
{
	cleanup_cjson cJSON *res = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(res, "responses");
	if (!opt.json)
		printf("would freeze %zu container(s) together, then for each:\n", n);
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cryo_container_json_identity(o, rs[i].c);
		char stamp[32], nm[80];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		safe_name(rs[i].name[0] ? rs[i].name : rs[i].sid, nm, sizeof(nm));
		char cd[PATH_MAX];
		snprintf(cd, sizeof(cd), "%s/%s-%s", opt.case_root, stamp, nm);
		cryo_json_str(o, "case", cd);
		cJSON *steps = cJSON_AddArrayToObject(o, "steps");
		cJSON_AddItemToArray(steps, cJSON_CreateString("freeze"));
		if (!opt.no_cut)
			cJSON_AddItemToArray(steps, cJSON_CreateString(opt.quarantine ? "cut (quarantine)" : "cut"));
		if (!opt.no_capture) {
			cJSON_AddItemToArray(steps, cJSON_CreateString(opt.no_memory ? "proc (no memory)" : "proc"));
			cJSON_AddItemToArray(steps, cJSON_CreateString(opt.merged ? "fs (with merged view)" : "fs"));
		}
		if (!opt.no_seal)
			cJSON_AddItemToArray(steps, cJSON_CreateString(opt.key ? "seal (signed)" : "seal (UNSIGNED)"));
		cJSON_AddItemToArray(steps, cJSON_CreateString(then_names[opt.then]));
		if (!opt.json) {
			char safe[300];
			printf("  %s (%s): case %s.*\n    ", rs[i].sid, cryo_text_safe(rs[i].name, safe, sizeof(safe)), cd);
			const cJSON *s;
			cJSON_ArrayForEach(s, steps)
				printf("%s%s", s == steps->child ? "" : " -> ", s->valuestring);
			printf("\n");
		}
		cJSON_AddItemToArray(arr, o);
	}
	cryo_json_bool(res, "dry_run", true);
	cryo_json_num(res, "exit", 0);
	if (opt.json)
		cryo_print_json(stdout, res);
}

static cJSON *load_trigger(struct cryo_error *err)
{
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(alerts.first, "trigger");
	if (alerts.first)
		return cJSON_Duplicate(inner ? inner : alerts.first, 1);
	if (!opt.trigger_file)
		return NULL;
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_read_file_at(AT_FDCWD, opt.trigger_file, 1u << 20, false, &text, &len, err) < 0)
		return NULL;
	cJSON *t = cryo_json_parse(text, len);
	if (!t)
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "--trigger %s is not JSON", opt.trigger_file);
	return t;
}

static int respond_new(void)
{
	struct cryo_error err = { 0 };
	if (cryo_require_root(&err) < 0)
		return cryo_report_error(&err);
	cleanup_cjson cJSON *trigger = NULL;
	if (opt.trigger_file && !(trigger = load_trigger(&err)))
		return cryo_report_error(&err);
	if (alerts.first)
		trigger = load_trigger(&err);
	if (opt.key && access(opt.key, R_OK) < 0)
		cryo_warn("key %s: %s: the evidence will be captured but cannot be sealed (then: cryo-respond --resume CASE "
			  "-k KEY)",
			  opt.key, strerror(errno));
	/* Resolve everything before touching anything. */
	struct cryo_containers all = { 0 };
	if (cryo_discover(&all, &err) < 0)
		return cryo_report_error(&err);
	struct resp *rs = calloc(MAX_CONTAINERS, sizeof(*rs));
	size_t n = 0;
	int rc = 0;
	for (int i = 0; i < opt.ntargets && rs && !rc; i++) {
		struct cryo_target t;
		size_t idx[MAX_CONTAINERS];
		int k;
		if (cryo_target_parse(opt.targets[i], &t, &err) < 0) {
			rc = cryo_usage_error("%s", err.msg);
			break;
		}
		if ((k = cryo_target_resolve(&t, &all, idx, MAX_CONTAINERS, &err)) < 0) {
			rc = cryo_report_error(&err);
			break;
		}
		for (int m = 0; m < k && !rc; m++) {
			size_t members[MAX_CONTAINERS];
			size_t nm = opt.pod ? cryo_pod_members(&all, idx[m], members, MAX_CONTAINERS) : 1;
			if (!opt.pod)
				members[0] = idx[m];
			for (size_t q = 0; q < nm; q++) {
				bool dup = false;
				for (size_t z = 0; z < n; z++)
					dup |= rs[z].c == &all.v[members[q]];
				if (!dup && n == MAX_CONTAINERS) {
					rc = cryo_usage_error("more than %d containers: respond in several commands",
							      MAX_CONTAINERS);
					break;
				}
				if (!dup)
					fill_identity(&rs[n++], &all.v[members[q]]);
			}
		}
	}
	if (!rs)
		rc = CRYO_EXIT_OSERR;
	if (rc || !n) {
		free(rs);
		cryo_containers_free(&all);
		return rc ? rc : CRYO_EXIT_NOTFOUND;
	}
	if (opt.dry_run) {
		dry_run(rs, n);
		free(rs);
		cryo_containers_free(&all);
		return 0;
	}
	cryo_catch_interrupts();

	/* 1. contain: all at once, before any disk work */
	cleanup_cjson cJSON *rows = NULL;
	char cmd[8192];
	freeze_group(rs, n, &rows, cmd, sizeof(cmd));

	/* 2. a case per container, the plan, the freeze recorded */
	for (size_t i = 0; i < n; i++) {
		struct resp *r = &rs[i];
		if (make_case_dir(r, &err) < 0) {
			cryo_report_error(&err);
			r->case_dir[0] = '\0';
		} else {
			cleanup_cjson cJSON *plan = plan_json(r, rs, n, cJSON_Duplicate(trigger, 1));
			open_case(r, plan);
		}
		cJSON *d = cJSON_CreateObject();
		cryo_json_str(d, "command", cmd);
		cJSON_AddItemToObject(d, "containers", cJSON_Duplicate(rows, 1));
		if (trigger)
			cJSON_AddItemToObject(d, "trigger", cJSON_Duplicate(trigger, 1));
		const cJSON *hf = cJSON_GetObjectItemCaseSensitive(alerts.first, "hook_freeze");
		if (hf)
			cJSON_AddItemToObject(d, "hook_freeze", cJSON_Duplicate(hf, 1));
		record(r, "freeze", r->frozen ? "ok" : "error", r->st[ST_FREEZE].msg, d, NULL);
	}
	/* 3. the rest, one container after the other (the disk is the limit) */
	for (size_t i = 0; i < n; i++) {
		if (cryo_interrupted && rs[i].have_case) {
			rs[i].rc = CRYO_EXIT_TEMPFAIL;
			finish(&rs[i]);
			continue;
		}
		respond_one(&rs[i], &all);
	}
	rc = output(rs, n, overall(rs, n));
	for (size_t i = 0; i < n; i++)
		cryo_case_close(&rs[i].kase);
	free(rs);
	cryo_containers_free(&all);
	return rc;
}

static int respond_resume(void)
{
	struct cryo_error err = { 0 };
	if (cryo_require_root(&err) < 0)
		return cryo_report_error(&err);
	static struct resp r;
	snprintf(r.case_dir, sizeof(r.case_dir), "%s", opt.resume);
	size_t l = strlen(r.case_dir);
	while (l > 1 && r.case_dir[l - 1] == '/')
		r.case_dir[--l] = '\0';
	/* look before opening: cryo_case_open would make a case of any path */
	char planpath[PATH_MAX + 32];
	snprintf(planpath, sizeof(planpath), "%s/%s", r.case_dir, PLAN);
	struct stat sb;
	if (lstat(r.case_dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		cryo_error_set(&err, CRYO_EXIT_NOTFOUND, 0, "%s: no such case directory", r.case_dir);
		return cryo_report_error(&err);
	}
	if (lstat(planpath, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		cryo_error_set(&err, CRYO_EXIT_DATAERR, 0, "%s holds no response plan (%s): not made by cryo-respond",
			       r.case_dir, PLAN);
		return cryo_report_error(&err);
	}
	if (cryo_case_open(r.case_dir, "cryo-respond", NULL, &r.kase, &err) < 0)
		return cryo_report_error(&err);
	r.have_case = true;
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_case_read_artifact(&r.kase, PLAN, 1u << 20, &text, &len, &err) < 0) {
		cryo_case_close(&r.kase);
		cryo_error_wrap(&err, "%s: the response plan %s cannot be read", r.case_dir, PLAN);
		return cryo_report_error(&err);
	}
	cleanup_cjson cJSON *plan = cryo_json_parse(text, len);
	const char *id = cryo_json_get_str(plan, "target");
	if (!plan || !id || strlen(id) >= sizeof(r.id)) {
		cryo_case_close(&r.kase);
		cryo_error_set(&err, CRYO_EXIT_DATAERR, 0, "%s/%s is not a response plan", r.case_dir, PLAN);
		return cryo_report_error(&err);
	}
	apply_plan(plan);
	resuming = true;
	snprintf(r.id, sizeof(r.id), "%s", id);
	const char *nm = cryo_json_get_str(cJSON_GetObjectItemCaseSensitive(plan, "container"), "name");
	snprintf(r.name, sizeof(r.name), "%s", nm ? nm : "");
	snprintf(r.sid, sizeof(r.sid), "%.12s", id);
	bool finished = false, planned = false;
	if (completed_steps(&r, &finished, &planned, &err) < 0) {
		cryo_case_close(&r.kase);
		return cryo_report_error(&err);
	}
	if (finished) {
		cryo_case_close(&r.kase);
		cryo_info("%s: the response already completed (see its custody log); nothing to resume", r.case_dir);
		return 0;
	}
	if (opt.then == THEN_KEEP || !r.done[ST_SEAL])
		r.done[ST_THEN] = false; /* a thaw by hand is not this response's last step */
	if (r.done[ST_SEAL] && ((!opt.no_cut && !r.done[ST_CUT]) || (!opt.no_capture && (!r.done[ST_PROC] || !r.done[ST_FS])))) {
		/* sealed, but a step is to run again: what it captures must be
		 * sealed too, before any thaw or kill, in an archive of its own */
		r.done[ST_SEAL] = false;
		reseal = true;
	}
	if (r.done[ST_THEN]) {
		/* killed between its thaw or kill and its last entry: freezing
		 * again would undo what was asked */
		r.frozen = false;
		for (int s2 = ST_FREEZE; s2 <= ST_THEN; s2++)
			r.st[s2] = (struct step_result){ .result = "done", .msg = "done by an earlier run" };
		finish(&r);
		int rc0 = output(&r, 1, r.rc);
		cryo_case_close(&r.kase);
		return rc0;
	}
	cryo_catch_interrupts();
	if (!planned) {
		/* the first run was killed between writing the plan and recording
		 * it: record it now, with the hash of what is there */
		struct cryo_custody_entry e = { 0 };
		cryo_custody_begin(&e, "cryo-respond", "plan", r.id, opt.argc, opt.argv);
		char hex[CRYO_SHA256_HEX];
		cryo_sha256_hex(text, len, hex);
		cryo_custody_artifact(&e, PLAN, len, hex);
		record(&r, "plan", "ok", "plan recorded on resume (the first run was interrupted before recording it)", NULL, &e);
	}
	struct cryo_containers all = { 0 };
	if (cryo_discover(&all, &err) == 0)
		for (size_t i = 0; i < all.n; i++)
			if (!strcmp(all.v[i].id, r.id))
				fill_identity(&r, &all.v[i]);
	if (!r.c)
		cryo_warn("container %s is not running any more: what it left is sealed", r.sid);
	/* containment first, again: whatever the interrupted run managed */
	const char *fa[] = { "--case", r.case_dir, "--timeout", "5000", r.id, NULL };
	char tmo[32];
	snprintf(tmo, sizeof(tmo), "%ld", opt.freeze_timeout);
	fa[3] = tmo;
	cJSON *j;
	double secs;
	char why[512];
	int code = run_tool("freeze", fa, &j, &secs, why, sizeof(why));
	cJSON_Delete(j);
	r.frozen = code == 0 || code == CRYO_EXIT_PARTIAL; /* 2: frozen, not recorded */
	r.cut = r.done[ST_CUT];
	set_step(&r, ST_FREEZE, r.frozen ? "ok" : "error", r.frozen ? 0 : code, secs, 0, "%s",
		 r.frozen ? "frozen (asserted again on resume)" : why);
	respond_one(&r, &all);
	int rc = output(&r, 1, r.rc);
	cryo_case_close(&r.kase);
	cryo_containers_free(&all);
	return rc;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	int rc = parse(argc, argv, &opt);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	if (opt.alerts_fd >= 0)
		alerts_open(opt.alerts_fd);
	return cryo_close_stdout(opt.resume ? respond_resume() : respond_new());
}
