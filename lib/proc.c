#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/core.h"
#include "cryo/freeze.h"
#include "cryo/hash.h"
#include "cryo/mountinfo.h"
#include "cryo/netlink.h"
#include "cryo/output.h"
#include "cryo/proc.h"
#include "cryo/procfs.h"
#include "cryo/sockdiag.h"
#include "cryo/util.h"

#define MAX_PROBLEMS 10000
#define MAX_FDS 65536           /* per process: more are counted, not listed */
#define MAX_LIST_ITEMS 65536    /* argv / environment strings */
#define COPY_BUF (1u << 20)
#define MAX_FILES 10000         /* distinct executables and deleted files copied */

/* The raw /proc files kept beside process.json, and how much of each. */
static const struct {
	const char *name;
	size_t max;
} raw_files[] = {
	{ "status", 1u << 20 },  { "stat", 64u << 10 },     { "maps", 128u << 20 },
	{ "smaps", 256u << 20 }, { "mountinfo", 16u << 20 }, { "limits", 64u << 10 },
	{ "cgroup", 1u << 20 },  { "environ", 32u << 20 },   { "cmdline", 32u << 20 },
	{ "uid_map", 64u << 10 }, { "gid_map", 64u << 10 },
};
enum { RAW_STATUS, RAW_STAT, RAW_MAPS, RAW_SMAPS, RAW_MOUNTINFO, RAW_LIMITS, RAW_CGROUP, RAW_ENVIRON,
       RAW_CMDLINE, RAW_UID_MAP, RAW_GID_MAP, RAW_N };

/* A file already stored (or found too large), by inode: 2,000 processes
 * running one busybox are read once. */
struct stored {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char hex[CRYO_SHA256_HEX]; /* "" when not copied */
	cJSON *entry;              /* its element of proc/files/index.json */
};

struct snap {
	const struct cryo_proc_request *req;
	cJSON *result, *problems, *warnings, *artifacts;
	cJSON *files_index;
	struct stored *files;
	size_t nfiles, cap_files;
	uint64_t problems_dropped, warnings_dropped, files_dropped, memory_total, threads, exited;
	bool stop_threads;
	char no_stop_reason[256];
	unsigned char *copybuf;
	long hz;
	uint64_t boot_realtime_ns; /* CLOCK_REALTIME at boot, for start times */
};

static void problem(struct snap *s, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct snap *s, const char *path, const char *fmt, ...)
{
	if (cJSON_GetArraySize(s->problems) >= MAX_PROBLEMS) {
		s->problems_dropped++;
		return;
	}
	char why[2300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "path", path);
	cryo_json_str(o, "problem", why);
	cJSON_AddItemToArray(s->problems, o);
}

static void warning(struct snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warning(struct snap *s, const char *fmt, ...)
{
	if (cJSON_GetArraySize(s->warnings) >= MAX_PROBLEMS) {
		s->warnings_dropped++;
		return;
	}
	char msg[2300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(s->warnings, cJSON_CreateString(msg));
}

static void artifact(struct snap *s, const char *rel)
{
	cJSON_AddItemToArray(s->artifacts, cJSON_CreateString(rel));
}

static int write_json(struct snap *s, const char *rel, const cJSON *v, struct cryo_error *err)
{
	cleanup_free char *text = cJSON_Print(v);
	cleanup_free char *line = text ? cryo_strdup_printf("%s\n", text) : NULL;
	if (!line)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "%s", rel);
	if (cryo_case_write_artifact_new(s->req->kase, rel, line, strlen(line), s->req->entry, err) < 0)
		return -1;
	artifact(s, rel);
	return 0;
}

cJSON *cryo_caps_json(uint64_t mask)
{
	cJSON *arr = cJSON_CreateArray();
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(mask & (1ull << bit)))
			continue;
		char *name = cap_to_name((cap_value_t)bit);
		cJSON_AddItemToArray(arr, cJSON_CreateString(name ? name : "?"));
		cap_free(name);
	}
	return arr;
}

static uint64_t status_hex(const char *status, const char *key)
{
	char v[64];
	return cryo_status_field(status, key, v, sizeof(v)) ? strtoull(v, NULL, 16) : 0;
}

static cJSON *ids_json(const char *status, const char *key)
{
	char v[256];
	cJSON *o = cJSON_CreateObject();
	unsigned long r, e, sv, fs;
	if (cryo_status_field(status, key, v, sizeof(v)) && sscanf(v, "%lu %lu %lu %lu", &r, &e, &sv, &fs) == 4) {
		cryo_json_num(o, "real", (double)r);
		cryo_json_num(o, "effective", (double)e);
		cryo_json_num(o, "saved", (double)sv);
		cryo_json_num(o, "filesystem", (double)fs);
	}
	return o;
}

static cJSON *caps_json(pid_t pid, const char *status)
{
	static const struct {
		const char *key, *name;
	} sets[] = {
		{ "CapEff", "effective" },   { "CapPrm", "permitted" }, { "CapInh", "inheritable" },
		{ "CapBnd", "bounding" },    { "CapAmb", "ambient" },
	};
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(sets); i++) {
		uint64_t m = status_hex(status, sets[i].key);
		cJSON_AddItemToObject(o, sets[i].name, cryo_caps_json(m));
		char k[32], hex[24];
		snprintf(k, sizeof(k), "%s_hex", sets[i].name);
		snprintf(hex, sizeof(hex), "%016" PRIx64, m);
		cryo_json_str(o, k, hex);
	}
	/* libcap's own text, as getpcaps(8) prints it */
	cap_t c = cap_get_pid(pid);
	char *text = c ? cap_to_text(c, NULL) : NULL;
	cryo_json_str(o, "text", text);
	cap_free(text);
	cap_free(c);
	return o;
}

