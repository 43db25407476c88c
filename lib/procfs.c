#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/procfs.h"
#include "cryo/util.h"

void cryo_vmas_free(struct cryo_vmas *vmas)
{
	free(vmas->v);
	memset(vmas, 0, sizeof(*vmas));
}

static bool parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;
	for (; isxdigit((unsigned char)*s); s++, n++) {
		if (n == 16)
			return false;
		v = v << 4 | (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
	}
	*p = s;
	*out = v;
	return n > 0;
}

/* "start-end perms offset dev inode [path]": the kernel pads the path to a
 * column with spaces and escapes a newline in it as \012, so a line is one
 * mapping. */
static int parse_header(char *line, struct cryo_vma *m)
{
	const char *p = line;
	memset(m, 0, sizeof(*m));
	if (!parse_hex(&p, &m->start) || *p++ != '-' || !parse_hex(&p, &m->end) || *p++ != ' ' ||
	    m->end < m->start)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!*p || *p == ' ')
			return -1;
		m->perms[i] = *p++;
	}
	if (*p++ != ' ' || !parse_hex(&p, &m->offset) || *p++ != ' ')
		return -1;
	size_t d = 0;
	while (*p && *p != ' ' && d < sizeof(m->dev) - 1)
		m->dev[d++] = *p++;
	if (*p++ != ' ')
		return -1;
	char *e;
	errno = 0;
	m->inode = strtoull(p, &e, 10);
	if (e == p || errno)
		return -1;
	p = e;
	while (*p == ' ')
		p++;
	m->path = *p ? (char *)p : NULL;
	return 0;
}

static bool is_header(const char *line)
{
	/* a field line is "Name:" (letters, digits, '_'); a header starts with
	 * hex digits and '-' */
	const char *p = line;
	while (isxdigit((unsigned char)*p))
		p++;
	return p > line && *p == '-';
}

static void parse_flags(const char *v, struct cryo_vma *m)
{
	while (*v) {
		while (*v == ' ')
			v++;
		if (!v[0] || !v[1])
			break;
		char f[3] = { v[0], v[1], 0 };
		if (!strcmp(f, "dd"))
			m->dd = true;
		else if (!strcmp(f, "io"))
			m->io = true;
		else if (!strcmp(f, "pf"))
			m->pfnmap = true;
		else if (!strcmp(f, "um") || !strcmp(f, "ui") || !strcmp(f, "uw"))
			m->uffd = true;
		v += 2;
		while (*v && *v != ' ')
			v++;
	}
}

int cryo_vmas_parse(char *text, struct cryo_vmas *vmas)
{
	memset(vmas, 0, sizeof(*vmas));
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (is_header(line)) {
			if (vmas->n == CRYO_VMAS_MAX ||
			    cryo_grow(&vmas->v, &vmas->cap, vmas->n, sizeof(*vmas->v), 64) < 0)
				goto bad;
			if (parse_header(line, &vmas->v[vmas->n]) < 0)
				goto bad;
			vmas->n++;
			continue;
		}
		if (!vmas->n)
			goto bad;
		struct cryo_vma *m = &vmas->v[vmas->n - 1];
		char *colon = strchr(line, ':');
		if (!colon)
			goto bad;
		*colon = '\0';
		const char *v = colon + 1;
		unsigned long long kb = strtoull(v, NULL, 10);
		if (!strcmp(line, "Rss")) {
			m->rss_kb = kb;
			m->has_sizes = true;
		} else if (!strcmp(line, "Swap")) {
			m->swap_kb = kb;
		} else if (!strcmp(line, "Anonymous")) {
			m->anon_kb = kb;
		} else if (!strcmp(line, "VmFlags")) {
			parse_flags(v, m);
		}
	}
	return 0;
bad:
	cryo_vmas_free(vmas);
	return -1;
}

enum cryo_vma_kind cryo_vma_kind(const struct cryo_vma *m)
{
	const char *p = m->path;
	if (cryo_has_prefix(p ? p : "", "[anon_shmem"))
		return CRYO_VMA_SHMEM;
	if (!p || cryo_has_prefix(p, "[anon:") || !strcmp(p, "[heap]") || cryo_has_prefix(p, "[stack"))
		return m->perms[3] == 's' ? CRYO_VMA_SHMEM : CRYO_VMA_ANON;
	/* the vDSO is code gdb needs to unwind through signal frames */
	if (!strcmp(p, "[vdso]"))
		return CRYO_VMA_ANON;
	if (p[0] == '[' || cryo_has_prefix(p, "/secretmem"))
		return CRYO_VMA_SPECIAL;
	if (cryo_has_prefix(p, "/dev/shm/") || cryo_has_prefix(p, "/memfd:") || cryo_has_prefix(p, "/SYSV") ||
	    cryo_has_prefix(p, "/dev/zero"))
		return CRYO_VMA_SHMEM;
	return CRYO_VMA_FILE;
}

