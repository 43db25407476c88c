#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/util.h"

int cryo_read_file_at(int dirfd, const char *path, size_t max, bool nofollow, char **out,
		      size_t *len, struct cryo_error *err)
{
	cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
							   (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return cryo_error_sys(err, "open %s", path);
	if (nofollow) {
		/* Never read a FIFO or device that stands where a file should be. */
		struct stat st;
		if (fstat(fd, &st) < 0)
			return cryo_error_sys(err, "stat %s", path);
		if (!S_ISREG(st.st_mode))
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: not a regular file", path);
	}
	return cryo_read_fd(fd, path, max, out, len, err);
}

int cryo_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, struct cryo_error *err)
{
	size_t cap = max < 4096 ? max : 4096, n = 0;
	cleanup_free char *buf = malloc(cap + 1);
	if (!buf)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "read %s", path);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				/* exactly max bytes is fine; one more is not */
				char probe;
				ssize_t r;
				do
					r = read(fd, &probe, 1);
				while (r < 0 && errno == EINTR);
				if (r < 0)
					return cryo_error_sys(err, "read %s", path);
				if (r == 0)
					break;
				return cryo_error_set(err, CRYO_EXIT_DATAERR, EFBIG,
						      "read %s (limit %zu bytes)", path, max);
			}
			size_t ncap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb)
				return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "read %s", path);
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return cryo_error_sys(err, "read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = steal_pointer(&buf);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int write_temp(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		      char *tmp, size_t tmpsize, struct cryo_error *err)
{
	unsigned r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned)getpid() ^ (unsigned)cryo_now_monotonic_ns();
	snprintf(tmp, tmpsize, ".%s.tmp-%08x", name, r);
	cleanup_close int fd =
		openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return cryo_error_sys(err, "create %s", tmp);
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		cryo_error_sys(err, "write %s", tmp);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

int cryo_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len,
			      mode_t mode, struct cryo_error *err)
{
	char tmp[PATH_MAX];
	if (write_temp(dirfd, name, data, len, mode, tmp, sizeof(tmp), err) < 0)
		return -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		cryo_error_sys(err, "rename %s to %s", tmp, name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	fsync(dirfd);
	return 0;
}

int cryo_write_file_new_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			   struct cryo_error *err)
{
	char tmp[PATH_MAX];
	if (write_temp(dirfd, name, data, len, mode, tmp, sizeof(tmp), err) < 0)
		return -1;
	/* link(2) fails with EEXIST instead of replacing: first writer wins. */
	int rc = linkat(dirfd, tmp, dirfd, name, 0);
	int e = errno;
	unlinkat(dirfd, tmp, 0);
	if (rc < 0) {
		errno = e;
		return cryo_error_sys(err, "create %s", name);
	}
	fsync(dirfd);
	return 0;
}

volatile sig_atomic_t cryo_interrupted;

uint64_t cryo_now_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cryo_now_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cryo_format_utc_ns(uint64_t ns, char *buf, size_t size)
{
	cryo_format_utc_ts((int64_t)(ns / 1000000000ull), (uint32_t)(ns % 1000000000ull), buf, size);
}