/* readlink of a magic link under /proc/PID: its text is chosen by the
 * process (file names), kept as bytes. */
static bool read_link(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, name, buf, size - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

static cJSON *namespaces_json(int procfd)
{
	static const char *const names[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
					     "time", "time_for_children", "user", "uts" };
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(names); i++) {
		char path[64], link[128];
		unsigned long long ino;
		snprintf(path, sizeof(path), "ns/%s", names[i]);
		if (read_link(procfd, path, link, sizeof(link)) && sscanf(strchr(link, '[') ? strchr(link, '[') : "", "[%llu]", &ino) == 1)
			cryo_json_num(o, names[i], (double)ino);
	}
	return o;
}

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFLNK: return "symlink";
	default: return "other";
	}
}

/* --- files: executables and deleted-but-open files ----------------------- */

static void add_source(cJSON *entry, pid_t pid, const char *what, const char *path)
{
	cJSON *src = cJSON_GetObjectItemCaseSensitive(entry, "sources");
	if (cJSON_GetArraySize(src) >= 1000) /* 2,000 processes of one busybox */
		return;
	cJSON *o = cJSON_CreateObject();
	cryo_json_num(o, "pid", pid);
	cryo_json_str(o, "what", what);
	cryo_json_str(o, "path", path);
	cJSON_AddItemToArray(src, o);
}

/* Copy an open file (already checked to be a regular file) into
 * proc/files/<sha256>, once per content.  hex gets the hash, "" when the
 * file was not copied. */
static void store_file(struct snap *s, int fd, const struct stat *st, pid_t pid, const char *what,
		       const char *path, char hex[CRYO_SHA256_HEX])
{
	hex[0] = '\0';
	for (size_t i = 0; i < s->nfiles; i++) {
		struct stored *f = &s->files[i];
		if (f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
		    f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			add_source(f->entry, pid, what, path);
			memcpy(hex, f->hex, CRYO_SHA256_HEX);
			return;
		}
	}
	/* each copy is a custody record too: a process holding 65,536 memfds
	 * must not make the custody entry too large to be written */
	if (s->nfiles >= MAX_FILES) {
		if (s->files_dropped++ == 0)
			problem(s, "proc/files", "more than %d distinct files: the rest are listed, not copied", MAX_FILES);
		return;
	}
	if (cryo_grow(&s->files, &s->cap_files, s->nfiles, sizeof(*s->files), 64) < 0)
		return;
	struct stored *f = &s->files[s->nfiles];
	*f = (struct stored){ st->st_dev, st->st_ino, st->st_size, st->st_mtim, "", NULL };
	cJSON *entry = cJSON_CreateObject();
	cryo_json_num(entry, "size", (double)st->st_size);
	cJSON_AddArrayToObject(entry, "sources");
	add_source(entry, pid, what, path);
	char rel[128];
	if (s->req->max_file_size && (uint64_t)st->st_size > s->req->max_file_size) {
		cryo_json_str(entry, "sha256", NULL);
		cryo_json_str(entry, "not_copied", "larger than --max-file-size");
	} else {
		struct cryo_artifact w;
		struct cryo_error err;
		bool existed = false;
		int rc = cryo_artifact_begin(s->req->kase, "proc/files/new", &w, &err);
		off_t off = 0;
		while (rc == 0) {
			ssize_t n = pread(fd, s->copybuf, COPY_BUF, off);
			if (n < 0) {
				cryo_error_sys(&err, "read");
				rc = -1;
				cryo_artifact_abort(&w);
				break;
			}
			if (n == 0)
				break;
			off += n;
			if (cryo_artifact_write(&w, s->copybuf, (size_t)n, &err) < 0) {
				rc = -1;
				cryo_artifact_abort(&w);
			}
		}
		if (rc == 0 && cryo_artifact_commit_by_hash(&w, s->req->entry, f->hex, &existed, &err) < 0)
			rc = -1;
		if (rc < 0) {
			problem(s, path, "%s of process %d not copied: %s", what, (int)pid, err.msg);
			cryo_json_str(entry, "sha256", NULL);
			cryo_json_str(entry, "not_copied", err.msg);
		} else {
			cryo_json_str(entry, "sha256", f->hex);
			cryo_json_num(entry, "size", (double)off);
			snprintf(rel, sizeof(rel), "proc/files/%s", f->hex);
			cryo_json_str(entry, "path", rel);
			if (!existed)
				artifact(s, rel);
		}
	}
	f->entry = entry;
	cJSON_AddItemToArray(s->files_index, entry);
	s->nfiles++;
	memcpy(hex, f->hex, CRYO_SHA256_HEX);
}

/* Open what a magic link (exe, fd/N) points to, only if it is a regular
 * file: never a FIFO (an open would block, or wake a writer), a device or
 * a socket.  The type is checked before (stat through the link does not
 * open) and after (fstat of what was opened). */
