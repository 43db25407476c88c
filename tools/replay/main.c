/* cryo-replay: open a captured container in a sandbox with no network.
 *
 * Verify the archive (signature and every member) while extracting only
 * what a replay needs, rebuild the root from the merged view or from the
 * diff on the image's layers (lib/layer.c: hostile content, bounded), then
 * run a shell, a command or the captured process's own command line in
 * the sandbox (lib/sandbox.c).  Nothing is written outside the scratch
 * directory, which goes at the end unless --keep. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/layer.h"
#include "cryo/output.h"
#include "cryo/sandbox.h"
#include "cryo/util.h"
#include "cryo/verify.h"

#define MERGED "fs/rootfs-merged.tar"
#define DIFF "fs/rootfs-diff.tar"
#define LOWERS_MAX 128

struct options {
	const char *pub, *sig, *archive, *trace, *scratch, *as_captured;
	const char *lowers[LOWERS_MAX];
	int nlowers;
	char **command;
	bool no_verify, keep, json;
	long timeout; /* -1: the default */
	long memory, pids, cpu, max_bytes, max_entries, trace_max;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-replay -p KEY.pub ARCHIVE [OPTIONS] [-- COMMAND [ARG...]]\n\n"
		"Open a captured container: verify the archive, rebuild the container's root\n"
		"as it was at capture (read-only, under a throwaway writable layer), and run\n"
		"a shell (or COMMAND, or the captured process's command with --as-captured)\n"
		"in a sandbox: new user, mount, pid, ipc, uts, cgroup and network namespaces\n"
		"(loopback only), no capabilities, no_new_privs, a seccomp filter that refuses\n"
		"and records mount, ptrace, bpf, module, key and namespace calls, rlimits, a\n"
		"cgroup (as root) and a time limit.\n\n"
		"Options:\n"
		"  -p, --public-key FILE  the minisign public key to trust\n"
		"  -x, --signature FILE   the detached signature (default: ARCHIVE.minisig)\n"
		"      --no-verify        do not check the signature (members are still checked\n"
		"                         against the archive's own manifest); said loudly\n"
		"  -l, --lower DIR|TAR    an image layer, bottom first (repeatable): rebuild from\n"
		"                         fs/rootfs-diff.tar on these instead of the merged view\n"
		"  -a, --as-captured PID  run captured process PID's command line, environment,\n"
		"                         working directory and user (host or container pid)\n"
		"  -t, --trace FILE       record opens, execs, connects, binds, sends, sockets,\n"
		"                         unlinks, renames, chmods and kills as JSON lines;\n"
		"                         connects and sends to anything but loopback refused\n"
		"      --trace-max SIZE   stop writing the trace after this much (default 256M)\n"
		"  -T, --timeout SECONDS  kill everything after this long (default: none for the\n"
		"                         interactive shell, 300 for a command; 0: none)\n"
		"      --memory SIZE      memory limit (default 1G)\n"
		"      --pids N           process limit (default 512)\n"
		"      --cpu PERCENT      CPU limit, of one CPU (default 100)\n"
		"      --max-bytes SIZE   refuse to extract more file data than this (default 16G)\n"
		"      --max-entries N    refuse a root of more entries than this (default 1000000)\n"
		"      --scratch DIR      work in DIR (new; default: a new directory in $TMPDIR\n"
		"                         or /var/tmp)\n"
		"      --keep             keep the scratch directory (the rebuilt root in root/,\n"
		"                         what the replay wrote in upper/)\n"
		"  -j, --json             a summary as JSON, the last line on stdout\n"
		"  -q, -v, -h, -V         quiet, verbose, help, version\n\n"
		"Exit status: the command's (128+N when killed by signal N; 124 timed out);\n"
		"else 1 the archive does not verify; 3 not found; 64 usage; 65 the archive's\n"
		"content refused (a bound passed); 69 no user namespaces here; 71 the\n"
		"sandbox could not be made (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "public-key", required_argument, NULL, 'p' }, { "signature", required_argument, NULL, 'x' },
		{ "no-verify", no_argument, NULL, 'N' },	{ "lower", required_argument, NULL, 'l' },
		{ "as-captured", required_argument, NULL, 'a' }, { "trace", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },	{ "memory", required_argument, NULL, 'M' },
		{ "pids", required_argument, NULL, 'P' },	{ "cpu", required_argument, NULL, 'C' },
		{ "max-bytes", required_argument, NULL, 'B' },	{ "max-entries", required_argument, NULL, 'E' },
		{ "scratch", required_argument, NULL, 'S' },	{ "keep", no_argument, NULL, 'K' },
		{ "trace-max", required_argument, NULL, 'R' },
		CRYO_COMMON_LONGOPTS,				{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	long v;
	while ((c = getopt_long(argc, argv, "p:x:l:a:t:T:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pub = optarg; break;
		case 'x': o->sig = optarg; break;
		case 'N': o->no_verify = true; break;
		case 'l':
			if (o->nlowers >= LOWERS_MAX)
				return cryo_usage_error("at most %d --lower", LOWERS_MAX);
			o->lowers[o->nlowers++] = optarg;
			break;
		case 'a':
			if (cryo_parse_long(optarg, 1, 1 << 22, &v) < 0)
				return cryo_usage_error("--as-captured: a pid (host or container): %s", optarg);
			o->as_captured = optarg;
			break;
		case 't': o->trace = optarg; break;
		case 'T':
			if (cryo_parse_long(optarg, 0, 86400 * 30, &o->timeout) < 0)
				return cryo_usage_error("--timeout: seconds, 0 to 2592000: %s", optarg);
			break;
		case 'M':
			if (cryo_parse_size(optarg, &o->memory) < 0 || o->memory < (16l << 20))
				return cryo_usage_error("--memory: a size of at least 16M: %s", optarg);
			break;
		case 'P':
			if (cryo_parse_long(optarg, 8, 1 << 22, &o->pids) < 0)
				return cryo_usage_error("--pids: 8 to 4194304: %s", optarg);
			break;
		case 'C':
			if (cryo_parse_long(optarg, 1, 100 * 1024, &v) < 0)
				return cryo_usage_error("--cpu: a percentage of one CPU, 1 or more: %s", optarg);
			o->cpu = v;
			break;
		case 'B':
			if (cryo_parse_size(optarg, &o->max_bytes) < 0)
				return cryo_usage_error("--max-bytes: a size: %s", optarg);
			break;
		case 'E':
			if (cryo_parse_long(optarg, 1, 100000000, &o->max_entries) < 0)
				return cryo_usage_error("--max-entries: 1 to 100000000: %s", optarg);
			break;
		case 'R':
			if (cryo_parse_size(optarg, &o->trace_max) < 0)
				return cryo_usage_error("--trace-max: a size: %s", optarg);
			break;
		case 'S': o->scratch = optarg; break;
		case 'K': o->keep = true; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (optind >= argc)
		return cryo_usage_error("no archive");
	o->archive = argv[optind++];
	if (optind < argc)
		o->command = argv + optind;
	if (!o->pub && !o->no_verify)
		return cryo_usage_error("no public key (-p KEY.pub): or --no-verify, to replay what nothing vouches for");
	if (o->pub && o->no_verify)
		return cryo_usage_error("-p and --no-verify exclude each other");
	if (o->as_captured && o->command)
		return cryo_usage_error("--as-captured runs the captured command: no COMMAND");
	return -1;
}

/* --- what is extracted ---------------------------------------------------- */

struct wanted {
	const struct options *o;
	uint64_t too_big; /* the size of the root's tar, when over --max-bytes */
};

/* The root's tar (not extracted when it is larger than --max-bytes allows,
 * with room for tar's headers), and the captured processes' records (the
 * manifest, its signature and SHA256SUMS come with any extraction). */
static bool wanted(const char *member, uint64_t size, void *arg)
{
	struct wanted *w = arg;
	const struct options *o = w->o;
	if (o->nlowers ? !strcmp(member, DIFF) : !strcmp(member, MERGED)) {
		uint64_t room = (uint64_t)o->max_bytes + (uint64_t)o->max_bytes / 4 + (64u << 20);
		if (size > room)
			w->too_big = size;
		return size <= room;
	}
	/* with --as-captured, the copies of executables too: a payload that
	 * deleted itself runs again from its copy */
	return o->as_captured && cryo_has_prefix(member, "proc/") &&
	       (cryo_has_suffix(member, "/process.json") ||
		(cryo_has_prefix(member, "proc/files/") && size <= (uint64_t)o->max_bytes));
}

/* --- where a replay works --------------------------------------------------------- */

struct replay {
	char scratch[PATH_MAX], evdir[PATH_MAX], rootdir[PATH_MAX];
	bool made_scratch;
	cJSON *summary;
};

/* --- the captured process --------------------------------------------------- */

struct captured {
	cJSON *json;
	char **argv, **envp;
	int argc;
	char cwd[PATH_MAX];
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	size_t ngroups;
};

/* The strings of a JSON array (what is not a string is left out), NULL
 * terminated; *count of them. */
static char **strings_of(const cJSON *arr, int *count)
{
	int n = cJSON_GetArraySize(arr);
	char **v = calloc((size_t)n + 1, sizeof(*v));
	int i = 0;
	const cJSON *x;
	if (!v)
		return NULL;
	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x))
			v[i++] = x->valuestring;
	if (count)
		*count = i;
	return v;
}

/* The host id seen in a container's user namespace map, as inside. */
static long inside_id(const cJSON *map, long host)
{
	const cJSON *line;
	if (!cJSON_GetArraySize(map))
		return host;
	cJSON_ArrayForEach(line, map) {
		double in = cJSON_GetArrayItem(line, 0) ? cJSON_GetArrayItem(line, 0)->valuedouble : -1;
		double out = cJSON_GetArrayItem(line, 1) ? cJSON_GetArrayItem(line, 1)->valuedouble : -1;
		double cnt = cJSON_GetArrayItem(line, 2) ? cJSON_GetArrayItem(line, 2)->valuedouble : 0;
		if (host >= out && host < out + cnt)
			return (long)(in + (host - out));
	}
	return 65534;
}

static int load_captured(const char *evdir, const char *pidtext, struct captured *cap, struct cryo_error *err)
{
	long want;
	if (cryo_parse_long(pidtext, 1, 1 << 22, &want) < 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "--as-captured: a pid: %s", pidtext);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/proc", evdir);
	cleanup_closedir DIR *d = opendir(path);
	if (!d)
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "--as-captured %ld: the archive holds no processes", want);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (cryo_is_dot(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/proc/%s/process.json", evdir, de->d_name);
		cleanup_free char *text = NULL;
		size_t len;
		struct cryo_error e = { 0 };
		if (cryo_read_file_at(AT_FDCWD, path, 64 << 20, true, &text, &len, &e) < 0)
			continue;
		cJSON *j = cryo_json_parse(text, len);
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");
		const cJSON *inner = cJSON_GetObjectItemCaseSensitive(j, "pid_in_container");
		if ((cJSON_IsNumber(pid) && pid->valuedouble == want) || (cJSON_IsNumber(inner) && inner->valuedouble == want)) {
			cap->json = j;
			break;
		}
		cJSON_Delete(j);
	}
	if (!cap->json)
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
				      "--as-captured %ld: no captured process has that pid (host or container)", want);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(cap->json, "cmdline");
	if (!cJSON_GetArraySize(cmd) || !cJSON_IsString(cJSON_GetArrayItem(cmd, 0)) ||
	    !*cJSON_GetArrayItem(cmd, 0)->valuestring)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "--as-captured %ld: no command line was captured (a kernel thread, or a zombie)", want);
	cap->argv = strings_of(cmd, &cap->argc);
	cap->envp = strings_of(cJSON_GetObjectItemCaseSensitive(cap->json, "environ"), NULL);
	if (!cap->argv || !cap->envp)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "out of memory");
	/* the working directory as the host read it: below the process's root */
	const char *cwd = cryo_json_get_str(cap->json, "cwd"), *root = cryo_json_get_str(cap->json, "root");
	snprintf(cap->cwd, sizeof(cap->cwd), "/");
	if (cwd) {
		size_t rl = root && strcmp(root, "/") ? strlen(root) : 0;
		if (rl && !strncmp(cwd, root, rl) && (cwd[rl] == '/' || !cwd[rl]))
			snprintf(cap->cwd, sizeof(cap->cwd), "%s", cwd[rl] ? cwd + rl : "/");
		else if (!rl)
			snprintf(cap->cwd, sizeof(cap->cwd), "%s", cwd);
	}
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(cap->json, "user_namespace");
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cap->json, "uid"), "effective");
	const cJSON *gid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cap->json, "gid"), "effective");
	long u = inside_id(cJSON_GetObjectItemCaseSensitive(ns, "uid_map"), cJSON_IsNumber(uid) ? (long)uid->valuedouble : 0);
	long g = inside_id(cJSON_GetObjectItemCaseSensitive(ns, "gid_map"), cJSON_IsNumber(gid) ? (long)gid->valuedouble : 0);
	cap->uid = u >= 0 && u <= CRYO_LAYER_ID_MAX ? (uid_t)u : 65534;
	cap->gid = g >= 0 && g <= CRYO_LAYER_ID_MAX ? (gid_t)g : 65534;
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cap->json, "groups")) {
		long gg = inside_id(cJSON_GetObjectItemCaseSensitive(ns, "gid_map"), (long)x->valuedouble);
		if (cJSON_IsNumber(x) && cap->ngroups < 64 && gg >= 0 && gg <= CRYO_LAYER_ID_MAX)
			cap->groups[cap->ngroups++] = (gid_t)gg;
	}
	return 0;
}

