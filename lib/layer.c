/* Applying hostile trees onto a scratch root (include/cryo/layer.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/layer.h"
#include "cryo/output.h"
#include "cryo/util.h"

struct cryo_layer_dir {
	char *path;
	size_t order;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec times[2];
};

void cryo_layer_init(struct cryo_layer *L, int root, const struct cryo_layer_opts *o)
{
	memset(L, 0, sizeof(*L));
	L->root = root;
	L->o = *o;
	L->cache_fd = -1;
	L->notes = cJSON_CreateArray();
}

void cryo_layer_free(struct cryo_layer *L)
{
	for (size_t i = 0; i < L->ndirs; i++)
		free(L->dirs[i].path);
	free(L->dirs);
	free(L->hidx);
	L->hidx = NULL;
	L->hcap = 0;
	free(L->cache_path);
	if (L->cache_fd >= 0)
		close(L->cache_fd);
	cJSON_Delete(L->notes);
	L->dirs = NULL;
	L->cache_path = NULL;
	L->cache_fd = -1;
	L->notes = NULL;
}

static void note(struct cryo_layer *L, const char *path, const char *what)
{
	if (!L->notes || cJSON_GetArraySize(L->notes) >= CRYO_LAYER_NOTES_MAX)
		return;
	cJSON *n = cJSON_CreateObject();
	cJSON_AddItemToObject(n, "path", cryo_json_string(path));
	cryo_json_str(n, "what", what);
	cJSON_AddItemToArray(L->notes, n);
}

static void refuse(struct cryo_layer *L, const char *path, const char *why)
{
	L->s.refused++;
	note(L, path, why);
}

int cryo_layer_clean_path(const char *in, char *out, size_t size, const char **why)
{
	size_t o = 0, depth = 0;
	if (in[0] == '/') {
		*why = "absolute path refused";
		return -1;
	}
	for (const char *p = in; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "\"..\" in the path refused";
			return -1;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (++depth > CRYO_LAYER_DEPTH_MAX) {
				*why = "more than 256 levels deep: refused";
				return -1;
			}
			if (n > NAME_MAX || o + n + 2 > size || o + n + 2 > PATH_MAX) {
				*why = "name too long: refused";
				return -1;
			}
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	out[o] = '\0';
	return 0;
}

/* Remove what is at parent/name, whatever it is, never following a link. */
static int remove_at(int parent, const char *name)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return S_ISDIR(st.st_mode) ? cryo_remove_tree_at(parent, name) : unlinkat(parent, name, 0);
}

/* Empty the directory dfd (an opaque whiteout). */
static void empty_dir(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (!cryo_is_dot(de->d_name))
			remove_at(dfd, de->d_name);
}

static const char no_dir[] = "its directory is not there";

/* The directory that holds the clean path rel (its last component is not
 * walked): each component opened with O_NOFOLLOW, made when missing (mode
 * 0755) when create is set.  The descriptor is the
 * cache's: not to be closed.  -1 with *why set. */
static int parent_of(struct cryo_layer *L, const char *rel, bool create, const char **base, const char **why)
{
	const char *slash = strrchr(rel, '/');
	*base = slash ? slash + 1 : rel;
	size_t dlen = slash ? (size_t)(slash - rel) : 0;
	if (L->cache_path && strlen(L->cache_path) == dlen && !memcmp(L->cache_path, rel, dlen))
		return L->cache_fd;
	if (L->cache_fd >= 0)
		close(L->cache_fd);
	free(L->cache_path);
	L->cache_path = NULL;
	L->cache_fd = -1;
	int fd = fcntl(L->root, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		*why = "out of file descriptors";
		return -1;
	}
	char comp[NAME_MAX + 1];
	for (size_t i = 0; i < dlen;) {
		size_t n = 0;
		while (i + n < dlen && rel[i + n] != '/')
			n++;
		memcpy(comp, rel + i, n);
		comp[n] = '\0';
		i += n + 1;
		L->walks++;
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			/* a directory the layer does not list: as a runtime makes it */
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				*why = "cannot make its directory";
				close(fd);
				return -1;
			}
			if (L->o.chown)
				(void)!fchownat(fd, comp, L->o.id_base, L->o.id_base, AT_SYMLINK_NOFOLLOW);
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		close(fd);
		if (next < 0) {
			*why = errno == ELOOP || errno == ENOTDIR ? "a parent is a symbolic link or not a directory: refused"
				: errno == ENOENT		   ? no_dir
								   : "cannot open its directory";
			return -1;
		}
		fd = next;
	}
	L->cache_path = strndup(rel, dlen);
	if (!L->cache_path) {
		close(fd);
		*why = "out of memory";
		return -1;
	}
	L->cache_fd = fd;
	return fd;
}

