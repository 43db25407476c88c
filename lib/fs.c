#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <locale.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/evidence.h"
#include "cryo/fs.h"
#include "cryo/hash.h"
#include "cryo/mountinfo.h"
#include "cryo/output.h"
#include "cryo/util.h"

#define CHUNK (1u << 20)
#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX 65536
#define MAX_EXTENTS 65536
#define MAX_PROBLEMS 1000
#define SPARSE_MAX (64ull << 30)
#define MAX_DEPTH 16384
#define MAX_PATH_BYTES (64u << 10)

/* --- small pieces ----------------------------------------------------------- */

/* A path that grows and shrinks with the walk: no PATH_MAX (a container
 * can nest directories far deeper than that). */
struct pathbuf {
	char *s;
	size_t len, cap;
};

static int path_push(struct pathbuf *p, const char *name, size_t *old)
{
	size_t n = strlen(name);
	*old = p->len;
	if (p->len + n + 2 > p->cap) {
		size_t cap = (p->len + n + 2) * 2;
		char *s = realloc(p->s, cap);
		if (!s)
			return -1;
		p->s = s;
		p->cap = cap;
	}
	p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, n + 1);
	p->len += n;
	return 0;
}

static void path_pop(struct pathbuf *p, size_t old)
{
	p->len = old;
	p->s[old] = '\0';
}

void cryo_fs_mode_string(unsigned mode, char *buf)
{
	char t = S_ISREG(mode) ? 'r' : S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : S_ISCHR(mode) ? 'c'
		: S_ISBLK(mode) ? 'b' : S_ISFIFO(mode) ? 'p' : S_ISSOCK(mode) ? 's' : '-';
	const char *rwx = "rwxrwxrwx";
	buf[0] = t;
	buf[1] = '/';
	buf[2] = t; /* TSK repeats the type letter: "r/rrw-r--r--" (fls, mactime) */
	for (int i = 0; i < 9; i++)
		buf[3 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		buf[5] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		buf[8] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[11] = (mode & S_IXOTH) ? 't' : 'T';
	buf[12] = '\0';
}

/* Extended attributes of dirfd/name without following it: through the
 * pinned directory's /proc/self/fd entry, with the l*xattr calls. */
struct xattr {
	char *name;
	void *value;
	size_t size;
};

/* overlayfs's own attributes, fetched by name whatever the list says:
 * a container that fills the list (E2BIG, or more than we keep) must not
 * hide a whiteout, an opaque directory or a metacopy. */
enum { OVL_WHITEOUT, OVL_OPAQUE, OVL_REDIRECT, OVL_METACOPY, OVL_N };

struct xattrs {
	struct xattr v[64];
	size_t n;
	bool truncated;
	struct xattr ovl[OVL_N]; /* name NULL: absent */
};

static void xattrs_free(struct xattrs *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].name);
		free(x->v[i].value);
	}
	x->n = 0;
	for (int i = 0; i < OVL_N; i++) {
		free(x->ovl[i].value);
		x->ovl[i] = (struct xattr){ 0 };
	}
}

static bool g_userxattr;

/* overlayfs's own xattrs: interpreted, not copied; anything else (a
 * user.overlay.* a process set on a trusted.* overlay among them) is the
 * file's and goes into the layer */
static bool is_ovl_xattr(const char *name)
{
	return cryo_has_prefix(name, g_userxattr ? "user.overlay." : "trusted.overlay.");
}

/* One attribute by name into out (value bounded); false when absent. */
static bool xattr_fetch(const char *path, const char *name, struct xattr *out)
{
	char v[4096];
	ssize_t n = lgetxattr(path, name, v, sizeof(v));
	if (n < 0)
		return false;
	out->value = malloc(n ? (size_t)n : 1);
	if (!out->value)
		return false;
	memcpy(out->value, v, (size_t)n);
	out->size = (size_t)n;
	out->name = (char *)name; /* static: not freed */
	return true;
}

/* x->v: every attribute but overlayfs's own; x->ovl: those four, fetched
 * by name when ovl (the upper dir: a mount's content has no overlay state,
 * and its user.overlay.* are ordinary attributes). */
static void xattrs_read(int dirfd, const char *name, bool ovl, struct xattrs *x)
{
	static const char *const keys[2][OVL_N] = {
		{ "trusted.overlay.whiteout", "trusted.overlay.opaque", "trusted.overlay.redirect", "trusted.overlay.metacopy" },
		{ "user.overlay.whiteout", "user.overlay.opaque", "user.overlay.redirect", "user.overlay.metacopy" },
	};
	x->n = 0;
	x->truncated = false;
	memset(x->ovl, 0, sizeof(x->ovl));
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof(path))
		return;
	for (int i = 0; ovl && i < OVL_N; i++)
		xattr_fetch(path, keys[g_userxattr][i], &x->ovl[i]);
	char list[XATTR_LIST_MAX_BYTES];
	ssize_t n = llistxattr(path, list, sizeof(list));
	if (n <= 0) {
		x->truncated = n < 0 && (errno == ERANGE || errno == E2BIG);
		return;
	}
	for (char *k = list; k < list + n; k += strlen(k) + 1) {
		if (ovl && is_ovl_xattr(k))
			continue; /* interpreted, never copied: fetched above */
		if (x->n == 64) {
			x->truncated = true;
			break;
		}
		ssize_t vs = lgetxattr(path, k, NULL, 0);
		if (vs < 0 || vs > XATTR_VALUE_MAX)
			continue;
		void *v = malloc(vs ? (size_t)vs : 1);
		if (!v)
			continue;
		vs = lgetxattr(path, k, v, (size_t)vs);
		if (vs < 0) {
			free(v);
			continue;
		}
		x->v[x->n].name = strdup(k);
		x->v[x->n].value = v;
		x->v[x->n].size = (size_t)vs;
		x->n++;
	}
}


/* overlayfs keeps its own state in trusted.overlay.*, or in user.overlay.*
 * for a mount with "userxattr" (unprivileged).  Only that namespace is
 * overlayfs's: on a trusted.* overlay, user.overlay.* is whatever a
 * process inside chose to write, and honouring it would let the container
 * hide a file (a forged whiteout) or its content (a forged metacopy). */
static const struct xattr *ovl_get(const struct xattrs *x, int which)
{
	return x->ovl[which].name ? &x->ovl[which] : NULL;
}


/* Reading evidence must not change it: no access time is updated (root
 * may ask; a file it does not own and a kernel that refuses get a plain
 * open). */