/* A captured process whose executable was deleted (a payload that removed
 * itself) runs from the copy cryo-proc kept (proc/files/SHA256), put back
 * at its path in the throwaway layer, not in the rebuilt root. */
static int restore_exe(const struct replay *rp, const struct cryo_layer_opts *lo, const struct captured *cap,
		       cJSON *summary, struct cryo_error *err)
{
	const cJSON *exe = cJSON_GetObjectItemCaseSensitive(cap->json, "exe");
	const char *path = cryo_json_get_str(exe, "path"), *sha = cryo_json_get_str(exe, "sha256");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(exe, "deleted")) || !path || path[0] != '/')
		return 0;
	char rel[PATH_MAX], safe[PATH_MAX];
	snprintf(rel, sizeof(rel), "%s", path + 1);
	if (cryo_has_suffix(rel, " (deleted)"))
		rel[strlen(rel) - strlen(" (deleted)")] = '\0';
	char shown[PATH_MAX];
	snprintf(shown, sizeof(shown), "/%s", rel);
	cryo_text_safe(shown, safe, sizeof(safe));
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s/proc/files/%s", rp->evdir, sha && strlen(sha) == 64 && cryo_is_hex(sha, 64) ? sha : "-");
	cleanup_close int src = open(copy, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0) {
		cryo_warn("--as-captured: its executable %s was deleted and no copy was captured: the command may not run", safe);
		return 0;
	}
	char upper[PATH_MAX];
	snprintf(upper, sizeof(upper), "%s/upper", rp->scratch);
	if (mkdir(upper, 0755) < 0 || (lo->chown && chown(upper, lo->id_base, lo->id_base) < 0))
		return cryo_error_sys(err, "make %s", upper);
	cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0)
		return cryo_error_sys(err, "open %s", upper);
	struct cryo_layer L;
	cryo_layer_init(&L, ufd, lo);
	int rc = cryo_layer_put_file(&L, rel, src, 0755, err);
	cryo_layer_free(&L);
	if (rc < 0)
		return -1;
	cryo_info("restored %s (deleted before the capture) from proc/files/%.16s... into the throwaway layer", safe, sha);
	cJSON_AddItemToObject(summary, "restored_executable", cryo_json_string(path));
	return 0;
}