static void owner(const struct cryo_layer *L, struct archive_entry *e, uid_t *u, gid_t *g)
{
	int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	*u = L->o.id_base + (uid >= 0 && uid <= CRYO_LAYER_ID_MAX ? (uid_t)uid : 65534);
	*g = L->o.id_base + (gid >= 0 && gid <= CRYO_LAYER_ID_MAX ? (gid_t)gid : 65534);
}

static void entry_times(struct archive_entry *e, struct timespec t[2])
{
	t[0].tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
	t[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : archive_entry_mtime_nsec(e);
	t[1].tv_sec = archive_entry_mtime(e);
	t[1].tv_nsec = archive_entry_mtime_nsec(e);
	for (int i = 0; i < 2; i++)
		if (t[i].tv_nsec < 0 || t[i].tv_nsec > 999999999)
			t[i].tv_nsec = 0;
}

static mode_t safe_mode(struct cryo_layer *L, const char *path, mode_t mode)
{
	if (mode & (S_ISUID | S_ISGID)) {
		L->s.setid_cleared++;
		note(L, path, mode & S_ISUID ? "setuid bit cleared" : "setgid bit cleared");
	}
	return mode & 01777;
}

/* Set owner, mode (not for links) and times of parent/base. */
static void set_meta(struct cryo_layer *L, int parent, const char *base, struct archive_entry *e, mode_t mode,
		     bool link)
{
	if (L->o.chown) {
		uid_t u;
		gid_t g;
		owner(L, e, &u, &g);
		(void)!fchownat(parent, base, u, g, AT_SYMLINK_NOFOLLOW);
	}
	if (!link)
		(void)!fchmodat(parent, base, mode, AT_SYMLINK_NOFOLLOW);
	struct timespec t[2];
	entry_times(e, t);
	(void)!utimensat(parent, base, t, AT_SYMLINK_NOFOLLOW);
}

static int fatal_bytes(struct cryo_layer *L, const char *what, struct cryo_error *err)
{
	return cryo_error_set(err, CRYO_EXIT_DATAERR, EFBIG,
			      "%s: more than %llu bytes of files: refused (a compression bomb, or raise --max-bytes)",
			      what, (unsigned long long)L->o.max_bytes);
}

static int write_file(struct cryo_layer *L, struct archive *a, struct archive_entry *e, int parent,
		      const char *base, const char *path, const char *what, struct cryo_error *err)
{
	cleanup_close int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		refuse(L, path, "cannot create the file");
		return 1; /* nothing made: no metadata to set */
	}
	L->s.files++;
	const void *buf;
	size_t n;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(a, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: %s: unreadable: %s", what, path,
					      archive_error_string(a));
		if (off < 0 || n > L->o.max_bytes || L->s.bytes > L->o.max_bytes - n)
			return fatal_bytes(L, what, err);
		L->s.bytes += n;
		for (size_t done = 0; done < n;) {
			ssize_t w = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return cryo_error_sys(err, "%s: write %s", what, path);
			done += (size_t)w;
		}
	}
	/* the apparent size (holes of a sparse file stay holes) */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
		int64_t size = archive_entry_size(e);
		if ((uint64_t)size > L->o.max_bytes)
			return fatal_bytes(L, what, err);
		if (ftruncate(fd, size) < 0)
			return cryo_error_sys(err, "%s: size %s", what, path);
	}
	return 0;
}

