#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cryo/alert.h"
#include "cryo/output.h"

/* ---- strict JSON (RFC 8259), compacted ----------------------------------
 * cJSON accepts more than JSON (any byte <= 0x20 as whitespace, control
 * characters in strings, bad \u escapes, numbers such as 01 or 1., invalid
 * UTF-8).  An alert copied verbatim into a JSON-lines journal must be JSON
 * that every reader reads alike and that holds no line break: checked here,
 * and copied without its insignificant whitespace (so evt.time's digits are
 * kept exactly). */
struct sj {
	const unsigned char *p, *end;
	char *out;
	size_t n;
	int depth;
};

static void sj_ws(struct sj *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* The value of 4 hex digits at p (before end), or -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
			: p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool sj_put(struct sj *j, const unsigned char *from, size_t len)
{
	memcpy(j->out + j->n, from, len);
	j->n += len;
	return true;
}

static bool sj_value(struct sj *j);

static bool sj_string(struct sj *j)
{
	const unsigned char *s = j->p;
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		if (c == '"') {
			j->p++;
			return sj_put(j, s, (size_t)(j->p - s));
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++j->p >= j->end)
				return false;
			c = *j->p;
			if (c == 'u') {
				/* a surrogate only in a pair, high then low: cJSON
				 * refuses a lone one */
				long u = hex4(j->p + 1, j->end);
				if (u < 0)
					return false;
				j->p += 5;
				if (u >= 0xdc00 && u <= 0xdfff)
					return false;
				if (u >= 0xd800 && u <= 0xdbff) {
					if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
						return false;
					long low = hex4(j->p + 2, j->end);
					if (low < 0xdc00 || low > 0xdfff)
						return false;
					j->p += 6;
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || !c)
				return false;
			j->p++;
			continue;
		}
		if (c < 0x80) {
			j->p++;
			continue;
		}
		/* UTF-8: the shortest form, no surrogates, at most U+10FFFF */
		size_t len = (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		if (!len || (size_t)(j->end - j->p) < len)
			return false;
		for (size_t i = 1; i < len; i++)
			if ((j->p[i] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && j->p[1] < 0xa0) || (c == 0xed && j->p[1] > 0x9f) || (c == 0xf0 && j->p[1] < 0x90) ||
		    (c == 0xf4 && j->p[1] > 0x8f))
			return false;
		j->p += len;
	}
	return false;
}

static bool sj_number(struct sj *j)
{
	const unsigned char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return false;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return false;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return sj_put(j, s, (size_t)(j->p - s));
}

static bool sj_word(struct sj *j, const char *w)
{
	size_t l = strlen(w);
	if ((size_t)(j->end - j->p) < l || memcmp(j->p, w, l))
		return false;
	sj_put(j, j->p, l);
	j->p += l;
	return true;
}

static bool sj_container(struct sj *j, unsigned char open, unsigned char close)
{
	if (++j->depth > 256)
		return false;
	sj_put(j, &open, 1);
	j->p++;
	sj_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return sj_put(j, &close, 1);
	}
	for (;;) {
		sj_ws(j);
		if (open == '{') {
			if (!sj_string(j))
				return false;
			sj_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			sj_put(j, j->p++, 1);
			sj_ws(j);
		}
		if (!sj_value(j))
			return false;
		sj_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == ',') {
			sj_put(j, j->p++, 1);
			continue;
		}
		if (*j->p != close)
			return false;
		j->p++;
		j->depth--;
		return sj_put(j, &close, 1);
	}
}

static bool sj_value(struct sj *j)
{
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{': return sj_container(j, '{', '}');
	case '[': return sj_container(j, '[', ']');
	case '"': return sj_string(j);
	case 't': return sj_word(j, "true");
	case 'f': return sj_word(j, "false");
	case 'n': return sj_word(j, "null");
	default: return sj_number(j);
	}
}

char *cryo_json_strict_compact(const char *text, size_t len)
{
	struct sj j = { (const unsigned char *)text, (const unsigned char *)text + len, malloc(len + 1), 0, 0 };
	if (!j.out)
		return NULL;
	sj_ws(&j);
	bool ok = sj_value(&j);
	sj_ws(&j);
	if (!ok || j.p != j.end) {
		free(j.out);
		return NULL;
	}
	j.out[j.n] = '\0';
	return j.out;
}

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
	a->raw = cryo_json_strict_compact(text, len);
	if (!a->raw)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "alert is not strict JSON (RFC 8259, UTF-8): control characters, bad escapes or "
				      "numbers, or something after the object");
	/* the whole text, not a JSON prefix followed by anything */
	const char *end = NULL;
	a->json = cJSON_ParseWithLengthOpts(a->raw, strlen(a->raw), &end, false);
	if (a->json && end) {
		if (*end) {
			cryo_alert_free(a);
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert: something follows the JSON object");
		}
	}
	if (!a->json) {
		cryo_alert_free(a);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "alert is not JSON");
	}
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
	free(a->raw);
	a->raw = NULL;
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
