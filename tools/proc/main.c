/* cryo-proc: snapshot the processes of a container. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/job.h"
#include "cryo/output.h"
#include "cryo/proc.h"
#include "cryo/util.h"

#define MAX_PIDS 4096

struct options {
	const char *case_dir, *target;
	bool no_memory, skip_file_backed, compress, json;
	long max_memory, max_total_memory, max_file_size;
	pid_t pids[MAX_PIDS];
	size_t npids;
	int argc;
	char **argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-proc [OPTIONS] --case DIR TARGET\n\n"
		"Snapshot every process of a container from the host side: its /proc\n"
		"state decoded (DIR/proc/PID/process.json: credentials, capabilities,\n"
		"command line, environment, namespaces, descriptors, mappings, threads)\n"
		"beside the raw /proc files, one copy of each executable and of each\n"
		"deleted-but-open file (proc/files/SHA256), the sockets of its network\n"
		"namespace with their owners (proc/sockets.json), and its memory and\n"
		"registers as an ELF core file that gdb opens (proc/PID/core).\n"
		"Freeze the container first (cryo-freeze): registers are read with\n"
		"PTRACE_SEIZE + PTRACE_INTERRUPT, which works on a cgroup v2 frozen task\n"
		"and leaves it frozen.  Nothing runs in the container.\n\n"
		"TARGET: ID | ID-PREFIX | NAME | NS/POD/CONTAINER | pid:N[@START] | cgroup:/PATH\n\n"
		"Options:\n"
		"  -c, --case DIR             the case directory (required)\n"
		"  -p, --pid N                only this process (its host pid); repeatable\n"
		"      --no-memory            no core files (state, files and sockets only)\n"
		"      --max-memory N         memory per process at most (bytes; K, M, G):\n"
		"                             anonymous memory first, then mapped files\n"
		"      --max-total-memory N   memory of all processes together at most\n"
		"      --skip-file-backed     leave out the pages of mapped files that are\n"
		"                             the files' own (not the process's private\n"
		"                             changes): gdb reads them from the files\n"
		"  -z, --compress             write core.zst (zstd) instead of core\n"
		"      --max-file-size N      larger executables and deleted files are\n"
		"                             listed, not copied (default 1G)\n"
		"  -j, --json                 result as JSON\n"
		"  -q, -v, -h, -V             quiet, verbose, help, version\n\n"
		"Exit status: 0 done; 2 done, but something could not be read (listed,\n"
		"and recorded in the custody log); 3 target (or --pid) not found;\n"
		"4 ambiguous; 64 usage (or the case already holds a process snapshot);\n"
		"65 bad case or runtime data; 70 internal; 71 system call failed;\n"
		"74 write failed; 75 interrupted; 77 not root (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "no-memory", no_argument, NULL, 'N' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "max-total-memory", required_argument, NULL, 'T' },
		{ "skip-file-backed", no_argument, NULL, 'F' },
		{ "compress", no_argument, NULL, 'z' },
		{ "max-file-size", required_argument, NULL, 'S' },
		CRYO_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	o->argc = argc;
	o->argv = argv;
	o->max_file_size = 1l << 30;
	int c, rc;
	long v;
	while ((c = getopt_long(argc, argv, "c:p:z" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->case_dir = optarg; break;
		case 'p':
			if (cryo_parse_long(optarg, 1, 0x7fffffff, &v) < 0)
				return cryo_usage_error("--pid wants a process id, not '%s'", optarg);
			if (o->npids == MAX_PIDS)
				return cryo_usage_error("at most %d --pid", MAX_PIDS);
			o->pids[o->npids++] = (pid_t)v;
			break;
		case 'N': o->no_memory = true; break;
		case 'F': o->skip_file_backed = true; break;
		case 'z': o->compress = true; break;
		case 'M':
		case 'T':
		case 'S':
			if (cryo_parse_size(optarg, &v) < 0)
				return cryo_usage_error("--%s wants a size like 100M, not '%s'",
							c == 'M' ? "max-memory" : c == 'T' ? "max-total-memory" : "max-file-size", optarg);
			*(c == 'M' ? &o->max_memory : c == 'T' ? &o->max_total_memory : &o->max_file_size) = v;
			break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (!o->case_dir)
		return cryo_usage_error("--case DIR is required (the snapshot is written there)");
	if (o->no_memory && (o->max_memory || o->max_total_memory || o->skip_file_backed || o->compress))
		return cryo_usage_error("--no-memory excludes the options about memory");
	if (argc - optind != 1)
		return cryo_usage_error("%s", argc - optind ? "one target at a time" : "no target given");
	o->target = argv[optind];
	return -1;
}

static int do_proc(const struct options *o)
{
	cryo_catch_interrupts(); /* an interrupted snapshot leaves no half-written artifact */
	struct cryo_job j;
	cleanup_cjson cJSON *result = NULL;
	int rc = cryo_job_begin(&j, "cryo-proc", "snapshot", o->target, o->case_dir, true, o->argc, o->argv);
	if (rc == CRYO_EXIT_USAGE)
		return rc;
	if (rc == 0 && cryo_container_inspect(&j.all.roots, j.c, &j.err) < 0)
		rc = cryo_report_error(&j.err);
	if (rc == 0) {
		struct cryo_proc_request req = {
			.kase = &j.kase, .roots = &j.all.roots, .c = j.c, .entry = &j.entry,
			.only = o->pids, .nonly = o->npids, .no_memory = o->no_memory,
			.skip_file_backed = o->skip_file_backed, .compress = o->compress,
			.max_memory = (uint64_t)o->max_memory, .max_total_memory = (uint64_t)o->max_total_memory,
			.max_file_size = (uint64_t)o->max_file_size,
		};
		int snap = cryo_proc_snapshot(&req, &result, &j.err);
		rc = cryo_job_snapshot_rc(&j, snap, result);
	}
	char sid[130];
	rc = cryo_job_finish(&j, rc, &result, o->json, sid);
	if (!o->json && result && (rc == 0 || rc == CRYO_EXIT_PARTIAL)) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, "counts");
		if (n)
			cryo_info("snapshot of %s: %g processes, %g threads, %g files, %.1f MiB of memory in %.2f s", sid,
				  cJSON_GetObjectItemCaseSensitive(n, "processes")->valuedouble,
				  cJSON_GetObjectItemCaseSensitive(n, "threads")->valuedouble,
				  cJSON_GetObjectItemCaseSensitive(n, "files")->valuedouble,
				  cJSON_GetObjectItemCaseSensitive(n, "memory_bytes")->valuedouble / 1048576.0,
				  cJSON_GetObjectItemCaseSensitive(result, "seconds")->valuedouble);
		const cJSON *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(result, "artifacts"))
			if (cryo_has_suffix(a->valuestring, "/core") || cryo_has_suffix(a->valuestring, "/core.zst") ||
			    cryo_has_suffix(a->valuestring, "index.json") || cryo_has_suffix(a->valuestring, "sockets.json"))
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
	return cryo_close_stdout(do_proc(&o));
}
