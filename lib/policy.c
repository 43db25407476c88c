#include <fcntl.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/policy.h"
#include "cryo/util.h"

#define POLICY_FILE_MAX (1u << 20)

static const char *const act_names[] = { "freeze", "cut", "capture", "seal", "kill", "notify" };

void cryo_policy_actions_text(unsigned actions, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(act_names); i++)
		if (actions & (1u << i))
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "", act_names[i]);
	if (!n)
		snprintf(buf, size, "journal");
}

static void rule_free(struct cryo_policy_rule *r)
{
	free(r->name);
	free(r->source);
	for (size_t i = 0; i < r->nrules; i++)
		free(r->rules[i]);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	for (size_t i = 0; i < r->nfields; i++) {
		free(r->fields[i].key);
		free(r->fields[i].pattern);
	}
	for (size_t i = 0; r->notify[i]; i++)
		free(r->notify[i]);
	memset(r, 0, sizeof(*r));
}

void cryo_policy_free(struct cryo_policy *p)
{
	for (size_t i = 0; i < p->n; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	p->rules = NULL;
	p->n = 0;
}

static int bad(struct cryo_error *err, size_t ri, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct cryo_error *err, size_t ri, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: rule %zu: %s", ri + 1, msg);
}

/* Only these keys: anything else is a typo that must not pass silently. */
static int only_keys(const cJSON *o, const char *const *keys, size_t n, size_t ri, const char *where,
		     struct cryo_error *err)
{
	const cJSON *k;
	cJSON_ArrayForEach(k, o) {
		bool ok = false;
		for (size_t i = 0; i < n && !ok; i++)
			ok = !strcmp(k->string, keys[i]);
		if (!ok) {
			char what[200];
			snprintf(what, sizeof(what), "%.60s: unknown key \"%.80s\"", where, k->string);
			return bad(err, ri, "%s", what);
		}
	}
	return 0;
}

static char *dup_bounded(const char *s)
{
	return strlen(s) > 4096 ? NULL : strdup(s);
}

/* A string or an array of strings, into out[]. */
static int str_list(const cJSON *v, char **out, size_t *n, size_t ri, const char *what, struct cryo_error *err)
{
	if (cJSON_IsString(v)) {
		if (!(out[0] = dup_bounded(v->valuestring)))
			return bad(err, ri, "%s: too long", what);
		*n = 1;
		return 0;
	}
	if (!cJSON_IsArray(v))
		return bad(err, ri, "%s: want a string or a list of strings", what);
	const cJSON *x;
	cJSON_ArrayForEach(x, v) {
		if (!cJSON_IsString(x))
			return bad(err, ri, "%s: want strings", what);
		if (*n == CRYO_POLICY_MAX_LIST)
			return bad(err, ri, "%s: more than 32", what);
		if (!(out[*n] = dup_bounded(x->valuestring)))
			return bad(err, ri, "%s: too long", what);
		(*n)++;
	}
	return 0;
}

static int parse_match(const cJSON *m, struct cryo_policy_rule *r, size_t ri, struct cryo_error *err)
{
	static const char *const keys[] = { "rule", "priority", "source", "tags", "fields" };
	if (!cJSON_IsObject(m))
		return bad(err, ri, "%s is not an object", "match");
	if (only_keys(m, keys, CRYO_ARRAY_SIZE(keys), ri, "match", err) < 0)
		return -1;
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(m, "rule")) && str_list(v, r->rules, &r->nrules, ri, "match.rule", err) < 0)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(m, "priority"))) {
		if (!cJSON_IsString(v) || (r->priority = cryo_priority_parse(v->valuestring)) == CRYO_PRIO_UNKNOWN)
			return bad(err, ri, "%s: want one of Emergency Alert Critical Error Warning Notice Informational Debug",
				   "match.priority");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(m, "source"))) {
		if (!cJSON_IsString(v) || !(r->source = dup_bounded(v->valuestring)))
			return bad(err, ri, "%s: want a string", "match.source");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(m, "tags")) && str_list(v, r->tags, &r->ntags, ri, "match.tags", err) < 0)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(m, "fields"))) {
		if (!cJSON_IsObject(v))
			return bad(err, ri, "%s: want an object of field: pattern", "match.fields");
		const cJSON *f;
		cJSON_ArrayForEach(f, v) {
			if (!cJSON_IsString(f))
				return bad(err, ri, "match.fields.%.100s: want a pattern string", f->string);
			if (r->nfields == CRYO_POLICY_MAX_LIST)
				return bad(err, ri, "%s: more than 32", "match.fields");
			r->fields[r->nfields].key = dup_bounded(f->string);
			r->fields[r->nfields].pattern = dup_bounded(f->valuestring);
			if (!r->fields[r->nfields].key || !r->fields[r->nfields].pattern)
				return bad(err, ri, "%s: too long", "match.fields");
			r->nfields++;
		}
	}
	return 0;
}

