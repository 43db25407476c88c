/* One rendering path for people and programs: a result is built as cJSON;
 * --json prints it, otherwise the same data goes through a column spec into
 * an aligned table (iproute2's print_* idea). */
#ifndef CRYO_OUTPUT_H
#define CRYO_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

struct cryo_column {
	const char *header;
	const char *key;   /* key in each row object; "a.b" descends */
	int max_width;     /* 0: unlimited; longer values are cut with '~' */
};

/* Make attacker-chosen text (container names, paths, process names) safe
 * for a terminal, in place: C0/C1 controls and invalid UTF-8 become '?'. */
void cryo_text_sanitize(char *s);
/* A sanitized copy in buf. */
const char *cryo_text_safe(const char *s, char *buf, size_t size);

/* Print rows (a cJSON array of objects) as a table. */
void cryo_print_table(FILE *out, const cJSON *rows, const struct cryo_column *cols, size_t ncols);
/* Print JSON followed by a newline (pretty when out is a terminal). */
void cryo_print_json(FILE *out, const cJSON *v);
/* A value as display text (strings as is, numbers, true/false, "-" for null). */
void cryo_json_text(const cJSON *v, char *buf, size_t size);
const cJSON *cryo_json_path(const cJSON *obj, const char *path);

/* Null-safe helpers for building results. */
/* Set obj[key], replacing a value already there. */
cJSON *cryo_json_str(cJSON *obj, const char *key, const char *val); /* NULL/"" -> null */
/* A string item; bytes that are not UTF-8 become the text \xHH. */
cJSON *cryo_json_string(const char *val);
cJSON *cryo_json_num(cJSON *obj, const char *key, double val);
cJSON *cryo_json_bool(cJSON *obj, const char *key, bool val);
/* Parse bounded JSON text; NULL on error. */
cJSON *cryo_json_parse(const char *text, size_t len);
const char *cryo_json_get_str(const cJSON *obj, const char *key);

#endif
