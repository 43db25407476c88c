#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/evidence.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/util.h"

#define CUSTODY "custody.jsonl"

static void hostname_of(char *buf, size_t size)
{
	if (gethostname(buf, size) < 0)
		snprintf(buf, size, "unknown");
	buf[size - 1] = '\0';
}

static void new_case_id(char *buf, size_t size)
{
	unsigned char r[4] = { 0 };
	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		uint64_t t = cryo_now_monotonic_ns();
		memcpy(r, &t, sizeof(r));
	}
	char ts[40];
	cryo_format_utc_ns(cryo_now_realtime_ns(), ts, sizeof(ts));
	/* 2026-11-29T05:13:55.2Z -> 20261129T051355Z */
	snprintf(buf, size, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x%02x", ts, ts + 5, ts + 8, ts + 11,
		 ts + 14, ts + 17, r[0], r[1], r[2], r[3]);
}

int cryo_case_open(const char *path, const char *tool, const char *target, struct cryo_case *c,
		   struct cryo_error *err)
{
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	if (strlen(path) >= sizeof(c->path))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "case directory path too long");
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return cryo_error_sys(err, "create case directory %s", path);
	/* O_NOFOLLOW: a case path that is a symlink may point anywhere. */
	c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->dirfd < 0)
		return cryo_error_sys(err, "open case directory %s", path);
	struct stat st;
	if (fstat(c->dirfd, &st) < 0)
		return cryo_error_sys(err, "stat %s", path);
	if (st.st_uid != geteuid())
		return cryo_error_set(err, CRYO_EXIT_NOPERM, 0,
				      "case directory %s belongs to uid %u, not to us", path,
				      (unsigned)st.st_uid);
	if ((st.st_mode & 0077) && fchmod(c->dirfd, 0700) < 0)
		return cryo_error_sys(err, "chmod 0700 %s", path);

	for (int attempt = 0; attempt < 2; attempt++) {
		cleanup_free char *text = NULL;
		size_t len;
		if (cryo_read_file_at(c->dirfd, "case.json", 1u << 20, true, &text, &len, err) == 0) {
			cleanup_cjson cJSON *j = cryo_json_parse(text, len);
			const char *id = cryo_json_get_str(j, "case_id");
			if (!id || strlen(id) >= sizeof(c->id))
				return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
						      "%s/case.json: no valid case_id", path);
			snprintf(c->id, sizeof(c->id), "%s", id);
			return 0;
		}
		if (err->errnum != ENOENT)
			return cryo_error_wrap(err, "case %s", path);
		char id[64], host[256], now[40];
		new_case_id(id, sizeof(id));
		hostname_of(host, sizeof(host));
		cryo_format_utc_ns(cryo_now_realtime_ns(), now, sizeof(now));
		cleanup_cjson cJSON *j = cJSON_CreateObject();
		cryo_json_num(j, "format", CRYO_CASE_FORMAT);
		cryo_json_str(j, "case_id", id);
		cryo_json_str(j, "created", now);
		cryo_json_str(j, "host", host);
		cryo_json_str(j, "tool", tool);
		cryo_json_str(j, "version", CRYO_VERSION);
		cryo_json_str(j, "target", target);
		cleanup_free char *s = cJSON_Print(j);
		if (!s)
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "case.json");
		cleanup_free char *line = cryo_strdup_printf("%s\n", s);
		/* Two tools starting on one new case: the first case.json wins,
		 * the other reads it on the next turn of the loop. */
		if (cryo_write_file_new_at(c->dirfd, "case.json", line, strlen(line), 0600, err) < 0 &&
		    err->errnum != EEXIST)
			return cryo_error_wrap(err, "case %s", path);
	}
	return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "case %s: cannot create case.json", path);
}

void cryo_case_close(struct cryo_case *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->dirfd = -1;
}