static int open_regular(int dirfd, const char *name, struct stat *st)
{
	/* O_PATH opens nothing (no FIFO wakes, no device driver runs); the
	 * type is checked on what it holds, and only a regular file is
	 * reopened for reading, through our own descriptor, so a descriptor
	 * swapped meanwhile (dup2 in a running container) cannot substitute
	 * a device */
	int pfd = openat(dirfd, name, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	if (fstat(pfd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(pfd);
		errno = EINVAL;
		return -1;
	}
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int e = errno;
	close(pfd);
	errno = e;
	return fd;
}

/* Which files behind /proc/PID/exe and /proc/PID/fd/N may be examined
 * (stat, open, read).  A file on FUSE is not: its server may well be a
 * (frozen) process of the container, and any request would wait for it
 * forever.  The test is an allowlist: the file's mount (statx with
 * AT_STATX_DONT_SYNC, which FUSE answers from its cache) must be one that
 * the process's or the container init's mountinfo shows, and not FUSE.  A
 * mount hidden by a chroot, or detached, is left alone: better a file not
 * copied (and said so) than a capture that never ends. */
struct mount_id {
	uint64_t id;
	bool fuse;
};
struct mounts {
	struct mount_id *v;
	size_t n, cap;
};

static int mount_id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct mount_id *)a)->id, y = ((const struct mount_id *)b)->id;
	return (x > y) - (x < y);
}

static void mounts_add_text(struct mounts *m, const char *mountinfo)
{
	cleanup_free char *copy = strdup(mountinfo ? mountinfo : "");
	char *save = NULL;
	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		struct cryo_mount mt;
		if (cryo_mountinfo_parse_line(line, &mt) < 0 || cryo_grow(&m->v, &m->cap, m->n, sizeof(*m->v), 64) < 0)
			continue;
		m->v[m->n++] = (struct mount_id){ mt.id, cryo_has_prefix(mt.fstype, "fuse") };
	}
}

static void mounts_load(struct mounts *m, const char *own, pid_t init_pid)
{
	memset(m, 0, sizeof(*m));
	mounts_add_text(m, own);
	char path[64];
	cleanup_free char *text = NULL;
	size_t len;
	struct cryo_error e;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)init_pid);
	if (cryo_read_file_at(AT_FDCWD, path, 16u << 20, false, &text, &len, &e) == 0)
		mounts_add_text(m, text);
	/* memfds live on the kernel's internal shmem mount, which no
	 * mountinfo shows: a fileless payload is one, so that mount is known
	 * by making a memfd of our own */
	int probe = memfd_create("cryo-probe", MFD_CLOEXEC);
	struct statx sx;
	if (probe >= 0 && statx(probe, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) &&
	    cryo_grow(&m->v, &m->cap, m->n, sizeof(*m->v), 64) == 0)
		m->v[m->n++] = (struct mount_id){ sx.stx_mnt_id, false };
	if (probe >= 0)
		close(probe);
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), mount_id_cmp);
}

/* NULL when dirfd/name may be examined, else why not. */
static const char *unsafe_file(const struct mounts *m, int dirfd, const char *name)
{
	struct statx sx;
	if (statx(dirfd, name, AT_STATX_DONT_SYNC, STATX_MNT_ID | STATX_TYPE, &sx) < 0)
		return "its mount could not be told";
	if (!(sx.stx_mask & STATX_MNT_ID))
		return "this kernel does not tell a file's mount (statx STATX_MNT_ID)";
	struct mount_id key = { sx.stx_mnt_id, false };
	const struct mount_id *hit = m->n ? bsearch(&key, m->v, m->n, sizeof(*m->v), mount_id_cmp) : NULL;
	if (!hit)
		return "its mount is not in the container's mount table (hidden by a chroot, or detached)";
	if (hit->fuse)
		return "it is on a FUSE mount, whose server may be frozen";
	return NULL;
}

/* The first bytes of a small /proc file: fdinfo lists a file's locks
 * after the fields wanted, and a process can make that list long. */