const char *cryo_status_field(const char *status, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	for (const char *p = status; p && *p;) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			const char *v = p + klen + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t n = strcspn(v, "\n");
			if (n >= size)
				n = size - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

cJSON *cryo_nul_list_json(const char *data, size_t len, size_t max_items)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i = 0, items = 0;
	while (arr && i < len && items < max_items) {
		const char *s = data + i;
		const char *nul = memchr(s, '\0', len - i);
		size_t n = nul ? (size_t)(nul - s) : len - i;
		char *copy = malloc(n + 1);
		if (!copy)
			break;
		memcpy(copy, s, n);
		copy[n] = '\0';
		cJSON_AddItemToArray(arr, cryo_json_string(copy));
		free(copy);
		items++;
		i += n + 1;
	}
	return arr;
}

cJSON *cryo_limits_json(const char *text)
{
	cJSON *arr = cJSON_CreateArray();
	const char *line = strchr(text, '\n'); /* the first line is the header */
	while (arr && line && *++line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		/* "Max open files            1024                 1048576              files" */
		char l[256];
		if (len >= sizeof(l))
			len = sizeof(l) - 1;
		memcpy(l, line, len);
		l[len] = '\0';
		line = end;
		if (len < 26)
			continue;
		char name[27];
		memcpy(name, l, 26);
		name[26] = '\0';
		for (int k = 25; k >= 0 && name[k] == ' '; k--)
			name[k] = '\0';
		char soft[32] = "", hard[32] = "", units[32] = "";
		if (sscanf(l + 26, "%31s %31s %31s", soft, hard, units) < 2)
			continue;
		cJSON *o = cJSON_CreateObject();
		cryo_json_str(o, "name", name);
		cryo_json_str(o, "soft", soft);
		cryo_json_str(o, "hard", hard);
		cryo_json_str(o, "units", units);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *cryo_idmap_json(const char *text)
{
	cJSON *arr = cJSON_CreateArray();
	for (const char *p = text; arr && p && *p;) {
		unsigned long long in, out, count;
		if (sscanf(p, "%llu %llu %llu", &in, &out, &count) == 3) {
			cJSON *r = cJSON_CreateArray();
			cJSON_AddItemToArray(r, cJSON_CreateNumber((double)in));
			cJSON_AddItemToArray(r, cJSON_CreateNumber((double)out));
			cJSON_AddItemToArray(r, cJSON_CreateNumber((double)count));
			cJSON_AddItemToArray(arr, r);
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return arr;
}

int cryo_fdinfo_parse(const char *text, struct cryo_fdinfo *fi)
{
	memset(fi, 0, sizeof(*fi));
	for (const char *p = text; p && *p;) {
		unsigned long long v;
		if (sscanf(p, "pos: %llu", &v) == 1) {
			fi->pos = v;
			fi->has_pos = true;
		} else if (sscanf(p, "flags: %llo", &v) == 1) {
			fi->flags = (unsigned)v;
			fi->has_flags = true;
		} else if (sscanf(p, "mnt_id: %llu", &v) == 1) {
			fi->mnt_id = v;
		} else if (sscanf(p, "ino: %llu", &v) == 1) {
			fi->ino = v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return fi->has_flags ? 0 : -1;
}

void cryo_open_flags_text(unsigned flags, char *buf, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ O_CREAT, "O_CREAT" },       { O_EXCL, "O_EXCL" },         { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" },       { O_APPEND, "O_APPEND" },     { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" },       { O_ASYNC, "O_ASYNC" },       { O_DIRECT, "O_DIRECT" },
		{ 0100000 /* the kernel's O_LARGEFILE; 0 in 64-bit glibc */, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" },   { O_CLOEXEC, "O_CLOEXEC" },   { O_SYNC, "O_SYNC" },
		{ O_PATH, "O_PATH" },         { O_TMPFILE, "O_TMPFILE" },
	};
	unsigned acc = flags & O_ACCMODE;
	int n = snprintf(buf, size, "%s", acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_ACCMODE");
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(names) && n > 0 && (size_t)n < size; i++)
		if (names[i].bit && (flags & names[i].bit) == names[i].bit)
			n += snprintf(buf + n, size - (size_t)n, "|%s", names[i].name);
}
