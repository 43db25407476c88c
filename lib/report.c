#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/report.h"
#include "cryo/util.h"
#include "cryo/verify.h"

#define KEEP_ONE (64ull << 20)   /* one member: parsed JSON is 30x its text */
#define MAX_PROCS 2000           /* process.json files read */
#define MAX_CHANGES 200000       /* fs/changes.json entries analysed */
#define MAX_CUSTODY 10000        /* custody entries shown */
#define MAX_IOCS_PER_TYPE 2500   /* so files in /tmp cannot crowd out endpoints */
#define MAX_TEXT 4096            /* bytes of one string shown in the page */
#define MAX_ROWS 500             /* rows of a table or nodes of a picture */

/* --- reading the verified members ---------------------------------------- */

struct collect {
	bool want_bodyfile;
	cJSON *members;  /* member -> parsed JSON */
	cJSON *procs;    /* [process.json, reduced to what the report uses] */
	cJSON *left_out; /* [{member, size, why}] */
	char *custody;
	char *bodyfile;
	size_t bodyfile_len;
};

/* A member not read is named on the page: what the evidence holds and
 * the report does not show must not go unnoticed. */
static void leave_out(struct collect *c, const char *m, uint64_t size, const char *why)
{
	if (cJSON_GetArraySize(c->left_out) >= 100)
		return;
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "member", m);
	cryo_json_num(o, "size", (double)size);
	cryo_json_str(o, "why", why);
	cJSON_AddItemToArray(c->left_out, o);
}

static bool is_process_json(const char *m)
{
	if (!cryo_has_prefix(m, "proc/"))
		return false;
	const char *p = m + 5;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return !strcmp(p, "/process.json");
}

static bool keep(const char *m, uint64_t size, void *arg)
{
	struct collect *c = arg;
	if (is_process_json(m)) {
		if (cJSON_GetArraySize(c->procs) >= MAX_PROCS) {
			leave_out(c, m, size, "more than 2,000 processes");
			return false;
		}
	} else if (strcmp(m, "case.json") && strcmp(m, "custody.jsonl") && strcmp(m, "proc/index.json") &&
		   strcmp(m, "proc/sockets.json") && strcmp(m, "fs/changes.json") && strcmp(m, "fs/mounts.json") &&
		   !(c->want_bodyfile && !strcmp(m, "fs/bodyfile"))) {
		return false;
	}
	/* the body file is copied, not parsed: it may be larger */
	if (size > (strcmp(m, "fs/bodyfile") ? KEEP_ONE : 4 * KEEP_ONE)) {
		leave_out(c, m, size, "too large to read into a report");
		return false;
	}
	return true;
}

/* What the report uses of a process.json, the rest freed at once: 2,000
 * processes with 65,536 descriptors each must not be held whole. */
static cJSON *reduce_process(const cJSON *p)
{
	static const char *const keys[] = { "pid", "ppid", "pid_in_container", "name", "exe", "uid", "nspid",
					    "seccomp", "no_new_privs", "cmdline" };
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, keys[i]);
		if (!v)
			continue;
		if (!strcmp(keys[i], "cmdline")) {
			/* the first 64 arguments are enough to show */
			cJSON *a = cJSON_AddArrayToObject(o, "cmdline");
			const cJSON *e;
			int n = 0;
			cJSON_ArrayForEach(e, v)
				if (n++ < 64 && cJSON_IsString(e))
					cJSON_AddItemToArray(a, cJSON_CreateString(e->valuestring));
			continue;
		}
		cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(v, 1));
	}
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(p, "capabilities");
	cJSON *c = cJSON_AddObjectToObject(o, "capabilities");
	cJSON_AddItemToObject(c, "effective", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(caps, "effective"), 1));
	cJSON_AddItemToObject(c, "bounding", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(caps, "bounding"), 1));
	return o;
}

static void kept(const char *m, char *data, size_t len, void *arg)
{
	struct collect *c = arg;
	if (!strcmp(m, "custody.jsonl")) {
		free(c->custody);
		c->custody = data;
		return;
	}
	if (!strcmp(m, "fs/bodyfile")) {
		free(c->bodyfile);
		c->bodyfile = data;
		c->bodyfile_len = len;
		return;
	}
	cJSON *j = cryo_json_parse(data, len);
	free(data);
	if (!j) {
		leave_out(c, m, len, "not valid JSON");
		return;
	}
	if (is_process_json(m)) {
		cJSON_AddItemToArray(c->procs, reduce_process(j));
		cJSON_Delete(j);
	} else {
		cJSON_AddItemToObject(c->members, m, j);
	}
}

/* --- analysis -------------------------------------------------------------- */

static const char *const dangerous_caps[] = {
	"cap_sys_admin", "cap_sys_module", "cap_sys_ptrace", "cap_net_admin", "cap_dac_read_search",
	"cap_sys_rawio", "cap_bpf", "cap_perfmon", "cap_sys_boot", "cap_mknod", "cap_net_raw",
};

static bool has_str(const cJSON *arr, const char *s)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, arr)
		if (cJSON_IsString(v) && !strcmp(v->valuestring, s))
			return true;
	return false;
}

static bool suspicious_path(const char *p)
{
	return p && (cryo_has_prefix(p, "/tmp/") || cryo_has_prefix(p, "/dev/shm/") || cryo_has_prefix(p, "/var/tmp/") ||
		     cryo_has_prefix(p, "/memfd:") || cryo_has_prefix(p, "/run/shm/"));
}

/* A finding, once per id; evidence accumulates (at most 20 items). */
static cJSON *finding(cJSON *findings, const char *id, const char *severity, const char *title, const char *fix)
{
	cJSON *f;
	cJSON_ArrayForEach(f, findings)
		if (!strcmp(cryo_json_get_str(f, "id"), id))
			return f;
	f = cJSON_CreateObject();
	cryo_json_str(f, "id", id);
	cryo_json_str(f, "severity", severity);
	cryo_json_str(f, "title", title);
	cryo_json_str(f, "fix", fix);
	cJSON_AddArrayToObject(f, "evidence");
	cJSON_AddItemToArray(findings, f);
	return f;
}