static int open_at_noatime(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

/* --- artifact writers --------------------------------------------------------- */

/* A tar written into a case artifact (hashed as it goes). */
struct tarw {
	struct archive *a;
	struct cryo_artifact art;
	struct cryo_error err;
	bool failed;
};

static la_ssize_t tar_out(struct archive *a, void *arg, const void *data, size_t len)
{
	struct tarw *t = arg;
	if (cryo_artifact_write(&t->art, data, len, &t->err) < 0) {
		t->failed = true;
		archive_set_error(a, t->err.errnum ? t->err.errnum : EIO, "%s", t->err.msg);
		return -1;
	}
	return (la_ssize_t)len;
}

static int tar_open(struct tarw *t, struct cryo_case *k, const char *relpath, struct cryo_error *err)
{
	memset(t, 0, sizeof(*t));
	if (cryo_artifact_begin(k, relpath, &t->art, err) < 0)
		return -1;
	t->a = archive_write_new();
	/* pax: nanosecond times, xattrs, long and non-UTF-8 names, sparse
	 * files (GNU sparse 1.0) */
	if (!t->a || archive_write_set_format_pax(t->a) != ARCHIVE_OK ||
	    /* xattrs as SCHILY.xattr only: what GNU tar reads, without the
	     * duplicate LIBARCHIVE.xattr records it warns about */
	    archive_write_set_format_option(t->a, "pax", "xattrheader", "SCHILY") < ARCHIVE_WARN ||
	    /* 1 MiB writes instead of 10 KiB ones; the end is not padded */
	    archive_write_set_bytes_per_block(t->a, 1 << 20) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open2(t->a, t, NULL, tar_out, NULL, NULL) != ARCHIVE_OK) {
		cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "libarchive: %s", t->a ? archive_error_string(t->a) : "no memory");
		if (t->a)
			archive_write_free(t->a);
		t->a = NULL;
		cryo_artifact_abort(&t->art);
		return -1;
	}
	return 0;
}

static int tar_close(struct tarw *t, struct cryo_custody_entry *e, struct cryo_error *err)
{
	int r = archive_write_close(t->a);
	archive_write_free(t->a);
	t->a = NULL;
	if (r != ARCHIVE_OK || t->failed) {
		*err = t->err;
		if (!err->msg[0])
			cryo_error_set(err, CRYO_EXIT_IOERR, 0, "%s: write failed", t->art.relpath);
		cryo_artifact_abort(&t->art);
		return -1;
	}
	return cryo_artifact_commit(&t->art, e, err);
}

static void tar_abort(struct tarw *t)
{
	if (t->a)
		archive_write_free(t->a);
	t->a = NULL;
	cryo_artifact_abort(&t->art);
}

/* A JSON array written one element at a time: memory stays bounded
 * whatever the number of entries. */
struct jsonw {
	struct cryo_artifact art;
	bool open, any, failed;
	struct cryo_error err;
};

static int jsonw_open(struct jsonw *j, struct cryo_case *k, const char *relpath, struct cryo_error *err)
{
	memset(j, 0, sizeof(*j));
	if (cryo_artifact_begin(k, relpath, &j->art, err) < 0)
		return -1;
	j->open = true;
	return cryo_artifact_write(&j->art, "[\n", 2, err);
}

static void jsonw_add(struct jsonw *j, cJSON *v)
{
	cleanup_free char *s = cJSON_PrintUnformatted(v);
	if (!s || j->failed)
		return;
	if ((j->any && cryo_artifact_write(&j->art, ",\n", 2, &j->err) < 0) ||
	    cryo_artifact_write(&j->art, s, strlen(s), &j->err) < 0)
		j->failed = true;
	j->any = true;
}

static int jsonw_close(struct jsonw *j, struct cryo_custody_entry *e, struct cryo_error *err)
{
	j->open = false;
	if (j->failed || cryo_artifact_write(&j->art, "\n]\n", 3, &j->err) < 0) {
		*err = j->err;
		cryo_artifact_abort(&j->art);
		return -1;
	}
	return cryo_artifact_commit(&j->art, e, err);
}

static void jsonw_abort(struct jsonw *j)
{
	if (j->open)
		cryo_artifact_abort(&j->art);
	j->open = false;
}

/* --- the snapshot ------------------------------------------------------------ */

struct link {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct snap {
	const struct cryo_fs_request *req;
	cJSON *result, *problems;
	struct jsonw changes, deleted;
	struct cryo_artifact body;
	bool body_open;
	struct cryo_sha256 *sha;
	uint8_t *buf, *zeros;
	int *lower;        /* fds of the lower dirs, top-most first */
	size_t nlower;
	struct link *links;
	size_t nlinks, caplinks;
	size_t *slots;     /* open addressing over links by (dev, ino): 1 + index, 0 free */
	size_t nslots;
	uint64_t entries, files, bytes, added, modified, deleted_n, excluded, problems_dropped;
};

/* The first name of each multiply-linked file, found by (dev, ino) in
 * constant time: a container with 100,000 hard links costs a table, not
 * a scan per file.  At most 1,000,000 are kept (then a later name is
 * stored whole: larger evidence, never wrong). */
static size_t link_slot(dev_t dev, ino_t ino, size_t nslots)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)dev * 0xc2b2ae3d27d4eb4full);
	return (size_t)(h >> 17) & (nslots - 1);
}

static const struct link *link_find(const struct snap *s, dev_t dev, ino_t ino)
{
	for (size_t i = s->nslots ? link_slot(dev, ino, s->nslots) : 0; s->nslots && s->slots[i];
	     i = (i + 1) & (s->nslots - 1)) {
		const struct link *l = &s->links[s->slots[i] - 1];
		if (l->dev == dev && l->ino == ino)
			return l;
	}
	return NULL;
}

static void link_add(struct snap *s, dev_t dev, ino_t ino, const char *rel)
{
	if (s->nlinks >= 1000000 || cryo_grow(&s->links, &s->caplinks, s->nlinks, sizeof(*s->links), 64) < 0)
		return;
	if ((s->nlinks + 1) * 2 > s->nslots) {
		size_t n = s->nslots ? s->nslots * 2 : 256;
		size_t *slots = calloc(n, sizeof(*slots));
		if (!slots)
			return;
		for (size_t k = 0; k < s->nlinks; k++) {
			size_t i = link_slot(s->links[k].dev, s->links[k].ino, n);
			while (slots[i])
				i = (i + 1) & (n - 1);
			slots[i] = k + 1;
		}
		free(s->slots);
		s->slots = slots;
		s->nslots = n;
	}
	char *copy = strdup(rel);
	if (!copy)
		return;
	s->links[s->nlinks] = (struct link){ dev, ino, copy };
	size_t i = link_slot(dev, ino, s->nslots);
	while (s->slots[i])
		i = (i + 1) & (s->nslots - 1);
	s->slots[i] = ++s->nlinks;
}

static void problem(struct snap *s, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct snap *s, const char *path, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (cJSON_GetArraySize(s->problems) >= MAX_PROBLEMS) {
		s->problems_dropped++;
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "path", path);
	cryo_json_str(o, "problem", why);
	cJSON_AddItemToArray(s->problems, o);
}