static uint64_t path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

/* The slot of path in the directories' index (0 in it: free). */
static size_t dir_slot(const struct cryo_layer *L, const char *path)
{
	size_t i = (size_t)path_hash(path) & (L->hcap - 1);
	while (L->hidx[i] && strcmp(L->dirs[L->hidx[i] - 1].path, path))
		i = (i + 1) & (L->hcap - 1);
	return i;
}

/* A directory's metadata, set at the end; a directory listed again (by a
 * later layer, or a tar repeating it) keeps one record, the last.  The
 * paths held are bounded: a small archive could list a million deep ones. */
static int remember_dir(struct cryo_layer *L, const char *path, struct archive_entry *e, mode_t mode,
			const char *what, struct cryo_error *err)
{
	if (L->ndirs * 2 >= L->hcap) {
		size_t ncap = L->hcap ? L->hcap * 2 : 1024;
		size_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "out of memory");
		free(L->hidx);
		L->hidx = n;
		L->hcap = ncap;
		for (size_t k = 0; k < L->ndirs; k++)
			L->hidx[dir_slot(L, L->dirs[k].path)] = k + 1;
	}
	size_t slot = dir_slot(L, path);
	struct cryo_layer_dir *d;
	if (L->hidx[slot]) {
		d = &L->dirs[L->hidx[slot] - 1];
	} else {
		size_t len = strlen(path) + 1;
		if (L->dir_bytes + len > CRYO_LAYER_DIR_BYTES_MAX)
			return cryo_error_set(err, CRYO_EXIT_DATAERR, E2BIG,
					      "%s: more than %d MiB of directory names: refused", what,
					      CRYO_LAYER_DIR_BYTES_MAX >> 20);
		if (cryo_grow(&L->dirs, &L->capdirs, L->ndirs, sizeof(*L->dirs), 256) < 0)
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "out of memory");
		d = &L->dirs[L->ndirs];
		if (!(d->path = strdup(path)))
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "out of memory");
		L->dir_bytes += len;
		d->order = L->ndirs++;
		L->hidx[slot] = L->ndirs;
	}
	d->mode = mode;
	owner(L, e, &d->uid, &d->gid);
	entry_times(e, d->times);
	return 0;
}