static void evidence(cJSON *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void evidence(cJSON *f, const char *fmt, ...)
{
	cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "evidence");
	if (cJSON_GetArraySize(ev) >= 20)
		return;
	char buf[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(ev, cryo_json_string(buf));
}

/* Indicators, each once: a hash set of "type\0value", and a cap per type
 * (files in /tmp must not crowd the endpoints out), with a count of what
 * was left out. */
#define IOC_SLOTS 16384
static struct ioc_set {
	uint64_t h[IOC_SLOTS];
	size_t per_type[4];
	size_t left_out;
} iocset;

static uint64_t fnv(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = a; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = b; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h ? h : 1;
}

static void ioc(cJSON *iocs, const char *type, const char *value, const char *context)
{
	if (!value || !*value)
		return;
	uint64_t h = fnv(type, value);
	size_t i = h % IOC_SLOTS;
	for (size_t n = 0; iocset.h[i] && n < IOC_SLOTS; n++, i = (i + 1) % IOC_SLOTS)
		if (iocset.h[i] == h)
			return; /* seen (a 64-bit hash collision would merge two: harmless here) */
	size_t t = !strcmp(type, "sha256") ? 0 : !strcmp(type, "path") ? 1 : !strcmp(type, "endpoint") ? 2 : 3;
	if (iocset.per_type[t] >= MAX_IOCS_PER_TYPE || iocset.h[i]) {
		iocset.left_out++;
		return;
	}
	iocset.h[i] = h;
	iocset.per_type[t]++;
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "type", type);
	cryo_json_str(o, "value", value);
	cryo_json_str(o, "context", context);
	cJSON_AddItemToArray(iocs, o);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double num(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void analyse_processes(cJSON *d, const cJSON *procs, const cJSON *changes)
{
	/* the paths the container added or changed, sorted once */
	size_t nch = 0, k = 0;
	const cJSON *c0;
	cJSON_ArrayForEach(c0, changes)
		nch++;
	cleanup_free const char **changed = calloc(nch ? nch : 1, sizeof(*changed));
	cJSON_ArrayForEach(c0, changes) {
		const char *cp = cryo_json_get_str(c0, "path"), *chg = cryo_json_get_str(c0, "change");
		if (changed && cp && chg && strcmp(chg, "deleted"))
			changed[k++] = cp;
	}
	if (changed)
		qsort(changed, k, sizeof(*changed), str_cmp);
	cJSON *findings = cJSON_GetObjectItemCaseSensitive(d, "findings");
	cJSON *iocs = cJSON_GetObjectItemCaseSensitive(d, "iocs");
	cJSON *out = cJSON_AddArrayToObject(d, "processes");
	const cJSON *p;
	cJSON_ArrayForEach(p, procs) {
		double dpid = num(p, "pid", 0);
		int pid = dpid >= 0 && dpid <= 4194304 ? (int)dpid : -1;
		const char *pname = cryo_json_get_str(p, "name") ? cryo_json_get_str(p, "name") : "?";
		char ev[64];
		snprintf(ev, sizeof(ev), "proc/%d/process.json", pid);
		cJSON *o = cJSON_CreateObject();
		cryo_json_num(o, "pid", pid);
		cryo_json_num(o, "ppid", num(p, "ppid", 0));
		cryo_json_num(o, "pid_in_container", num(p, "pid_in_container", 0));
		cryo_json_str(o, "name", cryo_json_get_str(p, "name"));
		const cJSON *exe = get(p, "exe");
		const char *exe_path = cryo_json_get_str(exe, "path");
		cryo_json_str(o, "exe", exe_path);
		cryo_json_str(o, "exe_sha256", cryo_json_get_str(exe, "sha256"));
		double euid = num(get(p, "uid"), "effective", -1);
		cryo_json_num(o, "uid", euid);
		cJSON *argv = cJSON_Duplicate(get(p, "cmdline"), 1);
		cJSON_AddItemToObject(o, "cmdline", argv ? argv : cJSON_CreateArray());
		cJSON *flags = cJSON_AddArrayToObject(o, "flags");
		const cJSON *caps = get(get(p, "capabilities"), "effective");
		const cJSON *bnd = get(get(p, "capabilities"), "bounding");
		if (cJSON_IsTrue(get(exe, "deleted"))) {
			cJSON_AddItemToArray(flags, cJSON_CreateString("executable deleted"));
			ioc(iocs, "sha256", cryo_json_get_str(exe, "sha256"), "executable of a process, deleted from disk");
		}
		if (suspicious_path(exe_path)) {
			cJSON_AddItemToArray(flags, cJSON_CreateString("runs from a temporary directory"));
			ioc(iocs, "path", exe_path, "executable in a temporary directory");
			ioc(iocs, "sha256", cryo_json_get_str(exe, "sha256"), "executable in a temporary directory");
		}
		const cJSON *arg;
		cJSON_ArrayForEach(arg, get(p, "cmdline"))
			if (cJSON_IsString(arg) && suspicious_path(arg->valuestring)) {
				cJSON_AddItemToArray(flags, cJSON_CreateString("command line names a temporary directory"));
				ioc(iocs, "path", arg->valuestring, "in the command line of a process");
				break;
			}
		if (exe_path && changed && bsearch(&exe_path, changed, k, sizeof(*changed), str_cmp)) {
			cJSON_AddItemToArray(flags, cJSON_CreateString("executable not in the image"));
			ioc(iocs, "sha256", cryo_json_get_str(exe, "sha256"), "executable added or changed in the container");
		}
		bool danger = false;
		for (size_t i = 0; i < CRYO_ARRAY_SIZE(dangerous_caps); i++)
			if (has_str(caps, dangerous_caps[i])) {
				danger = true;
				cJSON *f = finding(findings, dangerous_caps[i], i < 4 ? "high" : "medium",
						   "a dangerous capability",
						   "drop every capability (--cap-drop ALL, Kubernetes capabilities.drop: [ALL]) "
						   "and add back only those the application needs");
				cryo_json_str(f, "title", dangerous_caps[i]);
				evidence(f, "%s: process %d (%s) has %s in its effective set", ev, pid, pname,
					 dangerous_caps[i]);
			}
		if (euid == 0) {
			cJSON_AddItemToArray(flags, cJSON_CreateString(danger ? "root with dangerous capabilities" : "root"));
			cJSON *f = finding(findings, "root", "medium", "processes run as root",
					   "run as an unprivileged user (USER in the image, runAsNonRoot: true)");
			evidence(f, "%s: process %d (%s) has effective uid 0", ev, pid, pname);
		}
		if (has_str(bnd, "cap_sys_admin") && has_str(bnd, "cap_sys_module") && has_str(bnd, "cap_sys_rawio")) {
			cJSON *f = finding(findings, "privileged", "critical", "a privileged container (every capability)",
					   "do not run privileged (--privileged, securityContext.privileged): grant the "
					   "few capabilities and devices the application needs");
			evidence(f, "%s: process %d's bounding set holds cap_sys_admin, cap_sys_module, cap_sys_rawio", ev, pid);
		}
		const char *sec = cryo_json_get_str(get(p, "seccomp"), "mode");
		if (sec && !strcmp(sec, "disabled")) {
			cJSON *f = finding(findings, "no-seccomp", "high", "no seccomp filter",
					   "keep the runtime's default seccomp profile (do not use seccomp=unconfined; "
					   "Kubernetes seccompProfile: RuntimeDefault)");
			evidence(f, "%s: process %d runs with seccomp disabled", ev, pid);
		}
		if (cJSON_IsFalse(get(p, "no_new_privs"))) {
			cJSON *f = finding(findings, "no-new-privs-off", "low", "NoNewPrivs is off: setuid binaries can raise privileges",
					   "run with no-new-privileges (--security-opt no-new-privileges, "
					   "allowPrivilegeEscalation: false)");
			evidence(f, "%s: process %d has NoNewPrivs 0", ev, pid);
		}
		if (cJSON_GetArraySize(get(p, "nspid")) == 1) {
			cJSON *f = finding(findings, "host-pid", "high", "the host's PID namespace",
					   "do not share the host's PID namespace (--pid=host, hostPID: true)");
			evidence(f, "%s: process %d has one pid only (NSpid): it sees every host process", ev, pid);
		}
		/* root alone is common (and a finding): red is for the rest */
		if (cJSON_GetArraySize(flags) > (euid == 0 && !danger ? 1 : 0))
			cryo_json_bool(o, "suspicious", true);
		cJSON_AddItemToArray(out, o);
	}
}

static void analyse_mounts(cJSON *d, const cJSON *mounts)
{
	cJSON *findings = cJSON_GetObjectItemCaseSensitive(d, "findings");
	static const char *const sockets[] = { "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
					       "/var/run/crio/crio.sock", "/run/podman/podman.sock" };
	static const char *const host_dirs[] = { "/", "/etc", "/proc", "/sys", "/root", "/var/run", "/run", "/var/lib",
						 "/home", "/boot", "/dev", "/usr", "/var/log" };
	const cJSON *m;
	cJSON_ArrayForEach(m, mounts) {
		const char *mp = cryo_json_get_str(m, "mountpoint"), *kind = cryo_json_get_str(m, "kind");
		const char *root = cryo_json_get_str(m, "root"), *opts = cryo_json_get_str(m, "options");
		if (!mp || !kind)
			continue;
		for (size_t i = 0; i < CRYO_ARRAY_SIZE(sockets); i++)
			if (!strcmp(mp, sockets[i]) || (root && cryo_has_suffix(root, "docker.sock"))) {
				cJSON *f = finding(findings, "runtime-socket", "critical",
						   "the container runtime's socket is mounted: root on the host",
						   "never mount the Docker (or containerd, CRI-O) socket into a container");
				evidence(f, "fs/mounts.json: %s is mounted from %s", mp, root ? root : "?");
				break;
			}
		if (!strcmp(kind, "volume") && root)
			for (size_t i = 0; i < CRYO_ARRAY_SIZE(host_dirs); i++)
				if (!strcmp(root, host_dirs[i])) {
					cJSON *f = finding(findings, "host-path", "high", "a sensitive host path is mounted",
							   "mount only the data directories the application needs, read-only "
							   "where possible; never /, /etc, /proc, /var/run");
					evidence(f, "fs/mounts.json: host %s is mounted at %s (%s)", root, mp, opts ? opts : "");
					break;
				}
		if (!strcmp(kind, "rootfs") && opts && cryo_has_prefix(opts, "rw")) {
			cJSON *f = finding(findings, "writable-rootfs", "low", "the root filesystem is writable",
					   "run with a read-only root filesystem (--read-only, readOnlyRootFilesystem: true) "
					   "and writable volumes only where needed");
			evidence(f, "fs/mounts.json: / is mounted %s", opts);
		}
	}
}

static void analyse_namespaces(cJSON *d, const cJSON *shared)
{
	static const struct {
		const char *ns, *id, *severity, *title, *fix;
	} rules[] = {
		{ "net", "host-network", "high", "the host's network namespace",
		  "do not share the host's network (--network host, hostNetwork: true)" },
		{ "pid", "host-pid", "high", "the host's PID namespace",
		  "do not share the host's PID namespace (--pid=host, hostPID: true)" },
		{ "ipc", "host-ipc", "medium", "the host's IPC namespace",
		  "do not share the host's IPC namespace (--ipc=host, hostIPC: true)" },
		{ "uts", "host-uts", "low", "the host's UTS namespace (hostname)", "do not use --uts=host" },
		{ "mnt", "host-mnt", "critical", "the host's mount namespace: no isolation of the file system",
		  "run the container in a mount namespace of its own" },
	};
	cJSON *findings = cJSON_GetObjectItemCaseSensitive(d, "findings");
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(rules); i++)
		if (has_str(shared, rules[i].ns)) {
			cJSON *f = finding(findings, rules[i].id, rules[i].severity, rules[i].title, rules[i].fix);
			evidence(f, "proc/index.json: host_namespaces holds %s (the container's init shares the host init's)",
				 rules[i].ns);
		}
}

static time_t parse_utc(const char *s)
{
	struct tm tm = { 0 };
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return (time_t)-1;
	return timegm(&tm);
}

static void analyse_changes(cJSON *d, const cJSON *changes)
{
	cJSON *iocs = cJSON_GetObjectItemCaseSensitive(d, "iocs");
	cJSON *ch = cJSON_AddObjectToObject(d, "changes");
	cJSON *rows = cJSON_AddArrayToObject(ch, "rows");
	size_t n = 0, added = 0, modified = 0, deleted = 0;
	time_t lo = 0, hi = 0;
	const cJSON *c;
	size_t nrows = 0, seen = 0;
	cJSON_ArrayForEach(c, changes) {
		if (seen++ >= MAX_CHANGES)
			break;
		const char *change = cryo_json_get_str(c, "change"), *path = cryo_json_get_str(c, "path");
		if (!change || !path)
			continue;
		n++;
		added += !strcmp(change, "added");
		modified += !strcmp(change, "modified");
		deleted += !strcmp(change, "deleted");
		time_t t = parse_utc(cryo_json_get_str(c, "mtime"));
		if (t != (time_t)-1) {
			lo = lo && lo < t ? lo : t;
			hi = hi > t ? hi : t;
		}
		const char *mode = cryo_json_get_str(c, "mode"), *type = cryo_json_get_str(c, "type");
		bool exec = mode && type && !strcmp(type, "file") && (strtoul(mode, NULL, 8) & 0111);
		if (exec && strcmp(change, "deleted"))
			ioc(iocs, "sha256", cryo_json_get_str(c, "sha256"), "executable file added or changed in the container");
		if (suspicious_path(path) && strcmp(change, "deleted"))
			ioc(iocs, "path", path, "written in a temporary directory");
		if (nrows++ < MAX_ROWS) {
			cJSON *r = cJSON_CreateObject();
			cryo_json_str(r, "change", change);
			cryo_json_str(r, "path", path);
			cryo_json_str(r, "type", type);
			cryo_json_str(r, "mode", mode);
			cryo_json_num(r, "size", num(c, "size", 0));
			cryo_json_str(r, "mtime", cryo_json_get_str(c, "mtime"));
			cryo_json_str(r, "sha256", cryo_json_get_str(c, "sha256"));
			cJSON_AddItemToArray(rows, r);
		}
	}
	/* grouped by directory (the first two levels), for the timeline */
	cJSON *dirs = cJSON_AddArrayToObject(ch, "by_directory");
	size_t dseen = 0, dirs_left_out = 0;
	cJSON_ArrayForEach(c, changes) {
		if (dseen++ >= MAX_CHANGES)
			break;
		const char *path = cryo_json_get_str(c, "path");
		if (!path || path[0] != '/')
			continue;
		char dir[256];
		const char *a = strchr(path + 1, '/');
		const char *b = a ? strchr(a + 1, '/') : NULL;
		size_t len = b ? (size_t)(b - path) : a ? (size_t)(a - path) : 1;
		if (len >= sizeof(dir))
			len = sizeof(dir) - 1;
		memcpy(dir, path, len);
		dir[len] = '\0';
		/* compared as stored: a cut that splits a UTF-8 character is
		 * stored escaped, and must still find its group */
		cJSON *key = cryo_json_string(dir);
		if (!key)
			continue;
		cJSON *g = NULL, *it;
		cJSON_ArrayForEach(it, dirs)
			if (!strcmp(cryo_json_get_str(it, "directory"), key->valuestring))
				g = it;
		snprintf(dir, sizeof(dir), "%s", key->valuestring);
		cJSON_Delete(key);
		if (!g) {
			if (cJSON_GetArraySize(dirs) >= 50) {
				dirs_left_out++;
				continue;
			}
			g = cJSON_CreateObject();
			cryo_json_str(g, "directory", dir);
			cryo_json_str(g, "first", NULL);
			cryo_json_str(g, "last", NULL);
			cJSON_AddItemToArray(dirs, g);
		}
		cryo_json_num(g, "count", num(g, "count", 0) + 1);
		const char *mt = cryo_json_get_str(c, "mtime");
		if (mt) {
			const char *f = cryo_json_get_str(g, "first"), *l = cryo_json_get_str(g, "last");
			if (!f || strcmp(mt, f) < 0)
				cryo_json_str(g, "first", mt);
			if (!l || strcmp(mt, l) > 0)
				cryo_json_str(g, "last", mt);
		}
	}
	cryo_json_num(ch, "changes_in_directories_not_grouped", (double)dirs_left_out);
	cryo_json_num(ch, "total", (double)n);
	cryo_json_num(ch, "not_analysed", seen > MAX_CHANGES ? (double)(cJSON_GetArraySize(changes) - MAX_CHANGES) : 0);
	cryo_json_num(ch, "added", (double)added);
	cryo_json_num(ch, "modified", (double)modified);
	cryo_json_num(ch, "deleted", (double)deleted);
	cryo_json_num(ch, "rows_left_out", n > MAX_ROWS ? (double)(n - MAX_ROWS) : 0);
	/* the timeline: changes by modification time, 40 buckets */
	enum { BUCKETS = 40 };
	double count[BUCKETS] = { 0 };
	double span = hi > lo ? (double)(hi - lo) : 1;
	size_t tseen = 0;
	cJSON_ArrayForEach(c, changes) {
		if (tseen++ >= MAX_CHANGES)
			break;
		time_t t = parse_utc(cryo_json_get_str(c, "mtime"));
		if (t == (time_t)-1 || !cryo_json_get_str(c, "change") || !strcmp(cryo_json_get_str(c, "change"), "deleted"))
			continue;
		int b = (int)((double)(t - lo) / span * (BUCKETS - 1));
		count[b < 0 ? 0 : b >= BUCKETS ? BUCKETS - 1 : b]++;
	}
	cJSON *tl = cJSON_AddObjectToObject(ch, "timeline");
	char a[48];
	cryo_format_utc_ts(lo, 0, a, sizeof(a));
	cryo_json_str(tl, "from", lo ? a : NULL);
	cryo_format_utc_ts(hi, 0, a, sizeof(a));
	cryo_json_str(tl, "to", hi ? a : NULL);
	cJSON_AddItemToObject(tl, "counts", cJSON_CreateDoubleArray(count, BUCKETS));
}

static bool unspecified(const char *ep)
{
	return !ep || cryo_has_prefix(ep, "0.0.0.0:") || cryo_has_prefix(ep, "[::]:") || cryo_has_suffix(ep, ":0");
}

static void analyse_sockets(cJSON *d, const cJSON *sockets)
{
	cJSON *iocs = cJSON_GetObjectItemCaseSensitive(d, "iocs");
	cJSON *rows = cJSON_AddArrayToObject(d, "sockets");
	cJSON *remotes = cJSON_AddArrayToObject(d, "remotes");
	size_t n = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, get(sockets, "sockets")) {
		const char *proto = cryo_json_get_str(s, "proto");
		if (!proto || !strcmp(proto, "unix"))
			continue;
		if (n++ < MAX_ROWS)
			cJSON_AddItemToArray(rows, cJSON_Duplicate(s, 1));
		const char *remote = cryo_json_get_str(s, "remote");
		if (unspecified(remote))
			continue;
		ioc(iocs, "endpoint", remote, proto);
		cJSON *r;
		bool found = false;
		cJSON_ArrayForEach(r, remotes)
			if (!strcmp(cryo_json_get_str(r, "endpoint"), remote)) {
				cryo_json_num(r, "count", num(r, "count", 0) + 1);
				found = true;
			}
		if (!found && cJSON_GetArraySize(remotes) < 50) {
			r = cJSON_CreateObject();
			cryo_json_str(r, "endpoint", remote);
			cryo_json_str(r, "proto", proto);
			cryo_json_num(r, "count", 1);
			cJSON_AddItemToArray(remotes, r);
		}
	}
	cryo_json_num(d, "sockets_total", (double)n);
}