static bool read_head(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* --- one process ------------------------------------------------------- */

static cJSON *fds_json(struct snap *s, pid_t pid, int procfd, const struct mounts *mounts)
{
	cJSON *arr = cJSON_CreateArray();
	int dfd = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		problem(s, "proc", "descriptors of process %d: %s", (int)pid, strerror(errno));
		return arr;
	}
	cleanup_close int infofd = openat(procfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	size_t n = 0, dropped = 0, unexamined = 0;
	while ((de = readdir(d))) {
		long fdn;
		if (cryo_parse_long(de->d_name, 0, INT32_MAX, &fdn) < 0)
			continue;
		if (n++ >= MAX_FDS) {
			dropped++;
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		cryo_json_num(o, "fd", (double)fdn);
		char target[4096] = "";
		if (read_link(dirfd(d), de->d_name, target, sizeof(target)))
			cryo_json_str(o, "target", target);
		/* an epoll fd's fdinfo is printed under its lock, which a watched
		 * FUSE file's poll can hold forever */
		char info[4096];
		struct cryo_fdinfo fi;
		bool epoll = !strcmp(target, "anon_inode:[eventpoll]");
		bool have_fi = infofd >= 0 && !epoll && read_head(infofd, de->d_name, info, sizeof(info)) &&
			       cryo_fdinfo_parse(info, &fi) == 0;
		struct stat st;
		bool anon = cryo_has_prefix(target, "anon_inode:") || cryo_has_prefix(target, "socket:[") ||
			    cryo_has_prefix(target, "pipe:[");
		const char *unsafe = anon ? NULL : unsafe_file(mounts, dirfd(d), de->d_name);
		bool have_st = !unsafe && fstatat(dirfd(d), de->d_name, &st, 0) == 0;
		const char *type = cryo_has_prefix(target, "anon_inode:") ? "anon_inode"
				   : unsafe                                  ? "not_examined"
				   : have_st                                 ? file_type(st.st_mode)
									     : "unknown";
		cryo_json_str(o, "type", type);
		if (unsafe) {
			cryo_json_str(o, "not_examined", unsafe);
			unexamined++;
		}
		if (have_st) {
			cryo_json_num(o, "inode", (double)st.st_ino);
			if (S_ISREG(st.st_mode))
				cryo_json_num(o, "size", (double)st.st_size);
		}
		if (have_fi) {
			char flags[256], oct[16];
			cryo_open_flags_text(fi.flags, flags, sizeof(flags));
			snprintf(oct, sizeof(oct), "0%o", fi.flags);
			cryo_json_str(o, "flags", flags);
			cryo_json_str(o, "flags_octal", oct);
			if (fi.has_pos)
				cryo_json_num(o, "pos", (double)fi.pos);
			cryo_json_num(o, "mnt_id", (double)fi.mnt_id);
		}
		/* a file removed from disk but still open: an attacker's payload
		 * (or a memfd) lives only here now */
		if (have_st && S_ISREG(st.st_mode) && st.st_nlink == 0) {
			cryo_json_bool(o, "deleted", true);
			cleanup_close int fd = open_regular(dirfd(d), de->d_name, &st);
			if (fd >= 0) {
				char hex[CRYO_SHA256_HEX], what[32];
				snprintf(what, sizeof(what), "fd %ld", fdn);
				store_file(s, fd, &st, pid, what, target, hex);
				cryo_json_str(o, "sha256", hex);
			} else {
				problem(s, target, "deleted file open as fd %ld of process %d not copied: %s", fdn,
					(int)pid, strerror(errno));
			}
		}
		cJSON_AddItemToArray(arr, o);
	}
	if (dropped)
		warning(s, "process %d: %zu descriptors beyond %d not listed", (int)pid, dropped, MAX_FDS);
	if (unexamined)
		warning(s, "process %d: %zu descriptor(s) not examined (on FUSE or a mount the container does not show; "
			   "see not_examined in process.json)", (int)pid, unexamined);
	return arr;
}

static cJSON *maps_json(const struct cryo_vmas *vmas)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < vmas->n; i++) {
		const struct cryo_vma *m = &vmas->v[i];
		cJSON *o = cJSON_CreateObject();
		char a[24];
		snprintf(a, sizeof(a), "0x%" PRIx64, m->start);
		cryo_json_str(o, "start", a);
		snprintf(a, sizeof(a), "0x%" PRIx64, m->end);
		cryo_json_str(o, "end", a);
		cryo_json_str(o, "perms", m->perms);
		cryo_json_num(o, "offset", (double)m->offset);
		cryo_json_str(o, "dev", m->dev);
		cryo_json_num(o, "inode", (double)m->inode);
		cryo_json_str(o, "path", m->path);
		if (m->has_sizes) {
			cryo_json_num(o, "rss_kb", (double)m->rss_kb);
			cryo_json_num(o, "swap_kb", (double)m->swap_kb);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *threads_json(struct snap *s, int procfd)
{
	cJSON *arr = cJSON_CreateArray();
	int tfd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
	if (!d) {
		if (tfd >= 0)
			close(tfd);
		return arr;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		long tid;
		if (cryo_parse_long(de->d_name, 1, INT32_MAX, &tid) < 0)
			continue;
		char p[64];
		cleanup_free char *text = NULL;
		size_t len;
		struct cryo_error e;
		struct cryo_proc_stat st;
		snprintf(p, sizeof(p), "%ld/stat", tid);
		cJSON *o = cJSON_CreateObject();
		cryo_json_num(o, "tid", (double)tid);
		if (cryo_read_file_at(dirfd(d), p, 4096, false, &text, &len, &e) == 0 && cryo_proc_stat_parse(text, &st) == 0) {
			char state[2] = { st.state, 0 };
			cryo_json_str(o, "name", st.comm);
			cryo_json_str(o, "state", state);
		}
		cJSON_AddItemToArray(arr, o);
		s->threads++;
	}
	return arr;
}

struct procinfo {
	pid_t pid, ppid;
	uint64_t start;
	char comm[64];
};

static void times_json(struct snap *s, cJSON *o, uint64_t start_ticks)
{
	double boot_s = (double)start_ticks / (double)s->hz;
	cryo_json_num(o, "start_ticks", (double)start_ticks);
	cryo_json_num(o, "start_since_boot_s", boot_s);
	char utc[48];
	cryo_format_utc_ns(s->boot_realtime_ns + (uint64_t)(start_ticks * (1000000000ull / (uint64_t)s->hz)), utc, sizeof(utc));
	cryo_json_str(o, "start_utc", utc);
}

/* A thread of pid that has not exited, 0 when none. */
static pid_t live_thread(int procfd, pid_t pid)
{
	int tfd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
	if (!d) {
		if (tfd >= 0)
			close(tfd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		long tid;
		char path[64];
		cleanup_free char *text = NULL;
		size_t len;
		struct cryo_error e;
		struct cryo_proc_stat st;
		if (cryo_parse_long(de->d_name, 1, INT32_MAX, &tid) < 0 || tid == pid)
			continue;
		snprintf(path, sizeof(path), "%ld/stat", tid);
		if (cryo_read_file_at(dirfd(d), path, 4096, false, &text, &len, &e) == 0 &&
		    cryo_proc_stat_parse(text, &st) == 0 && st.state != 'Z' && st.state != 'X')
			return (pid_t)tid;
	}
	return 0;
}

/* Everything about one process.  Returns 1 when it exited before or
 * during its capture (recorded, not a failure). */
static int capture_process(struct snap *s, const struct procinfo *pi, const struct procinfo *all, size_t nall,
			   cJSON *index_entry, uint64_t *memory_left)
{
	const struct cryo_proc_request *req = s->req;
	pid_t pid = pi->pid;
	char dir[64], rel[128];
	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	cleanup_close int procfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct cryo_proc_stat now;
	struct cryo_error e;
	if (procfd < 0 || cryo_proc_stat_read(pid, &now, &e) < 0 || now.start_time != pi->start) {
		cryo_json_str(index_entry, "captured", "exited");
		warning(s, "process %d (%s) exited before its capture", (int)pid, pi->comm);
		return 1;
	}

	char *raw[RAW_N] = { 0 };
	size_t rawlen[RAW_N] = { 0 };
	cleanup_cjson cJSON *p = NULL;
	/* A main thread that exited while the others run on (a zombie leader:
	 * syscall(SYS_exit) in main) leaves /proc/PID's maps, command line and
	 * environment empty or unreadable: they are read through a live thread */
	pid_t mm_tid = now.state == 'Z' ? live_thread(procfd, pid) : 0;
	cleanup_close int mmfd = -1;
	if (mm_tid) {
		char t[64];
		snprintf(t, sizeof(t), "task/%d", (int)mm_tid);
		mmfd = openat(procfd, t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		warning(s, "process %d: its main thread has exited; memory and mappings read through thread %d", (int)pid,
			(int)mm_tid);
	}
	for (size_t i = 0; i < RAW_N; i++) {
		snprintf(rel, sizeof(rel), "proc/%d/%s", (int)pid, raw_files[i].name);
		bool per_mm = i == RAW_MAPS || i == RAW_SMAPS || i == RAW_ENVIRON || i == RAW_CMDLINE || i == RAW_MOUNTINFO;
		int from = per_mm && mmfd >= 0 ? mmfd : procfd;
		if (cryo_read_file_at(from, raw_files[i].name, raw_files[i].max, false, &raw[i], &rawlen[i], &e) < 0) {
			if (i == RAW_STATUS && (e.errnum == ESRCH || e.errnum == ENOENT))
				break;
			problem(s, rel, "%s", e.msg);
			continue;
		}
		if (cryo_case_write_artifact_new(req->kase, rel, raw[i], rawlen[i], req->entry, &e) < 0)
			problem(s, rel, "%s", e.msg);
		else
			artifact(s, rel);
	}
	int rc = 0;
	if (!raw[RAW_STATUS] || !raw[RAW_STAT]) {
		cryo_json_str(index_entry, "captured", "exited");
		warning(s, "process %d (%s) exited during its capture", (int)pid, pi->comm);
		rc = 1;
		goto out;
	}

	p = cJSON_CreateObject();
	const char *status = raw[RAW_STATUS];
	char v[4096];
	cryo_json_num(p, "pid", pid);
	if (cryo_status_field(status, "NSpid", v, sizeof(v))) {
		cJSON *ns = cJSON_AddArrayToObject(p, "nspid");
		for (char *t = strtok(v, " \t"); t; t = strtok(NULL, " \t"))
			cJSON_AddItemToArray(ns, cJSON_CreateNumber(atof(t)));
		cJSON *last = cJSON_GetArrayItem(ns, cJSON_GetArraySize(ns) - 1);
		cryo_json_num(p, "pid_in_container", last ? last->valuedouble : pid);
		cryo_json_num(index_entry, "pid_in_container", last ? last->valuedouble : pid);
	}
	cryo_json_num(p, "ppid", pi->ppid);
	cJSON *children = cJSON_AddArrayToObject(p, "children");
	for (size_t i = 0; i < nall; i++)
		if (all[i].ppid == pid)
			cJSON_AddItemToArray(children, cJSON_CreateNumber(all[i].pid));
	cryo_json_str(p, "name", now.comm);
	char state[2] = { now.state, 0 };
	cryo_json_str(p, "state", state);
	if (cryo_status_field(status, "State", v, sizeof(v)))
		cryo_json_str(p, "state_text", v);
	times_json(s, p, pi->start);
	cJSON_AddItemToObject(p, "uid", ids_json(status, "Uid"));
	cJSON_AddItemToObject(p, "gid", ids_json(status, "Gid"));
	if (cryo_status_field(status, "Groups", v, sizeof(v))) {
		cJSON *g = cJSON_AddArrayToObject(p, "groups");
		for (char *t = strtok(v, " \t"); t; t = strtok(NULL, " \t"))
			cJSON_AddItemToArray(g, cJSON_CreateNumber(atof(t)));
	}
	cJSON *userns = cJSON_AddObjectToObject(p, "user_namespace");
	cJSON_AddItemToObject(userns, "uid_map", cryo_idmap_json(raw[RAW_UID_MAP] ? raw[RAW_UID_MAP] : ""));
	cJSON_AddItemToObject(userns, "gid_map", cryo_idmap_json(raw[RAW_GID_MAP] ? raw[RAW_GID_MAP] : ""));
	cJSON_AddItemToObject(p, "cmdline", cryo_nul_list_json(raw[RAW_CMDLINE] ? raw[RAW_CMDLINE] : "", rawlen[RAW_CMDLINE], MAX_LIST_ITEMS));
	cJSON_AddItemToObject(p, "environ", cryo_nul_list_json(raw[RAW_ENVIRON] ? raw[RAW_ENVIRON] : "", rawlen[RAW_ENVIRON], MAX_LIST_ITEMS));
	char link[4096];
	cryo_json_str(p, "cwd", read_link(procfd, "cwd", link, sizeof(link)) ? link : NULL);
	cryo_json_str(p, "root", read_link(procfd, "root", link, sizeof(link)) ? link : NULL);

	/* the executable: /proc/PID/exe opens it even when it was deleted */
	cJSON *exe = cJSON_AddObjectToObject(p, "exe");
	struct mounts mounts;
	mounts_load(&mounts, raw[RAW_MOUNTINFO], req->c->init_pid);
	const char *unsafe = NULL;
	if (read_link(procfd, "exe", link, sizeof(link))) {
		cryo_json_str(exe, "path", link);
		cryo_json_str(index_entry, "exe", link);
		struct stat st;
		unsafe = unsafe_file(&mounts, procfd, "exe");
		cleanup_close int fd = unsafe ? -1 : open_regular(procfd, "exe", &st);
		if (fd >= 0) {
			char hex[CRYO_SHA256_HEX];
			cryo_json_bool(exe, "deleted", st.st_nlink == 0);
			store_file(s, fd, &st, pid, "exe", link, hex);
			cryo_json_str(exe, "sha256", hex);
			if (st.st_nlink == 0)
				cryo_json_bool(index_entry, "exe_deleted", true);
		} else {
			problem(s, link, "executable of process %d not copied: %s", (int)pid, unsafe ? unsafe : strerror(errno));
		}
	} else {
		cryo_json_str(exe, "path", NULL); /* a kernel thread, or gone */
	}

	cJSON_AddItemToObject(p, "capabilities", caps_json(pid, status));
	if (cryo_status_field(status, "NoNewPrivs", v, sizeof(v)))
		cryo_json_bool(p, "no_new_privs", atoi(v) != 0);
	cJSON *sec = cJSON_AddObjectToObject(p, "seccomp");
	if (cryo_status_field(status, "Seccomp", v, sizeof(v))) {
		int m = atoi(v);
		cryo_json_str(sec, "mode", m == 0 ? "disabled" : m == 1 ? "strict" : m == 2 ? "filter" : "?");
	}
	if (cryo_status_field(status, "Seccomp_filters", v, sizeof(v)))
		cryo_json_num(sec, "filters", atof(v));
	cJSON_AddItemToObject(p, "namespaces", namespaces_json(procfd));
	cJSON *cg = cJSON_AddArrayToObject(p, "cgroup");
	if (raw[RAW_CGROUP])
		for (char *t = strtok(raw[RAW_CGROUP], "\n"); t; t = strtok(NULL, "\n"))
			cJSON_AddItemToArray(cg, cryo_json_string(t));
	cJSON_AddItemToObject(p, "limits", cryo_limits_json(raw[RAW_LIMITS] ? raw[RAW_LIMITS] : ""));
	cJSON_AddItemToObject(p, "fds", fds_json(s, pid, procfd, &mounts));
	free(mounts.v);
	struct cryo_vmas vmas = { 0 };
	if (raw[RAW_SMAPS] && cryo_vmas_parse(raw[RAW_SMAPS], &vmas) == 0)
		cJSON_AddItemToObject(p, "maps", maps_json(&vmas));
	else
		problem(s, "proc", "mappings of process %d: smaps unreadable", (int)pid);
	cryo_vmas_free(&vmas); /* smaps text was cut by the parse: the raw copy is already written */
	cJSON_AddItemToObject(p, "threads", threads_json(s, procfd));
	cryo_json_num(index_entry, "threads", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "threads")));

	cJSON *mem = cJSON_AddObjectToObject(p, "memory");
	/* cores take whole pages: less than one left is none */
	if (req->no_memory || (req->max_total_memory && *memory_left < 4096)) {
		cryo_json_str(mem, "captured", req->no_memory ? "no (--no-memory)" : "no (--max-total-memory reached)");
		if (!req->no_memory)
			warning(s, "process %d: no memory captured, --max-total-memory is spent", (int)pid);
	} else {
		uint64_t limit = req->max_memory;
		if (req->max_total_memory && (!limit || *memory_left < limit))
			limit = *memory_left;
		snprintf(rel, sizeof(rel), "proc/%d/core", (int)pid);
		struct cryo_core_request cr = {
			.kase = req->kase, .entry = req->entry, .relpath = rel, .pid = pid, .start_time = pi->start,
			.procfd = procfd, .mm_dirfd = mmfd, .mm_pid = mm_tid,
			.stop_threads = s->stop_threads, .no_stop_reason = s->no_stop_reason,
			.skip_file_backed = req->skip_file_backed, .compress = req->compress, .max_bytes = limit,
		};
		if (cryo_core_write(&cr, mem, &e) < 0) {
			if (e.errnum == ESRCH || e.exit == CRYO_EXIT_NOTFOUND) {
				warning(s, "process %d (%s) exited during its memory capture", (int)pid, pi->comm);
				cryo_json_str(index_entry, "captured", "exited");
				rc = 1;
			} else {
				problem(s, rel, "%s", e.msg);
			}
			cryo_json_str(mem, "error", e.msg);
		} else {
			const cJSON *b = cJSON_GetObjectItemCaseSensitive(mem, "bytes");
			uint64_t used = b ? (uint64_t)b->valuedouble : 0;
			s->memory_total += used;
			if (req->max_total_memory)
				*memory_left = used >= *memory_left ? 0 : *memory_left - used;
			artifact(s, cryo_json_get_str(mem, "path"));
			cryo_json_str(index_entry, "core", cryo_json_get_str(mem, "path"));
			const cJSON *hc = cJSON_GetObjectItemCaseSensitive(mem, "holes_count");
			if (hc && hc->valuedouble > 0)
				problem(s, cryo_json_get_str(mem, "path"), "%g unreadable region(s) of process %d written as zeros (listed in process.json)",
					hc->valuedouble, (int)pid);
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mem, "truncated")))
				warning(s, "process %d: memory cut at the %s limit", (int)pid,
					limit == req->max_memory ? "--max-memory" : "--max-total-memory");
		}
		const cJSON *twr = cJSON_GetObjectItemCaseSensitive(mem, "threads_with_registers");
		const cJSON *th = cJSON_GetObjectItemCaseSensitive(mem, "threads");
		const cJSON *tex = cJSON_GetObjectItemCaseSensitive(mem, "threads_exited");
		int gone = tex ? (int)tex->valuedouble : 0;
		if (s->stop_threads && twr && (int)twr->valuedouble + gone < cJSON_GetArraySize(th)) {
			const char *why = "see process.json";
			const cJSON *t;
			cJSON_ArrayForEach(t, th)
				if (cryo_json_get_str(t, "reason") && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "exited"))) {
					why = cryo_json_get_str(t, "reason");
					break;
				}
			problem(s, rel, "registers of %d of %d thread(s) of process %d not read: %s",
				cJSON_GetArraySize(th) - (int)twr->valuedouble - gone, cJSON_GetArraySize(th), (int)pid, why);
		}
	}
	snprintf(rel, sizeof(rel), "proc/%d/process.json", (int)pid);
	struct cryo_error we;
	if (write_json(s, rel, p, &we) < 0)
		problem(s, rel, "%s", we.msg);
	if (!cryo_json_get_str(index_entry, "captured"))
		cryo_json_str(index_entry, "captured", "yes");