/* The body file: "SHA256|/path|inode|mode|uid|gid|size|atime|mtime|ctime|crtime".
 * The hash column (TSK's MD5 column, which mactime does not print) holds
 * the SHA-256 for other readers of the file; '|', '\' and bytes outside
 * printable ASCII in names are written as \xHH. */
static void body_line(struct snap *s, const char *path, const struct statx *st, const char *sha)
{
	if (!s->body_open)
		return;
	char mode[13], head[256];
	cryo_fs_mode_string(st->stx_mode, mode);
	size_t n = strlen(path);
	cleanup_free char *esc = malloc(n * 4 + 1);
	if (!esc)
		return;
	char *o = esc;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '|' || *p == '\\')
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	snprintf(head, sizeof(head), "%s|", sha && sha[0] ? sha : "0");
	char tail[256];
	snprintf(tail, sizeof(tail), "|%llu|%s|%u|%u|%llu|%lld|%lld|%lld|%lld\n", (unsigned long long)st->stx_ino, mode,
		 st->stx_uid, st->stx_gid, (unsigned long long)st->stx_size, (long long)st->stx_atime.tv_sec,
		 (long long)st->stx_mtime.tv_sec, (long long)st->stx_ctime.tv_sec,
		 (st->stx_mask & STATX_BTIME) ? (long long)st->stx_btime.tv_sec : 0LL);
	struct cryo_error e;
	if (cryo_artifact_write(&s->body, head, strlen(head), &e) < 0 ||
	    cryo_artifact_write(&s->body, esc, strlen(esc), &e) < 0 ||
	    cryo_artifact_write(&s->body, tail, strlen(tail), &e) < 0)
		problem(s, "fs/bodyfile", "%s", e.msg);
}

/* A name the container chose: as a JSON string (bytes that are not UTF-8
 * written as \xHH), and, when it is not UTF-8, its exact bytes in base64
 * beside it (KEY_b64). */
static void json_path(cJSON *o, const char *key, const char *name)
{
	cryo_json_str(o, key, name);
	if (cryo_utf8_valid(name))
		return;
	size_t n = strlen(name), cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	cleanup_free char *out = malloc(cap);
	if (!out)
		return;
	sodium_bin2base64(out, cap, (const unsigned char *)name, n, sodium_base64_VARIANT_ORIGINAL);
	char k[64];
	snprintf(k, sizeof(k), "%s_b64", key);
	cryo_json_str(o, k, out);
}

static const char *type_name(unsigned mode)
{
	return S_ISREG(mode) ? "file" : S_ISDIR(mode) ? "dir" : S_ISLNK(mode) ? "symlink" : S_ISCHR(mode) ? "char"
		: S_ISBLK(mode) ? "block" : S_ISFIFO(mode) ? "fifo" : S_ISSOCK(mode) ? "socket" : "unknown";
}

static void ts(cJSON *o, const char *k, const struct statx_timestamp *t)
{
	char buf[64];
	cryo_format_utc_ts(t->tv_sec, t->tv_nsec, buf, sizeof(buf));
	cryo_json_str(o, k, buf);
}

/* The entry of the lower layers at path ("" for none): its lstat, and
 * the lower's fd and relative path for reading it. */
static int lower_find(struct snap *s, const char *rel, struct stat *st)
{
	for (size_t i = 0; i < s->nlower; i++) {
		struct cryo_error e;
		/* O_PATH: nothing is opened, the path is only resolved, never
		 * through a symlink */
		int fd = cryo_open_beneath(s->lower[i], rel, O_PATH, &e);
		if (fd < 0)
			continue;
		int r = fstat(fd, st);
		close(fd);
		if (r < 0)
			continue;
		/* a whiteout in a lower layer hides what is below it */
		if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
			return -1;
		return (int)i;
	}
	return -1;
}

/* Hash a regular file of the lower layers (bounded). */
static void lower_hash(struct snap *s, int layer, const char *rel, char out[CRYO_SHA256_HEX])
{
	out[0] = '\0';
	struct cryo_error e;
	cleanup_close int fd = cryo_open_beneath(s->lower[layer], rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOATIME, &e);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (s->req->max_file_size && (uint64_t)st.st_size > s->req->max_file_size))
		return;
	cryo_sha256_reset(s->sha);
	for (ssize_t n; (n = read(fd, s->buf, CHUNK)) > 0;)
		cryo_sha256_update(s->sha, s->buf, (size_t)n);
	cryo_sha256_final_hex(s->sha, out);
}

static void add_xattrs(struct archive_entry *ae, const struct xattrs *x)
{
	for (size_t i = 0; i < x->n; i++)
		archive_entry_xattr_add_entry(ae, x->v[i].name, x->v[i].value, x->v[i].size);
}

static void set_times(struct archive_entry *ae, const struct statx *st)
{
	archive_entry_set_atime(ae, st->stx_atime.tv_sec, st->stx_atime.tv_nsec);
	archive_entry_set_mtime(ae, st->stx_mtime.tv_sec, st->stx_mtime.tv_nsec);
	archive_entry_set_ctime(ae, st->stx_ctime.tv_sec, st->stx_ctime.tv_nsec);
	/* the birth time goes to changes.json and the body file, not the
	 * tar: GNU tar warns about libarchive's own keyword for it */
}

/* The data of a regular file, from fd (possibly another layer's, for a
 * metacopy file): sparse extents found with SEEK_DATA/SEEK_HOLE, holes
 * hashed as the zeros they read as but not stored.  1 (nothing written)
 * for a file too fragmented to map and too large to store whole. */