/* One entry, its data read from a when it has any. */
static int apply_entry(struct cryo_layer *L, struct archive *a, struct archive_entry *e, const char *name,
		       const char *what, struct cryo_error *err)
{
	if (++L->s.entries > L->o.max_entries)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, E2BIG,
				      "%s: more than %llu entries: refused (raise --max-entries)", what,
				      (unsigned long long)L->o.max_entries);
	char path[PATH_MAX];
	const char *why = NULL, *base;
	if (cryo_layer_clean_path(name, path, sizeof(path), &why) < 0) {
		refuse(L, name, why);
		return 0;
	}
	if (!path[0])
		return 0; /* the root itself: kept as it is */
	/* a whiteout removes what is there: no directory made for it */
	const char *last = strrchr(path, '/');
	bool whiteout = L->o.whiteouts && cryo_has_prefix(last ? last + 1 : path, ".wh.");
	int parent = parent_of(L, path, !whiteout, &base, &why);
	/* entries ordered to make every one walk the whole depth again */
	if (L->walks > 64 * L->s.entries + 100000)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, E2BIG,
				      "%s: its entries jump between deep directories (%llu directories opened for %llu "
				      "entries): refused",
				      what, (unsigned long long)L->walks, (unsigned long long)L->s.entries);
	if (parent < 0 && whiteout && why == no_dir) {
		L->s.whiteouts++; /* nothing below to delete */
		return 0;
	}
	if (parent < 0) {
		refuse(L, path, why);
		return 0;
	}
	mode_t type = archive_entry_filetype(e);
	const char *hard = archive_entry_hardlink(e);
	if (whiteout) {
		L->s.whiteouts++;
		if (!strcmp(base, ".wh..wh..opq"))
			empty_dir(parent);
		else if (!cryo_is_dot(base + 4) && base[4])
			remove_at(parent, base + 4);
		return 0;
	}
	if (L->o.whiteouts && type == AE_IFCHR && archive_entry_rdev(e) == 0) {
		L->s.whiteouts++; /* an overlay upper directory's whiteout */
		remove_at(parent, base);
		return 0;
	}
	mode_t mode = safe_mode(L, path, archive_entry_perm(e));
	struct stat st;
	bool exists = fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!hard && type == AE_IFDIR) {
		if (exists && !S_ISDIR(st.st_mode))
			remove_at(parent, base);
		if ((!exists || !S_ISDIR(st.st_mode)) && mkdirat(parent, base, 0700) < 0) {
			refuse(L, path, "cannot make the directory");
			return 0;
		}
		L->s.dirs++;
		return remember_dir(L, path, e, mode, what, err);
	}
	if (!hard && type != AE_IFREG && type != AE_IFLNK && type != AE_IFIFO) {
		L->s.not_made++;
		note(L, path, type == AE_IFCHR || type == AE_IFBLK ? "device node not made" : "special file not made");
		return 0;
	}
	if (exists && remove_at(parent, base) < 0) {
		refuse(L, path, "cannot replace what is there");
		return 0;
	}
	if (cryo_interrupted)
		return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
	if (hard) {
		char target[PATH_MAX];
		const char *tbase;
		if (cryo_layer_clean_path(hard, target, sizeof(target), &why) < 0 || !target[0]) {
			char msg[128];
			snprintf(msg, sizeof(msg), "hard link target: %s", why ? why : "the root refused");
			refuse(L, path, msg);
			return 0;
		}
		/* parent_of caches one descriptor: the target's is a second walk */
		char *cp = L->cache_path;
		int cfd = L->cache_fd;
		L->cache_path = NULL;
		L->cache_fd = -1;
		int tparent = parent_of(L, target, false, &tbase, &why);
		struct stat ts;
		bool ok = tparent >= 0 && fstatat(tparent, tbase, &ts, AT_SYMLINK_NOFOLLOW) == 0 &&
			  (S_ISREG(ts.st_mode) || S_ISLNK(ts.st_mode));
		ok = ok && linkat(tparent, tbase, cfd, base, 0) == 0;
		if (L->cache_fd >= 0)
			close(L->cache_fd);
		free(L->cache_path);
		L->cache_path = cp;
		L->cache_fd = cfd;
		if (!ok)
			refuse(L, path, "hard link to a path that is not a file already extracted: refused");
		else
			L->s.hardlinks++;
		return 0;
	}
	if (type == AE_IFLNK) {
		const char *to = archive_entry_symlink(e);
		if (!to || !*to || symlinkat(to, parent, base) < 0) {
			refuse(L, path, "cannot make the symbolic link");
			return 0;
		}
		L->s.symlinks++;
		set_meta(L, parent, base, e, 0, true);
		return 0;
	}
	if (type == AE_IFIFO) {
		if (mkfifoat(parent, base, 0600) < 0) {
			refuse(L, path, "cannot make the FIFO");
			return 0;
		}
		L->s.fifos++;
	} else {
		int w = write_file(L, a, e, parent, base, path, what, err);
		if (w != 0)
			return w < 0 ? -1 : 0;
	}
	set_meta(L, parent, base, e, mode, false);
	return 0;
}

static int apply_archive(struct cryo_layer *L, struct archive *a, const char *what, const char *strip,
			 struct cryo_error *err)
{
	struct archive_entry *e;
	size_t slen = strip ? strlen(strip) : 0;
	for (;;) {
		int r = strip ? archive_read_next_header2(a, e = archive_entry_new()) : archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF) {
			if (strip)
				archive_entry_free(e);
			return 0;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (strip)
				archive_entry_free(e);
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: unreadable after %llu entries: %s", what,
					      (unsigned long long)L->s.entries, archive_error_string(a));
		}
		const char *name = archive_entry_pathname(e);
		if (!name)
			name = "";
		int rc = 0;
		if (strip) {
			/* a directory walk: names begin with the directory */
			if (!strncmp(name, strip, slen) && (name[slen] == '/' || !name[slen])) {
				name += slen;
				while (*name == '/')
					name++;
				rc = apply_entry(L, a, e, name, what, err);
			}
			if (rc == 0 && archive_entry_filetype(e) == AE_IFDIR)
				archive_read_disk_descend(a);
			archive_entry_free(e);
		} else {
			rc = apply_entry(L, a, e, name, what, err);
		}
		if (rc < 0)
			return -1;
	}
}