out:
	for (size_t i = 0; i < RAW_N; i++)
		free(raw[i]);
	return rc;
}

/* --- the whole container ----------------------------------------------- */

/* The namespaces the container shares with the host (its init's against
 * the host init's, /proc/1: right also where cryo itself runs in a pod
 * with hostPID).  A shared network, PID or IPC namespace is how a
 * container reaches what it should not. */
static void host_namespaces(cJSON *index, pid_t init)
{
	static const char *const names[] = { "net", "pid", "ipc", "uts", "mnt", "user", "cgroup", "time" };
	cJSON *arr = cJSON_AddArrayToObject(index, "host_namespaces");
	/* the host's init, or (where it cannot be looked at, as under some
	 * sandboxes) cryo's own namespaces: a tool run on the host */
	struct stat probe;
	const char *ref = stat("/proc/1/ns/net", &probe) == 0 ? "/proc/1" : "/proc/self";
	cryo_json_str(index, "host_namespaces_reference", ref);
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(names); i++) {
		char a[64], b[64];
		struct stat sa, sb;
		snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)init, names[i]);
		snprintf(b, sizeof(b), "%s/ns/%s", ref, names[i]);
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev)
			cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
	}
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct procinfo *)a)->pid, y = ((const struct procinfo *)b)->pid;
	return (x > y) - (x < y);
}

