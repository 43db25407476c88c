/* A detector's alert: Falco's JSON (json_output: true), one object per
 * line on program_output, or one per POST from http_output or
 * falcosidekick's webhook.  Keys in any order, extra keys ignored.  The
 * alert is attacker-influenced text (a rule fires on what the attacker
 * did, and fields such as proc.cmdline are theirs): every value is bounded
 * and type-checked, never trusted to name anything but a container id. */
#ifndef CRYO_ALERT_H
#define CRYO_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"

#define CRYO_ALERT_MAX (1u << 20) /* bytes of one alert */

/* Falco's priorities, most severe first (syslog's order). */
enum cryo_priority {
	CRYO_PRIO_EMERGENCY, CRYO_PRIO_ALERT, CRYO_PRIO_CRITICAL, CRYO_PRIO_ERROR,
	CRYO_PRIO_WARNING, CRYO_PRIO_NOTICE, CRYO_PRIO_INFORMATIONAL, CRYO_PRIO_DEBUG,
	CRYO_PRIO_UNKNOWN,
};
/* Case-insensitive, "Info" too; CRYO_PRIO_UNKNOWN otherwise. */
enum cryo_priority cryo_priority_parse(const char *s);
const char *cryo_priority_name(enum cryo_priority p);

struct cryo_alert {
	cJSON *json;                 /* the whole alert (owned) */
	char *raw;                   /* the alert as sent, checked strict JSON,
					without insignificant whitespace (owned):
					what the journal and the case keep */
	const char *rule, *output, *source, *hostname, *time, *uuid; /* NULL when absent */
	enum cryo_priority priority;
	/* container.id: "" when absent, "host", or not an id (then
	 * no_container_why says so) */
	char container_id[129];
	const char *no_container_why;
};

/* Parse one alert.  An alert without a container is parsed all the same
 * (container_id empty, no_container_why set): the caller journals it.
 * Errors (CRYO_EXIT_DATAERR): not JSON, not an object, NUL bytes, too
 * large, no rule, wrongly typed fields. */
int cryo_alert_parse(const char *text, size_t len, struct cryo_alert *a, struct cryo_error *err);
void cryo_alert_free(struct cryo_alert *a);

/* text if it is strict JSON (RFC 8259, valid UTF-8, nesting <= 256),
 * copied without insignificant whitespace (malloc'd); else NULL. */
char *cryo_json_strict_compact(const char *text, size_t len);

/* output_fields[key] as text ("" and false when absent; numbers and
 * booleans printed; other types absent). */
bool cryo_alert_field(const struct cryo_alert *a, const char *key, char *buf, size_t size);
/* Whether tags holds tag. */
bool cryo_alert_has_tag(const struct cryo_alert *a, const char *tag);

#endif
