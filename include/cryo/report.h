/* cryo-report: what happened, at a glance, from a sealed archive.
 *
 * The archive is verified in the same pass that reads the members the
 * report uses (cryo_verify_request.keep), so what the report shows is what
 * was checked.  The report is first data (cJSON: case, container, custody
 * timeline, process tree with flags, filesystem changes, sockets,
 * findings with evidence and fix, indicators), then rendered: one
 * self-contained HTML page (no script, a Content-Security-Policy that
 * forbids any, every string from the evidence escaped), CSV indicators. */
#ifndef CRYO_REPORT_H
#define CRYO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"
#include "cryo/minisign.h"

struct cryo_report_request {
	const char *archive;
	const struct cryo_pubkey *pk; /* NULL with no_verify */
	bool no_verify;               /* integrity only: the signature is not checked */
	bool want_bodyfile;
};

struct cryo_report {
	cJSON *data;       /* the whole report as data (what --json prints) */
	char *bodyfile;    /* fs/bodyfile when asked and present */
	size_t bodyfile_len;
};

/* Verify and read.  0, or -1 with err (its exit class CRYO_EXIT_NO when
 * the archive does not verify); with no_verify an archive that does not
 * verify still gives out->data (and -1), one that is not an archive none. */
int cryo_report_build(const struct cryo_report_request *req, struct cryo_report *out, struct cryo_error *err);
void cryo_report_free(struct cryo_report *r);

/* The page (malloc'd, NUL-terminated). */
char *cryo_report_html(const cJSON *data);
/* Indicators as CSV: type,value,context (malloc'd). */
char *cryo_report_iocs_csv(const cJSON *data);

/* Text made safe for HTML element content and attribute values (malloc'd). */
char *cryo_html_escape(const char *s);

#endif