static void freeze_state(struct snap *s)
{
	const struct cryo_proc_request *req = s->req;
	struct cryo_freezer f;
	struct cryo_error e;
	enum cryo_freeze_state st = CRYO_THAWED;
	s->stop_threads = true;
	bool opened = cryo_freezer_init(&f, req->roots, req->c, CRYO_FREEZE_NONE, &e) == 0;
	if (!opened || cryo_freezer_state(&f, &st, &e) < 0) {
		if (opened)
			cryo_freezer_close(&f);
		warning(s, "freeze state unknown (%s): capturing as if running", e.msg);
		cryo_json_str(s->result, "frozen", "unknown");
		return;
	}
	cryo_json_str(s->result, "frozen", st == CRYO_FROZEN ? cryo_freeze_mech_name(f.mech) : "no");
	if (st != CRYO_FROZEN) {
		warning(s, "the container is not frozen: its processes are stopped one at a time while "
			   "captured, and may change in between (freeze it first: cryo-freeze)");
	} else if (f.mech == CRYO_FREEZE_V1) {
		/* A v1-frozen task sits in the refrigerator and cannot enter a
		 * ptrace stop: registers cannot be read until it is thawed. */
		s->stop_threads = false;
		snprintf(s->no_stop_reason, sizeof(s->no_stop_reason),
			 "frozen by the cgroup v1 freezer: a task there cannot enter a ptrace stop, so its "
			 "registers were not read (memory, descriptors and /proc state were)");
		warning(s, "the container is frozen by the cgroup v1 freezer: registers are not read "
			   "(memory and process state are); freeze with cgroup v2 to get them");
	}
	cryo_freezer_close(&f);
}