void cryo_format_utc_ts(int64_t sec, uint32_t nsec, char *buf, size_t size)
{
	/* a file's times are whatever touch(1) set: before 1970 too */
	time_t s = (time_t)sec;
	struct tm tm;
	char date[40];
	if (!gmtime_r(&s, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(date, sizeof(date), "@%lld", (long long)sec);
	snprintf(buf, size, "%s.%09uZ", date, nsec % 1000000000u);
}

bool cryo_is_hex(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

bool cryo_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool cryo_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int cryo_parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

char *cryo_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *cryo_join_argv(int argc, char *const argv[])
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p = '\0';
	for (int i = 0; i < argc; i++)
		p += sprintf(p, "%s%s", i ? " " : "", argv[i]);
	return s;
}

int cryo_proc_stat_parse(const char *buf, struct cryo_proc_stat *st)
{
	memset(st, 0, sizeof(*st));
	char *end;
	long pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 0 || pid > INT_MAX || strncmp(end, " (", 2) != 0)
		return -1;
	/* comm is attacker-chosen and may contain ") ": the last ')' ends it. */
	const char *open = end + 2, *close = strrchr(buf, ')');
	if (!close || close < open)
		return -1;
	size_t clen = (size_t)(close - open);
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1;
	memcpy(st->comm, open, clen);
	st->comm[clen] = '\0';
	const char *p = close + 1;
	/* fields after comm: 3 state, 4 ppid, ..., 22 starttime */
	char state;
	long ppid;
	int consumed = 0;
	if (sscanf(p, " %c %ld%n", &state, &ppid, &consumed) != 2)
		return -1;
	p += consumed;
	unsigned long long v = 0;
	for (int field = 5; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		char *e;
		errno = 0;
		v = strtoull(p, &e, 10);
		if (e == p && *p != '-')
			return -1;
		if (*p == '-') {
			strtoll(p, &e, 10);
			if (e == p)
				return -1;
		}
		p = e;
	}
	st->pid = (pid_t)pid;
	st->state = state;
	st->ppid = (pid_t)ppid;
	st->start_time = v;
	return 0;
}

int cryo_proc_stat_read(pid_t pid, struct cryo_proc_stat *st, struct cryo_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_free char *buf = NULL;
	if (cryo_read_file_at(AT_FDCWD, path, 4096, false, &buf, NULL, err) < 0)
		return -1;
	if (cryo_proc_stat_parse(buf, st) < 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: cannot parse", path);
	return 0;
}

int cryo_pids_push(struct cryo_pids *p, pid_t pid)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		pid_t *nv = realloc(p->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		p->v = nv;
		p->cap = ncap;
	}
	p->v[p->n++] = pid;
	return 0;
}

void cryo_pids_free(struct cryo_pids *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

int cryo_pids_parse(const char *buf, struct cryo_pids *p)
{
	const char *s = buf;
	while (*s) {
		while (*s == '\n' || *s == ' ')
			s++;
		if (!*s)
			break;
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (end == s || errno || v <= 0 || v > INT_MAX || (*end && *end != '\n'))
			return -1;
		if (cryo_pids_push(p, (pid_t)v) < 0)
			return -1;
		s = end;
	}
	return 0;
}

int cryo_open_beneath(int dirfd, const char *path, int flags, struct cryo_error *err)
{
	/* the kernel resolves the whole path with no symlink and no escape;
	 * before 5.6 (ENOSYS), one O_NOFOLLOW component at a time */
	struct open_how how = { .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS) {
		if (fd < 0)
			cryo_error_sys(err, "open %s", path);
		return fd;
	}
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return cryo_error_set(err, CRYO_EXIT_USAGE, ENAMETOOLONG, "open %s", path);
	int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return cryo_error_sys(err, "dup");
	char *p = buf;
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (!strcmp(p, "..") || !p[0]) {
			close(cur);
			return cryo_error_set(err, CRYO_EXIT_USAGE, EXDEV, "open %s: leaves the directory", path);
		}
		int next = openat(cur, p, slash ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
					    : flags | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(cur);
		if (next < 0) {
			errno = e;
			return cryo_error_sys(err, "open %s", path);
		}
		if (!slash)
			return next;
		cur = next;
		p = slash + 1;
	}
}

bool cryo_utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		unsigned c = *s, n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
		if (n == 9)
			return false;
		unsigned cp = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}


int cryo_grow(void *vp, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : first;
	if (ncap <= n || ncap > SIZE_MAX / elem)
		return -1;
	void *v = realloc(*(void **)vp, ncap * elem);
	if (!v)
		return -1;
	*(void **)vp = v;
	*cap = ncap;
	return 0;
}

int cryo_parse_size(const char *s, long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned long long mul = 1;
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30;
	if (end == s || *s == '-' || errno || (mul > 1 && end[1]) || (mul == 1 && *end) || v == 0 ||
	    v > (1ull << 50) / mul)
		return -1;
	*out = (long)(v * mul);
	return 0;
}

int cryo_mkdir_p(const char *path, mode_t mode, struct cryo_error *err)
{
	char buf[PATH_MAX];
	if (!path[0])
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "an empty directory name");
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "path too long: %.100s...", path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return cryo_error_sys(err, "mkdir %s", buf);
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* A directory to empty: opened without following a symlink, made
 * searchable and writable first (overlayfs's work/work is 0000; a sample
 * may leave 0555 directories). */
static int open_to_empty(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		(void)!fchmod(fd, 0700);
	return fd;
}

/* One descriptor at a time, whatever the depth: down into the first
 * subdirectory that is not empty, back up through ".." once a directory
 * is empty (nothing else may rename inside the tree meanwhile: a
 * sandbox's tree is removed once its processes are gone). */
int cryo_remove_tree_at(int parent, const char *name)
{
	int fd = open_to_empty(parent, name);
	if (fd < 0)
		return unlinkat(parent, name, 0);
	size_t depth = 0;
	int rc = 0;
	while (rc == 0) {
		/* a duplicate shares the offset: read the directory from its start */
		int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (dfd >= 0)
			lseek(dfd, 0, SEEK_SET);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		if (!d) {
			if (dfd >= 0)
				close(dfd);
			rc = -1;
			break;
		}
		struct dirent *de;
		int down = -1;
		while (rc == 0 && down < 0 && (de = readdir(d))) {
			if (cryo_is_dot(de->d_name))
				continue;
			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
				rc = unlinkat(fd, de->d_name, 0);
				continue;
			}
			if (unlinkat(fd, de->d_name, 0) == 0 || unlinkat(fd, de->d_name, AT_REMOVEDIR) == 0)
				continue;
			if (errno != ENOTEMPTY && errno != EEXIST && errno != EACCES && errno != EPERM) {
				rc = -1;
				continue;
			}
			down = open_to_empty(fd, de->d_name);
			if (down < 0)
				rc = -1;
		}
		int saved = errno;
		closedir(d);
		errno = saved;
		if (rc < 0)
			break;
		if (down >= 0) {
			close(fd);
			fd = down;
			depth++;
			continue;
		}
		if (depth == 0)
			break;
		/* empty: up, and remove it there */
		struct stat st;
		int up = fstat(fd, &st) == 0 ? openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		close(fd);
		fd = up;
		depth--;
		if (fd < 0)
			return -1;
		dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (dfd >= 0)
			lseek(dfd, 0, SEEK_SET);
		d = dfd >= 0 ? fdopendir(dfd) : NULL;
		rc = -1;
		while (d && (de = readdir(d)))
			if (de->d_ino == st.st_ino && !cryo_is_dot(de->d_name)) {
				rc = unlinkat(fd, de->d_name, AT_REMOVEDIR);
				break;
			}
		if (d)
			closedir(d);
		else if (dfd >= 0)
			close(dfd);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return rc < 0 ? -1 : unlinkat(parent, name, AT_REMOVEDIR);
}
