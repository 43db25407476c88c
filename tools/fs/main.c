/* cryo-fs: snapshot what happened to a container's filesystem. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/fs.h"
#include "cryo/job.h"
#include "cryo/output.h"
#include "cryo/util.h"

#define MAX_EXCLUDE 256

struct options {
	const char *case_dir, *target;
	bool merged, volumes, no_tmpfs, json;
	long max_file_size;
	char *exclude[MAX_EXCLUDE];
	size_t nexclude;
	int argc;
	char **argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-fs [OPTIONS] --case DIR TARGET\n\n"
		"Snapshot what happened to a container's filesystem, from the host side:\n"
		"the overlay's upper dir as an OCI image layer (DIR/fs/rootfs-diff.tar,\n"
		"whiteouts and opaque directories included), every change with its\n"
		"SHA-256 (fs/changes.json, fs/deleted.json), a body file for The Sleuth\n"
		"Kit's mactime (fs/bodyfile), the container's mounts (fs/mounts.json) and\n"
		"the content of its tmpfs mounts (fs/mounts/N.tar).  Symlinks are\n"
		"recorded, never followed; FIFOs, sockets and devices are recorded, never\n"
		"opened.  Freeze the container first (cryo-freeze): a file that changes\n"
		"while it is read is detected and reported.\n\n"
		"TARGET: ID | ID-PREFIX | NAME | NS/POD/CONTAINER | pid:N[@START] | cgroup:/PATH\n\n"
		"Options:\n"
		"  -c, --case DIR          the case directory (required)\n"
		"      --merged            also the merged view (image layers and changes:\n"
		"                          fs/rootfs-merged.tar), to rebuild the container\n"
		"      --volumes           also the content of volumes and bind mounts\n"
		"      --no-tmpfs          list tmpfs mounts without capturing them\n"
		"      --max-file-size N   larger files: metadata and size only (bytes;\n"
		"                          K, M, G suffixes)\n"
		"      --exclude GLOB      skip paths matching GLOB (fnmatch, on the path in\n"
		"                          the container, e.g. '/var/cache/*'); repeatable\n"
		"  -j, --json              result as JSON\n"
		"  -q, -v, -h, -V          quiet, verbose, help, version\n\n"
		"Exit status: 0 done; 2 done, but some files could not be read or changed\n"
		"while read (listed, and recorded in the custody log); 3 target not found;\n"
		"4 ambiguous; 64 usage (or the case already holds a snapshot); 65 bad\n"
		"runtime state; 69 the root is not overlayfs; 70 internal; 71 system call\n"
		"failed; 74 write failed; 75 interrupted (nothing half-written is left);\n"
		"77 not root (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "case", required_argument, NULL, 'c' },        { "merged", no_argument, NULL, 'M' },
		{ "volumes", no_argument, NULL, 'O' },           { "no-tmpfs", no_argument, NULL, 'N' },
		{ "max-file-size", required_argument, NULL, 'S' }, { "exclude", required_argument, NULL, 'X' },
		CRYO_COMMON_LONGOPTS,                            { NULL, 0, NULL, 0 },
	};
	o->argc = argc;
	o->argv = argv;
	int c, rc;
	while ((c = getopt_long(argc, argv, "c:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->case_dir = optarg; break;
		case 'M': o->merged = true; break;
		case 'O': o->volumes = true; break;
		case 'N': o->no_tmpfs = true; break;
		case 'S':
			if (cryo_parse_size(optarg, &o->max_file_size) < 0)
				return cryo_usage_error("--max-file-size wants a size like 100M, not '%s'", optarg);
			break;
		case 'X':
			if (o->nexclude == MAX_EXCLUDE)
				return cryo_usage_error("at most %d --exclude", MAX_EXCLUDE);
			o->exclude[o->nexclude++] = optarg;
			break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (!o->case_dir)
		return cryo_usage_error("--case DIR is required (the snapshot is written there)");
	if (argc - optind != 1)
		return cryo_usage_error("%s", argc - optind ? "one target at a time" : "no target given");
	o->target = argv[optind];
	return -1;
}

/* A deep tree holds one descriptor per level: as many as we may have. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int do_fs(const struct options *o)
{
	raise_nofile();
	cryo_catch_interrupts(); /* an interrupted snapshot leaves no half-written artifact */
	struct cryo_job j;
	cleanup_cjson cJSON *result = NULL;
	int rc = cryo_job_begin(&j, "cryo-fs", "snapshot", o->target, o->case_dir, true, o->argc, o->argv);
	if (rc == CRYO_EXIT_USAGE)
		return rc;
	if (rc == 0 && cryo_container_inspect(&j.all.roots, j.c, &j.err) < 0)
		rc = cryo_report_error(&j.err);
	if (rc == 0) {
		struct cryo_fs_request req = {
			.kase = &j.kase, .c = j.c, .entry = &j.entry, .merged = o->merged, .volumes = o->volumes,
			.no_tmpfs = o->no_tmpfs, .max_file_size = (uint64_t)o->max_file_size,
			.exclude = o->exclude, .nexclude = o->nexclude,
		};
		int snap = cryo_fs_snapshot(&req, &result, &j.err);
		rc = cryo_job_snapshot_rc(&j, snap, result);
	}
	char sid[130];
	rc = cryo_job_finish(&j, rc, &result, o->json, sid);
	if (!o->json && result && (rc == 0 || rc == CRYO_EXIT_PARTIAL)) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, "counts");
		cryo_info("snapshot of %s: %g added, %g modified, %g deleted, %g files (%.1f MiB) in %.2f s", sid,
			  cJSON_GetObjectItemCaseSensitive(n, "added")->valuedouble,
			  cJSON_GetObjectItemCaseSensitive(n, "modified")->valuedouble,
			  cJSON_GetObjectItemCaseSensitive(n, "deleted")->valuedouble,
			  cJSON_GetObjectItemCaseSensitive(n, "files")->valuedouble,
			  cJSON_GetObjectItemCaseSensitive(n, "bytes")->valuedouble / 1048576.0,
			  cJSON_GetObjectItemCaseSensitive(result, "seconds")->valuedouble);
		const cJSON *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(result, "artifacts"))
			printf("%s/%s\n", o->case_dir, a->valuestring);
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
	return cryo_close_stdout(do_fs(&o));
}