static int write_data(struct snap *s, struct tarw *t, struct archive_entry *ae, int fd, uint64_t size,
		      const char *path, char sha[CRYO_SHA256_HEX], bool *short_read)
{
	struct { off_t off, len; } *ext = NULL;
	size_t next = 0;
	bool sparse = false;
	struct stat st;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_blocks * 512 < size && size > CHUNK) {
		ext = malloc(sizeof(*ext) * 1024);
		size_t cap = 1024;
		off_t pos = 0;
		sparse = ext != NULL;
		while (sparse && pos < (off_t)size) {
			off_t d = lseek(fd, pos, SEEK_DATA);
			if (d < 0)
				break; /* ENXIO: only a hole is left */
			off_t h = lseek(fd, d, SEEK_HOLE);
			if (h < 0 || h > (off_t)size)
				h = (off_t)size;
			if (next == cap) {
				if (cap >= MAX_EXTENTS) {
					/* too fragmented to map: stored whole when that is
					 * small, else refused (a hostile file would fill the
					 * case's disk with zeros) */
					if (size > (1ull << 30)) {
						free(ext);
						return 1;
					}
					sparse = false;
					break;
				}
				void *n = realloc(ext, sizeof(*ext) * cap * 2);
				if (!n) {
					sparse = false;
					break;
				}
				ext = n;
				cap *= 2;
			}
			ext[next].off = d;
			ext[next].len = h - d;
			next++;
			pos = h;
		}
	}
	if (sparse && ae) {
		for (size_t i = 0; i < next; i++)
			archive_entry_sparse_add_entry(ae, ext[i].off, ext[i].len);
		/* a file that ends in a hole needs a last empty extent at its end */
		if (!next || ext[next - 1].off + ext[next - 1].len < (off_t)size)
			archive_entry_sparse_add_entry(ae, (la_int64_t)size, 0);
	}
	if (ae && archive_write_header(t->a, ae) < ARCHIVE_WARN) {
		free(ext);
		problem(s, path, "tar: %s", archive_error_string(t->a));
		return t->failed ? -1 : 0;
	}
	cryo_sha256_reset(s->sha);
	*short_read = false;
	uint64_t pos = 0;
	size_t e = 0;
	lseek(fd, 0, SEEK_SET);
	while (pos < size) {
		if (cryo_interrupted) {
			free(ext);
			return -1;
		}
		uint64_t want = size - pos < CHUNK ? size - pos : CHUNK;
		const uint8_t *src;
		if (sparse && (e >= next || (off_t)pos < ext[e].off)) {
			/* in a hole: up to the next extent */
			uint64_t end = e < next ? (uint64_t)ext[e].off : size;
			if (want > end - pos)
				want = end - pos;
			src = s->zeros;
		} else {
			if (sparse && want > (uint64_t)(ext[e].off + ext[e].len) - pos)
				want = (uint64_t)(ext[e].off + ext[e].len) - pos;
			ssize_t n = pread(fd, s->buf, want, (off_t)pos);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				problem(s, path, "read: %s", strerror(errno));
				n = 0;
			}
			if (n == 0) {
				*short_read = true; /* shrank while read: zeros stand in */
				memset(s->buf, 0, want);
				n = (ssize_t)want;
			}
			want = (uint64_t)n;
			src = s->buf;
		}
		cryo_sha256_update(s->sha, src, want);
		if (t && archive_write_data(t->a, src, want) < 0) {
			free(ext);
			return -1;
		}
		pos += want;
		if (sparse && e < next && (off_t)pos >= ext[e].off + ext[e].len)
			e++;
	}
	free(ext);
	cryo_sha256_final_hex(s->sha, sha);
	s->bytes += size;
	return 0;
}

enum walk_mode { DIFF, PLAIN };

struct walk {
	struct snap *s;
	enum walk_mode mode;
	struct tarw *tar;
	const char *prefix; /* the container path of the walk's root: "" for / */
	dev_t dev;          /* PLAIN: stay on this filesystem */
	uint64_t mnt_id;    /* PLAIN: and in this mount (0: unknown, dev decides) */
	int root;
};

static bool excluded(struct snap *s, const char *cpath)
{
	for (size_t i = 0; i < s->req->nexclude; i++)
		if (fnmatch(s->req->exclude[i], cpath, 0) == 0)
			return true;
	return false;
}

/* An entry whose data is not in the layer: empty, with its true size in
 * an attribute a reader of the layer can see. */
static void mark_not_captured(struct archive_entry *ae, uint64_t size)
{
	char v[32];
	snprintf(v, sizeof(v), "%llu", (unsigned long long)size);
	archive_entry_xattr_add_entry(ae, "user.cryo.not-captured-size", v, strlen(v));
	archive_entry_set_size(ae, 0);
}

/* An OCI marker (".wh.NAME" whiteout, ".wh..wh..opq"): an empty file. */
static void add_marker(struct walk *w, const char *name, const struct statx *st, const char *cpath)
{
	struct archive_entry *ae = archive_entry_new();
	if (!ae)
		return;
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0);
	archive_entry_set_size(ae, 0);
	set_times(ae, st);
	if (archive_write_header(w->tar->a, ae) < ARCHIVE_WARN)
		problem(w->s, cpath, "tar: %s", archive_error_string(w->tar->a));
	archive_entry_free(ae);
}

/* One entry of the walk.  rel: its path relative to the walk root
 * ("a/b"); cpath: its path in the container ("/a/b").  Returns true when
 * it is a directory to descend into. */
