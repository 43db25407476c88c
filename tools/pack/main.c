/* cryo-pack: seal a case directory into one signed, compressed archive. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/output.h"
#include "cryo/pack.h"
#include "cryo/password.h"
#include "cryo/util.h"

struct options {
	const char *case_dir, *out, *sec;
	bool unsigned_ok, force, json;
	long level, threads;
	struct cryo_password_source pw;
	int argc;
	char **argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-pack -s KEY.sec [-o OUT.tar.zst] CASE_DIR\n"
		"       cryo-pack --unsigned [-o OUT.tar.zst] CASE_DIR\n\n"
		"Seal a case directory into one archive (pax tar, zstd) with a manifest of\n"
		"every member's SHA-256, signed with a minisign key, and a detached\n"
		"OUT.tar.zst.minisig that `minisign -V` and cryo-verify check.  Each\n"
		"artifact is checked against the hash the custody log recorded when it was\n"
		"captured; one that changed since is refused.  The custody log gets a\n"
		"\"seal\" entry, whose hash is in the manifest.\n\n"
		"Options:\n"
		"  -s, --secret-key FILE  sign with this minisign secret key\n"
		"      --unsigned         no signature (nothing then proves who made the\n"
		"                         archive, or that it was not replaced)\n"
		"  -o, --output FILE      the archive (default: CASE_DIR.tar.zst beside the\n"
		"                         case); never replaced, never inside the case\n"
		"  -f, --force            seal artifacts changed since capture, recording\n"
		"                         both hashes, instead of refusing\n"
		"  -l, --level N          zstd level, 1-19 (default 3)\n"
		"  -T, --threads N        compression threads (default: one per core)\n"
		"      --password-fd N    read the key's password from descriptor N\n"
		"      --password-env V   read it from environment variable V\n"
		"  -j, --json             result as JSON (path, size, SHA-256, BLAKE2b)\n"
		"  -q, -v, -h, -V         quiet, verbose, help, version\n\n"
		"Exit status: 0 sealed; 1 evidence changed after capture, a broken custody\n"
		"chain, or a wrong password; 3 not a case directory, or a key or the\n"
		"output directory missing; 5 another tool held the case for a minute;\n"
		"64 usage (or the output exists); 65 not a minisign secret key; 70\n"
		"internal; 71 system call failed; 74 write failed (no archive left\n"
		"behind); 75 the custody log or an artifact changed while it was read\n"
		"(run again); 77 the case belongs to another user (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "secret-key", required_argument, NULL, 's' }, { "unsigned", no_argument, NULL, 'U' },
		{ "output", required_argument, NULL, 'o' },     { "force", no_argument, NULL, 'f' },
		{ "level", required_argument, NULL, 'l' },      { "threads", required_argument, NULL, 'T' },
		CRYO_PASSWORD_LONGOPTS,
		CRYO_COMMON_LONGOPTS,                           { NULL, 0, NULL, 0 },
	};
	o->pw.fd = -1;
	o->level = 3;
	o->argc = argc;
	o->argv = argv;
	int c, rc;
	while ((c = getopt_long(argc, argv, "s:o:fl:T:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->sec = optarg; break;
		case 'U': o->unsigned_ok = true; break;
		case 'o': o->out = optarg; break;
		case 'f': o->force = true; break;
		case 'l':
			if (cryo_parse_long(optarg, 1, 19, &o->level) < 0)
				return cryo_usage_error("--level wants 1 to 19, not '%s'", optarg);
			break;
		case 'T':
			if (cryo_parse_long(optarg, 1, 256, &o->threads) < 0)
				return cryo_usage_error("--threads wants 1 to 256, not '%s'", optarg);
			break;
		default:
			if ((rc = cryo_password_option(c, optarg, &o->pw)) >= 0 && rc != 0)
				return rc;
			if (rc < 0 && (rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (optind + 1 != argc)
		return cryo_usage_error(optind >= argc ? "no case directory" : "one case directory at a time");
	o->case_dir = argv[optind];
	if (!o->sec && !o->unsigned_ok)
		return cryo_usage_error("no key: -s KEY.sec signs; --unsigned seals without a signature, and then "
					"nothing proves who made the archive or that it was not replaced");
	if (o->sec && o->unsigned_ok)
		return cryo_usage_error("-s and --unsigned exclude each other");
	return -1;
}

struct bar {
	uint64_t t0, last;
};

/* bytes, rate, ETA on one line of the terminal, ten times a second */
static void show_progress(uint64_t done, uint64_t total, void *arg)
{
	struct bar *b = arg;
	uint64_t now = cryo_now_monotonic_ns();
	if (done < total && now - b->last < 100000000ull)
		return;
	b->last = now;
	double secs = (double)(now - b->t0) / 1e9, rate = secs > 0 ? (double)done / secs : 0;
	double eta = rate > 0 ? (double)(total - done) / rate : 0;
	fprintf(stderr, "\r%s: %5.1f%%  %.1f of %.1f MiB  %.1f MiB/s  ETA %.0fs  ", cryo_progname,
		total ? 100.0 * (double)done / (double)total : 100.0, (double)done / 1048576.0,
		(double)total / 1048576.0, rate / 1048576.0, eta);
	if (done >= total)
		fputc('\n', stderr);
}

