/* The frame of a tool that acts on one container and records it in a
 * case: root, the target parsed, the case opened, a custody entry begun,
 * the target resolved to one container and rechecked; at the end the
 * result's warnings and problems printed and the outcome appended to the
 * custody log, failures too. */
#ifndef CRYO_JOB_H
#define CRYO_JOB_H

#include <cjson/cJSON.h>
#include "cryo/case.h"
#include "cryo/container.h"
#include "cryo/target.h"

struct cryo_job {
	struct cryo_case kase;
	struct cryo_custody_entry entry;
	struct cryo_containers all;
	struct cryo_target t;
	struct cryo_container *c; /* set when resolved */
	struct cryo_error err;
	bool record;
};

/* 0: ready to act on j->c.  Otherwise the exit code (the error reported);
 * call cryo_job_end all the same, so a failure is recorded. */
int cryo_job_begin(struct cryo_job *j, const char *tool, const char *action, const char *target,
		   const char *case_dir, bool record, int argc, char *const argv[]);
/* Print result's "warnings" and "problems", record the outcome (rc: 0 ok,
 * 2 partial, else error; message: j->err's when rc, else ok_message) with
 * the result in details.result.  Returns rc, or 2 when the custody log could
 * not be written ("NOT RECORDED").  Frees what begin took. */
int cryo_job_end(struct cryo_job *j, int rc, const char *ok_message, const cJSON *result);

/* For capture tools (cryo-fs, cryo-proc): the exit code of a snapshot that
 * returned snap_rc (< 0: failed, j->err says why) with result, whose
 * "problems" make it partial; the error is printed. */
int cryo_job_snapshot_rc(struct cryo_job *j, int snap_rc, const cJSON *result);
/* End a capture: cryo_job_end, then with json the result (created when
 * missing) printed with "exit" and "error".  sid gets the container's
 * short id for the caller's own summary.  Returns the exit code. */
int cryo_job_finish(struct cryo_job *j, int rc, cJSON **result, bool json, char sid[130]);

#endif
