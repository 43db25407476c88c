/* cryo-verify: check sealed evidence offline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/output.h"
#include "cryo/util.h"
#include "cryo/verify.h"

struct options {
	const char *pub, *path, *sig, *extract, *file;
	bool unsigned_ok, json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-verify -p KEY.pub ARCHIVE [--extract DIR]\n"
		"       cryo-verify -p KEY.pub DIR\n"
		"       cryo-verify -p KEY.pub -m FILE [-x FILE.minisig]\n\n"
		"Check sealed evidence, offline: the archive's signature (ARCHIVE.minisig,\n"
		"with its trusted comment), the manifest's own signature, every member's\n"
		"SHA-256 while streaming (no extraction needed), members missing, extra or\n"
		"out of order, and the chain of custody up to its seal.  A directory made\n"
		"by extracting an archive is checked through its MANIFEST.json.minisig.\n"
		"-m checks any file against a minisign signature.\n\n"
		"Options:\n"
		"  -p, --public-key FILE  the minisign public key to trust\n"
		"  -x, --signature FILE   the detached signature (default: ARCHIVE.minisig)\n"
		"  -m, --file FILE        verify FILE's minisign signature, nothing else\n"
		"  -e, --extract DIR      also extract, into DIR (new), only if all of it\n"
		"                         verifies; nothing is left behind otherwise\n"
		"      --unsigned         check an archive sealed with --unsigned (integrity\n"
		"                         only: nothing proves who made it)\n"
		"  -j, --json             result as JSON\n"
		"  -q, -v, -h, -V         quiet, verbose, help, version\n\n"
		"Exit status: 0 everything holds; 1 it does not (tampered, truncated,\n"
		"wrong key, signature missing; the message names the first bad member and\n"
		"why); 3 key, archive or directory not found; 64 usage (or --extract into\n"
		"an existing path); 65 not a minisign public key; 70 internal; 71 system\n"
		"call failed; 74 I/O error (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "public-key", required_argument, NULL, 'p' }, { "signature", required_argument, NULL, 'x' },
		{ "file", required_argument, NULL, 'm' },       { "extract", required_argument, NULL, 'e' },
		{ "unsigned", no_argument, NULL, 'U' },         CRYO_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	while ((c = getopt_long(argc, argv, "p:x:m:e:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pub = optarg; break;
		case 'x': o->sig = optarg; break;
		case 'm': o->file = optarg; break;
		case 'e': o->extract = optarg; break;
		case 'U': o->unsigned_ok = true; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (o->file) {
		if (optind != argc)
			return cryo_usage_error("-m FILE takes no other operand");
		if (o->extract || o->unsigned_ok)
			return cryo_usage_error("-m verifies one signature: no --extract, no --unsigned");
		o->path = o->file;
	} else {
		if (optind + 1 != argc)
			return cryo_usage_error(optind >= argc ? "no archive or directory" : "one archive or directory at a time");
		o->path = argv[optind];
	}
	if (!o->pub && !o->unsigned_ok)
		return cryo_usage_error("no public key (-p KEY.pub)");
	if (o->pub && o->unsigned_ok)
		return cryo_usage_error("-p and --unsigned exclude each other");
	return -1;
}

static int do_verify(const struct options *o)
{
	struct cryo_error err = { 0 };
	struct cryo_pubkey pk;
	if (o->pub && cryo_pubkey_load(o->pub, &pk, &err) < 0)
		return cryo_report_error(&err);
	struct stat st;
	bool dir = !o->file && stat(o->path, &st) == 0 && S_ISDIR(st.st_mode);
	if (dir && (o->extract || o->sig))
		return cryo_usage_error("%s is a directory: no --extract, no -x", o->path);
	struct cryo_verify_request req = {
		.pk = o->pub ? &pk : NULL, .path = o->path, .sig = o->sig, .extract = o->extract,
		.unsigned_ok = o->unsigned_ok,
	};
	cleanup_cjson cJSON *result = NULL;
	int r = o->file ? cryo_verify_file(&req, &result, &err)
		: dir	? cryo_verify_dir(&req, &result, &err)
			: cryo_verify_archive(&req, &result, &err);
	int rc = r < 0 ? cryo_report_error(&err) : 0;
	if (o->json) {
		cryo_json_num(result, "exit", rc);
		if (rc)
			cryo_json_str(result, "error", err.msg);
		cryo_print_json(stdout, result);
		return rc;
	}
	const cJSON *x;
	int shown = 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(result, "bad"))
		if (shown++ > 0) /* the first is the error line already */
			cryo_warn("also bad: %s: %s", cryo_json_get_str(x, "member"), cryo_json_get_str(x, "why"));
	if (rc)
		return rc;
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(result, "signature");
	/* everything printed may come from the archive: sanitized; the
	 * trusted comment's tabs (minisign's own separator) shown as spaces */
	char tc[CRYO_TRUSTED_MAX + 64], cid[256], path[1024];
	snprintf(tc, sizeof(tc), "%s", cryo_json_get_str(sig, "trusted_comment") ? cryo_json_get_str(sig, "trusted_comment") : "");
	for (char *t = tc; *t; t++)
		if (*t == '\t')
			*t = ' ';
	cryo_text_sanitize(tc);
	cryo_text_safe(cryo_json_get_str(result, "case_id") ? cryo_json_get_str(result, "case_id") : "?", cid, sizeof(cid));
	cryo_text_safe(o->path, path, sizeof(path));
	if (o->file) {
		printf("OK: %s, signed by key %s\ntrusted comment: %s\n", path, cryo_json_get_str(sig, "key_id"), tc);
		return 0;
	}
	const cJSON *members = cJSON_GetObjectItemCaseSensitive(result, "members");
	const cJSON *entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(result, "custody"), "entries");
	printf("OK: %s: case %s, %d members, custody chain of %d entries sealed", path, cid,
	       members ? (int)members->valuedouble : 0,
	       entries ? (int)entries->valuedouble : 0);
	if (o->pub)
		printf(", signed by key %s\n",
		       cryo_json_get_str(dir ? cJSON_GetObjectItemCaseSensitive(result, "manifest_signature") : sig, "key_id"));
	else
		printf(", UNSIGNED (integrity only)\n");
	if (!dir && o->pub)
		printf("trusted comment: %s\n", tc);
	if (o->extract)
		printf("extracted to %s\n", o->extract);
	return 0;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	cryo_catch_interrupts(); /* so a partial extraction is removed */
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	return cryo_close_stdout(do_verify(&o));
}