void cryo_custody_begin(struct cryo_custody_entry *e, const char *tool, const char *action,
			const char *target, int argc, char *const argv[])
{
	e->t0_ns = cryo_now_monotonic_ns();
	e->obj = cJSON_CreateObject();
	/* seq and prev come first so a reader sees the chain at a glance;
	 * their values are set under the lock in cryo_custody_commit(). */
	cryo_json_num(e->obj, "seq", 0);
	cryo_json_str(e->obj, "prev", "");
	char host[256], now[40];
	hostname_of(host, sizeof(host));
	cryo_format_utc_ns(cryo_now_realtime_ns(), now, sizeof(now));
	cryo_json_str(e->obj, "time", now);
	cryo_json_str(e->obj, "tool", tool);
	cryo_json_str(e->obj, "version", CRYO_VERSION);
	cryo_json_str(e->obj, "action", action);
	cryo_json_str(e->obj, "target", target);
	cJSON *who = cJSON_AddObjectToObject(e->obj, "who");
	struct passwd *pw = getpwuid(geteuid());
	cryo_json_num(who, "uid", geteuid());
	cryo_json_str(who, "user", pw ? pw->pw_name : NULL);
	cryo_json_str(who, "host", host);
	cryo_json_num(who, "pid", getpid());
	const char *sudo = getenv("SUDO_USER");
	if (sudo)
		cryo_json_str(who, "sudo_user", sudo);
	cJSON *av = cJSON_AddArrayToObject(e->obj, "argv");
	for (int i = 0; i < argc; i++)
		cJSON_AddItemToArray(av, cJSON_CreateString(argv[i]));
	cJSON_AddArrayToObject(e->obj, "artifacts");
	cJSON_AddObjectToObject(e->obj, "details");
}

void cryo_custody_artifact(struct cryo_custody_entry *e, const char *path, uint64_t size,
			   const char *sha256_hex)
{
	cJSON *a = cJSON_CreateObject();
	cryo_json_str(a, "path", path);
	cryo_json_num(a, "size", (double)size);
	cryo_json_str(a, "sha256", sha256_hex);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(e->obj, "artifacts"), a);
}

void cryo_custody_abandon(struct cryo_custody_entry *e)
{
	cJSON_Delete(e->obj);
	e->obj = NULL;
}

/* The last line of the log (without newline) and the count of lines. */
static int last_line(int fd, char **line, long *count, struct cryo_error *err)
{
	*line = NULL;
	*count = 0;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cryo_error_sys(err, "stat " CUSTODY);
	if (st.st_size == 0)
		return 0;
	/* Count lines and keep the last: a streaming pass; the log is small
	 * (one line per action) but we never hold more than a line anyway. */
	cleanup_fclose FILE *f = fdopen(dup(fd), "r");
	if (!f)
		return cryo_error_sys(err, "read " CUSTODY);
	rewind(f);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&buf, &cap, f)) > 0) {
		if ((size_t)n > CRYO_CUSTODY_LINE_MAX) {
			free(buf);
			free(*line);
			*line = NULL;
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, CUSTODY ": line too long");
		}
		if (buf[n - 1] != '\n') {
			free(buf);
			free(*line);
			*line = NULL;
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
					      CUSTODY ": last line is incomplete (torn write?); "
					      "refusing to extend a broken chain");
		}
		buf[n - 1] = '\0';
		free(*line);
		*line = strdup(buf);
		(*count)++;
	}
	free(buf);
	return 0;
}

int cryo_case_lock(struct cryo_case *k, const char *who, struct cryo_error *err)
{
	int fd = openat(k->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cryo_error_sys(err, "open %s", k->path);
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 50) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return cryo_error_sys(err, "lock %s", k->path);
		}
		if (waited >= 60000) {
			close(fd);
			return cryo_error_set(err, CRYO_EXIT_TIMEOUT, 0,
					      "another tool has held %s for a minute; %s is not acting beside it",
					      k->path, who);
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return fd;
}

/* The custody log, opened and locked: the lock covers read-last-line +
 * append, so concurrent writers chain one after the other instead of both
 * linking to one line.  size: its length under the lock. */
