/* cryo-ls: the containers on this host, from kernel state and runtime
 * state on disk; no daemon is asked. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/container.h"
#include "cryo/output.h"
#include "cryo/target.h"

struct options {
	bool json;
	char **targets;
	int ntargets;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-ls [OPTIONS] [TARGET...]\n\n"
		"List the containers on this host: id, name, runtime, init pid, process\n"
		"count, freeze state, overlay upper dir.  Found from /sys/fs/cgroup,\n"
		"/proc and runtime state files; no container daemon is needed.\n\n"
		"TARGET (same syntax in every cryo tool) limits the list:\n"
		"  ID | ID-PREFIX | NAME | NS/POD[/CONTAINER] | pid:N[@START] | cgroup:/PATH\n\n"
		"Options:\n"
		"  -j, --json      everything found, as JSON (pids, cgroups, layers, namespaces)\n"
		"  -q, --quiet     no warnings\n"
		"  -v, --verbose   more detail on stderr\n"
		"  -h, --help      this help\n"
		"  -V, --version   version\n\n"
		"Exit status: 0 ok; 3 target not found; 4 target ambiguous; 64 usage;\n"
		"65 bad data; 69 no cgroup hierarchy; 70 internal; 71 system call failed;\n"
		"74 I/O error; 77 not root.  With several failing targets, the first\n"
		"failure's code (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		CRYO_COMMON_LONGOPTS, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int rc = cryo_cli_common_option(c, &o->json, usage);
		if (rc >= 0)
			return rc;
	}
	o->targets = argv + optind;
	o->ntargets = argc - optind;
	return -1;
}

static const struct cryo_column columns[] = {
	{ "ID", "short_id", 0 },      { "NAME", "name", 32 },     { "RUNTIME", "runtime", 0 },
	{ "PID", "init_pid", 0 },     { "PROCS", "processes", 0 }, { "STATE", "state", 0 },
	{ "UPPERDIR", "rootfs.upperdir", 0 },
};

static int do_ls(const struct options *o)
{
	struct cryo_error err = { 0 };
	if (cryo_require_root(&err) < 0)
		return cryo_report_error(&err);
	struct cryo_containers all;
	if (cryo_discover(&all, &err) < 0)
		return cryo_report_error(&err);
	bool *pick = calloc(all.n ? all.n : 1, sizeof(*pick));
	if (!pick)
		return CRYO_EXIT_OSERR;
	int rc = 0;
	for (int i = 0; i < o->ntargets; i++) {
		struct cryo_target t;
		size_t idx[1024];
		int n;
		if (cryo_target_parse(o->targets[i], &t, &err) < 0 ||
		    (n = cryo_target_resolve(&t, &all, idx, CRYO_ARRAY_SIZE(idx), &err)) < 0) {
			int code = cryo_report_error(&err);
			if (!rc)
				rc = code;
			continue;
		}
		for (int k = 0; k < n; k++)
			pick[idx[k]] = true;
	}
	if (rc) {
		free(pick);
		cryo_containers_free(&all);
		return rc;
	}
	cleanup_cjson cJSON *rows = cJSON_CreateArray();
	for (size_t i = 0; i < all.n; i++) {
		if (o->ntargets && !pick[i])
			continue;
		if (cryo_container_inspect(&all.roots, &all.v[i], &err) < 0) {
			/* a container that exits during the listing is not an error */
			cryo_debug("%s", err.msg);
			if (!all.v[i].inspected && kill(all.v[i].init_pid, 0) < 0)
				continue;
		}
		cJSON_AddItemToArray(rows, cryo_container_to_json(&all.v[i]));
	}
	free(pick);
	if (o->json) {
		cleanup_cjson cJSON *res = cJSON_CreateObject();
		cJSON *roots = cJSON_AddObjectToObject(res, "cgroup_roots");
		cryo_json_str(roots, "v2", all.roots.v2);
		cryo_json_str(roots, "freezer", all.roots.freezer);
		cryo_json_bool(roots, "hybrid", all.roots.hybrid);
		cJSON_AddItemToObject(res, "containers", steal_pointer(&rows));
		cryo_print_json(stdout, res);
	} else {
		cryo_print_table(stdout, rows, columns, CRYO_ARRAY_SIZE(columns));
	}
	cryo_containers_free(&all);
	return 0;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	return cryo_close_stdout(do_ls(&o));
}