static void captured_free(struct captured *cap)
{
	free(cap->argv);
	free(cap->envp);
	cJSON_Delete(cap->json);
}

/* --- the root ----------------------------------------------------------------- */

static int apply_member(struct cryo_layer *L, const char *evdir, const char *member, struct cryo_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", evdir, member);
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "%s: not in the archive%s", member,
				      !strcmp(member, MERGED) ? " (captured without --merged): give the image's layers with --lower"
							      : " (no filesystem was captured)");
	if (cryo_layer_apply_tar(L, fd, member, err) < 0)
		return -1;
	unlink(path); /* applied: its room is given back */
	return 0;
}

static int build_root(const struct options *o, const char *evdir, struct cryo_layer *L, struct cryo_error *err)
{
	for (int i = 0; i < o->nlowers; i++) {
		struct stat st;
		char real[PATH_MAX];
		/* the analyst's own path: a symlink to the layer is followed here,
		 * and nothing is followed inside it */
		if (!realpath(o->lowers[i], real) || stat(real, &st) < 0)
			return cryo_error_sys(err, "--lower %s", o->lowers[i]);
		L->o.whiteouts = true;
		L->o.compressed_ok = true;
		if (S_ISDIR(st.st_mode)) {
			if (cryo_layer_apply_dir(L, real, err) < 0)
				return -1;
		} else {
			cleanup_close int fd = open(real, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || !S_ISREG(st.st_mode))
				return cryo_error_set(err, CRYO_EXIT_NOTFOUND, errno, "--lower %s: not a directory or a tar file",
						      o->lowers[i]);
			if (cryo_layer_apply_tar(L, fd, o->lowers[i], err) < 0)
				return -1;
		}
	}
	L->o.compressed_ok = false;
	L->o.whiteouts = o->nlowers > 0;
	if (apply_member(L, evdir, o->nlowers ? DIFF : MERGED, err) < 0)
		return -1;
	return cryo_layer_finish(L, err);
}