static int custody_open_locked(struct cryo_case *c, off_t *size, struct cryo_error *err)
{
	int fd = openat(c->dirfd, CUSTODY, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cryo_error_sys(err, "open %s/" CUSTODY, c->path);
	struct stat st;
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		cryo_error_sys(err, "lock %s/" CUSTODY, c->path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s/" CUSTODY " is not a regular file", c->path);
	}
	*size = st.st_size;
	return fd;
}

/* The entry as the next line of the log: seq and prev from its last line. */
static char *entry_line(struct cryo_case *c, int fd, cJSON *obj, struct cryo_error *err)
{
	cleanup_free char *prev_line = NULL;
	long count = 0;
	if (last_line(fd, &prev_line, &count, err) < 0) {
		cryo_error_wrap(err, "%s", c->path);
		return NULL;
	}
	char prev[128];
	if (prev_line) {
		char hex[CRYO_SHA256_HEX];
		cryo_sha256_hex(prev_line, strlen(prev_line), hex);
		snprintf(prev, sizeof(prev), "sha256:%s", hex);
	} else {
		snprintf(prev, sizeof(prev), "case:%s", c->id);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(obj, "seq", cJSON_CreateNumber((double)(count + 1)));
	cJSON_ReplaceItemInObjectCaseSensitive(obj, "prev", cJSON_CreateString(prev));
	char *text = cJSON_PrintUnformatted(obj);
	if (!text) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "custody entry");
		return NULL;
	}
	if (strlen(text) > CRYO_CUSTODY_LINE_MAX) {
		free(text);
		cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "custody entry too large");
		return NULL;
	}
	return text;
}

/* One write(2) with O_APPEND: the line lands whole, or is cut back. */
static int append_line(struct cryo_case *c, int fd, off_t size, const char *line, struct cryo_error *err)
{
	size_t len = strlen(line);
	cleanup_free char *buf = malloc(len + 1);
	if (!buf)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "custody entry");
	memcpy(buf, line, len);
	buf[len] = '\n';
	ssize_t w = write(fd, buf, len + 1);
	if (w != (ssize_t)(len + 1)) {
		int saved = w < 0 ? errno : ENOSPC;
		/* a torn line would break the chain for every later entry; if
		 * even this fails, verify points at the line */
		if (w > 0 && ftruncate(fd, size) < 0)
			saved = errno;
		errno = saved;
		return cryo_error_sys(err, "append %s/" CUSTODY, c->path);
	}
	if (fsync(fd) < 0) {
		/* not known to be on disk: not claimed either (a seal whose
		 * archive is then removed must not stay in the log) */
		int saved = errno;
		if (ftruncate(fd, size) == 0)
			fsync(fd);
		errno = saved;
		return cryo_error_sys(err, "fsync %s/" CUSTODY, c->path);
	}
	return 0;
}

static void entry_finish(struct cryo_custody_entry *e, struct cryo_case *c, const char *result,
			 const char *message)
{
	cryo_json_str(e->obj, "result", result);
	cryo_json_str(e->obj, "message", message);
	cryo_json_num(e->obj, "duration_ns", (double)(cryo_now_monotonic_ns() - e->t0_ns));
	cryo_json_str(e->obj, "case_id", c->id);
}

int cryo_custody_commit(struct cryo_case *c, struct cryo_custody_entry *e, const char *result,
			const char *message, struct cryo_error *err)
{
	cleanup_cjson cJSON *obj = steal_pointer(&e->obj);
	if (!obj)
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "custody entry already used");
	e->obj = obj;
	entry_finish(e, c, result, message);
	e->obj = NULL;
	off_t size;
	cleanup_close int fd = custody_open_locked(c, &size, err);
	if (fd < 0)
		return -1;
	cleanup_free char *text = entry_line(c, fd, obj, err);
	if (!text || append_line(c, fd, size, text, err) < 0)
		return -1;
	flock(fd, LOCK_UN);
	return 0;
}

char *cryo_custody_prepare(struct cryo_case *c, struct cryo_custody_entry *e, const char *result,
			   const char *message, struct cryo_error *err)
{
	if (!e->obj) {
		cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "custody entry already used");
		return NULL;
	}
	entry_finish(e, c, result, message);
	off_t size;
	cleanup_close int fd = custody_open_locked(c, &size, err);
	if (fd < 0)
		return NULL;
	return entry_line(c, fd, e->obj, err);
}

