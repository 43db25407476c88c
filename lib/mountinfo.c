#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cleanup.h"
#include "cryo/mountinfo.h"
#include "cryo/util.h"
#include <unistd.h>
#include <stdbool.h>

/* Decode the kernel's octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash) in place.  Other backslashes are kept. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static char *next_field(char **p)
{
	char *s = *p;
	if (!s || !*s)
		return NULL;
	char *sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*p = sp + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

int cryo_mountinfo_parse_line(char *line, struct cryo_mount *m)
{
	memset(m, 0, sizeof(*m));
	char *p = line, *f;
	int consumed = 0;
	if (sscanf(p, "%u %u %u:%u %n", &m->id, &m->parent_id, &m->major, &m->minor, &consumed) != 4 ||
	    consumed == 0)
		return -1;
	p += consumed;
	if (!(m->root = next_field(&p)) || !(m->mountpoint = next_field(&p)) ||
	    !(m->mount_opts = next_field(&p)))
		return -1;
	/* optional fields up to the "-" separator */
	char *opt_start = p;
	for (;;) {
		f = next_field(&p);
		if (!f)
			return -1;
		if (strcmp(f, "-") == 0)
			break;
		if (f != opt_start)
			f[-1] = ' '; /* rejoin optional fields into one string */
	}
	m->optional = (p - opt_start > 2) ? opt_start : (char *)"";
	if (m->optional[0]) {
		/* the "-" we cut ended with a NUL at f; optional fields end before it */
		size_t ol = strlen(m->optional);
		if (ol && m->optional[ol - 1] == ' ')
			m->optional[ol - 1] = '\0';
	}
	if (!(m->fstype = next_field(&p)) || !(m->source = next_field(&p)))
		return -1;
	m->super_opts = p; /* rest of line; kept escaped, see cryo_overlay_parse */
	unescape_octal(m->root);
	unescape_octal(m->mountpoint);
	unescape_octal(m->fstype);
	unescape_octal(m->source);
	return 0;
}

void cryo_overlay_free(struct cryo_overlay *o)
{
	free(o->upperdir);
	free(o->workdir);
	for (size_t i = 0; i < o->nlower; i++)
		free(o->lowerdir[i]);
	free(o->lowerdir);
	memset(o, 0, sizeof(*o));
}

/* A layer path as mountinfo shows it, decoded: first the kernel's octal
 * escapes (\054 for ',', \072 for ':' on 6.5-6.6), then overlayfs's own
 * backslash escapes ("\:" and "\,").  Splitting happens on the raw text,
 * before either, so an escaped separator never splits. */
static char *decode_value(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	unescape_octal(d);
	char *w = d;
	for (char *r = d; *r; r++) {
		if (*r == '\\' && r[1])
			r++;
		*w++ = *r;
	}
	*w = '\0';
	return d;
}

static int add_lower(struct cryo_overlay *o, const char *s, size_t n, struct cryo_error *err)
{
	if (o->nlower >= CRYO_OVERLAY_MAX_LOWER)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "overlay: more than %d lower layers",
				      CRYO_OVERLAY_MAX_LOWER);
	char **nv = realloc(o->lowerdir, (o->nlower + 1) * sizeof(*nv));
	if (!nv)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "overlay");
	o->lowerdir = nv;
	char *d = decode_value(s, n);
	if (!d)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "overlay");
	if (!*d) {
		free(d);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "overlay: empty lowerdir entry");
	}
	o->lowerdir[o->nlower++] = d;
	return 0;
}