static void custody_timeline(cJSON *d, const char *text)
{
	cJSON *out = cJSON_AddArrayToObject(d, "custody");
	if (!text)
		return;
	size_t shown = 0, more = 0;
	for (const char *line = text; *line;) {
		if (shown >= MAX_CUSTODY) {
			more += *line != '\n';
			const char *nl2 = strchr(line, '\n');
			if (!nl2)
				break;
			line = nl2 + 1;
			continue;
		}
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		cJSON *e = cryo_json_parse(line, len);
		if (e) {
			cJSON *o = cJSON_CreateObject();
			cryo_json_num(o, "seq", num(e, "seq", 0));
			cryo_json_str(o, "time", cryo_json_get_str(e, "time"));
			cryo_json_str(o, "tool", cryo_json_get_str(e, "tool"));
			cryo_json_str(o, "action", cryo_json_get_str(e, "action"));
			cryo_json_str(o, "target", cryo_json_get_str(e, "target"));
			cryo_json_str(o, "result", cryo_json_get_str(e, "result"));
			cryo_json_str(o, "message", cryo_json_get_str(e, "message"));
			cryo_json_str(o, "host", cryo_json_get_str(get(e, "who"), "host"));
			cryo_json_str(o, "user", cryo_json_get_str(get(e, "who"), "user"));
			cryo_json_num(o, "artifacts", cJSON_GetArraySize(get(e, "artifacts")));
			const cJSON *trig = get(get(e, "details"), "trigger");
			if (trig)
				cJSON_AddItemToObject(o, "trigger", cJSON_Duplicate(trig, 1));
			cJSON_AddItemToArray(out, o);
			cJSON_Delete(e);
			shown++;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	cryo_json_num(d, "custody_not_shown", (double)more);
}

int cryo_report_build(const struct cryo_report_request *req, struct cryo_report *out, struct cryo_error *err)
{
	memset(out, 0, sizeof(*out));
	struct collect c = { .want_bodyfile = req->want_bodyfile, .members = cJSON_CreateObject(), .procs = cJSON_CreateArray(),
			     .left_out = cJSON_CreateArray() };
	memset(&iocset, 0, sizeof(iocset));
	struct cryo_verify_request vr = {
		.pk = req->no_verify ? NULL : req->pk, .path = req->archive, .unsigned_ok = req->no_verify,
		.keep = keep, .kept = kept, .keep_arg = &c,
	};
	cJSON *vres = NULL;
	struct cryo_error verr = { 0 };
	int vrc = cryo_verify_archive(&vr, &vres, &verr);
	cJSON *d = out->data = cJSON_CreateObject();
	cJSON *v = cJSON_AddObjectToObject(d, "verification");
	cryo_json_bool(v, "verified", vrc == 0 && !req->no_verify);
	cryo_json_bool(v, "no_verify", req->no_verify);
	cryo_json_str(v, "key_id", cryo_json_get_str(get(vres, "signature"), "key_id"));
	cryo_json_str(v, "archive", req->archive);
	if (vrc != 0)
		cryo_json_str(v, "error", verr.msg);
	cJSON_Delete(vres);
	int rc = 0;
	/* no report from an archive that does not verify, and none at all
	 * from what is not one (--no-verify or not) */
	if (vrc != 0 && (!req->no_verify || !get(c.members, "case.json"))) {
		*err = verr;
		if (!err->msg[0])
			cryo_error_set(err, CRYO_EXIT_NO, 0, "%s: does not verify", req->archive);
		cJSON_Delete(c.members);
		cJSON_Delete(c.procs);
		cJSON_Delete(c.left_out);
		free(c.custody);
		free(c.bodyfile);
		cJSON_Delete(out->data);
		out->data = NULL;
		return -1;
	}
	cJSON_AddItemToObject(d, "case", cJSON_Duplicate(get(c.members, "case.json"), 1) ?: cJSON_CreateObject());
	const cJSON *index = get(c.members, "proc/index.json");
	cJSON *ct = cJSON_AddObjectToObject(d, "container");
	cryo_json_str(ct, "id", cryo_json_get_str(index, "id"));
	cryo_json_str(ct, "short_id", cryo_json_get_str(index, "short_id"));
	cryo_json_str(ct, "name", cryo_json_get_str(index, "name"));
	cryo_json_str(ct, "target", cryo_json_get_str(get(c.members, "case.json"), "target"));
	const cJSON *rec = get(index, "container");
	cryo_json_str(ct, "runtime", cryo_json_get_str(rec, "runtime"));
	cryo_json_str(ct, "image", cryo_json_get_str(rec, "image"));
	cryo_json_str(ct, "created", cryo_json_get_str(rec, "created"));
	if (cJSON_IsObject(get(rec, "pod")))
		cJSON_AddItemToObject(ct, "pod", cJSON_Duplicate(get(rec, "pod"), 1));
	cJSON_AddArrayToObject(d, "findings");
	cJSON_AddArrayToObject(d, "iocs");
	custody_timeline(d, c.custody);
	const cJSON *changes = get(c.members, "fs/changes.json");
	analyse_processes(d, c.procs, changes);
	cJSON_AddItemToObject(d, "roots", cJSON_Duplicate(get(index, "roots"), 1) ?: cJSON_CreateArray());
	analyse_mounts(d, get(c.members, "fs/mounts.json"));
	analyse_namespaces(d, get(index, "host_namespaces"));
	analyse_changes(d, changes);
	analyse_sockets(d, get(c.members, "proc/sockets.json"));
	cJSON_AddItemToObject(d, "left_out", c.left_out);
	c.left_out = NULL;
	cryo_json_num(d, "iocs_left_out", (double)iocset.left_out);
	cJSON_Delete(c.members);
	cJSON_Delete(c.procs);
	free(c.custody);
	out->bodyfile = c.bodyfile;
	out->bodyfile_len = c.bodyfile_len;
	if (vrc != 0) {
		*err = verr;
		return -1;
	}
	return rc;
}

void cryo_report_free(struct cryo_report *r)
{
	cJSON_Delete(r->data);
	free(r->bodyfile);
	memset(r, 0, sizeof(*r));
}

/* --- rendering ------------------------------------------------------------- */

struct html {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct html *h, const char *s, size_t n)
{
	if (h->oom)
		return;
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 65536;
		while (cap < h->len + n + 1)
			cap *= 2;
		char *p = realloc(h->p, cap);
		if (!p) {
			h->oom = true;
			return;
		}
		h->p = p;
		h->cap = cap;
	}
	memcpy(h->p + h->len, s, n);
	h->len += n;
	h->p[h->len] = '\0';
}

static void out(struct html *h, const char *s)
{
	put(h, s, strlen(s));
}

static void outf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct html *h, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(h, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Evidence text: every character that means something to HTML escaped,
 * control characters shown as U+FFFD; nothing in it can open a tag, close
 * an attribute or start a script. */
static void esc(struct html *h, const char *s)
{
	if (!s) {
		out(h, "-");
		return;
	}
	size_t shown = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (shown++ >= MAX_TEXT) {
			outf(h, "\xe2\x80\xa6 (%zu more bytes)", strlen((const char *)p));
			break;
		}
		/* direction overrides and invisible characters (U+200B-200F,
		 * U+202A-202E, U+2066-2069) could show a name as another */
		if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae))) {
			out(h, "&#xfffd;");
			p += 2;
			continue;
		}
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9) {
			out(h, "&#xfffd;");
			p += 2;
			continue;
		}
		switch (*p) {
		case '&': out(h, "&amp;"); break;
		case '<': out(h, "&lt;"); break;
		case '>': out(h, "&gt;"); break;
		case '"': out(h, "&quot;"); break;
		case '\'': out(h, "&#39;"); break;
		case '`': out(h, "&#96;"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				out(h, "&#xfffd;");
			else
				put(h, (const char *)p, 1);
		}
	}
}