static int make_scratch(const struct options *o, struct replay *rp, bool privileged, struct cryo_error *err)
{
	if (o->scratch) {
		if (snprintf(rp->scratch, sizeof(rp->scratch), "%s", o->scratch) >= (int)sizeof(rp->scratch) - 64)
			return cryo_error_set(err, CRYO_EXIT_USAGE, ENAMETOOLONG, "--scratch: path too long");
		if (mkdir(rp->scratch, 0700) < 0)
			return errno == EEXIST ? cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST, "--scratch %s exists: it must be new", rp->scratch)
					       : cryo_error_sys(err, "--scratch %s (a new directory)", rp->scratch);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(rp->scratch, sizeof(rp->scratch), "%s/cryo-replay.XXXXXX", tmp && *tmp == '/' ? tmp : "/var/tmp");
		if (!mkdtemp(rp->scratch))
			return cryo_error_sys(err, "make a scratch directory in %s", tmp && *tmp == '/' ? tmp : "/var/tmp");
	}
	rp->made_scratch = true;
	/* overlayfs options are split at ',' and ':' */
	if (strpbrk(rp->scratch, ",:\\\n"))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "%s: a scratch path may not hold ',', ':' or '\\'", rp->scratch);
	char real[PATH_MAX];
	if (!realpath(rp->scratch, real))
		return cryo_error_sys(err, "%s", rp->scratch);
	snprintf(rp->scratch, sizeof(rp->scratch), "%s", real);
	if (privileged && chown(rp->scratch, CRYO_SANDBOX_ID_BASE, CRYO_SANDBOX_ID_BASE) < 0)
		return cryo_error_sys(err, "chown %s", rp->scratch);
	snprintf(rp->evdir, sizeof(rp->evdir), "%s/evidence", rp->scratch);
	snprintf(rp->rootdir, sizeof(rp->rootdir), "%s/root", rp->scratch);
	if (mkdir(rp->rootdir, 0755) < 0)
		return cryo_error_sys(err, "make %s", rp->rootdir);
	if (privileged && chown(rp->rootdir, CRYO_SANDBOX_ID_BASE, CRYO_SANDBOX_ID_BASE) < 0)
		return cryo_error_sys(err, "chown %s", rp->rootdir);
	return 0;
}