int cryo_custody_append_prepared(struct cryo_case *c, const char *line, struct cryo_error *err)
{
	off_t size;
	cleanup_close int fd = custody_open_locked(c, &size, err);
	if (fd < 0)
		return -1;
	/* the line was chained to the head of that moment: it must still be
	 * the head, or the chain would fork */
	cleanup_cjson cJSON *want = cryo_json_parse(line, strlen(line));
	cleanup_cjson cJSON *probe = cJSON_CreateObject();
	cJSON_AddNumberToObject(probe, "seq", 0);
	cJSON_AddStringToObject(probe, "prev", "");
	cleanup_free char *now = entry_line(c, fd, probe, err);
	if (!now)
		return -1;
	const char *a = cryo_json_get_str(want, "prev"), *b = cryo_json_get_str(probe, "prev");
	if (!a || !b || strcmp(a, b) != 0)
		return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0,
				      "%s/" CUSTODY " changed while the entry was prepared", c->path);
	return append_line(c, fd, size, line, err);
}

long cryo_custody_verify_text(const char *text, size_t len, const char *case_id, long *bad_line,
			      struct cryo_error *err)
{
	*bad_line = 0;
	char expect[128];
	snprintf(expect, sizeof(expect), "case:%s", case_id ? case_id : "");
	long lineno = 0;
	const char *p = text, *end = text + len;
	char *line = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		lineno++;
		*bad_line = lineno;
		if (!nl) {
			free(line);
			return cryo_error_set(err, CRYO_EXIT_NO, 0, "custody line %ld: incomplete (no newline)",
					      lineno);
		}
		size_t n = (size_t)(nl - p);
		if (n > CRYO_CUSTODY_LINE_MAX) {
			free(line);
			return cryo_error_set(err, CRYO_EXIT_NO, 0, "custody line %ld: too long", lineno);
		}
		cJSON *j = cryo_json_parse(p, n);
		const char *prev = cryo_json_get_str(j, "prev");
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
		const char *cid = cryo_json_get_str(j, "case_id");
		int bad = 0;
		if (!cJSON_IsObject(j))
			bad = cryo_error_set(err, CRYO_EXIT_NO, 0, "custody line %ld: not a JSON object", lineno);
		else if (!cJSON_IsNumber(seq) || seq->valuedouble != (double)lineno)
			bad = cryo_error_set(err, CRYO_EXIT_NO, 0, "custody line %ld: sequence number is not %ld (line removed or reordered)",
					     lineno, lineno);
		else if (!prev || (strcmp(prev, expect) != 0 &&
				   /* no case id given: line 1 names it */
				   !(lineno == 1 && !case_id && cryo_has_prefix(prev, "case:"))))
			bad = cryo_error_set(err, CRYO_EXIT_NO, 0, "custody line %ld: chain broken (prev is %s, expected %s)",
					     lineno, prev ? prev : "missing", expect);
		else if (case_id && (!cid || strcmp(cid, case_id) != 0))
			bad = cryo_error_set(err, CRYO_EXIT_NO, 0, "custody line %ld: belongs to another case", lineno);
		cJSON_Delete(j);
		if (bad)
			return -1;
		char hex[CRYO_SHA256_HEX];
		cryo_sha256_hex(p, n, hex);
		snprintf(expect, sizeof(expect), "sha256:%s", hex);
		p = nl + 1;
	}
	free(line);
	*bad_line = 0;
	return lineno;
}

long cryo_custody_verify(int case_dirfd, long *bad_line, struct cryo_error *err)
{
	cleanup_free char *cj = NULL, *text = NULL;
	size_t cl, len;
	*bad_line = 0;
	if (cryo_read_file_at(case_dirfd, "case.json", 1u << 20, true, &cj, &cl, err) < 0)
		return -1;
	cleanup_cjson cJSON *j = cryo_json_parse(cj, cl);
	const char *id = cryo_json_get_str(j, "case_id");
	if (!id)
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "case.json has no case_id");
	if (cryo_read_file_at(case_dirfd, CUSTODY, 256u << 20, true, &text, &len, err) < 0)
		return -1;
	return cryo_custody_verify_text(text, len, id, bad_line, err);
}

