#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cryo/output.h"
#include "cryo/util.h"

const cJSON *cryo_json_path(const cJSON *obj, const char *path)
{
	char key[128];
	const char *p = path;
	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
		p += n + (dot ? 1 : 0);
	}
	return obj;
}

void cryo_json_text(const cJSON *v, char *buf, size_t size)
{
	if (!v || cJSON_IsNull(v))
		snprintf(buf, size, "-");
	else if (cJSON_IsString(v))
		snprintf(buf, size, "%s", v->valuestring[0] ? v->valuestring : "-");
	else if (cJSON_IsBool(v))
		snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "yes" : "no");
	else if (cJSON_IsNumber(v))
		snprintf(buf, size, "%.15g", v->valuedouble);
	else
		snprintf(buf, size, "...");
}

/* Terminal-safe text: container names and paths are attacker-chosen, so
 * C0 and C1 control characters (C1 includes CSI, U+009B, which some
 * terminals obey) and bytes that are not valid UTF-8 (a lone 0x9b is CSI
 * to an 8-bit terminal) become '?'.  Valid UTF-8 text is kept. */
void cryo_text_sanitize(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	while (*r) {
		unsigned c = *r;
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		bool ok = n > 0;
		for (size_t i = 1; ok && i < n; i++)
			ok = (r[i] & 0xc0) == 0x80;
		unsigned cp = 0;
		if (ok) {
			cp = n == 1 ? c : c & (0x7f >> n);
			for (size_t i = 1; i < n; i++)
				cp = (cp << 6) | (r[i] & 0x3f);
			/* overlong forms and surrogates are not valid either */
			ok = !((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			       (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff);
		}
		if (!ok || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			*w++ = '?';
			r += ok ? n : 1;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			*w++ = *r++;
	}
	*w = '\0';
}

const char *cryo_text_safe(const char *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s", s ? s : "");
	cryo_text_sanitize(buf);
	return buf;
}

static void put_cell(FILE *out, const char *s, size_t width, bool last)
{
	if (last)
		fprintf(out, "%s\n", s);
	else
		fprintf(out, "%-*s  ", (int)width, s);
}

void cryo_print_table(FILE *out, const cJSON *rows, const struct cryo_column *cols, size_t ncols)
{
	size_t nrows = (size_t)cJSON_GetArraySize(rows);
	size_t *width = calloc(ncols, sizeof(*width));
	char buf[4096];
	if (!width)
		return;
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].header);
	for (size_t r = 0; r < nrows; r++) {
		const cJSON *row = cJSON_GetArrayItem(rows, (int)r);
		for (size_t c = 0; c < ncols; c++) {
			cryo_json_text(cryo_json_path(row, cols[c].key), buf, sizeof(buf));
			size_t w = strlen(buf);
			if (cols[c].max_width && w > (size_t)cols[c].max_width)
				w = (size_t)cols[c].max_width;
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t c = 0; c < ncols; c++)
		put_cell(out, cols[c].header, width[c], c + 1 == ncols);
	for (size_t r = 0; r < nrows; r++) {
		const cJSON *row = cJSON_GetArrayItem(rows, (int)r);
		for (size_t c = 0; c < ncols; c++) {
			cryo_json_text(cryo_json_path(row, cols[c].key), buf, sizeof(buf));
			cryo_text_sanitize(buf);
			size_t mw = (size_t)cols[c].max_width;
			if (mw && strlen(buf) > mw) {
				buf[mw - 1] = '~';
				buf[mw] = '\0';
			}
			put_cell(out, buf, width[c], c + 1 == ncols);
		}
	}
	free(width);
}

void cryo_print_json(FILE *out, const cJSON *v)
{
	char *s = isatty(fileno(out)) ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
	if (!s)
		return;
	/* cJSON escapes C0 controls; DEL and the C1 controls (U+0080..U+009F,
	 * which terminals obey) pass through it raw: escaped here.  They can
	 * only be inside strings, where \u00XX means the same character. */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", out);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(out, "\\u00%02x", *++p);
		else
			fputc(*p, out);
	}
	fputc('\n', out);
	free(s);
}

/* Set, not add: a key set twice (a status first false, true once checked)
 * must not appear twice, or a reader that keeps the first value sees the
 * opposite of the truth. */
static cJSON *json_set(cJSON *obj, const char *key, cJSON *v)
{
	if (!obj || !v) {
		cJSON_Delete(v);
		return NULL;
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
	return v;
}

/* JSON strings are UTF-8; names a container chose need not be.  Bytes
 * that are not UTF-8 are written as the text \xHH (a reader that needs
 * the exact bytes gets them elsewhere: fs/changes.json's path_b64). */
cJSON *cryo_json_string(const char *val)
{
	if (cryo_utf8_valid(val))
		return cJSON_CreateString(val);
	size_t n = strlen(val);
	char *buf = malloc(n * 4 + 1), *o = buf;
	if (!buf)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)val; *p;) {
		/* copy the longest valid UTF-8 sequence at p, or escape one byte */
		unsigned c = *p, len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		char seq[5] = { 0 };
		bool ok = len > 0;
		for (unsigned i = 0; ok && i < len; i++) {
			if (!p[i] || (i && (p[i] & 0xc0) != 0x80))
				ok = false;
			else
				seq[i] = (char)p[i];
		}
		if (ok && cryo_utf8_valid(seq)) {
			memcpy(o, seq, len);
			o += len;
			p += len;
		} else {
			o += sprintf(o, "\\x%02x", *p++);
		}
	}
	*o = '\0';
	cJSON *v = cJSON_CreateString(buf);
	free(buf);
	return v;
}

cJSON *cryo_json_str(cJSON *obj, const char *key, const char *val)
{
	return json_set(obj, key, !val || !*val ? cJSON_CreateNull() : cryo_json_string(val));
}

cJSON *cryo_json_num(cJSON *obj, const char *key, double val)
{
	return json_set(obj, key, cJSON_CreateNumber(val));
}

cJSON *cryo_json_bool(cJSON *obj, const char *key, bool val)
{
	return json_set(obj, key, cJSON_CreateBool(val));
}

cJSON *cryo_json_parse(const char *text, size_t len)
{
	return cJSON_ParseWithLength(text, len);
}

const char *cryo_json_get_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}