static int do_pack(const struct options *o)
{
	struct cryo_error err = { 0 };
	char out[PATH_MAX];
	if (o->out) {
		snprintf(out, sizeof(out), "%s", o->out);
	} else {
		size_t n = strlen(o->case_dir);
		while (n > 1 && o->case_dir[n - 1] == '/')
			n--;
		if (snprintf(out, sizeof(out), "%.*s.tar.zst", (int)n, o->case_dir) >= (int)sizeof(out))
			return cryo_usage_error("case directory path too long");
	}
	struct cryo_seckey *sk = NULL;
	if (o->sec && cryo_seckey_load(o->sec, &o->pw, &sk, &err) < 0)
		return cryo_report_error(&err);
	/* after the password prompt, which ^C must still be able to leave:
	 * from here an interrupt removes the temporaries and exits 75 */
	cryo_catch_interrupts();
	struct bar bar = { cryo_now_monotonic_ns(), 0 };
	bool tty = isatty(STDERR_FILENO) && cryo_verbosity >= 0 && !o->json;
	struct cryo_pack_request req = {
		.case_dir = o->case_dir, .out = out, .sk = sk, .force = o->force, .level = (int)o->level,
		.threads = (int)o->threads, .argc = o->argc, .argv = o->argv,
		.progress = tty ? show_progress : NULL, .progress_arg = &bar,
	};
	cleanup_cjson cJSON *result = NULL;
	int rc = 0;
	if (cryo_pack(&req, &result, &err) < 0)
		rc = cryo_report_error(&err);
	cryo_seckey_free(sk);
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(result, "skipped"))
		cryo_warn("not sealed: %s (%s)", cryo_json_get_str(x, "path"), cryo_json_get_str(x, "why"));
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(result, "unrecorded"))
		cryo_warn("%s is in no custody entry: sealed, marked unrecorded", x->valuestring);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(result, "changed_after_capture"))
		cryo_warn("%s changed after capture (custody step %g): sealed as it is now, both hashes recorded",
			  cryo_json_get_str(x, "path"), cJSON_GetObjectItemCaseSensitive(x, "custody_seq")->valuedouble);
	if (o->json) {
		cryo_json_num(result, "exit", rc);
		if (rc)
			cryo_json_str(result, "error", err.msg);
		cryo_print_json(stdout, result);
	} else if (rc == 0) {
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(result, "size");
		printf("%s\n", cryo_json_get_str(result, "archive"));
		cryo_info("sealed case %s: %g members, %.1f MiB, sha256 %s", cryo_json_get_str(result, "case_id"),
			  cJSON_GetObjectItemCaseSensitive(result, "members")->valuedouble,
			  size ? size->valuedouble / 1048576.0 : 0, cryo_json_get_str(result, "sha256"));
		if (!sk)
			cryo_warn("UNSIGNED: nothing proves who made this archive or that it was not replaced");
		else
			cryo_info("signed by key %s: %s", cryo_json_get_str(result, "key_id"),
				  cryo_json_get_str(result, "signature"));
	}
	return rc;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	return cryo_close_stdout(do_pack(&o));
}