char *cryo_html_escape(const char *s)
{
	struct html h = { 0 };
	out(&h, "");
	esc(&h, s);
	return h.oom ? (free(h.p), NULL) : h.p;
}

static void cell(struct html *h, const char *s)
{
	out(h, "<td>");
	esc(h, s);
	out(h, "</td>");
}

static void cellnum(struct html *h, double v)
{
	outf(h, "<td class=n>%.0f</td>", v);
}

static const char *str(const cJSON *o, const char *k)
{
	return cryo_json_get_str(o, k);
}

/* The process tree: one row per process, indented by depth, joined to its
 * parent; flagged processes in red. */
static void process_tree_svg(struct html *h, const cJSON *procs)
{
	int n = cJSON_GetArraySize(procs);
	if (n > MAX_ROWS)
		n = MAX_ROWS;
	if (n <= 0) {
		out(h, "<p>No process snapshot in this archive.</p>");
		return;
	}
	int *depth = calloc((size_t)n, sizeof(int)), *order = calloc((size_t)n, sizeof(int));
	int *parent = calloc((size_t)n, sizeof(int));
	if (!depth || !order || !parent) {
		free(depth), free(order), free(parent);
		return;
	}
	const cJSON **pv = calloc((size_t)n, sizeof(*pv));
	if (!pv) {
		free(depth), free(order), free(parent);
		return;
	}
	for (int i = 0; i < n; i++)
		pv[i] = cJSON_GetArrayItem(procs, i);
	for (int i = 0; i < n; i++) {
		parent[i] = -1;
		for (int k = 0; k < n; k++)
			if (k != i && num(pv[k], "pid", -1) == num(pv[i], "ppid", -2))
				parent[i] = k;
	}
	/* depth-first order from the roots, so children follow their parent */
	int cnt = 0;
	int *stack = calloc((size_t)n + 1, sizeof(int));
	bool *seen = calloc((size_t)n, sizeof(bool));
	for (int r = 0; r < n && stack && seen; r++) {
		if (parent[r] >= 0)
			continue;
		int sp = 0;
		stack[sp++] = r;
		depth[r] = 0;
		while (sp) {
			int i = stack[--sp];
			if (seen[i])
				continue;
			seen[i] = true;
			order[cnt++] = i;
			for (int k = n - 1; k >= 0; k--)
				if (parent[k] == i && !seen[k] && sp < n) {
					depth[k] = depth[i] + 1 > 30 ? 30 : depth[i] + 1;
					stack[sp++] = k;
				}
		}
	}
	for (int i = 0; i < n && seen; i++) /* cycles: whatever is left */
		if (!seen[i])
			order[cnt++] = i;
	int row = 26, width = 1000;
	outf(h, "<svg class=tree role=img aria-label=\"process tree\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">",
	     width, cnt * row + 10);
	int *y = calloc((size_t)n, sizeof(int));
	for (int j = 0; j < cnt && y; j++) {
		int i = order[j];
		y[i] = 5 + j * row;
		int x = 10 + depth[i] * 24;
		if (parent[i] >= 0) {
			int px = 10 + depth[parent[i]] * 24 + 8;
			outf(h, "<path d=\"M%d %d V%d H%d\" class=edge/>", px, y[parent[i]] + 20, y[i] + 10, x);
		}
		bool bad = cJSON_IsTrue(get(pv[i], "suspicious"));
		outf(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\" class=\"%s\"/>", x, y[i],
		     width - x - 10, bad ? "node bad" : "node");
		outf(h, "<text x=\"%d\" y=\"%d\">", x + 6, y[i] + 14);
		outf(h, "%.0f ", num(pv[i], "pid", 0));
		esc(h, str(pv[i], "name"));
		out(h, " \xe2\x80\x94 ");
		esc(h, str(pv[i], "exe"));
		const cJSON *f;
		cJSON_ArrayForEach(f, get(pv[i], "flags")) {
			out(h, " [");
			esc(h, f->valuestring);
			out(h, "]");
		}
		out(h, "</text>");
	}
	out(h, "</svg>");
	free(y), free(depth), free(order), free(parent), free(pv), free(stack), free(seen);
}