static void capture_sockets(struct snap *s, const struct cryo_pids *pids)
{
	const struct cryo_container *c = s->req->c;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->init_pid);
	struct cryo_netns ns;
	struct cryo_error e;
	if (cryo_netns_open(path, &ns, &e) < 0) {
		problem(s, "proc/sockets.json", "%s", e.msg);
		return;
	}
	struct cryo_netns self;
	if (cryo_netns_self(&self, &e) == 0) {
		if (self.ino == ns.ino)
			warning(s, "the container shares the host's network namespace: proc/sockets.json lists "
				   "the host's sockets too (the container's own are those with owners)");
		cryo_netns_close(&self);
	}
	cleanup_cjson cJSON *socks = cryo_sockets_json(&ns, pids, &e);
	cryo_netns_close(&ns);
	if (!socks) {
		problem(s, "proc/sockets.json", "%s", e.msg);
		return;
	}
	cryo_json_num(s->result, "sockets", cJSON_GetArraySize(socks));
	cleanup_cjson cJSON *doc = cJSON_CreateObject();
	cryo_json_num(doc, "netns", (double)ns.ino);
	cJSON_AddItemToObject(doc, "sockets", steal_pointer(&socks));
	if (write_json(s, "proc/sockets.json", doc, &e) < 0)
		problem(s, "proc/sockets.json", "%s", e.msg);
}