void cryo_custody_head_text(const char *text, size_t len, char out[CRYO_CUSTODY_HEAD_MAX])
{
	out[0] = '\0';
	while (len && text[len - 1] == '\n')
		len--;
	if (!len)
		return;
	const char *start = text + len;
	while (start > text && start[-1] != '\n')
		start--;
	char hex[CRYO_SHA256_HEX];
	cryo_sha256_hex(start, (size_t)(text + len - start), hex);
	snprintf(out, CRYO_CUSTODY_HEAD_MAX, "sha256:%s", hex);
}

/* Open the directory part of relpath inside the case, creating each
 * level 0700 and never following a symlink. */
static int artifact_dir(struct cryo_case *c, const char *relpath, bool create, const char **base,
			struct cryo_error *err)
{
	if (!cryo_member_path_ok(relpath))
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "bad artifact path %s", relpath);
	int fd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return cryo_error_sys(err, "dup");
	const char *p = relpath;
	for (const char *slash; (slash = strchr(p, '/')); p = slash + 1) {
		char sub[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		if (n >= sizeof(sub)) {
			close(fd);
			return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "bad artifact path %s", relpath);
		}
		memcpy(sub, p, n);
		sub[n] = '\0';
		if (create && mkdirat(fd, sub, 0700) < 0 && errno != EEXIST) {
			cryo_error_sys(err, "create %s/%.*s", c->path, (int)(slash - relpath), relpath);
			close(fd);
			return -1;
		}
		int next = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0) {
			errno = e;
			return cryo_error_sys(err, "open %s/%.*s", c->path, (int)(slash - relpath), relpath);
		}
		fd = next;
	}
	*base = p;
	return fd;
}

/* A thread that hashes one large write while the writing thread writes
 * it: SHA-256 and the disk each take about as long as the other, so a
 * memory dump costs the slower of the two instead of their sum. */
#define HASH_ASYNC_MIN (1u << 20)
struct cryo_artifact_hasher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct cryo_sha256 *sha;
	const void *data;
	size_t len;
	bool busy, quit;
};

static void *hasher_main(void *arg)
{
	struct cryo_artifact_hasher *h = arg;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->busy && !h->quit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->quit)
			break;
		pthread_mutex_unlock(&h->mu);
		cryo_sha256_update(h->sha, h->data, h->len);
		pthread_mutex_lock(&h->mu);
		h->busy = false;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static struct cryo_artifact_hasher *hasher_start(struct cryo_sha256 *sha)
{
	struct cryo_artifact_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->sha = sha;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->thread, NULL, hasher_main, h) != 0) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
		free(h);
		return NULL;
	}
	return h;
}

static void hasher_post(struct cryo_artifact_hasher *h, const void *data, size_t len)
{
	pthread_mutex_lock(&h->mu);
	h->data = data;
	h->len = len;
	h->busy = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void hasher_wait(struct cryo_artifact_hasher *h)
{
	pthread_mutex_lock(&h->mu);
	while (h->busy)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

static void hasher_stop(struct cryo_artifact_hasher *h)
{
	if (!h)
		return;
	hasher_wait(h);
	pthread_mutex_lock(&h->mu);
	h->quit = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}

static int artifact_begin(struct cryo_case *c, const char *relpath, struct cryo_artifact *w, bool direct,
			  struct cryo_error *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = w->dirfd = -1;
	const char *base;
	if (strlen(relpath) >= sizeof(w->relpath))
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "artifact path too long");
	snprintf(w->relpath, sizeof(w->relpath), "%s", relpath);
	if ((w->dirfd = artifact_dir(c, relpath, true, &base, err)) < 0)
		return -1;
	snprintf(w->base, sizeof(w->base), "%s", base);
	unsigned r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned)getpid();
	snprintf(w->tmp, sizeof(w->tmp), ".%.200s.tmp-%08x", base, r);
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int e = 0;
	if (direct) {
		w->fd = openat(w->dirfd, w->tmp, flags | O_DIRECT, 0600);
		if (w->fd >= 0)
			w->direct = true;
		else if ((e = errno) == EINVAL)
			/* a file system without O_DIRECT (tmpfs before 6.6) has
			 * made the file by then: ours, removed before the plain open */
			unlinkat(w->dirfd, w->tmp, 0);
	}
	if (!direct || e == EINVAL)
		w->fd = openat(w->dirfd, w->tmp, flags, 0600);
	else if (w->fd < 0)
		errno = e;
	if (w->fd < 0 || !(w->sha = cryo_sha256_new()) || !(w->buf = malloc(CRYO_ARTIFACT_BUF))) {
		cryo_error_sys(err, "create %s/%s", c->path, relpath);
		cryo_artifact_abort(w);
		return -1;
	}
	return 0;
}