static void timeline_svg(struct html *h, const cJSON *tl)
{
	const cJSON *counts = get(tl, "counts");
	double max = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, counts)
		max = c->valuedouble > max ? c->valuedouble : max;
	if (max == 0) {
		out(h, "<p>No dated change.</p>");
		return;
	}
	int w = 16, hgt = 120, i = 0;
	outf(h, "<svg class=timeline role=img aria-label=\"changes over time\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">",
	     cJSON_GetArraySize(counts) * w + 20, hgt + 30);
	cJSON_ArrayForEach(c, counts) {
		int bh = (int)(c->valuedouble / max * hgt);
		if (c->valuedouble > 0 && bh < 2)
			bh = 2;
		outf(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=bar><title>%.0f</title></rect>", 10 + i * w,
		     hgt - bh + 5, w - 3, bh, c->valuedouble);
		i++;
	}
	outf(h, "<text x=\"10\" y=\"%d\">", hgt + 22);
	esc(h, str(tl, "from"));
	out(h, " \xe2\x86\x92 ");
	esc(h, str(tl, "to"));
	out(h, "</text></svg>");
}

static void remotes_svg(struct html *h, const cJSON *remotes)
{
	int n = cJSON_GetArraySize(remotes);
	if (!n) {
		out(h, "<p>No remote endpoint.</p>");
		return;
	}
	outf(h, "<svg class=remotes role=img aria-label=\"remote endpoints\" xmlns=\"http://www.w3.org/2000/svg\" width=\"700\" height=\"%d\">",
	     n * 26 + 20);
	out(h, "<circle cx=\"40\" cy=\"20\" r=\"14\" class=node/><text x=\"24\" y=\"50\">container</text>");
	int i = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, remotes) {
		int y = 20 + i * 26;
		outf(h, "<path d=\"M54 20 L300 %d\" class=edge/>", y);
		outf(h, "<rect x=\"300\" y=\"%d\" width=\"380\" height=\"20\" rx=\"4\" class=\"node bad\"/>", y - 10);
		outf(h, "<text x=\"306\" y=\"%d\">", y + 4);
		esc(h, str(r, "proto"));
		out(h, " ");
		esc(h, str(r, "endpoint"));
		outf(h, " (%.0f)</text>", num(r, "count", 0));
		i++;
	}
	out(h, "</svg>");
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}"
	"h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:2em}"
	"table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;"
	"vertical-align:top;word-break:break-all}th{background:#f3f3f3}td.n{text-align:right}"
	".banner{padding:.6em 1em;border-radius:4px;font-weight:bold}.ok{background:#e3f6e3;color:#145214}"
	".unverified{background:#fde2e2;color:#a00000}"
	".critical{color:#a00000;font-weight:bold}.high{color:#c04000;font-weight:bold}.medium{color:#8a6d00}.low{color:#555}"
	"svg text{font:12px monospace;fill:#222}.node{fill:#eef3fb;stroke:#6b8cc7}.node.bad{fill:#fde2e2;stroke:#c33}"
	".edge{fill:none;stroke:#999}.bar{fill:#6b8cc7}.note{color:#666}";