static bool visit(struct walk *w, int dirfd, const char *name, const char *rel, const char *cpath,
		  const struct statx *st)
{
	struct snap *s = w->s;
	struct xattrs x;
	xattrs_read(dirfd, name, w->mode == DIFF, &x);
	bool descend = false;
	unsigned mode = st->stx_mode;
	cJSON *ch = cJSON_CreateObject();
	json_path(ch, "path", cpath);
	char sha[CRYO_SHA256_HEX] = "";
	struct stat lst;
	int layer = w->mode == DIFF ? lower_find(s, rel, &lst) : -1;
	bool whiteout = w->mode == DIFF && ((S_ISCHR(mode) && st->stx_rdev_major == 0 && st->stx_rdev_minor == 0) ||
					    (S_ISREG(mode) && st->stx_size == 0 && ovl_get(&x, OVL_WHITEOUT)));
	s->entries++;

	if (whiteout) {
		/* OCI: an empty regular file ".wh.NAME" beside where NAME was */
		cryo_json_str(ch, "change", "deleted");
		cryo_json_str(ch, "type", layer >= 0 ? type_name(lst.st_mode) : "unknown");
		cryo_json_bool(ch, "in_lower", layer >= 0);
		if (layer >= 0)
			cryo_json_num(ch, "lower_size", (double)lst.st_size);
		cJSON *d = cJSON_CreateObject();
		cryo_json_str(d, "p", cpath);
		jsonw_add(&s->deleted, cJSON_GetObjectItemCaseSensitive(d, "p"));
		cJSON_Delete(d);
		s->deleted_n++;
		const char *slash = strrchr(rel, '/');
		cleanup_free char *wh = slash ? cryo_strdup_printf("%.*s/.wh.%s", (int)(slash - rel), rel, slash + 1)
					      : cryo_strdup_printf(".wh.%s", rel);
		if (wh)
			add_marker(w, wh, st, cpath);
		jsonw_add(&s->changes, ch);
		cJSON_Delete(ch);
		xattrs_free(&x);
		return false;
	}

	/* a name of the OCI whiteout form that is no whiteout: in the layer
	 * it would delete what it names (or, .wh..wh..opq, the whole lower
	 * directory) when applied; recorded, kept out of the layer */
	bool wh_named = w->mode == DIFF && cryo_has_prefix(name, ".wh.");
	if (wh_named)
		problem(s, cpath, "named like an OCI whiteout: recorded in changes.json, kept out of the layer");
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, rel);
	archive_entry_set_mode(ae, mode);
	archive_entry_set_uid(ae, st->stx_uid);
	archive_entry_set_gid(ae, st->stx_gid);
	set_times(ae, st);
	add_xattrs(ae, &x);
	cryo_json_str(ch, "change", w->mode == PLAIN ? "present" : layer >= 0 ? "modified" : "added");
	cryo_json_str(ch, "type", type_name(mode));
	cryo_json_num(ch, "size", (double)st->stx_size);
	char m[16];
	snprintf(m, sizeof(m), "%04o", mode & 07777);
	cryo_json_str(ch, "mode", m);
	cryo_json_num(ch, "uid", st->stx_uid);
	cryo_json_num(ch, "gid", st->stx_gid);
	ts(ch, "mtime", &st->stx_mtime);
	ts(ch, "ctime", &st->stx_ctime);
	ts(ch, "atime", &st->stx_atime);
	if (st->stx_mask & STATX_BTIME)
		ts(ch, "btime", &st->stx_btime);
	if (w->mode == DIFF)
		cryo_json_bool(ch, "in_lower", layer >= 0);
	bool counted = true;
	bool wrote_header = false;

	if (S_ISDIR(mode)) {
		descend = true;
		/* a directory copied up only because something below changed is
		 * not itself a change; one whose mode or owner differs from the
		 * image's is (chmod 777 /root) */
		counted = layer < 0;
		if (layer >= 0 && w->mode == DIFF &&
		    ((lst.st_mode & 07777) != (mode & 07777) || lst.st_uid != st->stx_uid || lst.st_gid != st->stx_gid ||
		     !S_ISDIR(lst.st_mode))) {
			counted = true;
			cJSON *lo = cJSON_AddObjectToObject(ch, "lower");
			char lm[16];
			snprintf(lm, sizeof(lm), "%04o", lst.st_mode & 07777);
			cryo_json_str(lo, "type", type_name(lst.st_mode));
			cryo_json_str(lo, "mode", lm);
			cryo_json_num(lo, "uid", lst.st_uid);
			cryo_json_num(lo, "gid", lst.st_gid);
		}
		const struct xattr *op = w->mode == DIFF ? ovl_get(&x, OVL_OPAQUE) : NULL;
		const struct xattr *rd = w->mode == DIFF ? ovl_get(&x, OVL_REDIRECT) : NULL;
		if (op && op->size >= 1 && ((char *)op->value)[0] == 'y') {
			cryo_json_bool(ch, "opaque", true);
			counted = true;
		}
		if (rd) {
			cleanup_free char *origin = strndup(rd->value, rd->size);
			cryo_json_str(ch, "redirect_from", origin);
			problem(s, cpath,
				"a renamed directory (overlay redirect from %s): its content below is only what changed; the lower content is not in the layer",
				origin ? origin : "?");
			counted = true;
		}
		archive_entry_set_size(ae, 0);
		if (!wh_named && archive_write_header(w->tar->a, ae) < ARCHIVE_WARN)
			problem(s, cpath, "tar: %s", archive_error_string(w->tar->a));
		wrote_header = true;
		if (op && op->size >= 1 && ((char *)op->value)[0] == 'y') {
			cleanup_free char *opq = cryo_strdup_printf("%s/.wh..wh..opq", rel);
			if (opq)
				add_marker(w, opq, st, cpath);
		}
	} else if (S_ISLNK(mode)) {
		/* recorded, never followed */
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		archive_entry_set_symlink(ae, target);
		archive_entry_set_size(ae, 0);
		json_path(ch, "link_target", target);
	} else if (S_ISREG(mode)) {
		s->files++;
		uint64_t size = st->stx_size;
		bool hard = false;
		if (st->stx_nlink > 1) {
			dev_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);
			const struct link *first = link_find(s, dev, st->stx_ino);
			if (first && w->tar) {
				archive_entry_set_hardlink(ae, first->path);
				archive_entry_set_size(ae, 0);
				json_path(ch, "hardlink_to", first->path);
				hard = true;
			}
			if (!hard)
				link_add(s, dev, st->stx_ino, rel);
		}
		bool big = s->req->max_file_size && size > s->req->max_file_size;
		/* a sparse file is hashed whole (its holes as zeros): one of
		 * exabytes (truncate -s, any process) would take centuries */
		bool hollow = !big && size > SPARSE_MAX && (uint64_t)st->stx_blocks * 512 < size;
		if (!hard && (big || hollow)) {
			/* metadata only: the size stays true in the JSON; the layer
			 * holds an empty file marked with the size it had */
			mark_not_captured(ae, size);
			cryo_json_str(ch, "content", big ? "not captured (larger than --max-file-size)"
							 : "not captured (a sparse file larger than 64 GiB)");
			if (hollow)
				problem(s, cpath, "a sparse file of %llu bytes: metadata only", (unsigned long long)size);
		} else if (!hard) {
			/* opened only once lstat said regular, without following and
			 * without blocking, and checked to be the same inode */
			int fd = open_at_noatime(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			struct stat fst;
			const struct xattr *mc = w->mode == DIFF ? ovl_get(&x, OVL_METACOPY) : NULL;
			if (fd >= 0 && (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st->stx_ino)) {
				close(fd);
				fd = -1;
				errno = ESTALE;
			}
			int data_fd = fd;
			if (fd >= 0 && mc) {
				/* metacopy: the metadata is here, the data in a lower
				 * layer (at the redirect path if there is one) */
				const struct xattr *rd = ovl_get(&x, OVL_REDIRECT);
				cleanup_free char *from = rd ? strndup(rd->value, rd->size) : NULL;
				/* an absolute redirect is from the layer's root; a relative
				 * one (a rename in the same directory) is a sibling */
				const char *slash = strrchr(rel, '/');
				cleanup_free char *sib = from && from[0] != '/' && slash
								 ? cryo_strdup_printf("%.*s/%s", (int)(slash - rel), rel, from)
								 : NULL;
				const char *lp = sib ? sib : from ? (from[0] == '/' ? from + 1 : from) : rel;
				struct stat ls2, ds;
				int ly = lower_find(s, lp, &ls2);
				struct cryo_error e;
				data_fd = ly >= 0 && S_ISREG(ls2.st_mode)
						  ? cryo_open_beneath(s->lower[ly], lp, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOATIME, &e)
						  : -1;
				if (data_fd >= 0 && (fstat(data_fd, &ds) < 0 || !S_ISREG(ds.st_mode) || (uint64_t)ds.st_size != size)) {
					/* the data must be a regular file of the size the
					 * metadata gives, or it is not this file's */
					close(data_fd);
					data_fd = -1;
				}
				cryo_json_bool(ch, "metacopy", true);
				if (data_fd < 0) {
					problem(s, cpath, "metacopy file: its data was not found in the lower layers");
					errno = ENOENT;
				}
			}
			if (data_fd < 0) {
				problem(s, cpath, "cannot read: %s", strerror(errno));
				archive_entry_set_size(ae, 0);
			} else {
				archive_entry_set_size(ae, (la_int64_t)size);
				bool short_read = false;
				/* hashed all the same; only kept out of the layer */
				int wr = wh_named ? write_data(s, NULL, NULL, data_fd, size, cpath, sha, &short_read)
						  : write_data(s, w->tar, ae, data_fd, size, cpath, sha, &short_read);
				if (wr == 1) {
					mark_not_captured(ae, size);
					cryo_json_str(ch, "content", "not captured (a sparse file too fragmented to map)");
					problem(s, cpath, "a sparse file with more than %d extents: metadata only", MAX_EXTENTS);
				}
				if (wr < 0) {
					if (data_fd != fd)
						close(data_fd);
					close(fd);
					archive_entry_free(ae);
					cJSON_Delete(ch);
					xattrs_free(&x);
					return false;
				}
				wrote_header = wr == 0;
				struct stat after;
				if (wr == 1) {
					/* nothing was read */
				} else if (short_read || (fstat(fd, &after) == 0 &&
						   ((uint64_t)after.st_size != size || after.st_mtim.tv_sec != st->stx_mtime.tv_sec ||
						    after.st_mtim.tv_nsec != st->stx_mtime.tv_nsec ||
						    after.st_ctim.tv_sec != st->stx_ctime.tv_sec ||
						    after.st_ctim.tv_nsec != st->stx_ctime.tv_nsec))) {
					cryo_json_bool(ch, "changed_while_read", true);
					problem(s, cpath, "changed while it was read (the container is not frozen?)");
				}
				if (wr == 0)
					cryo_json_str(ch, "sha256", sha);
				if (data_fd != fd)
					close(data_fd);
			}
			if (fd >= 0)
				close(fd);
		}
		if (w->mode == DIFF && layer >= 0 && S_ISREG(lst.st_mode)) {
			char lsha[CRYO_SHA256_HEX];
			lower_hash(s, layer, rel, lsha);
			cJSON *lo = cJSON_AddObjectToObject(ch, "lower");
			cryo_json_num(lo, "size", (double)lst.st_size);
			cryo_json_str(lo, "sha256", lsha);
		}
	} else {
		/* FIFO, socket, device: recorded, never opened */
		archive_entry_set_size(ae, 0);
		if (S_ISCHR(mode) || S_ISBLK(mode)) {
			archive_entry_set_rdevmajor(ae, st->stx_rdev_major);
			archive_entry_set_rdevminor(ae, st->stx_rdev_minor);
			char dev[32];
			snprintf(dev, sizeof(dev), "%u:%u", st->stx_rdev_major, st->stx_rdev_minor);
			cryo_json_str(ch, "device", dev);
		}
		if (S_ISSOCK(mode)) {
			/* tar has no socket type: in changes.json only */
			wrote_header = true;
		}
	}
	if (x.n) {
		/* an array, not an object: names are the container's bytes, and
		 * a JSON key is never escaped by the string setter */
		cJSON *xa = cJSON_AddArrayToObject(ch, "xattrs");
		for (size_t i = 0; i < x.n; i++) {
			cleanup_free char *hex = malloc(x.v[i].size * 2 + 1);
			if (!hex)
				continue;
			for (size_t b = 0; b < x.v[i].size; b++)
				sprintf(hex + 2 * b, "%02x", ((unsigned char *)x.v[i].value)[b]);
			hex[2 * x.v[i].size] = '\0';
			cJSON *xo = cJSON_CreateObject();
			json_path(xo, "name", x.v[i].name);
			cryo_json_str(xo, "value_hex", hex[0] ? hex : NULL);
			cJSON_AddItemToArray(xa, xo);
		}
	}
	if (x.truncated)
		problem(s, cpath, "more extended attributes than cryo reads (64 of them, 64 KiB of names): some not recorded");
	if (!wrote_header && !wh_named && archive_write_header(w->tar->a, ae) < ARCHIVE_WARN)
		problem(s, cpath, "tar: %s", archive_error_string(w->tar->a));
	archive_entry_free(ae);
	if (counted && w->mode == DIFF) {
		if (layer >= 0)
			s->modified++;
		else
			s->added++;
	}
	if (w->mode == DIFF && (counted || !S_ISDIR(mode)))
		jsonw_add(&s->changes, ch);
	if (w->mode == DIFF)
		body_line(s, cpath, st, sha);
	cJSON_Delete(ch);
	xattrs_free(&x);
	return descend;
}

