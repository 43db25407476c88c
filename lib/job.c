#include <stdio.h>
#include <string.h>
#include "cryo/cli.h"
#include "cryo/job.h"
#include "cryo/output.h"

int cryo_job_begin(struct cryo_job *j, const char *tool, const char *action, const char *target,
		   const char *case_dir, bool record, int argc, char *const argv[])
{
	memset(j, 0, sizeof(*j));
	j->kase.dirfd = -1;
	if (cryo_require_root(&j->err) < 0)
		return cryo_report_error(&j->err);
	if (cryo_target_parse(target, &j->t, &j->err) < 0)
		return cryo_usage_error("%s", j->err.msg);
	if (cryo_case_open(case_dir, tool, target, &j->kase, &j->err) < 0)
		return cryo_report_error(&j->err);
	j->record = record;
	if (record)
		cryo_custody_begin(&j->entry, tool, action, target, argc, argv);
	size_t idx = 0;
	if (cryo_discover(&j->all, &j->err) < 0 || cryo_target_resolve(&j->t, &j->all, &idx, 1, &j->err) < 0 ||
	    cryo_target_recheck(&j->t, &j->err) < 0)
		return cryo_report_error(&j->err);
	j->c = &j->all.v[idx];
	return 0;
}

int cryo_job_end(struct cryo_job *j, int rc, const char *ok_message, const cJSON *result)
{
	const cJSON *w;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(result, "warnings"))
		if (cJSON_IsString(w))
			cryo_warn("%s", w->valuestring);
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(result, "problems")) {
		if (cJSON_IsString(w))
			cryo_warn("not done: %s", w->valuestring);
		else
			cryo_warn("%s: %s", cryo_json_get_str(w, "path"), cryo_json_get_str(w, "problem"));
	}
	if (j->record && j->entry.obj && j->kase.dirfd >= 0) {
		if (result)
			cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(j->entry.obj, "details"), "result",
					      cJSON_Duplicate(result, 1));
		struct cryo_error cerr;
		if (cryo_custody_commit(&j->kase, &j->entry, rc == CRYO_EXIT_PARTIAL ? "partial" : rc ? "error" : "ok",
					rc ? j->err.msg : ok_message, &cerr) < 0) {
			cryo_report_error(&cerr);
			fprintf(stderr, "%s: NOT RECORDED in the custody log\n", cryo_progname);
			if (!rc)
				rc = CRYO_EXIT_PARTIAL;
		}
	}
	if (j->entry.obj)
		cryo_custody_abandon(&j->entry);
	cryo_case_close(&j->kase);
	cryo_containers_free(&j->all);
	j->c = NULL;
	return rc;
}

int cryo_job_snapshot_rc(struct cryo_job *j, int snap_rc, const cJSON *result)
{
	if (snap_rc < 0)
		return cryo_report_error(&j->err);
	int np = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, "problems"));
	if (!np)
		return 0;
	cryo_error_set(&j->err, CRYO_EXIT_PARTIAL, 0, "snapshot taken with %d problem(s)", np);
	return cryo_report_error(&j->err);
}

int cryo_job_finish(struct cryo_job *j, int rc, cJSON **result, bool json, char sid[130])
{
	sid[0] = '\0';
	if (j->c)
		cryo_container_short_id(j->c, sid);
	struct cryo_error err = j->err;
	rc = cryo_job_end(j, rc, "snapshot taken", *result);
	if (json) {
		if (!*result)
			*result = cJSON_CreateObject();
		cryo_json_num(*result, "exit", rc);
		if (rc)
			cryo_json_str(*result, "error", err.msg);
		cryo_print_json(stdout, *result);
	}
	return rc;
}