int cryo_overlay_parse(const char *super_opts, struct cryo_overlay *o, struct cryo_error *err)
{
	memset(o, 0, sizeof(*o));
	size_t len = strlen(super_opts);
	if (len > 1u << 20)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "overlay options too long");
	cleanup_free char *copy = strdup(super_opts);
	if (!copy)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "overlay");
	/* Options are separated by ','; a ',' inside a value is octal-escaped
	 * by the kernel (seq_show_option), so splitting first is safe. */
	char *save = NULL;
	for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strncmp(opt, "upperdir=", 9) == 0) {
			free(o->upperdir);
			o->upperdir = decode_value(opt + 9, strlen(opt + 9));
		} else if (strncmp(opt, "workdir=", 8) == 0) {
			free(o->workdir);
			o->workdir = decode_value(opt + 8, strlen(opt + 8));
		} else if (strcmp(opt, "userxattr") == 0) {
			o->userxattr = true;
		} else if (strncmp(opt, "lowerdir+=", 10) == 0 || strncmp(opt, "datadir+=", 9) == 0) {
			/* new mount API (Linux 6.8+): one layer per option */
			const char *v = strchr(opt, '=') + 1;
			if (add_lower(o, v, strlen(v), err) < 0)
				goto fail;
		} else if (strncmp(opt, "lowerdir=", 9) == 0) {
			const char *v = opt + 9, *start = v;
			for (const char *q = v;; q++) {
				if (*q == '\\' && q[1]) {
					/* "\:" is a colon inside a path; before Linux 6.5
					 * mountinfo showed that backslash as "\134" */
					q += strncmp(q, "\\134:", 5) == 0 ? 4 : 1;
					continue;
				}
				if (*q == ':' || *q == '\0') {
					/* "::" separates data-only lower layers */
					if (q > start && add_lower(o, start, (size_t)(q - start), err) < 0)
						goto fail;
					if (!*q)
						break;
					start = q + 1;
				}
			}
		}
	}
	if (o->nlower == 0) {
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "overlay: no lowerdir");
		goto fail;
	}
	return 0;
fail:
	cryo_overlay_free(o);
	return -1;
}

int cryo_overlay_resolve(struct cryo_overlay *o, const char *const *bases, size_t nbases,
			 struct cryo_error *err)
{
	char base[PATH_MAX] = "";
	if (o->upperdir && o->upperdir[0] == '/') {
		/* Docker (overlay2/<id>/diff) and containerd (snapshots/N/fs) both
		 * chdir two levels above the upper dir for their relative form. */
		snprintf(base, sizeof(base), "%s", o->upperdir);
		for (int up = 0; up < 2; up++) {
			char *slash = strrchr(base, '/');
			if (!slash || slash == base) {
				base[0] = '\0';
				break;
			}
			*slash = '\0';
		}
	} else {
		for (size_t i = 0; i < nbases && !base[0]; i++) {
			char probe[PATH_MAX];
			snprintf(probe, sizeof(probe), "%s/%s", bases[i],
				 o->upperdir ? o->upperdir : o->lowerdir[0]);
			if (access(probe, F_OK) == 0)
				snprintf(base, sizeof(base), "%s", bases[i]);
		}
	}
	bool any = o->upperdir && o->upperdir[0] != '/';
	for (size_t i = 0; i < o->nlower; i++)
		any |= o->lowerdir[i][0] != '/';
	if (!any)
		return 0;
	if (!base[0])
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "overlay: relative layer paths and no base directory to resolve them");
	char **fields[CRYO_OVERLAY_MAX_LOWER + 2];
	size_t nf = 0;
	fields[nf++] = &o->upperdir;
	fields[nf++] = &o->workdir;
	for (size_t i = 0; i < o->nlower; i++)
		fields[nf++] = &o->lowerdir[i];
	for (size_t i = 0; i < nf; i++) {
		char *v = *fields[i];
		if (!v || v[0] == '/')
			continue;
		char *abs = cryo_strdup_printf("%s/%s", base, v);
		if (!abs)
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "overlay");
		free(v);
		*fields[i] = abs;
	}
	return 0;
}

int cryo_mountinfo_root_overlay(char *text, struct cryo_overlay *o, char *fstype,
				size_t fstype_size, struct cryo_error *err)
{
	memset(o, 0, sizeof(*o));
	if (fstype_size)
		fstype[0] = '\0';
	/* The last mount on "/" is the one the process sees (mounts stack). */
	struct cryo_mount root = { 0 };
	bool found = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cryo_mount m;
		if (cryo_mountinfo_parse_line(line, &m) < 0)
			continue;
		if (strcmp(m.mountpoint, "/") == 0) {
			root = m;
			found = true;
		}
	}
	if (!found)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "mountinfo: no root mount");
	if (fstype_size)
		snprintf(fstype, fstype_size, "%s", root.fstype);
	if (strcmp(root.fstype, "overlay") != 0)
		return 0;
	if (cryo_overlay_parse(root.super_opts, o, err) < 0)
		return -1;
	return 1;
}
