#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "cryo/alert.h"
#include "cryo/output.h"

static const char *const prio_names[] = { "Emergency", "Alert", "Critical", "Error", "Warning",
					  "Notice", "Informational", "Debug" };

enum cryo_priority cryo_priority_parse(const char *s)
{
	if (!s)
		return CRYO_PRIO_UNKNOWN;
	for (int i = 0; i < CRYO_PRIO_UNKNOWN; i++)
		if (!strcasecmp(s, prio_names[i]))
			return (enum cryo_priority)i;
	if (!strcasecmp(s, "info"))
		return CRYO_PRIO_INFORMATIONAL;
	return CRYO_PRIO_UNKNOWN;
}

const char *cryo_priority_name(enum cryo_priority p)
{
	return p < CRYO_PRIO_UNKNOWN ? prio_names[p] : "unknown";
}

/* A string member, or NULL; a member of another type is an error. */
static int member_str(const cJSON *o, const char *key, const char **out, struct cryo_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert: \"%s\" is not a string", key);
	*out = v->valuestring;
	return 0;
}

/* What a container id from an alert may be: Docker/containerd/CRI-O ids
 * (12 or 64 hex) or a runtime's own id (runc: letters, digits, _ . -). */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

int cryo_alert_parse(const char *text, size_t len, struct cryo_alert *a, struct cryo_error *err)
{
	memset(a, 0, sizeof(*a));
	a->priority = CRYO_PRIO_UNKNOWN;
	if (len > CRYO_ALERT_MAX)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert of %zu bytes: more than %u", len, CRYO_ALERT_MAX);
	if (memchr(text, '\0', len))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert holds a NUL byte");
	/* the whole text, not a JSON prefix followed by anything */
	const char *end = NULL;
	a->json = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (a->json && end) {
		while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
			end++;
		if (end != text + len) {
			cryo_alert_free(a);
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert: something follows the JSON object");
		}
	}
	if (!a->json)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert is not JSON");
	if (!cJSON_IsObject(a->json)) {
		cryo_alert_free(a);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert is not a JSON object");
	}
	const char *prio = NULL;
	if (member_str(a->json, "rule", &a->rule, err) < 0 || member_str(a->json, "output", &a->output, err) < 0 ||
	    member_str(a->json, "source", &a->source, err) < 0 || member_str(a->json, "hostname", &a->hostname, err) < 0 ||
	    member_str(a->json, "time", &a->time, err) < 0 || member_str(a->json, "uuid", &a->uuid, err) < 0 ||
	    member_str(a->json, "priority", &prio, err) < 0) {
		cryo_alert_free(a);
		return -1;
	}
	if (!a->rule) {
		cryo_alert_free(a);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert has no \"rule\"");
	}
	a->priority = cryo_priority_parse(prio);
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(a->json, "tags");
	if (tags && !cJSON_IsArray(tags) && !cJSON_IsNull(tags)) {
		cryo_alert_free(a);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert: \"tags\" is not an array");
	}
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(a->json, "output_fields");
	if (of && !cJSON_IsObject(of) && !cJSON_IsNull(of)) {
		cryo_alert_free(a);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert: \"output_fields\" is not an object");
	}
	const cJSON *cid = cJSON_GetObjectItemCaseSensitive(of, "container.id");
	if (!cid || cJSON_IsNull(cid))
		a->no_container_why = "no container.id in output_fields";
	else if (!cJSON_IsString(cid))
		a->no_container_why = "container.id is not a string";
	else if (!strcmp(cid->valuestring, "host") || !cid->valuestring[0])
		a->no_container_why = "the event happened on the host (container.id \"host\")";
	else if (!id_ok(cid->valuestring))
		a->no_container_why = "container.id is not a container id";
	else
		snprintf(a->container_id, sizeof(a->container_id), "%s", cid->valuestring);
	return 0;
}

void cryo_alert_free(struct cryo_alert *a)
{
	cJSON_Delete(a->json);
	a->json = NULL;
}

bool cryo_alert_field(const struct cryo_alert *a, const char *key, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a->json, "output_fields"), key);
	buf[0] = '\0';
	if (cJSON_IsString(v))
		snprintf(buf, size, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(buf, size, "%.17g", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else
		return false;
	return true;
}

bool cryo_alert_has_tag(const struct cryo_alert *a, const char *tag)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(a->json, "tags"))
		if (cJSON_IsString(t) && !strcmp(t->valuestring, tag))
			return true;
	return false;
}