int cryo_artifact_begin(struct cryo_case *c, const char *relpath, struct cryo_artifact *w,
			struct cryo_error *err)
{
	return artifact_begin(c, relpath, w, false, err);
}

int cryo_artifact_begin_direct(struct cryo_case *c, const char *relpath, struct cryo_artifact *w,
			       struct cryo_error *err)
{
	return artifact_begin(c, relpath, w, true, err);
}

static int artifact_flush(struct cryo_artifact *w, const char *p, size_t len, struct cryo_error *err)
{
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cryo_error_sys(err, "write %s", w->relpath);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Small writes (a JSON element, a body file line) are gathered: a
 * snapshot of 100,000 files is otherwise 300,000 write(2) calls. */
/* O_DIRECT wants whole pages from page-aligned memory at page-aligned
 * offsets; anything else goes through the page cache from then on. */
static void direct_off_unless(struct cryo_artifact *w, const void *data, size_t len)
{
	if (!w->direct)
		return;
	if (w->blen == 0 && len % 4096 == 0 && (uintptr_t)data % 4096 == 0 && w->size % 4096 == 0)
		return;
	int fl = fcntl(w->fd, F_GETFL);
	if (fl >= 0)
		fcntl(w->fd, F_SETFL, fl & ~O_DIRECT);
	w->direct = false;
}

/* Small writes (a JSON element, a body file line) are gathered: a
 * snapshot of 100,000 files is otherwise 300,000 write(2) calls. */
int cryo_artifact_write(struct cryo_artifact *w, const void *data, size_t len, struct cryo_error *err)
{
	if (w->failed)
		return cryo_error_set(err, CRYO_EXIT_IOERR, 0, "%s: an earlier write failed", w->relpath);
	direct_off_unless(w, data, len);
	if (!w->direct && w->blen + len <= CRYO_ARTIFACT_BUF) {
		cryo_sha256_update(w->sha, data, len);
		w->size += len;
		memcpy(w->buf + w->blen, data, len);
		w->blen += len;
		return 0;
	}
	if (w->blen && artifact_flush(w, w->buf, w->blen, err) < 0) {
		w->failed = true;
		return -1;
	}
	w->blen = 0;
	if (len < CRYO_ARTIFACT_BUF && !w->direct) {
		cryo_sha256_update(w->sha, data, len);
		w->size += len;
		memcpy(w->buf, data, len);
		w->blen = len;
		return 0;
	}
	/* hashed as accepted, while it is written; a failed write fails the
	 * artifact as a whole, so no hash of bytes that are not in the file
	 * is ever recorded */
	if (len >= HASH_ASYNC_MIN && !w->hasher)
		w->hasher = hasher_start(w->sha);
	if (w->hasher)
		hasher_post(w->hasher, data, len);
	else
		cryo_sha256_update(w->sha, data, len);
	int rc = artifact_flush(w, data, len, err);
	if (w->hasher)
		hasher_wait(w->hasher);
	w->size += len;
	if (rc < 0) {
		w->failed = true;
		return -1;
	}
	return 0;
}

static int artifact_commit(struct cryo_artifact *w, struct cryo_custody_entry *e, char hex[CRYO_SHA256_HEX],
			   bool by_hash, bool *existed, struct cryo_error *err)
{
	if (w->failed) {
		cryo_error_set(err, CRYO_EXIT_IOERR, 0, "%s: a write failed; not kept", w->relpath);
		cryo_artifact_abort(w);
		return -1;
	}
	if (w->blen)
		direct_off_unless(w, w->buf, w->blen);
	if (artifact_flush(w, w->buf, w->blen, err) < 0) {
		cryo_artifact_abort(w);
		return -1;
	}
	w->blen = 0;
	hasher_stop(w->hasher);
	w->hasher = NULL;
	if (fsync(w->fd) < 0) {
		cryo_error_sys(err, "fsync %s", w->relpath);
		cryo_artifact_abort(w);
		return -1;
	}
	cryo_sha256_final_hex(w->sha, hex);
	if (by_hash) {
		size_t dir = strlen(w->relpath) - strlen(w->base);
		snprintf(w->relpath + dir, sizeof(w->relpath) - dir, "%s", hex);
		snprintf(w->base, sizeof(w->base), "%s", hex);
	}
	/* link(2): evidence already there is never replaced */
	if (linkat(w->dirfd, w->tmp, w->dirfd, w->base, 0) < 0) {
		if (by_hash && errno == EEXIST) {
			*existed = true;
			cryo_artifact_abort(w);
			return 0;
		}
		cryo_error_sys(err, "create %s", w->relpath);
		cryo_artifact_abort(w);
		return -1;
	}
	if (e && e->obj)
		cryo_custody_artifact(e, w->relpath, w->size, hex);
	cryo_artifact_abort(w); /* the temporary name goes; the file stays */
	return 0;
}

int cryo_artifact_commit(struct cryo_artifact *w, struct cryo_custody_entry *e, struct cryo_error *err)
{
	char hex[CRYO_SHA256_HEX];
	return artifact_commit(w, e, hex, false, NULL, err);
}

int cryo_artifact_commit_by_hash(struct cryo_artifact *w, struct cryo_custody_entry *e, char hex[CRYO_SHA256_HEX],
				 bool *existed, struct cryo_error *err)
{
	*existed = false;
	return artifact_commit(w, e, hex, true, existed, err);
}

void cryo_artifact_abort(struct cryo_artifact *w)
{
	hasher_stop(w->hasher);
	w->hasher = NULL;
	if (w->fd >= 0) {
		close(w->fd);
		unlinkat(w->dirfd, w->tmp, 0);
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	if (w->sha)
		cryo_sha256_free(w->sha);
	free(w->buf);
	w->fd = w->dirfd = -1;
	w->sha = NULL;
	w->buf = NULL;
	w->blen = 0;
	w->failed = false;
}

static int write_artifact(struct cryo_case *c, const char *relpath, const void *data, size_t len,
			  bool fresh, struct cryo_custody_entry *e, struct cryo_error *err)
{
	const char *base;
	cleanup_close int dfd = artifact_dir(c, relpath, true, &base, err);
	if (dfd < 0)
		return -1;
	if ((fresh ? cryo_write_file_new_at : cryo_write_file_atomic_at)(dfd, base, data, len, 0600, err) < 0)
		return cryo_error_wrap(err, "%s", c->path);
	if (e && e->obj) {
		char hex[CRYO_SHA256_HEX];
		cryo_sha256_hex(data, len, hex);
		cryo_custody_artifact(e, relpath, len, hex);
	}
	return 0;
}

int cryo_case_write_artifact(struct cryo_case *c, const char *relpath, const void *data,
			     size_t len, struct cryo_custody_entry *e, struct cryo_error *err)
{
	return write_artifact(c, relpath, data, len, false, e, err);
}

int cryo_case_write_artifact_new(struct cryo_case *c, const char *relpath, const void *data,
				 size_t len, struct cryo_custody_entry *e, struct cryo_error *err)
{
	return write_artifact(c, relpath, data, len, true, e, err);
}

int cryo_case_read_artifact(struct cryo_case *c, const char *relpath, size_t max, char **out,
			    size_t *len, struct cryo_error *err)
{
	const char *base;
	cleanup_close int dfd = artifact_dir(c, relpath, false, &base, err);
	if (dfd < 0)
		return -1;
	if (cryo_read_file_at(dfd, base, max, true, out, len, err) < 0)
		return cryo_error_wrap(err, "%s", c->path);
	return 0;
}