struct frame {
	DIR *d;
	size_t rlen, clen; /* the paths' lengths before this directory */
};

/* Depth first, iteratively: a 10,000-deep tree costs heap, not stack.
 * Each level holds its directory open (the walk never re-resolves a path
 * the container could change); at the descriptor limit a subtree is a
 * problem, not a crash. */
static int walk_tree(struct walk *w, struct cryo_error *err)
{
	struct snap *s = w->s;
	struct pathbuf rel = { 0 }, cpath = { 0 };
	size_t cap = 64, n = 0, dummy;
	struct frame *st = malloc(cap * sizeof(*st));
	int dfd = fcntl(w->root, F_DUPFD_CLOEXEC, 0);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!st || !d || path_push(&cpath, "", &dummy) < 0) {
		free(st);
		if (d)
			closedir(d);
		else if (dfd >= 0)
			close(dfd);
		return cryo_error_set(err, CRYO_EXIT_OSERR, errno, "walk");
	}
	/* cpath starts as the prefix ("" or "/mnt/x"), rel as "" */
	free(cpath.s);
	cpath.s = strdup(w->prefix);
	cpath.len = strlen(w->prefix);
	cpath.cap = cpath.len + 1;
	rel.s = calloc(1, 1);
	rel.cap = 1;
	st[n++] = (struct frame){ d, 0, cpath.len };
	int rc = 0;
	while (n > 0) {
		struct frame *f = &st[n - 1];
		if (cryo_interrupted) {
			rc = cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
			break;
		}
		errno = 0;
		struct dirent *de = readdir(f->d);
		if (!de) {
			/* back to the parent's path */
			closedir(f->d);
			path_pop(&rel, f->rlen);
			path_pop(&cpath, f->clen);
			n--;
			continue;
		}
		if (cryo_is_dot(de->d_name))
			continue;
		size_t rold, cold;
		if (path_push(&rel, de->d_name, &rold) < 0 || path_push(&cpath, de->d_name, &cold) < 0) {
			rc = cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "walk");
			break;
		}
		const char *relp = rel.s + 1; /* without the leading '/' */
		struct statx sx;
		if (statx(dirfd(f->d), de->d_name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
			  STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID, &sx) < 0) {
			if (errno != ENOENT)
				problem(s, cpath.s, "stat: %s", strerror(errno));
			path_pop(&rel, rold);
			path_pop(&cpath, cold);
			continue;
		}
		/* the mount id, not the device: an overlay's files report their
		 * layer's device, and a bind mount of the same filesystem has
		 * the same one */
		if (w->mode == PLAIN && ((w->mnt_id && (sx.stx_mask & STATX_MNT_ID)) ? sx.stx_mnt_id != w->mnt_id
						       : makedev(sx.stx_dev_major, sx.stx_dev_minor) != w->dev)) {
			/* another filesystem mounted here: listed in mounts.json */
			path_pop(&rel, rold);
			path_pop(&cpath, cold);
			continue;
		}
		if (excluded(s, cpath.s)) {
			s->excluded++;
			path_pop(&rel, rold);
			path_pop(&cpath, cold);
			continue;
		}
		bool down = visit(w, dirfd(f->d), de->d_name, relp, cpath.s, &sx);
		if (down && (n >= MAX_DEPTH || rel.len > MAX_PATH_BYTES)) {
			/* every entry repeats its whole path in each artifact: past
			 * this, a tree costs the square of its depth in evidence */
			problem(s, cpath.s, "deeper than %d levels or %u bytes of path: not entered", MAX_DEPTH,
				MAX_PATH_BYTES);
			down = false;
		}
		if (w->tar->failed) {
			*err = w->tar->err;
			rc = -1;
			break;
		}
		if (down) {
			int sub = open_at_noatime(dirfd(f->d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			DIR *sd = sub >= 0 ? fdopendir(sub) : NULL;
			if (!sd) {
				problem(s, cpath.s, "cannot enter: %s", strerror(errno));
				if (sub >= 0)
					close(sub);
			} else {
				if (cryo_grow(&st, &cap, n, sizeof(*st), 64) < 0) {
					closedir(sd);
					rc = cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "walk");
					break;
				}
				st[n++] = (struct frame){ sd, rold, cold };
				continue;
			}
		}
		path_pop(&rel, rold);
		path_pop(&cpath, cold);
	}
	while (n > 0)
		closedir(st[--n].d);
	free(st);
	free(rel.s);
	free(cpath.s);
	return rc;
}