static int parse_action(const cJSON *a, struct cryo_policy_rule *r, size_t ri, struct cryo_error *err)
{
	const char *name;
	const cJSON *params = NULL;
	if (cJSON_IsString(a)) {
		name = a->valuestring;
	} else if (cJSON_IsObject(a) && cJSON_GetArraySize(a) == 1 && cJSON_IsObject(a->child)) {
		name = a->child->string;
		params = a->child;
	} else {
		return bad(err, ri, "%s", "an action is a name or {\"name\": {parameters}}");
	}
	size_t i;
	for (i = 0; i < CRYO_ARRAY_SIZE(act_names); i++)
		if (!strcmp(name, act_names[i]))
			break;
	if (i == CRYO_ARRAY_SIZE(act_names))
		return bad(err, ri, "unknown action \"%.80s\" (freeze cut capture seal kill notify)", name);
	r->actions |= 1u << i;
	const cJSON *v;
	if (!strcmp(name, "cut") && params) {
		static const char *const keys[] = { "mode" };
		if (only_keys(params, keys, 1, ri, "cut", err) < 0)
			return -1;
		const char *mode = cryo_json_get_str(params, "mode");
		if (mode && strcmp(mode, "down") && strcmp(mode, "quarantine"))
			return bad(err, ri, "%s: mode is down or quarantine", "cut");
		r->quarantine = mode && !strcmp(mode, "quarantine");
	} else if (!strcmp(name, "capture") && params) {
		static const char *const keys[] = { "memory", "merged" };
		if (only_keys(params, keys, 2, ri, "capture", err) < 0)
			return -1;
		if ((v = cJSON_GetObjectItemCaseSensitive(params, "memory"))) {
			if (!cJSON_IsBool(v))
				return bad(err, ri, "%s: memory is true or false", "capture");
			r->memory = cJSON_IsTrue(v);
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(params, "merged"))) {
			if (!cJSON_IsBool(v))
				return bad(err, ri, "%s: merged is true or false", "capture");
			r->merged = cJSON_IsTrue(v);
		}
	} else if (!strcmp(name, "notify")) {
		static const char *const keys[] = { "command", "timeout_seconds" };
		if (r->notify[0])
			return bad(err, ri, "%s", "one notify per rule (the command can fan out itself)");
		if (!params || only_keys(params, keys, 2, ri, "notify", err) < 0)
			return params ? -1 : bad(err, ri, "%s", "notify needs {\"notify\": {\"command\": [\"/path\", ...]}}");
		const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(params, "command");
		size_t n = 0;
		if (!cJSON_IsArray(cmd) || !cJSON_GetArraySize(cmd))
			return bad(err, ri, "%s", "notify.command is a list: the program (absolute path) and its arguments");
		if (str_list(cmd, r->notify, &n, ri, "notify.command", err) < 0)
			return -1;
		if (r->notify[0][0] != '/')
			return bad(err, ri, "%s", "notify.command[0] must be an absolute path (no shell, no $PATH search)");
		r->notify_timeout = 30;
		if ((v = cJSON_GetObjectItemCaseSensitive(params, "timeout_seconds"))) {
			if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 3600)
				return bad(err, ri, "%s", "notify.timeout_seconds is 1 to 3600");
			r->notify_timeout = (int)v->valuedouble;
		}
	} else if (params && cJSON_GetArraySize(params)) {
		return bad(err, ri, "action \"%.80s\" takes no parameters", name);
	}
	return 0;
}

static int parse_rule(const cJSON *o, struct cryo_policy_rule *r, size_t ri, struct cryo_error *err)
{
	static const char *const keys[] = { "name", "match", "actions", "then", "dry_run" };
	r->priority = CRYO_PRIO_UNKNOWN;
	r->memory = true;
	if (!cJSON_IsObject(o))
		return bad(err, ri, "%s", "a rule is an object");
	if (only_keys(o, keys, CRYO_ARRAY_SIZE(keys), ri, "rule", err) < 0)
		return -1;
	const char *name = cryo_json_get_str(o, "name");
	char dflt[32];
	snprintf(dflt, sizeof(dflt), "rule-%zu", ri + 1);
	if (!(r->name = dup_bounded(name ? name : dflt)))
		return bad(err, ri, "%s", "name too long");
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "match")) && parse_match(v, r, ri, err) < 0)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(o, "actions");
	if (!cJSON_IsArray(v))
		return bad(err, ri, "%s", "\"actions\" is a list (empty: journal only)");
	const cJSON *a;
	cJSON_ArrayForEach(a, v)
		if (parse_action(a, r, ri, err) < 0)
			return -1;
	if (r->actions & CRYO_ACT_CONTAIN)
		r->actions |= CRYO_ACT_FREEZE; /* containment always begins with the freeze */
	const char *then = cryo_json_get_str(o, "then");
	if (cJSON_GetObjectItemCaseSensitive(o, "then") && (!then || (strcmp(then, "keep") && strcmp(then, "thaw"))))
		return bad(err, ri, "%s", "\"then\" is keep or thaw (use the kill action to kill)");
	r->thaw = then && !strcmp(then, "thaw");
	if (r->thaw && (r->actions & CRYO_ACT_KILL))
		return bad(err, ri, "%s", "\"then\": \"thaw\" and the kill action exclude each other");
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "dry_run"))) {
		if (!cJSON_IsBool(v))
			return bad(err, ri, "%s", "dry_run is true or false");
		r->dry_run = cJSON_IsTrue(v);
	}
	return 0;
}