int cryo_proc_snapshot(const struct cryo_proc_request *req, cJSON **result, struct cryo_error *err)
{
	uint64_t t0 = cryo_now_monotonic_ns();
	struct snap s = { .req = req };
	*result = s.result = cJSON_CreateObject();
	s.artifacts = cJSON_AddArrayToObject(s.result, "artifacts");
	s.warnings = cJSON_AddArrayToObject(s.result, "warnings");
	s.problems = cJSON_AddArrayToObject(s.result, "problems");
	cryo_container_json_identity(s.result, req->c);
	s.files_index = cJSON_CreateArray();
	s.copybuf = malloc(COPY_BUF);
	s.hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	struct timespec bt;
	clock_gettime(CLOCK_BOOTTIME, &bt);
	s.boot_realtime_ns = cryo_now_realtime_ns() - ((uint64_t)bt.tv_sec * 1000000000ull + (uint64_t)bt.tv_nsec);
	int rc = -1;
	cleanup_cjson cJSON *index = NULL;
	struct procinfo *all = NULL;
	size_t nall = 0;
	if (!s.files_index || !s.copybuf || !(all = calloc(req->c->pids.n ? req->c->pids.n : 1, sizeof(*all)))) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "process snapshot");
		goto out;
	}
	/* proc/ at all, not only its index: an interrupted snapshot keeps
	 * what it completed, and that is evidence too */
	if (faccessat(req->kase->dirfd, "proc", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST,
			       "%s already holds a process snapshot (proc/): evidence is never replaced; use a new case directory",
			       req->kase->path);
		goto out;
	}
	for (size_t i = 0; i < req->nonly; i++) {
		bool in = false;
		for (size_t k = 0; k < req->c->pids.n && !in; k++)
			in = req->c->pids.v[k] == req->only[i];
		if (!in) {
			cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "process %d is not in the container", (int)req->only[i]);
			goto out;
		}
	}
	freeze_state(&s);

	/* first every process's stat: the tree is known before any is captured */
	for (size_t i = 0; i < req->c->pids.n; i++) {
		struct cryo_proc_stat st;
		struct cryo_error e;
		if (cryo_proc_stat_read(req->c->pids.v[i], &st, &e) < 0) {
			warning(&s, "process %d exited before its capture", (int)req->c->pids.v[i]);
			s.exited++;
			continue;
		}
		all[nall].pid = st.pid;
		all[nall].ppid = st.ppid;
		all[nall].start = st.start_time;
		snprintf(all[nall].comm, sizeof(all[nall].comm), "%s", st.comm);
		nall++;
	}
	qsort(all, nall, sizeof(*all), pid_cmp);
	struct cryo_pids pids = { 0 };
	for (size_t i = 0; i < nall; i++)
		cryo_pids_push(&pids, all[i].pid);
	capture_sockets(&s, &pids);
	cryo_pids_free(&pids);

	index = cJSON_CreateObject();
	cryo_container_json_identity(index, req->c);
	cJSON_AddItemToObject(index, "container", cryo_container_to_json(req->c));
	host_namespaces(index, req->c->init_pid);
	cJSON *procs = cJSON_AddArrayToObject(index, "processes");
	uint64_t memory_left = req->max_total_memory;
	size_t captured = 0;
	for (size_t i = 0; i < nall; i++) {
		bool wanted = !req->nonly;
		for (size_t k = 0; k < req->nonly && !wanted; k++)
			wanted = req->only[k] == all[i].pid;
		if (!wanted)
			continue;
		if (cryo_interrupted) {
			cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
			goto out;
		}
		cJSON *e = cJSON_CreateObject();
		cryo_json_num(e, "pid", all[i].pid);
		cryo_json_num(e, "ppid", all[i].ppid);
		cryo_json_str(e, "name", all[i].comm);
		cJSON_AddItemToArray(procs, e);
		if (capture_process(&s, &all[i], all, nall, e, &memory_left) == 1)
			s.exited++;
		else
			captured++;
	}
	/* the tree: roots are processes whose parent is not in the container */
	cJSON *roots = cJSON_AddArrayToObject(index, "roots");
	for (size_t i = 0; i < nall; i++) {
		struct procinfo key = { .pid = all[i].ppid };
		if (!bsearch(&key, all, nall, sizeof(*all), pid_cmp))
			cJSON_AddItemToArray(roots, cJSON_CreateNumber(all[i].pid));
	}
	struct cryo_error e;
	if (write_json(&s, "proc/index.json", index, &e) < 0 ||
	    write_json(&s, "proc/files/index.json", s.files_index, &e) < 0) {
		*err = e;
		goto out;
	}
	cJSON *counts = cJSON_AddObjectToObject(s.result, "counts");
	cryo_json_num(counts, "processes", (double)captured);
	cryo_json_num(counts, "threads", (double)s.threads);
	cryo_json_num(counts, "exited", (double)s.exited);
	cryo_json_num(counts, "files", (double)s.nfiles);
	cryo_json_num(counts, "memory_bytes", (double)s.memory_total);
	if (s.problems_dropped) {
		cJSON *o = cJSON_CreateObject();
		char why[64];
		snprintf(why, sizeof(why), "%" PRIu64 " more problems not listed", s.problems_dropped);
		cryo_json_str(o, "path", "proc");
		cryo_json_str(o, "problem", why);
		cJSON_AddItemToArray(s.problems, o);
	}
	if (s.warnings_dropped)
		cJSON_AddItemToArray(s.warnings, cryo_json_string("more warnings not listed"));
	rc = 0;
out:
	cryo_json_num(s.result, "seconds", (double)(cryo_now_monotonic_ns() - t0) / 1e9);
	free(all);
	free(s.files);
	free(s.copybuf);
	cJSON_Delete(s.files_index);
	return rc;
}
