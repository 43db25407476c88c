#include <errno.h>
/* cryo-freeze: stop every process of a container at once (cgroup freezer),
 * thaw it, or say where it stands.  Containment is never undone by an
 * error: a freeze that times out stays requested. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/freeze.h"
#include "cryo/output.h"
#include "cryo/target.h"

enum mode { MODE_FREEZE, MODE_THAW, MODE_STATUS };

struct options {
	enum mode mode;
	bool json, pod;
	long timeout_ms;
	enum cryo_freeze_mech mech;
	const char *case_dir;
	char **targets;
	int ntargets;
	int argc;
	char **argv;
};

#define MAX_CONTAINERS 1024

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-freeze [OPTIONS] TARGET...\n"
		"       cryo-freeze --thaw [OPTIONS] TARGET...\n"
		"       cryo-freeze --status [OPTIONS] TARGET...\n\n"
		"Freeze every process of the containers at once through their cgroup\n"
		"(cgroup v2 cgroup.freeze, else the v1 freezer).  Several targets are\n"
		"requested together, then waited on together.\n\n"
		"TARGET: ID | ID-PREFIX | NAME | NS/POD[/CONTAINER] | pid:N[@START] | cgroup:/PATH\n\n"
		"Options:\n"
		"      --thaw            thaw instead of freezing\n"
		"      --status          report the state, change nothing\n"
		"      --pod             act on every container of each target's pod\n"
		"  -t, --timeout MS      wait at most MS milliseconds (default 5000); on\n"
		"                        timeout the freeze stays requested and the tasks\n"
		"                        not yet stopped are named\n"
		"  -m, --mechanism M     auto (default), v2 or v1\n"
		"  -c, --case DIR        record the action in DIR's custody log\n"
		"  -j, --json            result as JSON on stdout\n"
		"  -q, --quiet           no messages on stderr\n"
		"  -v, --verbose         more detail\n"
		"  -h, --help            this help\n"
		"  -V, --version         version\n\n"
		"Note: Docker still shows a container frozen through cgroup v2 as\n"
		"\"running\" (docker pause uses its own state).\n\n"
		"Exit status: 0 done; 2 partial (some containers failed, or the case\n"
		"directory could not be written: containment goes on regardless); 3 target\n"
		"not found or exited; 4 target ambiguous; 5 timeout (freeze left\n"
		"requested); 64 usage; 65 bad data; 69 no freezer; 70 internal; 71 system\n"
		"call failed; 74 I/O error; 77 not root.  When every container fails, the\n"
		"first failure's code (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "thaw", no_argument, NULL, 'T' },          { "status", no_argument, NULL, 'S' },
		{ "pod", no_argument, NULL, 'P' },           { "timeout", required_argument, NULL, 't' },
		{ "mechanism", required_argument, NULL, 'm' }, { "case", required_argument, NULL, 'c' },
		CRYO_COMMON_LONGOPTS, { NULL, 0, NULL, 0 },
	};
	o->timeout_ms = 5000;
	o->argc = argc;
	o->argv = argv;
	bool thaw = false, status = false;
	int c, rc;
	while ((c = getopt_long(argc, argv, "t:m:c:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'T': thaw = true; break;
		case 'S': status = true; break;
		case 'P': o->pod = true; break;
		case 't':
			if (cryo_parse_long(optarg, 1, 3600000, &o->timeout_ms) < 0)
				return cryo_usage_error("--timeout wants milliseconds from 1 to 3600000, not '%s'", optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				o->mech = CRYO_FREEZE_NONE;
			else if (!strcmp(optarg, "v2"))
				o->mech = CRYO_FREEZE_V2;
			else if (!strcmp(optarg, "v1"))
				o->mech = CRYO_FREEZE_V1;
			else
				return cryo_usage_error("--mechanism is auto, v2 or v1, not '%s'", optarg);
			break;
		case 'c': o->case_dir = optarg; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (thaw && status)
		return cryo_usage_error("--thaw and --status exclude each other");
	o->mode = thaw ? MODE_THAW : status ? MODE_STATUS : MODE_FREEZE;
	o->targets = argv + optind;
	o->ntargets = argc - optind;
	if (o->ntargets == 0)
		return cryo_usage_error("no target given");
	return -1;
}

struct job {
	size_t idx;          /* into all.v */
	int target;          /* which target named it */
	struct cryo_freezer f;
	enum cryo_freeze_state before;
	bool init_ok;
};