char *cryo_report_html(const cJSON *d)
{
	struct html h = { 0 };
	const cJSON *v = get(d, "verification"), *kase = get(d, "case"), *ct = get(d, "container");
	out(&h, "<!DOCTYPE html>\n<html lang=en><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
		"img-src data:; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'\">\n"
		"<meta name=\"referrer\" content=\"no-referrer\">\n<title>cryo report ");
	esc(&h, str(kase, "case_id"));
	out(&h, "</title>\n<style>");
	out(&h, css);
	out(&h, "</style></head><body>\n<h1>cryo report: case ");
	esc(&h, str(kase, "case_id"));
	out(&h, "</h1>\n");
	bool verified = cJSON_IsTrue(get(v, "verified"));
	int rows;
	out(&h, verified ? "<p id=verification class=\"banner ok\">Verified: signature by key "
			 : "<p id=verification class=\"banner unverified\">NOT VERIFIED: ");
	if (verified)
		esc(&h, str(v, "key_id"));
	else
		esc(&h, cJSON_IsTrue(get(v, "no_verify")) ? "read with --no-verify (integrity only, no signature check)"
							  : str(v, "error"));
	if (str(v, "error") && cJSON_IsTrue(get(v, "no_verify"))) {
		out(&h, " \xe2\x80\x94 ");
		esc(&h, str(v, "error"));
	}
	out(&h, "</p>\n");
	if (cJSON_GetArraySize(get(d, "left_out"))) {
		out(&h, "<div id=left-out class=\"banner unverified\">Evidence in the archive that this report does not show:<ul>");
		const cJSON *lo;
		cJSON_ArrayForEach(lo, get(d, "left_out")) {
			out(&h, "<li>");
			esc(&h, str(lo, "member"));
			outf(&h, " (%.0f bytes): ", num(lo, "size", 0));
			esc(&h, str(lo, "why"));
			out(&h, "</li>");
		}
		out(&h, "</ul></div>\n");
	}

	out(&h, "<section id=summary><h2>Summary</h2><table>");
	out(&h, "<tr><th>case</th>");
	cell(&h, str(kase, "case_id"));
	out(&h, "</tr><tr><th>host</th>");
	cell(&h, str(kase, "host"));
	out(&h, "</tr><tr><th>container</th>");
	cell(&h, str(ct, "name") ? str(ct, "name") : str(ct, "target"));
	out(&h, "</tr><tr><th>container id</th>");
	cell(&h, str(ct, "id"));
	out(&h, "</tr><tr><th>runtime</th>");
	cell(&h, str(ct, "runtime"));
	out(&h, "</tr><tr><th>image</th>");
	cell(&h, str(ct, "image"));
	if (get(ct, "pod")) {
		out(&h, "</tr><tr><th>pod</th>");
		char pod[600];
		snprintf(pod, sizeof(pod), "%s/%s", str(get(ct, "pod"), "namespace") ? str(get(ct, "pod"), "namespace") : "?",
			 str(get(ct, "pod"), "name") ? str(get(ct, "pod"), "name") : "?");
		cell(&h, pod);
	}
	out(&h, "</tr><tr><th>opened</th>");
	cell(&h, str(kase, "created"));
	out(&h, "</tr><tr><th>archive</th>");
	cell(&h, str(v, "archive"));
	outf(&h, "</tr><tr><th>processes</th><td class=n>%d</td></tr>", cJSON_GetArraySize(get(d, "processes")));
	outf(&h, "<tr><th>filesystem changes</th><td class=n>%.0f</td></tr>", num(get(d, "changes"), "total", 0));
	outf(&h, "<tr><th>findings</th><td class=n>%d</td></tr></table>", cJSON_GetArraySize(get(d, "findings")));
	const cJSON *e;
	cJSON_ArrayForEach(e, get(d, "custody"))
		if (get(e, "trigger")) {
			const cJSON *tr = get(e, "trigger");
			cleanup_free char *t = cJSON_PrintUnformatted(tr);
			if (str(tr, "rule")) {
				/* a detector's alert (Falco's shape): what fired, then the whole alert */
				out(&h, "<p>Trigger: <b>");
				esc(&h, str(tr, "rule"));
				out(&h, "</b> (");
				esc(&h, str(tr, "priority") ? str(tr, "priority") : "no priority");
				out(&h, ") at ");
				esc(&h, str(tr, "time") ? str(tr, "time") : "?");
				if (str(tr, "output")) {
					out(&h, ": ");
					esc(&h, str(tr, "output"));
				}
				out(&h, "</p><details><summary>the alert</summary><code>");
				esc(&h, t);
				out(&h, "</code></details>");
			} else {
				out(&h, "<p>Trigger: <code>");
				esc(&h, t);
				out(&h, "</code></p>");
			}
			break;
		}
	out(&h, "</section>\n");

	out(&h, "<section id=custody><h2>Chain of custody</h2><table><tr><th>#</th><th>time (UTC)</th><th>tool</th>"
		"<th>action</th><th>result</th><th>message</th><th>by</th><th>artifacts</th></tr>");
	rows = 0;
	cJSON_ArrayForEach(e, get(d, "custody")) {
		if (rows++ >= MAX_ROWS)
			break;
		out(&h, "<tr>");
		cellnum(&h, num(e, "seq", 0));
		cell(&h, str(e, "time"));
		cell(&h, str(e, "tool"));
		cell(&h, str(e, "action"));
		cell(&h, str(e, "result"));
		cell(&h, str(e, "message"));
		cell(&h, str(e, "user"));
		cellnum(&h, num(e, "artifacts", 0));
		out(&h, "</tr>");
	}
	out(&h, "</table>");
	if (rows > MAX_ROWS || num(d, "custody_not_shown", 0) > 0)
		outf(&h, "<p class=note>%.0f more entries not shown (all are in custody.jsonl).</p>",
		     (rows > MAX_ROWS ? cJSON_GetArraySize(get(d, "custody")) - MAX_ROWS : 0) + num(d, "custody_not_shown", 0));
	out(&h, "</section>\n");

	out(&h, "<section id=findings><h2>Findings: what made the attack possible</h2>");
	if (!cJSON_GetArraySize(get(d, "findings")))
		out(&h, "<p>None found in the captured state.</p>");
	else
		out(&h, "<table><tr><th>severity</th><th>finding</th><th>evidence</th><th>fix</th></tr>");
	cJSON_ArrayForEach(e, get(d, "findings")) {
		out(&h, "<tr><td class=\"");
		esc(&h, str(e, "severity"));
		out(&h, "\">");
		esc(&h, str(e, "severity"));
		out(&h, "</td>");
		cell(&h, str(e, "title"));
		out(&h, "<td><ul>");
		const cJSON *ev;
		cJSON_ArrayForEach(ev, get(e, "evidence")) {
			out(&h, "<li>");
			esc(&h, ev->valuestring);
			out(&h, "</li>");
		}
		out(&h, "</ul></td>");
		cell(&h, str(e, "fix"));
		out(&h, "</tr>");
	}
	if (cJSON_GetArraySize(get(d, "findings")))
		out(&h, "</table>");
	out(&h, "</section>\n");

	out(&h, "<section id=processes><h2>Processes</h2>");
	process_tree_svg(&h, get(d, "processes"));
	out(&h, "<table><tr><th>pid</th><th>in container</th><th>ppid</th><th>uid</th><th>command line</th><th>flags</th></tr>");
	rows = 0;
	cJSON_ArrayForEach(e, get(d, "processes")) {
		if (rows++ >= MAX_ROWS)
			break;
		out(&h, "<tr>");
		cellnum(&h, num(e, "pid", 0));
		cellnum(&h, num(e, "pid_in_container", 0));
		cellnum(&h, num(e, "ppid", 0));
		cellnum(&h, num(e, "uid", -1));
		out(&h, "<td>");
		const cJSON *a;
		cJSON_ArrayForEach(a, get(e, "cmdline")) {
			esc(&h, a->valuestring);
			out(&h, " ");
		}
		out(&h, "</td><td>");
		cJSON_ArrayForEach(a, get(e, "flags")) {
			esc(&h, a->valuestring);
			out(&h, "; ");
		}
		out(&h, "</td></tr>");
	}
	out(&h, "</table>");
	if (rows > MAX_ROWS)
		outf(&h, "<p class=note>%d more processes not shown.</p>", cJSON_GetArraySize(get(d, "processes")) - MAX_ROWS);
	out(&h, "</section>\n");

	const cJSON *ch = get(d, "changes");
	outf(&h, "<section id=filesystem><h2>Filesystem changes</h2><p>%.0f added, %.0f modified, %.0f deleted.</p>",
	     num(ch, "added", 0), num(ch, "modified", 0), num(ch, "deleted", 0));
	timeline_svg(&h, get(ch, "timeline"));
	out(&h, "<table><tr><th>directory</th><th>changes</th><th>first mtime</th><th>last mtime</th></tr>");
	cJSON_ArrayForEach(e, get(ch, "by_directory")) {
		out(&h, "<tr>");
		cell(&h, str(e, "directory"));
		cellnum(&h, num(e, "count", 0));
		cell(&h, str(e, "first"));
		cell(&h, str(e, "last"));
		out(&h, "</tr>");
	}
	out(&h, "</table>");
	out(&h, "<table><tr><th>change</th><th>path</th><th>type</th><th>mode</th><th>size</th><th>mtime</th><th>sha256</th></tr>");
	cJSON_ArrayForEach(e, get(ch, "rows")) {
		out(&h, "<tr>");
		cell(&h, str(e, "change"));
		cell(&h, str(e, "path"));
		cell(&h, str(e, "type"));
		cell(&h, str(e, "mode"));
		cellnum(&h, num(e, "size", 0));
		cell(&h, str(e, "mtime"));
		cell(&h, str(e, "sha256"));
		out(&h, "</tr>");
	}
	out(&h, "</table>");
	if (num(ch, "rows_left_out", 0) > 0)
		outf(&h, "<p class=note>%.0f more changes not shown (all are in fs/changes.json).</p>", num(ch, "rows_left_out", 0));
	out(&h, "</section>\n");

	out(&h, "<section id=network><h2>Network</h2>");
	remotes_svg(&h, get(d, "remotes"));
	out(&h, "<table><tr><th>proto</th><th>state</th><th>local</th><th>remote</th><th>owners (pid/fd)</th></tr>");
	cJSON_ArrayForEach(e, get(d, "sockets")) {
		out(&h, "<tr>");
		cell(&h, str(e, "proto"));
		cell(&h, str(e, "state"));
		cell(&h, str(e, "local"));
		cell(&h, str(e, "remote"));
		out(&h, "<td>");
		const cJSON *o;
		cJSON_ArrayForEach(o, get(e, "owners"))
			outf(&h, "%.0f/%.0f ", num(o, "pid", 0), num(o, "fd", 0));
		out(&h, "</td></tr>");
	}
	out(&h, "</table>");
	if (num(d, "sockets_total", 0) > cJSON_GetArraySize(get(d, "sockets")))
		outf(&h, "<p class=note>%.0f more sockets not shown.</p>", num(d, "sockets_total", 0) - cJSON_GetArraySize(get(d, "sockets")));
	out(&h, "</section>\n");

	out(&h, "<section id=iocs><h2>Indicators</h2><table><tr><th>type</th><th>value</th><th>context</th></tr>");
	rows = 0;
	cJSON_ArrayForEach(e, get(d, "iocs")) {
		if (rows++ >= MAX_ROWS)
			break;
		out(&h, "<tr>");
		cell(&h, str(e, "type"));
		cell(&h, str(e, "value"));
		cell(&h, str(e, "context"));
		out(&h, "</tr>");
	}
	out(&h, "</table>");
	if (rows > MAX_ROWS)
		outf(&h, "<p class=note>%d more indicators not shown (all are in --iocs).</p>", cJSON_GetArraySize(get(d, "iocs")) - MAX_ROWS);
	out(&h, "</section>\n");
	if (num(d, "iocs_left_out", 0) > 0)
		outf(&h, "<p class=note>%.0f more indicators beyond %d of a kind were left out.</p>", num(d, "iocs_left_out", 0),
		     MAX_IOCS_PER_TYPE);
	out(&h, "<footer class=note>cryo " CRYO_VERSION "</footer></body></html>\n");
	if (h.oom) {
		free(h.p);
		return NULL;
	}
	return h.p;
}

static void csv_field(struct html *h, const char *s)
{
	out(h, "\"");
	/* a spreadsheet evaluates a field starting with these: shown as text */
	if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r'))
		out(h, "'");
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '"')
			out(h, "\"\"");
		else if ((unsigned char)*p < 0x20)
			out(h, " ");
		else
			put(h, p, 1);
	}
	out(h, "\"");
}

char *cryo_report_iocs_csv(const cJSON *d)
{
	struct html h = { 0 };
	out(&h, "type,value,context\n");
	const cJSON *e;
	cJSON_ArrayForEach(e, get(d, "iocs")) {
		csv_field(&h, str(e, "type"));
		out(&h, ",");
		csv_field(&h, str(e, "value"));
		out(&h, ",");
		csv_field(&h, str(e, "context"));
		out(&h, "\n");
	}
	if (h.oom) {
		free(h.p);
		return NULL;
	}
	return h.p;
}