static int verify_and_extract(const struct options *o, struct replay *rp, struct cryo_error *err)
{
	struct cryo_pubkey pk;
	if (o->pub && cryo_pubkey_load(o->pub, &pk, err) < 0)
		return -1;
	struct wanted w = { .o = o };
	struct cryo_verify_request req = {
		.pk = o->pub ? &pk : NULL, .path = o->archive, .sig = o->sig, .extract = rp->evdir,
		.unsigned_ok = o->no_verify, .extract_member = wanted, .extract_arg = &w,
	};
	cJSON *res = NULL;
	int rc = cryo_verify_archive(&req, &res, err);
	cJSON_AddItemToObject(rp->summary, "verify", res ? res : cJSON_CreateNull());
	if (rc < 0)
		return -1;
	if (w.too_big)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, EFBIG,
				      "%s: the root's tar is %llu bytes: more than --max-bytes (%ld) allows: refused",
				      o->archive, (unsigned long long)w.too_big, o->max_bytes);
	char cid[256], kid[64];
	cryo_text_safe(cryo_json_get_str(res, "case_id") ? cryo_json_get_str(res, "case_id") : "?", cid, sizeof(cid));
	snprintf(kid, sizeof(kid), "%s",
		 cryo_json_get_str(cJSON_GetObjectItemCaseSensitive(res, "signature"), "key_id")
			 ? cryo_json_get_str(cJSON_GetObjectItemCaseSensitive(res, "signature"), "key_id")
			 : "?");
	if (o->no_verify)
		fprintf(stderr, "%s: *** NOT VERIFIED: --no-verify: nothing proves who made %s or that it is what "
				"was captured; its members only match its own manifest ***\n",
			cryo_progname, o->archive);
	else
		cryo_info("verified: case %s, signed by key %s", cid, kid);
	return 0;
}

