#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cleanup.h"
#include "cryo/evidence.h"
#include "cryo/output.h"
#include "cryo/util.h"

bool cryo_member_path_ok(const char *path)
{
	size_t n = strlen(path);
	if (n == 0 || n > CRYO_MEMBER_PATH_MAX || path[0] == '/' || !cryo_utf8_valid(path))
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return false;
	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each path once, and none of the three that are not members of it. */
static int check_names(const struct cryo_manifest *m, struct cryo_error *err)
{
	cleanup_free char **names = calloc(m->n, sizeof(*names));
	if (!names)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, CRYO_MANIFEST);
	for (size_t i = 0; i < m->n; i++) {
		names[i] = m->v[i].path;
		if (!strcmp(names[i], CRYO_MANIFEST) || !strcmp(names[i], CRYO_MANIFEST_SIG) || !strcmp(names[i], CRYO_SUMS))
			return cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": lists %s as a member", names[i]);
	}
	qsort(names, m->n, sizeof(*names), member_cmp);
	for (size_t i = 1; i < m->n; i++)
		if (!strcmp(names[i - 1], names[i])) {
			char safe[256];
			return cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": member %s listed twice",
					      cryo_text_safe(names[i], safe, sizeof(safe)));
		}
	return 0;
}

int cryo_manifest_parse(const char *text, size_t len, struct cryo_manifest *m, struct cryo_error *err)
{
	memset(m, 0, sizeof(*m));
	if (len > CRYO_MANIFEST_MAX)
		return cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": larger than %u bytes", CRYO_MANIFEST_MAX);
	cJSON *j = cryo_json_parse(text, len);
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
	const cJSON *members = cJSON_GetObjectItemCaseSensitive(j, "members");
	const char *fmt = cryo_json_get_str(j, "format");
	const cJSON *custody = cJSON_GetObjectItemCaseSensitive(j, "custody");
	if (!cJSON_IsObject(j) || !fmt || strcmp(fmt, CRYO_EVIDENCE_FORMAT) != 0) {
		cJSON_Delete(j);
		return cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": not a cryo evidence manifest");
	}
	if (!cJSON_IsNumber(ver) || ver->valuedouble != CRYO_EVIDENCE_VERSION) {
		cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": format version %g, this cryo reads %d",
			       cJSON_IsNumber(ver) ? ver->valuedouble : -1, CRYO_EVIDENCE_VERSION);
		cJSON_Delete(j);
		return -1;
	}
	m->json = j;
	m->case_id = cryo_json_get_str(j, "case_id");
	m->custody_head = cryo_json_get_str(custody, "head");
	int count = cJSON_GetArraySize(members);
	if (!m->case_id || !m->custody_head || !cJSON_IsArray(members) || count < 2 || count > CRYO_MEMBERS_MAX ||
	    strlen(m->custody_head) != 71 || !cryo_has_prefix(m->custody_head, "sha256:") ||
	    !cryo_is_hex(m->custody_head + 7, 64))
		goto bad;
	m->v = calloc((size_t)count, sizeof(*m->v));
	if (!m->v) {
		cryo_manifest_free(m);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, CRYO_MANIFEST);
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, members) {
		const char *path = cryo_json_get_str(e, "path"), *sha = cryo_json_get_str(e, "sha256");
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(e, "size");
		if (!path || !cryo_member_path_ok(path) || !sha || strlen(sha) != 64 || !cryo_is_hex(sha, 64) ||
		    !cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 9007199254740992.0) {
			cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": member %zu is malformed", m->n + 1);
			cryo_manifest_free(m);
			return -1;
		}
		struct cryo_member *x = &m->v[m->n++];
		x->path = (char *)path; /* owned by json */
		x->size = (uint64_t)size->valuedouble;
		memcpy(x->sha256, sha, 65);
	}
	if (strcmp(m->v[0].path, CRYO_CUSTODY_MEMBER) != 0 || strcmp(m->v[1].path, CRYO_CASE_MEMBER) != 0)
		goto bad;
	if (check_names(m, err) < 0) {
		cryo_manifest_free(m);
		return -1;
	}
	return 0;
bad:
	cryo_manifest_free(m);
	return cryo_error_set(err, CRYO_EXIT_NO, 0, CRYO_MANIFEST ": malformed (fields missing or out of order)");
}

void cryo_manifest_free(struct cryo_manifest *m)
{
	free(m->v);
	cJSON_Delete(m->json);
	memset(m, 0, sizeof(*m));
}

char *cryo_sums_text(const struct cryo_manifest *m, const char manifest_sha256[CRYO_SHA256_HEX])
{
	size_t cap = 64 + 3 + sizeof(CRYO_MANIFEST) + 1;
	for (size_t i = 0; i < m->n; i++)
		cap += 64 + 3 + strlen(m->v[i].path) + 1;
	char *s = malloc(cap + 1), *p = s;
	if (!s)
		return NULL;
	p += sprintf(p, "%s  %s\n", manifest_sha256, CRYO_MANIFEST);
	for (size_t i = 0; i < m->n; i++)
		p += sprintf(p, "%s  %s\n", m->v[i].sha256, m->v[i].path);
	return s;
}

locale_t cryo_utf8_locale_enter(void)
{
	static locale_t utf8;
	if (!utf8)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	return utf8 ? uselocale(utf8) : (locale_t)0;
}

void cryo_utf8_locale_leave(locale_t prev)
{
	if (prev)
		uselocale(prev);
}