/* --- mounts ------------------------------------------------------------------ */

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static const char *mount_kind(const struct cryo_mount *m)
{
	static const char *const kernel[] = { "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue",
					      "securityfs", "debugfs", "tracefs", "bpf", "binfmt_misc" };
	if (!strcmp(m->mountpoint, "/"))
		return "rootfs";
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(kernel); i++)
		if (!strcmp(m->fstype, kernel[i]))
			return "kernel";
	if (under(m->mountpoint, "/proc") || under(m->mountpoint, "/sys"))
		return "kernel";
	if (!strcmp(m->fstype, "tmpfs"))
		return !strcmp(m->mountpoint, "/dev") ? "dev" : "tmpfs";
	return "volume";
}

/* One filesystem seen from inside the container (/proc/PID/root), walked
 * in PLAIN mode: everything on that filesystem below the mount point, no
 * other mount, no symlink followed, into its own tar. */
static int capture_tree(struct snap *s, int rootfd, const char *mountpoint, const char *artifact,
			struct cryo_error *err)
{
	cleanup_close int fd = mountpoint[1] ? cryo_open_beneath(rootfd, mountpoint + 1, O_PATH, err)
					     : fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return cryo_error_wrap(err, "mount %s", mountpoint);
	/* a hard link can only point into its own tar */
	for (size_t i = 0; i < s->nlinks; i++)
		free(s->links[i].path);
	s->nlinks = 0;
	if (s->slots)
		memset(s->slots, 0, s->nslots * sizeof(*s->slots));
	struct tarw t;
	if (tar_open(&t, s->req->kase, artifact, err) < 0)
		return -1;
	struct walk w = { .s = s, .mode = PLAIN, .tar = &t, .prefix = mountpoint[1] ? mountpoint : "",
			  .dev = st.st_dev };
	struct statx rx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &rx) == 0 && (rx.stx_mask & STATX_MNT_ID))
		w.mnt_id = rx.stx_mnt_id;
	int rc;
	if (S_ISDIR(st.st_mode)) {
		cleanup_close int dir = mountpoint[1] ? cryo_open_beneath(rootfd, mountpoint + 1, O_RDONLY | O_DIRECTORY, err)
						      : fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
		w.root = dir;
		rc = dir < 0 ? -1 : walk_tree(&w, err);
	} else {
		/* a file mounted on its own (Docker's /etc/hosts, a secret):
		 * one entry, named by its last component, through its parent */
		const char *slash = strrchr(mountpoint, '/');
		cleanup_free char *parent = strndup(mountpoint + 1, (size_t)(slash - mountpoint - 1 > 0 ? slash - mountpoint - 1 : 0));
		cleanup_close int pfd = parent && parent[0] ? cryo_open_beneath(rootfd, parent, O_RDONLY | O_DIRECTORY, err)
							    : fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
		struct statx sx;
		rc = -1;
		if (pfd >= 0 && statx(pfd, slash + 1, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &sx) == 0) {
			w.prefix = "";
			visit(&w, pfd, slash + 1, slash + 1, mountpoint, &sx);
			rc = t.failed ? -1 : 0;
		} else if (pfd >= 0) {
			cryo_error_sys(err, "stat %s", mountpoint);
		}
	}
	if (rc < 0) {
		tar_abort(&t);
		return -1;
	}
	return tar_close(&t, s->req->entry, err);
}

static int do_mounts(struct snap *s, struct cryo_error *err)
{
	const struct cryo_container *c = s->req->c;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)c->init_pid);
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_read_file_at(AT_FDCWD, path, 16u << 20, false, &text, &len, err) < 0)
		return cryo_error_wrap(err, "mounts of the container");
	snprintf(path, sizeof(path), "/proc/%d/root", (int)c->init_pid);
	cleanup_close int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cryo_error_sys(err, "open %s", path);
	/* the pid could have been reused between discovery and the open */
	struct cryo_proc_stat pst;
	if (cryo_proc_stat_read(c->init_pid, &pst, err) < 0 || (c->init_start && pst.start_time != c->init_start))
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "container %s: its init exited", c->id);
	cleanup_cjson cJSON *mounts = cJSON_CreateArray();
	cJSON *arts = cJSON_GetObjectItemCaseSensitive(s->result, "artifacts");
	int n = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cryo_mount m;
		if (cryo_mountinfo_parse_line(line, &m) < 0)
			continue;
		const char *kind = mount_kind(&m);
		cJSON *o = cJSON_CreateObject();
		cryo_json_str(o, "mountpoint", m.mountpoint);
		cryo_json_str(o, "kind", kind);
		cryo_json_str(o, "fstype", m.fstype);
		cryo_json_str(o, "source", m.source);
		cryo_json_str(o, "root", m.root);
		cryo_json_str(o, "options", m.mount_opts);
		cryo_json_str(o, "super_options", m.super_opts);
		if (cryo_interrupted)
			return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
		bool want = (!strcmp(kind, "tmpfs") && !s->req->no_tmpfs) || (!strcmp(kind, "volume") && s->req->volumes);
		if (want && n < 1000) {
			char art[64];
			snprintf(art, sizeof(art), "fs/mounts/%d.tar", ++n);
			struct cryo_error e;
			if (capture_tree(s, rootfd, m.mountpoint, art, &e) < 0) {
				problem(s, m.mountpoint, "not captured: %s", e.msg);
			} else {
				cryo_json_str(o, "captured", art);
				cJSON_AddItemToArray(arts, cJSON_CreateString(art));
			}
		}
		cJSON_AddItemToArray(mounts, o);
	}
	if (s->req->merged) {
		struct cryo_error e;
		if (capture_tree(s, rootfd, "/", "fs/rootfs-merged.tar", &e) < 0)
			problem(s, "/", "merged view not captured: %s", e.msg);
		else
			cJSON_AddItemToArray(arts, cJSON_CreateString("fs/rootfs-merged.tar"));
	}
	cleanup_free char *mt = cJSON_Print(mounts);
	cleanup_free char *ml = mt ? cryo_strdup_printf("%s\n", mt) : NULL;
	if (!ml || cryo_case_write_artifact_new(s->req->kase, "fs/mounts.json", ml, strlen(ml), s->req->entry, err) < 0)
		return -1;
	cJSON_AddItemToArray(arts, cJSON_CreateString("fs/mounts.json"));
	return 0;
}