static void summary_layer(cJSON *s, const struct cryo_layer *L, const char *source)
{
	cJSON *r = cJSON_AddObjectToObject(s, "root");
	cryo_json_str(r, "source", source);
	cryo_json_num(r, "entries", (double)L->s.entries);
	cryo_json_num(r, "files", (double)L->s.files);
	cryo_json_num(r, "directories", (double)L->s.dirs);
	cryo_json_num(r, "symlinks", (double)L->s.symlinks);
	cryo_json_num(r, "hardlinks", (double)L->s.hardlinks);
	cryo_json_num(r, "bytes", (double)L->s.bytes);
	cryo_json_num(r, "whiteouts", (double)L->s.whiteouts);
	cryo_json_num(r, "refused", (double)L->s.refused);
	cryo_json_num(r, "not_made", (double)L->s.not_made);
	cryo_json_num(r, "setid_cleared", (double)L->s.setid_cleared);
	cJSON_AddItemToObject(r, "notes", cJSON_Duplicate(L->notes, true));
}

static const char *default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"PS1=[cryo-replay] \\w # ",
	NULL, /* TERM */
	NULL,
};

static int replay(const struct options *o, struct replay *rp, int *exit_code, struct cryo_error *err)
{
	bool privileged = geteuid() == 0;
	cleanup_fclose FILE *trace = NULL;
	if (o->trace) {
		/* emptied only when the sandbox starts */
		int tfd = open(o->trace, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (tfd < 0 || !(trace = fdopen(tfd, "w"))) {
			if (tfd >= 0)
				close(tfd);
			return cryo_error_sys(err, "--trace %s", o->trace);
		}
	}
	if (make_scratch(o, rp, privileged, err) < 0)
		return -1;
	cryo_json_str(rp->summary, "scratch", rp->scratch);
	if (verify_and_extract(o, rp, err) < 0)
		return -1;
	struct cryo_layer_opts lo = {
		.max_entries = (uint64_t)o->max_entries, .max_bytes = (uint64_t)o->max_bytes,
		.chown = privileged, .id_base = CRYO_SANDBOX_ID_BASE,
	};
	cleanup_close int rootfd = open(rp->rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cryo_error_sys(err, "open %s", rp->rootdir);
	struct cryo_layer L;
	cryo_layer_init(&L, rootfd, &lo);
	int rc = build_root(o, rp->evdir, &L, err);
	const char *source = o->nlowers ? DIFF " on --lower layers" : MERGED;
	summary_layer(rp->summary, &L, source);
	if (rc == 0) {
		cryo_info("root rebuilt from %s: %llu entries, %.1f MiB; %llu refused, %llu device or special files not made, "
			  "%llu setuid/setgid bits cleared",
			  source, (unsigned long long)L.s.entries, (double)L.s.bytes / 1048576.0,
			  (unsigned long long)L.s.refused, (unsigned long long)L.s.not_made,
			  (unsigned long long)L.s.setid_cleared);
		const cJSON *n;
		int shown = 0;
		cJSON_ArrayForEach(n, L.notes) {
			char p[512];
			if (shown++ < 10)
				cryo_info("  %s: %s", cryo_text_safe(cryo_json_get_str(n, "path"), p, sizeof(p)),
					  cryo_json_get_str(n, "what"));
		}
	}
	cryo_layer_free(&L);
	if (rc < 0)
		return -1;

	struct captured cap = { 0 };
	if (o->as_captured &&
	    (load_captured(rp->evdir, o->as_captured, &cap, err) < 0 || restore_exe(rp, &lo, &cap, rp->summary, err) < 0)) {
		captured_free(&cap);
		return -1;
	}
	char term[256] = "";
	const char *t = getenv("TERM");
	if (t && strlen(t) < 200 && !strchr(t, '\n'))
		snprintf(term, sizeof(term), "TERM=%s", t);
	default_env[3] = term[0] ? term : NULL;
	static char *shell[] = { "/bin/sh", NULL };
	bool interactive = !o->command && !o->as_captured;
	struct cryo_sandbox_opts so = {
		.scratch = rp->scratch, .rootfs = rp->rootdir,
		.argv = cap.argv ? cap.argv : o->command ? o->command : shell,
		.envp = cap.envp ? cap.envp : (char *const *)default_env,
		.cwd = cap.argv ? cap.cwd : "/", .hostname = "cryo-replay", .privileged = privileged,
		.memory = (uint64_t)o->memory, .pids = (uint64_t)o->pids, .cpu_percent = (uint64_t)o->cpu,
		.timeout_s = (unsigned)(o->timeout >= 0 ? o->timeout : interactive ? 0 : 300),
	};
	if (cap.argv && privileged) {
		so.uid = cap.uid;
		so.gid = cap.gid;
		so.groups = cap.groups;
		so.ngroups = cap.ngroups;
	} else if (cap.argv && (cap.uid || cap.gid)) {
		cryo_warn("--as-captured: the process ran as uid %u gid %u; without root the sandbox has one id: as 0",
			  (unsigned)cap.uid, (unsigned)cap.gid);
	}
	so.trace = trace;
	so.trace_max = (uint64_t)o->trace_max;
	if (trace && ftruncate(fileno(trace), 0) < 0) {
		captured_free(&cap);
		return cryo_error_sys(err, "--trace %s", o->trace);
	}
	if (cap.argv) {
		/* the process chose all of it: made safe for the terminal */
		char cmd[512], cwd[512];
		cleanup_free char *joined = cryo_join_argv(cap.argc, cap.argv);
		cryo_info("as captured: %s (uid %u, in %s)", cryo_text_safe(joined ? joined : "?", cmd, sizeof(cmd)),
			  (unsigned)so.uid, cryo_text_safe(cap.cwd, cwd, sizeof(cwd)));
	}
	char limit[64] = "no time limit";
	if (so.timeout_s)
		snprintf(limit, sizeof(limit), "killed after %u s", so.timeout_s);
	cryo_info("sandbox: no network (loopback only), no capabilities, seccomp; memory %ld MiB, %ld processes, "
		  "%ld%% CPU; %s%s",
		  o->memory >> 20, o->pids, o->cpu, limit, o->trace ? "; trace in --trace's file" : "");
	struct cryo_sandbox_result r;
	rc = cryo_sandbox_run(&so, &r, err);
	if (trace && fflush(trace) != 0 && rc == 0)
		rc = cryo_error_sys(err, "--trace %s", o->trace);
	cJSON *sb = cJSON_AddObjectToObject(rp->summary, "sandbox");
	cryo_json_bool(sb, "overlay", r.overlay);
	cryo_json_bool(sb, "cgroup", r.cgroup);
	cryo_json_str(sb, "limits_note", r.limits_note);
	cryo_json_bool(sb, "refusals_recorded", r.notify);
	cryo_json_num(sb, "timeout_s", so.timeout_s);
	cryo_json_bool(sb, "timed_out", r.timed_out);
	cryo_json_num(sb, "refused", (double)r.refused);
	cJSON_AddItemToObject(sb, "refused_calls", r.refused_calls ? cJSON_Duplicate(r.refused_calls, true) : cJSON_CreateObject());
	cryo_json_num(sb, "traced", (double)r.traced);
	cryo_json_bool(sb, "trace_truncated", r.trace_truncated);
	cryo_json_str(sb, "trace", o->trace);
	if (rc == 0) {
		if (!r.overlay)
			cryo_warn("overlayfs would not mount in the sandbox's user namespace: the replay wrote into its copy "
				  "of the root (%s)", rp->rootdir);
		if (r.limits_note[0])
			cryo_info("%s", r.limits_note);
		if (r.refused) {
			char line[1024] = "";
			size_t off = 0;
			const cJSON *x;
			cJSON_ArrayForEach(x, r.refused_calls) {
				int n = snprintf(line + off, sizeof(line) - off, "%s%s x%d", off ? ", " : "", x->string,
						 (int)x->valuedouble);
				if (n < 0 || (size_t)n >= sizeof(line) - off)
					break; /* the summary has them all */
				off += (size_t)n;
			}
			cryo_info("refused in the sandbox: %s", line);
		}
		*exit_code = r.timed_out ? 124 : r.exit;
		if (r.trace_truncated)
			cryo_warn("the trace reached --trace-max (%ld bytes): later calls are not in it", o->trace_max);
		if (r.timed_out)
			cryo_warn("timed out after %u s: everything in the sandbox was killed", so.timeout_s);
		cryo_json_num(sb, "exit", r.exit);
	}
	cryo_sandbox_result_free(&r);
	captured_free(&cap);
	return rc;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	cryo_catch_interrupts();
	struct options o = { .timeout = -1, .memory = 1l << 30, .pids = 512, .cpu = 100, .max_bytes = 16l << 30,
			     .max_entries = 1000000, .trace_max = 256l << 20 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	struct replay rp = { .summary = cJSON_CreateObject() };
	cryo_json_str(rp.summary, "archive", o.archive);
	cryo_json_bool(rp.summary, "verified", !o.no_verify);
	struct cryo_error err = { 0 };
	int code = 0;
	if (replay(&o, &rp, &code, &err) < 0) {
		code = cryo_report_error(&err);
		cryo_json_str(rp.summary, "error", err.msg);
	}
	cryo_json_num(rp.summary, "exit", code);
	if (rp.made_scratch && !o.keep && cryo_remove_tree_at(AT_FDCWD, rp.scratch) < 0) {
		cryo_warn("could not remove the scratch directory %s: %s", rp.scratch, strerror(errno));
		if (!code)
			code = CRYO_EXIT_IOERR;
	}
	else if (rp.made_scratch)
		cryo_info("kept: %s (root/: the rebuilt root; upper/: what the replay wrote)", rp.scratch);
	cryo_json_str(rp.summary, "scratch", o.keep ? rp.scratch : NULL);
	if (o.json) {
		char *text = cJSON_PrintUnformatted(rp.summary);
		if (text)
			printf("%s\n", text);
		free(text);
	}
	cJSON_Delete(rp.summary);
	return cryo_close_stdout(code);
}