int cryo_layer_apply_tar(struct cryo_layer *L, int fd, const char *what, struct cryo_error *err)
{
	cleanup_archive struct archive *a = archive_read_new();
	if (!a)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "libarchive");
	archive_read_support_format_tar(a);
	if (L->o.compressed_ok) {
		archive_read_support_filter_gzip(a);
		archive_read_support_filter_zstd(a);
	}
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: not a tar: %s", what, archive_error_string(a));
	return apply_archive(L, a, what, NULL, err);
}

int cryo_layer_apply_dir(struct cryo_layer *L, const char *dir, struct cryo_error *err)
{
	cleanup_archive struct archive *a = archive_read_disk_new();
	if (!a)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "libarchive");
	archive_read_disk_set_symlink_physical(a);
	archive_read_disk_set_behavior(a, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
						  ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(a, dir) != ARCHIVE_OK)
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "%s: %s", dir, archive_error_string(a));
	return apply_archive(L, a, dir, dir, err);
}

static int deepest_first(const void *x, const void *y)
{
	const struct cryo_layer_dir *a = x, *b = y;
	size_t da = 0, db = 0;
	for (const char *p = a->path; *p; p++)
		da += *p == '/';
	for (const char *p = b->path; *p; p++)
		db += *p == '/';
	if (da != db)
		return da > db ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

int cryo_layer_finish(struct cryo_layer *L, struct cryo_error *err)
{
	(void)err;
	if (L->ndirs) /* qsort with NULL is undefined, even for none */
		qsort(L->dirs, L->ndirs, sizeof(*L->dirs), deepest_first);
	for (size_t i = 0; i < L->ndirs; i++) {
		struct cryo_layer_dir *d = &L->dirs[i];
		const char *base, *why;
		int parent = parent_of(L, d->path, false, &base, &why);
		if (parent < 0)
			continue; /* removed by a later layer */
		struct stat st;
		if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (L->o.chown)
			(void)!fchownat(parent, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW);
		(void)!fchmodat(parent, base, d->mode, AT_SYMLINK_NOFOLLOW);
		(void)!utimensat(parent, base, d->times, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

int cryo_layer_put_file(struct cryo_layer *L, const char *rel, int src, mode_t mode, struct cryo_error *err)
{
	char path[PATH_MAX];
	const char *why = NULL, *base;
	if (cryo_layer_clean_path(rel, path, sizeof(path), &why) < 0 || !path[0])
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: %s", rel, why ? why : "the root itself");
	int parent = parent_of(L, path, true, &base, &why);
	if (parent < 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: %s", rel, why);
	cleanup_close int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cryo_error_sys(err, "create %s", rel);
	char buf[1 << 16];
	for (ssize_t n; (n = read(src, buf, sizeof(buf))) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cryo_error_sys(err, "read the copy of %s", rel);
		if ((uint64_t)n > L->o.max_bytes || L->s.bytes > L->o.max_bytes - (uint64_t)n)
			return fatal_bytes(L, rel, err);
		L->s.bytes += (uint64_t)n;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return cryo_error_sys(err, "write %s", rel);
			done += w;
		}
	}
	if (L->o.chown && fchown(fd, L->o.id_base, L->o.id_base) < 0)
		return cryo_error_sys(err, "chown %s", rel);
	if (fchmod(fd, mode & 01777) < 0)
		return cryo_error_sys(err, "chmod %s", rel);
	return 0;
}