/* --- the whole snapshot ---------------------------------------------------- */

static int snapshot(struct snap *s, struct cryo_error *err)
{
	const struct cryo_fs_request *req = s->req;
	const struct cryo_container *c = req->c;
	cJSON *arts = cJSON_AddArrayToObject(s->result, "artifacts");
	if (faccessat(req->kase->dirfd, "fs/rootfs-diff.tar", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST,
				      "%s already holds a filesystem snapshot (fs/rootfs-diff.tar): evidence is never replaced; use a new case directory",
				      req->kase->path);
	if (!c->rootfs.upperdir)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				      "container %s: its root is %s, not overlayfs: no upper dir to diff", c->id,
				      c->rootfs_type[0] ? c->rootfs_type : "unknown");
	/* the layer paths come from the kernel's record of the overlay mount
	 * (mountinfo): the host's own directories, which the container cannot
	 * change; Docker's lowerdirs are its own symlinks (overlay2/l/ID) */
	g_userxattr = c->rootfs.userxattr;
	cleanup_close int upper = open(c->rootfs.upperdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (upper < 0)
		return cryo_error_sys(err, "open upper dir %s", c->rootfs.upperdir);
	s->lower = calloc(c->rootfs.nlower ? c->rootfs.nlower : 1, sizeof(int));
	if (!s->lower)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "lower dirs");
	for (size_t i = 0; i < c->rootfs.nlower; i++) {
		s->lower[s->nlower] = open(c->rootfs.lowerdir[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->lower[s->nlower] < 0)
			problem(s, c->rootfs.lowerdir[i], "lower dir not readable: %s", strerror(errno));
		else
			s->nlower++;
	}
	struct tarw t;
	if (tar_open(&t, req->kase, "fs/rootfs-diff.tar", err) < 0)
		return -1;
	if (jsonw_open(&s->changes, req->kase, "fs/changes.json", err) < 0 ||
	    jsonw_open(&s->deleted, req->kase, "fs/deleted.json", err) < 0 ||
	    cryo_artifact_begin(req->kase, "fs/bodyfile", &s->body, err) < 0) {
		tar_abort(&t);
		return -1;
	}
	s->body_open = true;
	struct walk w = { .s = s, .mode = DIFF, .tar = &t, .prefix = "", .root = upper };
	if (walk_tree(&w, err) < 0) {
		tar_abort(&t);
		return -1;
	}
	if (tar_close(&t, req->entry, err) < 0 || jsonw_close(&s->changes, req->entry, err) < 0 ||
	    jsonw_close(&s->deleted, req->entry, err) < 0)
		return -1; /* the body file is dropped with the rest */
	s->body_open = false; /* commit cleans up after itself, either way */
	if (cryo_artifact_commit(&s->body, req->entry, err) < 0)
		return -1;
	static const char *const made[] = { "fs/rootfs-diff.tar", "fs/changes.json", "fs/deleted.json", "fs/bodyfile" };
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(made); i++)
		cJSON_AddItemToArray(arts, cJSON_CreateString(made[i]));
	return do_mounts(s, err);
}

int cryo_fs_snapshot(const struct cryo_fs_request *req, cJSON **result, struct cryo_error *err)
{
	struct snap s = { .req = req };
	*result = cJSON_CreateObject();
	s.result = *result;
	cryo_container_json_identity(s.result, req->c);
	s.problems = cJSON_AddArrayToObject(s.result, "problems");
	cJSON *warn = cJSON_AddArrayToObject(s.result, "warnings");
	if (!req->c->frozen)
		cJSON_AddItemToArray(warn, cJSON_CreateString(
			"the container is not frozen: files may change while they are read (cryo-freeze first)"));
	s.buf = malloc(CHUNK);
	s.zeros = calloc(1, CHUNK);
	s.sha = cryo_sha256_new();
	int rc;
	uint64_t t0 = cryo_now_monotonic_ns();
	if (!s.buf || !s.zeros || !s.sha) {
		rc = cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "buffers");
	} else {
		locale_t prev = cryo_utf8_locale_enter();
		rc = snapshot(&s, err);
		cryo_utf8_locale_leave(prev);
	}
	jsonw_abort(&s.changes);
	jsonw_abort(&s.deleted);
	if (s.body_open)
		cryo_artifact_abort(&s.body);
	cJSON *cnt = cJSON_AddObjectToObject(s.result, "counts");
	cryo_json_num(cnt, "entries", (double)s.entries);
	cryo_json_num(cnt, "files", (double)s.files);
	cryo_json_num(cnt, "bytes", (double)s.bytes);
	cryo_json_num(cnt, "added", (double)s.added);
	cryo_json_num(cnt, "modified", (double)s.modified);
	cryo_json_num(cnt, "deleted", (double)s.deleted_n);
	cryo_json_num(cnt, "excluded", (double)s.excluded);
	cryo_json_num(cnt, "problems_not_listed", (double)s.problems_dropped);
	cryo_json_num(s.result, "seconds", (double)(cryo_now_monotonic_ns() - t0) / 1e9);
	for (size_t i = 0; i < s.nlower; i++)
		close(s.lower[i]);
	free(s.lower);
	for (size_t i = 0; i < s.nlinks; i++)
		free(s.links[i].path);
	free(s.links);
	free(s.slots);
	free(s.buf);
	free(s.zeros);
	if (s.sha)
		cryo_sha256_free(s.sha);
	return rc;
}
