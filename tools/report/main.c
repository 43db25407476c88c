/* cryo-report: what happened, at a glance, from a sealed archive. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/minisign.h"
#include "cryo/output.h"
#include "cryo/report.h"
#include "cryo/util.h"

struct options {
	const char *pub, *archive, *html, *bodyfile, *iocs;
	bool no_verify, json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-report -p KEY.pub ARCHIVE [-o report.html] [--json]\n"
		"                   [--bodyfile FILE] [--iocs FILE.csv|FILE.json]\n"
		"       cryo-report --no-verify ARCHIVE ...\n\n"
		"Turn a sealed archive into one self-contained HTML page an analyst opens\n"
		"in any browser: the case, the container, the chain of custody, the\n"
		"process tree (suspicious processes in red), the filesystem changes over\n"
		"time, the network connections, the misconfigurations that made the\n"
		"attack possible with their evidence and fix, and the indicators.  The\n"
		"archive is verified in the same pass that reads it (as cryo-verify does);\n"
		"the page has no script and forbids any, and every string from the\n"
		"evidence is escaped.\n\n"
		"Options:\n"
		"  -p, --public-key FILE  the minisign public key to trust\n"
		"  -o, --output FILE      the page (default: ARCHIVE with .html for .tar.zst)\n"
		"      --bodyfile FILE    also write the filesystem body file (mactime)\n"
		"      --iocs FILE        also write the indicators, CSV (or JSON for *.json)\n"
		"      --no-verify        read an archive that does not verify (integrity\n"
		"                         only; the page says NOT VERIFIED in red)\n"
		"  -j, --json             the report as data on stdout (no page unless -o)\n"
		"  -q, -v, -h, -V         quiet, verbose, help, version\n\n"
		"Exit status: 0 done; 1 the archive does not verify, or is not one (no\n"
		"report without --no-verify); 3 not found; 64 usage (or an output that\n"
		"is not a regular file, or is the archive); 71 system call failed;\n"
		"74 write failed; 77 not permitted (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "public-key", required_argument, NULL, 'p' }, { "output", required_argument, NULL, 'o' },
		{ "bodyfile", required_argument, NULL, 'B' },   { "iocs", required_argument, NULL, 'I' },
		{ "no-verify", no_argument, NULL, 'N' },        CRYO_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	while ((c = getopt_long(argc, argv, "p:o:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pub = optarg; break;
		case 'o': o->html = optarg; break;
		case 'B': o->bodyfile = optarg; break;
		case 'I': o->iocs = optarg; break;
		case 'N': o->no_verify = true; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cryo_usage_error("%s", argc - optind ? "one archive at a time" : "no archive given");
	o->archive = argv[optind];
	if (!o->pub && !o->no_verify)
		return cryo_usage_error("no public key (-p KEY.pub); --no-verify reads an archive without checking it");
	if (o->pub && o->no_verify)
		return cryo_usage_error("-p and --no-verify exclude each other");
	return -1;
}

/* Write through a temporary name: a report is there whole or not at all.
 * It replaces only a regular file that is neither the archive nor its
 * signature (by inode, not by name): never a device, a link, evidence. */
static int write_out(const char *path, const char *archive, const void *data, size_t len)
{
	struct cryo_error err;
	struct stat st, a;
	char sig[4200];
	snprintf(sig, sizeof(sig), "%s.minisig", archive);
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return cryo_usage_error("%s exists and is not a regular file: not replaced", path);
		if ((stat(archive, &a) == 0 && a.st_dev == st.st_dev && a.st_ino == st.st_ino) ||
		    (stat(sig, &a) == 0 && a.st_dev == st.st_dev && a.st_ino == st.st_ino))
			return cryo_usage_error("%s is the archive or its signature: not replaced", path);
	}
	cleanup_free char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	cleanup_close int dfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || cryo_write_file_atomic_at(dfd, base, data, len, 0600, &err) < 0) {
		if (dfd < 0)
			cryo_error_sys(&err, "%s", path);
		return cryo_report_error(&err);
	}
	return 0;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	struct cryo_error err;
	struct cryo_pubkey pk;
	if (o.pub && cryo_pubkey_load(o.pub, &pk, &err) < 0)
		return cryo_close_stdout(cryo_report_error(&err));
	struct cryo_report_request req = { .archive = o.archive, .pk = o.pub ? &pk : NULL,
					   .no_verify = o.no_verify, .want_bodyfile = o.bodyfile != NULL };
	struct cryo_report r;
	if (cryo_report_build(&req, &r, &err) < 0) {
		if (!o.no_verify || !r.data) {
			cryo_report_free(&r);
			return cryo_close_stdout(cryo_report_error(&err));
		}
		cryo_warn("NOT VERIFIED: %s", err.msg);
	}
	char def[4200];
	const char *html_path = o.html;
	if (!html_path && !o.json) {
		size_t n = strlen(o.archive);
		snprintf(def, sizeof(def), "%.*s.html", (int)(cryo_has_suffix(o.archive, ".tar.zst") ? n - 8 : n), o.archive);
		html_path = def;
	}
	rc = 0;
	if (html_path) {
		cleanup_free char *page = cryo_report_html(r.data);
		rc = page ? write_out(html_path, o.archive, page, strlen(page)) : CRYO_EXIT_OSERR;
		if (!rc && !o.json)
			printf("%s\n", html_path);
	}
	if (!rc && o.iocs) {
		cleanup_free char *text = cryo_has_suffix(o.iocs, ".json") ? cJSON_Print(cJSON_GetObjectItemCaseSensitive(r.data, "iocs"))
									    : cryo_report_iocs_csv(r.data);
		rc = text ? write_out(o.iocs, o.archive, text, strlen(text)) : CRYO_EXIT_OSERR;
	}
	if (!rc && o.bodyfile) {
		if (!r.bodyfile)
			cryo_warn("no fs/bodyfile in this archive (or too large to read): %s not written", o.bodyfile);
		else
			rc = write_out(o.bodyfile, o.archive, r.bodyfile, r.bodyfile_len);
	}
	if (o.json && !rc)
		cryo_print_json(stdout, r.data);
	cryo_report_free(&r);
	return cryo_close_stdout(rc);
}