static const struct cryo_column columns[] = {
	{ "ID", "short_id", 0 }, { "NAME", "name", 32 }, { "MECHANISM", "mechanism", 0 },
	{ "STATE", "state", 0 }, { "MS", "ms", 0 },      { "RESULT", "result", 0 },
};

static const char *action_name(enum mode m)
{
	return m == MODE_FREEZE ? "freeze" : m == MODE_THAW ? "thaw" : "status";
}

static int do_freeze(struct options *o)
{
	struct cryo_error err = { 0 };
	if (cryo_require_root(&err) < 0)
		return cryo_report_error(&err);
	struct cryo_target *targets = calloc((size_t)o->ntargets, sizeof(*targets));
	if (!targets)
		return CRYO_EXIT_OSERR;
	for (int i = 0; i < o->ntargets; i++)
		if (cryo_target_parse(o->targets[i], &targets[i], &err) < 0) {
			free(targets);
			return cryo_usage_error("%s", err.msg);
		}

	struct cryo_case kase = { .dirfd = -1 };
	struct cryo_custody_entry entry = { 0 };
	cleanup_free char *target_text = cryo_join_argv(o->ntargets, o->targets);
	bool case_failed = false;
	if (o->case_dir && o->mode == MODE_STATUS) {
		cryo_warn("--case is ignored with --status (nothing changes, nothing to record)");
	} else if (o->case_dir) {
		/* A case directory that cannot be written must not stop
		 * containment: freeze anyway, say so loudly, exit partial. */
		if (cryo_case_open(o->case_dir, "cryo-freeze", target_text, &kase, &err) < 0) {
			cryo_report_error(&err);
			fprintf(stderr, "%s: NOT RECORDED: continuing without a custody log\n", cryo_progname);
			case_failed = true;
		} else {
			cryo_custody_begin(&entry, "cryo-freeze", action_name(o->mode), target_text,
					   o->argc, o->argv);
		}
	}

	struct cryo_containers all = { 0 };
	struct job *jobs = calloc(MAX_CONTAINERS, sizeof(*jobs));
	size_t njobs = 0;
	int rc = 0;
	cleanup_cjson cJSON *rows = NULL;
	char resolve_errors[4096] = "";
	if (!jobs) {
		rc = CRYO_EXIT_OSERR;
		goto out;
	}
	if (cryo_discover(&all, &err) < 0) {
		rc = cryo_report_error(&err);
		snprintf(resolve_errors, sizeof(resolve_errors), "%s", err.msg);
		goto record; /* the failure goes in the custody log too */
	}
	/* Resolve everything before acting: a typo or an ambiguous name stops
	 * the command before anything is frozen, so the responder knows exactly
	 * what state each container is in. */
	for (int i = 0; i < o->ntargets; i++) {
		size_t idx[MAX_CONTAINERS];
		int n = cryo_target_resolve(&targets[i], &all, idx, MAX_CONTAINERS, &err);
		if (n < 0) {
			int code = cryo_report_error(&err);
			if (!rc)
				rc = code;
			size_t l = strlen(resolve_errors);
			snprintf(resolve_errors + l, sizeof(resolve_errors) - l, "%s%s", l ? "; " : "", err.msg);
			continue;
		}
		for (int k = 0; k < n; k++) {
			size_t members[MAX_CONTAINERS];
			size_t nm = o->pod ? cryo_pod_members(&all, idx[k], members, MAX_CONTAINERS) : 1;
			if (!o->pod)
				members[0] = idx[k];
			if (o->pod && !all.v[idx[k]].pod_uid[0] && !all.v[idx[k]].pod_name[0]) {
				char sid[130];
				cryo_warn("%s is not in a Kubernetes pod; --pod acts on it alone",
					  cryo_container_short_id(&all.v[idx[k]], sid));
			}
			for (size_t m = 0; m < nm; m++) {
				bool dup = false;
				for (size_t j = 0; j < njobs && !dup; j++)
					dup = jobs[j].idx == members[m];
				if (!dup && njobs < MAX_CONTAINERS) {
					jobs[njobs].idx = members[m];
					jobs[njobs++].target = i;
				}
			}
		}
	}
	if (rc) {
		njobs = 0; /* nothing was touched */
		goto record;
	}

	for (size_t j = 0; j < njobs; j++) {
		struct job *jb = &jobs[j];
		if (cryo_freezer_init(&jb->f, &all.roots, &all.v[jb->idx], o->mech, &jb->f.err) < 0) {
			jb->f.result = -1;
			continue;
		}
		jb->init_ok = true;
		if (cryo_freezer_state(&jb->f, &jb->before, &jb->f.err) < 0)
			jb->f.result = -1;
		jb->f.state = jb->before;
	}
	if (o->mode != MODE_STATUS) {
		bool freeze = o->mode == MODE_FREEZE;
		/* allocated before anything is requested: no request is left
		 * unconfirmed for want of memory */
		struct cryo_freezer *fs = calloc(njobs ? njobs : 1, sizeof(*fs));
		for (size_t j = 0; j < njobs && !fs; j++)
			if (jobs[j].init_ok && jobs[j].f.result == 0) {
				cryo_error_set(&jobs[j].f.err, CRYO_EXIT_OSERR, ENOMEM, "out of memory; nothing requested");
				jobs[j].f.result = -1;
			}
		/* Request all first, then wait for all: the containers stop
		 * within the same instant, not one after another. */
		for (size_t j = 0; j < njobs; j++) {
			struct job *jb = &jobs[j];
			if (!jb->init_ok || jb->f.result < 0)
				continue;
			if (cryo_target_recheck(&targets[jb->target], &jb->f.err) < 0 ||
			    cryo_freezer_request(&jb->f, freeze, &jb->f.err) < 0) {
				jb->f.result = -1;
				jb->init_ok = false;
			}
		}
		size_t nf = 0;
		for (size_t j = 0; j < njobs; j++)
			if (jobs[j].init_ok && jobs[j].f.result == 0)
				fs[nf++] = jobs[j].f;
		cryo_freezers_wait(fs, nf, (int)o->timeout_ms);
		nf = 0;
		for (size_t j = 0; j < njobs; j++)
			if (jobs[j].init_ok && jobs[j].f.result == 0)
				jobs[j].f = fs[nf++];
		free(fs);
	}

record:
	rows = cJSON_CreateArray();
	size_t failed = 0, timeouts = 0, gone = 0;
	for (size_t j = 0; j < njobs; j++) {
		struct job *jb = &jobs[j];
		const struct cryo_container *c = &all.v[jb->idx];
		cJSON *row = cJSON_CreateObject();
		char sid[130];
		cryo_container_short_id(c, sid);
		cryo_container_json_identity(row, c);
		cryo_json_str(row, "target", targets[jb->target].text);
		cryo_json_str(row, "mechanism", cryo_freeze_mech_name(jb->f.mech));
		cryo_json_str(row, "cgroup", jb->f.dir);
		/* with no usable freezer nothing was read: no state to claim */
		cryo_json_str(row, "before", jb->init_ok ? cryo_freeze_state_name(jb->before) : NULL);
		cryo_json_str(row, "state", jb->init_ok ? cryo_freeze_state_name(jb->f.state) : NULL);
		if (o->mode != MODE_STATUS && jb->f.t_done_ns)
			cryo_json_num(row, "ms", (double)(jb->f.t_done_ns - jb->f.t_start_ns) / 1e6);
		else
			cJSON_AddNullToObject(row, "ms");
		if (jb->f.result < 0) {
			failed++;
			timeouts += jb->f.err.exit == CRYO_EXIT_TIMEOUT;
			gone += jb->f.err.exit == CRYO_EXIT_NOTFOUND;
			cryo_json_str(row, "result", "error");
			cryo_json_str(row, "error", jb->f.err.msg);
			char safe[256];
			/* an error, not a warning: -q must not hide a failed freeze */
			fprintf(stderr, "%s: %s %s: %s\n", cryo_progname, action_name(o->mode),
				cryo_text_safe(c->name[0] ? c->name : sid, safe, sizeof(safe)), jb->f.err.msg);
		} else {
			cryo_json_str(row, "result", "ok");
			cJSON_AddNullToObject(row, "error");
			char safe[256];
			cryo_text_safe(c->name, safe, sizeof(safe));
			if (o->mode != MODE_STATUS)
				cryo_info("%s %s%s%s%s: %s via %s in %.3f ms", action_name(o->mode), sid,
					  c->name[0] && strcmp(c->name, sid) ? " (" : "",
					  c->name[0] && strcmp(c->name, sid) ? safe : "",
					  c->name[0] && strcmp(c->name, sid) ? ")" : "",
					  cryo_freeze_state_name(jb->f.state), cryo_freeze_mech_name(jb->f.mech),
					  (double)(jb->f.t_done_ns - jb->f.t_start_ns) / 1e6);
		}
		cJSON_AddItemToArray(rows, row);
		cryo_freezer_close(&jb->f);
	}
	if (!rc && failed)
		rc = failed == njobs ? (timeouts == failed ? CRYO_EXIT_TIMEOUT
					: gone == failed ? CRYO_EXIT_NOTFOUND : jobs[0].f.err.exit)
				     : CRYO_EXIT_PARTIAL;
	/* The custody entry goes first, so the exit code printed in --json is
	 * the one the process returns. */
	if (o->case_dir && !case_failed && o->mode != MODE_STATUS) {
		cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(entry.obj, "details"), "containers",
				      cJSON_Duplicate(rows, 1));
		char msg[256];
		snprintf(msg, sizeof(msg), "%zu of %zu containers %s", njobs - failed, njobs,
			 o->mode == MODE_FREEZE ? "frozen" : "thawed");
		struct cryo_error cerr;
		if (cryo_custody_commit(&kase, &entry, rc == 0 ? "ok" : (njobs - failed) ? "partial" : "error",
					rc && !njobs ? (resolve_errors[0] ? resolve_errors : err.msg) : msg,
					&cerr) < 0) {
			cryo_report_error(&cerr);
			fprintf(stderr, "%s: NOT RECORDED in the custody log\n", cryo_progname);
			case_failed = true;
		}
	}
	if (case_failed && rc == 0)
		rc = CRYO_EXIT_PARTIAL;
	if (o->json) {
		cleanup_cjson cJSON *res = cJSON_CreateObject();
		cryo_json_str(res, "action", action_name(o->mode));
		cryo_json_num(res, "exit", rc);
		cryo_json_num(res, "failed", (double)failed);
		cJSON_AddItemToObject(res, "containers", cJSON_Duplicate(rows, 1));
		if (rc && !njobs)
			cryo_json_str(res, "error", resolve_errors[0] ? resolve_errors : err.msg);
		cryo_json_bool(res, "recorded", o->case_dir && !case_failed && o->mode != MODE_STATUS);
		cryo_print_json(stdout, res);
	} else if (o->mode == MODE_STATUS && njobs) {
		cryo_print_table(stdout, rows, columns, CRYO_ARRAY_SIZE(columns));
	}
out:
	if (entry.obj)
		cryo_custody_abandon(&entry);
	cryo_case_close(&kase);
	cryo_containers_free(&all);
	free(jobs);
	free(targets);
	return rc;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	return cryo_close_stdout(do_freeze(&o));
}