static int int_member(const cJSON *o, const char *key, int min, int max, int *out, struct cryo_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max || v->valuedouble != (int)v->valuedouble)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: %s is a whole number from %d to %d", key, min, max);
	*out = (int)v->valuedouble;
	return 0;
}

int cryo_policy_parse(const char *text, size_t len, struct cryo_policy *p, struct cryo_error *err)
{
	memset(p, 0, sizeof(*p));
	p->debounce_seconds = 600;
	p->max_concurrent = 2;
	p->max_queue = 1024;
	snprintf(p->origin, sizeof(p->origin), "built-in");
	if (len > POLICY_FILE_MAX || memchr(text, '\0', len))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: not a JSON text of at most 1 MiB");
	cleanup_cjson cJSON *o = cryo_json_parse(text, len);
	if (!cJSON_IsObject(o))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: not a JSON object");
	static const char *const keys[] = { "debounce_seconds", "max_concurrent", "max_queue", "rules", "comment" };
	const cJSON *k;
	cJSON_ArrayForEach(k, o) {
		bool ok = false;
		for (size_t i = 0; i < CRYO_ARRAY_SIZE(keys) && !ok; i++)
			ok = !strcmp(k->string, keys[i]);
		if (!ok)
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: unknown key \"%.80s\"", k->string);
	}
	if (int_member(o, "debounce_seconds", 0, 7 * 86400, &p->debounce_seconds, err) < 0 ||
	    int_member(o, "max_concurrent", 1, 64, &p->max_concurrent, err) < 0 ||
	    int_member(o, "max_queue", 1, 100000, &p->max_queue, err) < 0)
		return -1;
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(o, "rules");
	if (!cJSON_IsArray(rules))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: \"rules\" is a list");
	int n = cJSON_GetArraySize(rules);
	if (n > CRYO_POLICY_MAX_RULES)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "policy: more than %d rules", CRYO_POLICY_MAX_RULES);
	p->rules = calloc(n ? (size_t)n : 1, sizeof(*p->rules));
	if (!p->rules)
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0, "out of memory");
	const cJSON *r;
	cJSON_ArrayForEach(r, rules) {
		p->n++;
		if (parse_rule(r, &p->rules[p->n - 1], p->n - 1, err) < 0) {
			cryo_policy_free(p);
			return -1;
		}
	}
	return 0;
}

int cryo_policy_default(struct cryo_policy *p, struct cryo_error *err)
{
	static const char dflt[] = "{\"rules\": [{\"name\": \"built-in: Critical and above\","
				   " \"match\": {\"priority\": \"Critical\"},"
				   " \"actions\": [\"freeze\", \"cut\", \"capture\", \"seal\"], \"then\": \"keep\"}]}";
	return cryo_policy_parse(dflt, sizeof(dflt) - 1, p, err);
}

int cryo_policy_load(const char *path, struct cryo_policy *p, struct cryo_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_read_file_at(AT_FDCWD, path, POLICY_FILE_MAX, false, &text, &len, err) < 0)
		return -1;
	if (cryo_policy_parse(text, len, p, err) < 0)
		return cryo_error_wrap(err, "%s", path);
	snprintf(p->origin, sizeof(p->origin), "%s", path);
	return 0;
}

const struct cryo_policy_rule *cryo_policy_match(const struct cryo_policy *p, const struct cryo_alert *a)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct cryo_policy_rule *r = &p->rules[i];
		if (r->nrules) {
			bool any = false;
			for (size_t k = 0; k < r->nrules && !any; k++)
				any = fnmatch(r->rules[k], a->rule, 0) == 0;
			if (!any)
				continue;
		}
		if (r->priority != CRYO_PRIO_UNKNOWN && (a->priority == CRYO_PRIO_UNKNOWN || a->priority > r->priority))
			continue;
		if (r->source && (!a->source || strcmp(r->source, a->source)))
			continue;
		bool ok = true;
		for (size_t k = 0; k < r->ntags && ok; k++)
			ok = cryo_alert_has_tag(a, r->tags[k]);
		char val[4096];
		for (size_t k = 0; k < r->nfields && ok; k++)
			ok = cryo_alert_field(a, r->fields[k].key, val, sizeof(val)) && fnmatch(r->fields[k].pattern, val, 0) == 0;
		if (ok)
			return r;
	}
	return NULL;
}
