#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/evidence.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/pack.h"
#include "cryo/util.h"

#define CHUNK (1u << 20)
#define MAX_DEPTH 32

/* --- what the custody log recorded ------------------------------------- */

struct record {
	char *path;
	long seq;
	uint64_t size;
	char sha256[CRYO_SHA256_HEX];
	char tool[32], action[32];
};

struct records {
	struct record *v;
	size_t n, cap;
};

static int record_cmp(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void records_free(struct records *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].path);
	free(r->v);
}

/* Every artifact every entry recorded; the log was verified before. */
static int records_load(const char *text, size_t len, struct records *r, struct cryo_error *err)
{
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cleanup_cjson cJSON *j = cryo_json_parse(p, n);
		p += n + 1;
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq"), *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "artifacts")) {
			const char *path = cryo_json_get_str(a, "path"), *sha = cryo_json_get_str(a, "sha256");
			const cJSON *size = cJSON_GetObjectItemCaseSensitive(a, "size");
			if (!path || !sha || strlen(sha) != 64 || !cJSON_IsNumber(size) || size->valuedouble < 0 ||
			    size->valuedouble > 9007199254740992.0)
				continue;
			if (cryo_grow(&r->v, &r->cap, r->n, sizeof(*r->v), 64) < 0)
				return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "custody records");
			struct record *x = &r->v[r->n];
			memset(x, 0, sizeof(*x));
			if (!(x->path = strdup(path)))
				return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "custody records");
			/* the chain was verified: seq is the line number */
			x->seq = cJSON_IsNumber(seq) && seq->valuedouble >= 0 && seq->valuedouble < 1e15 ? (long)seq->valuedouble : 0;
			x->size = (uint64_t)size->valuedouble;
			memcpy(x->sha256, sha, 65);
			snprintf(x->tool, sizeof(x->tool), "%s", cryo_json_get_str(j, "tool") ? cryo_json_get_str(j, "tool") : "");
			snprintf(x->action, sizeof(x->action), "%s", cryo_json_get_str(j, "action") ? cryo_json_get_str(j, "action") : "");
			r->n++;
		}
	}
	qsort(r->v, r->n, sizeof(*r->v), record_cmp);
	return 0;
}

/* The last record of a path: what it must still be. */
static const struct record *records_find(const struct records *r, const char *path)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(r->v[mid].path, path) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && !strcmp(r->v[lo - 1].path, path) ? &r->v[lo - 1] : NULL;
}

/* --- the case directory's files ---------------------------------------- */

struct file {
	char *path;
	uint64_t size;
	int64_t mtime;
	char sha256[CRYO_SHA256_HEX]; /* known before writing: recorded or pre-hashed */
	const struct record *rec;
};

struct files {
	struct file *v;
	size_t n, cap, nskipped;
	cJSON *skipped;
};

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].path);
	free(f->v);
}

static void skip_file(struct files *f, const char *path, const char *why)
{
	/* a case full of planted names costs a bounded list, and a count */
	if (++f->nskipped > 1000)
		return;
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "path", path);
	cryo_json_str(o, "why", why);
	cJSON_AddItemToArray(f->skipped, o);
}

/* Regular files under the case directory, never following a symlink.
 * Dot files are the temporaries of atomic writes, not evidence. */
static int walk(int dirfd, const char *prefix, int depth, struct files *f, struct cryo_error *err)
{
	int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return cryo_error_sys(err, "dup");
	cleanup_closedir DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return cryo_error_sys(err, "read directory %s", prefix[0] ? prefix : ".");
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (cryo_is_dot(de->d_name))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "/" : "", de->d_name) >= (int)sizeof(path))
			return cryo_error_set(err, CRYO_EXIT_DATAERR, ENAMETOOLONG, "path too long under %s", prefix);
		if (!prefix[0] && (!strcmp(de->d_name, CRYO_CUSTODY_MEMBER) || !strcmp(de->d_name, CRYO_CASE_MEMBER)))
			continue;
		if (!prefix[0] && (!strcmp(de->d_name, CRYO_MANIFEST) || !strcmp(de->d_name, CRYO_MANIFEST_SIG) ||
				   !strcmp(de->d_name, CRYO_SUMS))) {
			skip_file(f, path, "a name the archive reserves");
			continue;
		}
		if (de->d_name[0] == '.') {
			skip_file(f, path, "temporary file (dot name)");
			continue;
		}
		if (!cryo_member_path_ok(path)) {
			skip_file(f, path, "name not allowed in an archive");
			continue;
		}
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return cryo_error_sys(err, "stat %s", path);
		if (S_ISDIR(st.st_mode)) {
			if (depth >= MAX_DEPTH)
				return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: deeper than %d levels", path, MAX_DEPTH);
			cleanup_close int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return cryo_error_sys(err, "open %s", path);
			if (walk(sub, path, depth + 1, f, err) < 0)
				return -1;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			skip_file(f, path, "not a regular file");
			continue;
		}
		if (f->n >= CRYO_MEMBERS_MAX)
			return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "more than %d files in the case", CRYO_MEMBERS_MAX);
		if (cryo_grow(&f->v, &f->cap, f->n, sizeof(*f->v), 256) < 0)
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "file list");
		struct file *x = &f->v[f->n];
		memset(x, 0, sizeof(*x));
		if (!(x->path = strdup(path)))
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "file list");
		x->size = (uint64_t)st.st_size;
		x->mtime = st.st_mtim.tv_sec;
		f->n++;
	}
	return 0;
}

/* --- the compressed, hashed output ------------------------------------- */

/* zstd's workers compress; this thread feeds them; a writer thread writes
 * and hashes what comes out (SHA-256 and BLAKE2b of the archive are as
 * much work as compressing the random half of a case), so the three
 * overlap.  Compressed blocks go through a ring of SLOTS buffers. */
#define SLOTS 8

struct sink {
	int fd;
	ZSTD_CCtx *z;
	crypto_generichash_state b2;
	struct cryo_sha256 *sha;
	size_t cap;
	uint64_t bytes;
	int errnum;               /* the writer's, read under mu */
	uint8_t *slot[SLOTS];
	size_t len[SLOTS];
	unsigned head, tail, count;
	bool done, started;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	pthread_t writer;
};

static void *sink_writer(void *arg)
{
	struct sink *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->count && !s->done)
			pthread_cond_wait(&s->more, &s->mu);
		if (!s->count)
			break;
		unsigned t = s->tail;
		pthread_mutex_unlock(&s->mu);
		int e = 0;
		for (size_t off = 0; off < s->len[t] && !e;) {
			ssize_t w = write(s->fd, s->slot[t] + off, s->len[t] - off);
			if (w < 0 && errno != EINTR)
				e = errno;
			else if (w > 0)
				off += (size_t)w;
		}
		crypto_generichash_update(&s->b2, s->slot[t], s->len[t]);
		cryo_sha256_update(s->sha, s->slot[t], s->len[t]);
		pthread_mutex_lock(&s->mu);
		s->bytes += s->len[t];
		s->tail = (t + 1) % SLOTS;
		s->count--;
		if (e && !s->errnum)
			s->errnum = e;
		pthread_cond_signal(&s->room);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int sink_start(struct sink *s)
{
	s->cap = ZSTD_CStreamOutSize() * 4;
	for (int i = 0; i < SLOTS; i++)
		if (!(s->slot[i] = malloc(s->cap)))
			return -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->more, NULL);
	pthread_cond_init(&s->room, NULL);
	if (pthread_create(&s->writer, NULL, sink_writer, s) != 0)
		return -1;
	s->started = true;
	return 0;
}

/* Wait for the writer to drain everything; its error, if any. */
static int sink_stop(struct sink *s)
{
	if (!s->started)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->writer, NULL);
	s->started = false;
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->more);
	pthread_cond_destroy(&s->room);
	return s->errnum ? -1 : 0;
}

static void sink_free(struct sink *s)
{
	sink_stop(s);
	for (int i = 0; i < SLOTS; i++)
		free(s->slot[i]);
}

static int sink_emit(struct sink *s, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->count == SLOTS && !s->errnum)
			pthread_cond_wait(&s->room, &s->mu);
		int e = s->errnum;
		unsigned h = s->head;
		pthread_mutex_unlock(&s->mu);
		if (e)
			return -1; /* a write failed: stop feeding */
		ZSTD_outBuffer out = { s->slot[h], s->cap, 0 };
		size_t left = ZSTD_compressStream2(s->z, &out, in, mode);
		if (ZSTD_isError(left)) {
			pthread_mutex_lock(&s->mu);
			s->errnum = EIO;
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		if (out.pos) {
			pthread_mutex_lock(&s->mu);
			s->len[h] = out.pos;
			s->head = (h + 1) % SLOTS;
			s->count++;
			pthread_cond_signal(&s->more);
			pthread_mutex_unlock(&s->mu);
		}
		bool done = mode == ZSTD_e_continue ? in->pos == in->size : left == 0;
		if (done)
			return 0;
	}
}

static la_ssize_t sink_write(struct archive *a, void *arg, const void *data, size_t len)
{
	struct sink *s = arg;
	ZSTD_inBuffer in = { data, len, 0 };
	if (sink_emit(s, &in, ZSTD_e_continue) < 0) {
		archive_set_error(a, s->errnum, "compressed write failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}
#define cleanup_archive_w __attribute__((cleanup(archive_freep)))

static int add_header(struct archive *a, const char *path, uint64_t size, int64_t mtime, struct cryo_error *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "archive entry");
	archive_entry_set_pathname(e, path); /* UTF-8, in the C.UTF-8 locale */
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	int r = archive_write_header(a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return cryo_error_set(err, CRYO_EXIT_IOERR, archive_errno(a), "archive %s: %s", path, archive_error_string(a));
	return 0;
}

static int add_data(struct archive *a, const char *path, const void *data, size_t len, struct cryo_error *err)
{
	if (len && archive_write_data(a, data, len) != (la_ssize_t)len)
		return cryo_error_set(err, CRYO_EXIT_IOERR, archive_errno(a), "archive %s: %s", path, archive_error_string(a));
	return 0;
}

static int add_memory(struct archive *a, const char *path, const char *data, size_t len, int64_t mtime,
		      struct cryo_error *err)
{
	if (add_header(a, path, len, mtime, err) < 0)
		return -1;
	return add_data(a, path, data, len, err);
}

/* --- the pass over the artifacts ---------------------------------------- */

struct pass {
	const struct cryo_pack_request *req;
	uint64_t done, total;
	uint8_t *chunk;
};

static void progress(struct pass *p, size_t n)
{
	p->done += n;
	if (p->req->progress)
		p->req->progress(p->done, p->total, p->req->progress_arg);
}

/* Read one artifact whole, hashing it, and (a != NULL) write it into the
 * archive: exactly the size the walk saw.  A file that is not that size
 * any more (grew, shrank, still being written) is an error, never a hash:
 * sealing it would make an archive that cannot verify. */
static int stream_file(struct pass *p, int casefd, const struct file *f, struct archive *a,
		       char sha_out[CRYO_SHA256_HEX], struct cryo_sha256 *sha, struct cryo_error *err)
{
	cleanup_close int fd = cryo_open_beneath(casefd, f->path, O_RDONLY | O_NOCTTY | O_NONBLOCK, err);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "%s is no longer a regular file", f->path);
	if ((uint64_t)st.st_size != f->size)
		return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0, "%s changed size while cryo-pack read it (still being written?)",
				      f->path);
	cryo_sha256_reset(sha);
	uint64_t left = f->size;
	if (a && add_header(a, f->path, f->size, f->mtime, err) < 0)
		return -1;
	while (left) {
		if (cryo_interrupted)
			return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t n = read(fd, p->chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cryo_error_sys(err, "read %s", f->path);
		if (n == 0)
			return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0, "%s shrank while cryo-pack read it", f->path);
		cryo_sha256_update(sha, p->chunk, (size_t)n);
		if (a && add_data(a, f->path, p->chunk, (size_t)n, err) < 0)
			return -1;
		left -= (uint64_t)n;
		progress(p, (size_t)n);
	}
	/* one byte past the end tells growth, without reading what grew */
	char probe;
	ssize_t extra;
	do
		extra = read(fd, &probe, 1);
	while (extra < 0 && errno == EINTR);
	if (extra > 0)
		return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0, "%s grew while cryo-pack read it (still being written?)",
				      f->path);
	cryo_sha256_final_hex(sha, sha_out);
	return 0;
}

/* --- the manifest -------------------------------------------------------- */

static cJSON *member_json(const char *path, uint64_t size, const char *sha, const struct record *rec)
{
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "path", path);
	cryo_json_num(o, "size", (double)size);
	cryo_json_str(o, "sha256", sha);
	if (rec) {
		cJSON *c = cJSON_AddObjectToObject(o, "custody");
		cryo_json_num(c, "seq", (double)rec->seq);
		cryo_json_str(c, "tool", rec->tool);
		cryo_json_str(c, "action", rec->action);
	} else {
		cJSON_AddNullToObject(o, "custody");
	}
	return o;
}

static char *hex_of(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (s)
		sodium_bin2hex(s, 2 * n + 1, b, n);
	return s;
}

/* The temporaries of an archive and of its signature (temp_beside's
 * names), left by a cryo-pack that was killed: never evidence. */
void cryo_pack_remove_temporaries(const char *out)
{
	cleanup_free char *copy = strdup(out), *copy2 = strdup(out);
	if (!copy || !copy2)
		return;
	const char *dir = dirname(copy), *base = basename(copy2);
	char pre[PATH_MAX], spre[PATH_MAX];
	snprintf(pre, sizeof(pre), ".%s.tmp-", base);
	snprintf(spre, sizeof(spre), ".%s.minisig.tmp-", base);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (cryo_has_prefix(e->d_name, pre) || cryo_has_prefix(e->d_name, spre))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* A temporary beside the final name: link(2) later, never replacing. */
static int temp_beside(const char *final, char *tmp, size_t size, struct cryo_error *err)
{
	cleanup_free char *copy = strdup(final);
	if (!copy)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "path");
	const char *dir = dirname(copy);
	cleanup_free char *copy2 = strdup(final);
	if (!copy2)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "path");
	const char *base = basename(copy2);
	unsigned r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned)getpid();
	if (snprintf(tmp, size, "%s/.%s.tmp-%08x", dir, base, r) >= (int)size)
		return cryo_error_set(err, CRYO_EXIT_USAGE, ENAMETOOLONG, "%s: path too long", final);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cryo_error_sys(err, "create %s", tmp);
	return fd;
}

static int publish(const char *tmp, const char *final, struct cryo_error *err)
{
	if (link(tmp, final) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return cryo_error_sys(err, "create %s", final);
	}
	unlink(tmp);
	return 0;
}

/* The output must not land inside the case it seals. */
static int check_out(const char *case_dir, const char *out, struct cryo_error *err)
{
	char rc[PATH_MAX], ro[PATH_MAX];
	cleanup_free char *copy = strdup(out);
	if (!copy)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "path");
	if (!realpath(case_dir, rc))
		return cryo_error_sys(err, "%s", case_dir);
	if (!realpath(dirname(copy), ro))
		return cryo_error_sys(err, "directory of %s", out);
	size_t n = strlen(rc);
	if (!strncmp(ro, rc, n) && (ro[n] == '\0' || ro[n] == '/'))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "the archive %s would be inside the case directory it seals", out);
	struct stat st;
	if (lstat(out, &st) == 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST, "%s exists; not replacing it", out);
	char sig[PATH_MAX];
	snprintf(sig, sizeof(sig), "%s.minisig", out);
	if (lstat(sig, &st) == 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST, "%s exists; not replacing it", sig);
	return 0;
}

struct pack_state {
	struct cryo_case kase;
	int lock;
	struct records recs;
	struct files files;
	struct sink sink;
	char tmp[PATH_MAX], sigtmp[PATH_MAX];
	bool tmp_made, sigtmp_made;
	struct cryo_custody_entry seal;
};

static void pack_state_free(struct pack_state *s)
{
	if (s->tmp_made)
		unlink(s->tmp);
	if (s->sigtmp_made)
		unlink(s->sigtmp);
	sink_free(&s->sink);
	if (s->sink.fd >= 0)
		close(s->sink.fd);
	ZSTD_freeCCtx(s->sink.z);
	if (s->sink.sha)
		cryo_sha256_free(s->sink.sha);
	records_free(&s->recs);
	files_free(&s->files);
	cryo_custody_abandon(&s->seal);
	if (s->lock >= 0)
		close(s->lock);
	cryo_case_close(&s->kase);
}

/* Record a refusal that is about the evidence itself. */
static void log_refusal(struct pack_state *s, const struct cryo_pack_request *req, const char *msg)
{
	struct cryo_custody_entry e;
	struct cryo_error e2;
	cryo_custody_begin(&e, "cryo-pack", "seal", s->kase.id, req->argc, req->argv);
	if (cryo_custody_commit(&s->kase, &e, "error", msg, &e2) < 0)
		cryo_custody_abandon(&e);
}

static int do_pack(const struct cryo_pack_request *req, struct pack_state *s, cJSON *result,
		   struct cryo_error *err)
{
	/* an existing case only: packing must not create one */
	char cj[PATH_MAX];
	struct stat st;
	snprintf(cj, sizeof(cj), "%s/" CRYO_CASE_MEMBER, req->case_dir);
	if (lstat(cj, &st) < 0 || !S_ISREG(st.st_mode))
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "%s is not a case directory (no case.json)", req->case_dir);
	if (check_out(req->case_dir, req->out, err) < 0)
		return -1;
	if (cryo_case_open(req->case_dir, "cryo-pack", NULL, &s->kase, err) < 0)
		return -1;
	cryo_json_str(result, "case_id", s->kase.id);
	if ((s->lock = cryo_case_lock(&s->kase, "cryo-pack", err)) < 0)
		return -1;

	/* the custody log first: a broken chain is tampering */
	cleanup_free char *custody = NULL, *casejson = NULL;
	size_t clen = 0, cjlen = 0;
	if (cryo_read_file_at(s->kase.dirfd, CRYO_CUSTODY_MEMBER, CRYO_CUSTODY_MAX, true, &custody, &clen, err) < 0)
		return cryo_error_wrap(err, "case %s", req->case_dir);
	if (cryo_read_file_at(s->kase.dirfd, CRYO_CASE_MEMBER, 1u << 20, true, &casejson, &cjlen, err) < 0)
		return cryo_error_wrap(err, "case %s", req->case_dir);
	long bad_line;
	long entries = cryo_custody_verify_text(custody, clen, s->kase.id, &bad_line, err);
	if (entries < 0)
		return cryo_error_wrap(err, "%s/custody.jsonl: refusing to seal a broken chain", req->case_dir);
	if (records_load(custody, clen, &s->recs, err) < 0)
		return -1;

	if (!(s->files.skipped = cJSON_AddArrayToObject(result, "skipped")) ||
	    walk(s->kase.dirfd, "", 0, &s->files, err) < 0)
		return -1;
	qsort(s->files.v, s->files.n, sizeof(*s->files.v), file_cmp);

	struct pass p = { .req = req };
	cleanup_free uint8_t *chunk = malloc(CHUNK);
	if (!chunk || !(s->sink.sha = cryo_sha256_new()))
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "buffers");
	p.chunk = chunk;
	cleanup_cjson cJSON *unrecorded = cJSON_CreateArray(), *changed = cJSON_CreateArray();
	struct cryo_sha256 *fsha = cryo_sha256_new();
	if (!fsha)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "hash");
	int rc = 0;
	/* What the manifest says comes before the data: recorded hashes are
	 * taken as they are and checked while streaming; a file the log never
	 * recorded (or, with force, every file) is hashed in a first pass. */
	for (size_t i = 0; i < s->files.n && rc == 0; i++) {
		struct file *f = &s->files.v[i];
		f->rec = records_find(&s->recs, f->path);
		p.total += f->size;
		if (f->rec && !req->force) {
			memcpy(f->sha256, f->rec->sha256, sizeof(f->sha256));
			if (f->rec->size != f->size) {
				rc = cryo_error_set(err, CRYO_EXIT_NO, 0,
						    "evidence changed after capture: %s is %llu bytes, custody step %ld recorded %llu",
						    f->path, (unsigned long long)f->size, f->rec->seq, (unsigned long long)f->rec->size);
			}
			continue;
		}
		if ((rc = stream_file(&p, s->kase.dirfd, f, NULL, f->sha256, fsha, err)) < 0)
			break;
		if (!f->rec)
			cJSON_AddItemToArray(unrecorded, cJSON_CreateString(f->path));
		else if (strcmp(f->rec->sha256, f->sha256) != 0) {
			cJSON *c = cJSON_CreateObject();
			cryo_json_str(c, "path", f->path);
			cryo_json_num(c, "custody_seq", (double)f->rec->seq);
			cryo_json_str(c, "recorded_sha256", f->rec->sha256);
			cryo_json_str(c, "sha256", f->sha256);
			cJSON_AddItemToArray(changed, c);
		}
	}
	if (rc < 0) {
		cryo_sha256_free(fsha);
		if (err->exit == CRYO_EXIT_NO)
			log_refusal(s, req, err->msg);
		return -1;
	}
	p.total += p.done; /* pre-hashed bytes are read twice */

	/* the seal entry, as it will be appended once the archive is whole */
	char keyid[CRYO_KEYID_HEX] = "";
	if (req->sk)
		cryo_keyid(req->sk->keynum, keyid);
	cleanup_free char *out_copy = strdup(req->out);
	const char *archive_name = out_copy ? basename(out_copy) : req->out;
	cryo_custody_begin(&s->seal, "cryo-pack", "seal", s->kase.id, req->argc, req->argv);
	cJSON *det = cJSON_GetObjectItemCaseSensitive(s->seal.obj, "details");
	cryo_json_str(det, "archive", archive_name);
	cryo_json_num(det, "artifacts", (double)s->files.n);
	cryo_json_str(det, "signed_by", keyid); /* "" is written as null */
	if (cJSON_GetArraySize(changed))
		cJSON_AddItemToObject(det, "changed_after_capture", cJSON_Duplicate(changed, 1));
	if (cJSON_GetArraySize(unrecorded))
		cJSON_AddItemToObject(det, "unrecorded", cJSON_Duplicate(unrecorded, 1));
	cleanup_free char *seal_line = cryo_custody_prepare(&s->kase, &s->seal, "ok", "sealed", err);
	if (!seal_line) {
		cryo_sha256_free(fsha);
		return -1;
	}
	/* the log must not have grown since it was read and verified */
	char head[CRYO_CUSTODY_HEAD_MAX];
	cryo_custody_head_text(custody, clen, head);
	cleanup_cjson cJSON *sj = cryo_json_parse(seal_line, strlen(seal_line));
	const char *sprev = cryo_json_get_str(sj, "prev");
	if (!sprev || (head[0] ? strcmp(sprev, head) : !cryo_has_prefix(sprev, "case:"))) {
		cryo_sha256_free(fsha);
		return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0, "%s/custody.jsonl changed while it was read", req->case_dir);
	}
	size_t sl = strlen(seal_line);
	cleanup_free char *custody_member = malloc(clen + sl + 1);
	if (!custody_member) {
		cryo_sha256_free(fsha);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "custody");
	}
	memcpy(custody_member, custody, clen);
	memcpy(custody_member + clen, seal_line, sl);
	custody_member[clen + sl] = '\n';
	size_t cmlen = clen + sl + 1;
	char seal_hash[CRYO_SHA256_HEX], cm_hash[CRYO_SHA256_HEX], cj_hash[CRYO_SHA256_HEX];
	cryo_sha256_hex(seal_line, sl, seal_hash);
	cryo_sha256_hex(custody_member, cmlen, cm_hash);
	cryo_sha256_hex(casejson, cjlen, cj_hash);

	char now[40];
	uint64_t now_ns = cryo_now_realtime_ns();
	cryo_format_utc_ns(now_ns, now, sizeof(now));
	cleanup_cjson cJSON *man = cJSON_CreateObject();
	cryo_json_str(man, "format", CRYO_EVIDENCE_FORMAT);
	cryo_json_num(man, "version", CRYO_EVIDENCE_VERSION);
	cryo_json_str(man, "case_id", s->kase.id);
	cryo_json_str(man, "host", cryo_json_get_str(cJSON_GetObjectItemCaseSensitive(s->seal.obj, "who"), "host"));
	cryo_json_str(man, "created", now);
	cJSON *tool = cJSON_AddObjectToObject(man, "tool");
	cryo_json_str(tool, "name", "cryo-pack");
	cryo_json_str(tool, "version", CRYO_VERSION);
	cryo_json_str(man, "signed_by", keyid);
	cJSON *cust = cJSON_AddObjectToObject(man, "custody");
	cryo_json_num(cust, "entries", (double)(entries + 1));
	char headtxt[80];
	snprintf(headtxt, sizeof(headtxt), "sha256:%s", seal_hash);
	cryo_json_str(cust, "head", headtxt);
	cJSON *members = cJSON_AddArrayToObject(man, "members");
	cJSON_AddItemToArray(members, member_json(CRYO_CUSTODY_MEMBER, cmlen, cm_hash, NULL));
	cJSON_AddItemToArray(members, member_json(CRYO_CASE_MEMBER, cjlen, cj_hash, NULL));
	for (size_t i = 0; i < s->files.n; i++)
		cJSON_AddItemToArray(members, member_json(s->files.v[i].path, s->files.v[i].size, s->files.v[i].sha256,
							  s->files.v[i].rec));
	cJSON_AddItemToObject(man, "unrecorded", cJSON_Duplicate(unrecorded, 1));
	cJSON_AddItemToObject(man, "changed_after_capture", cJSON_Duplicate(changed, 1));
	cleanup_free char *man_text0 = cJSON_Print(man);
	cleanup_free char *man_text = man_text0 ? cryo_strdup_printf("%s\n", man_text0) : NULL;
	if (!man_text) {
		cryo_sha256_free(fsha);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "manifest");
	}
	size_t mlen = strlen(man_text);
	struct cryo_manifest parsed;
	if (cryo_manifest_parse(man_text, mlen, &parsed, err) < 0) {
		cryo_sha256_free(fsha);
		return cryo_error_wrap(err, "the manifest cryo-pack made");
	}
	char man_sha[CRYO_SHA256_HEX];
	cryo_sha256_hex(man_text, mlen, man_sha);
	cleanup_free char *sums = cryo_sums_text(&parsed, man_sha);
	cryo_manifest_free(&parsed);
	cleanup_free char *man_sig = NULL;
	if (req->sk) {
		uint8_t h[CRYO_BLAKE2B_BYTES];
		crypto_generichash(h, sizeof(h), (const uint8_t *)man_text, mlen, NULL, 0);
		char trusted[256];
		snprintf(trusted, sizeof(trusted), "timestamp:%llu\tfile:" CRYO_MANIFEST "\tcase:%s",
			 (unsigned long long)(now_ns / 1000000000ull), s->kase.id);
		if (!(man_sig = cryo_minisign_sign(req->sk, h, trusted, "signature from cryo-pack (manifest)", err))) {
			cryo_sha256_free(fsha);
			return -1;
		}
	}
	if (!sums) {
		cryo_sha256_free(fsha);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "SHA256SUMS");
	}

	/* the archive */
	if ((s->sink.fd = temp_beside(req->out, s->tmp, sizeof(s->tmp), err)) < 0) {
		cryo_sha256_free(fsha);
		return -1;
	}
	s->tmp_made = true;
	s->sink.z = ZSTD_createCCtx();
	crypto_generichash_init(&s->sink.b2, NULL, 0, CRYO_BLAKE2B_BYTES);
	cryo_sha256_reset(s->sink.sha);
	if (!s->sink.z || sink_start(&s->sink) < 0) {
		cryo_sha256_free(fsha);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "compressor");
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	ZSTD_CCtx_setParameter(s->sink.z, ZSTD_c_compressionLevel, req->level);
	ZSTD_CCtx_setParameter(s->sink.z, ZSTD_c_checksumFlag, 1);
	/* workers are a libzstd build option: without them it compresses
	 * in this thread, which is slower but the same bytes' worth */
	ZSTD_CCtx_setParameter(s->sink.z, ZSTD_c_nbWorkers, req->threads > 0 ? req->threads : (int)(ncpu > 0 ? ncpu : 1));

	cleanup_archive_w struct archive *a = archive_write_new();
	/* 1 MiB blocks into the compressor, not 10 KiB ones; the end is not
	 * padded (readers stop at the two zero blocks) */
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 1 << 20) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, &s->sink, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
		cryo_sha256_free(fsha);
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "libarchive: %s", a ? archive_error_string(a) : "no memory");
	}
	int64_t mt = (int64_t)(now_ns / 1000000000ull);
	if (add_memory(a, CRYO_MANIFEST, man_text, mlen, mt, err) < 0 ||
	    (man_sig && add_memory(a, CRYO_MANIFEST_SIG, man_sig, strlen(man_sig), mt, err) < 0) ||
	    add_memory(a, CRYO_SUMS, sums, strlen(sums), mt, err) < 0 ||
	    add_memory(a, CRYO_CUSTODY_MEMBER, custody_member, cmlen, mt, err) < 0 ||
	    add_memory(a, CRYO_CASE_MEMBER, casejson, cjlen, mt, err) < 0) {
		cryo_sha256_free(fsha);
		return -1;
	}
	for (size_t i = 0; i < s->files.n; i++) {
		struct file *f = &s->files.v[i];
		char got[CRYO_SHA256_HEX];
		if (stream_file(&p, s->kase.dirfd, f, a, got, fsha, err) < 0) {
			cryo_sha256_free(fsha);
			return -1;
		}
		if (strcmp(got, f->sha256) != 0) {
			cryo_sha256_free(fsha);
			if (f->rec && !req->force) {
				cryo_error_set(err, CRYO_EXIT_NO, 0,
					       "evidence changed after capture: %s (custody step %ld, %s %s, recorded sha256 %.16s..., now %.16s...); --force records it instead",
					       f->path, f->rec->seq, f->rec->tool, f->rec->action, f->rec->sha256, got);
				log_refusal(s, req, err->msg);
				return -1;
			}
			return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0, "%s changed while cryo-pack read it", f->path);
		}
	}
	cryo_sha256_free(fsha);
	if (archive_write_close(a) != ARCHIVE_OK)
		return cryo_error_set(err, CRYO_EXIT_IOERR, archive_errno(a), "archive: %s", archive_error_string(a));
	ZSTD_inBuffer none = { NULL, 0, 0 };
	if (sink_emit(&s->sink, &none, ZSTD_e_end) < 0 || sink_stop(&s->sink) < 0) {
		sink_stop(&s->sink);
		errno = s->sink.errnum;
		return cryo_error_sys(err, "write %s", s->tmp);
	}
	if (fsync(s->sink.fd) < 0 || close(s->sink.fd) < 0) {
		s->sink.fd = -1;
		return cryo_error_sys(err, "write %s", s->tmp);
	}
	s->sink.fd = -1;
	uint8_t b2[CRYO_BLAKE2B_BYTES];
	char sha[CRYO_SHA256_HEX];
	crypto_generichash_final(&s->sink.b2, b2, sizeof(b2));
	cryo_sha256_final_hex(s->sink.sha, sha);

	/* the detached signature */
	char sigpath[PATH_MAX];
	snprintf(sigpath, sizeof(sigpath), "%s.minisig", req->out);
	if (req->sk) {
		char trusted[512];
		snprintf(trusted, sizeof(trusted), "timestamp:%llu\tfile:%s\tcase:%s\tformat:%s/%d\thashed",
			 (unsigned long long)(now_ns / 1000000000ull), archive_name, s->kase.id,
			 CRYO_EVIDENCE_FORMAT, CRYO_EVIDENCE_VERSION);
		cleanup_free char *sig = cryo_minisign_sign(req->sk, b2, trusted, "signature from cryo-pack", err);
		if (!sig)
			return -1;
		cleanup_close int sfd = temp_beside(sigpath, s->sigtmp, sizeof(s->sigtmp), err);
		if (sfd < 0)
			return -1;
		s->sigtmp_made = true;
		size_t sgl = strlen(sig);
		if (write(sfd, sig, sgl) != (ssize_t)sgl || fsync(sfd) < 0)
			return cryo_error_sys(err, "write %s", s->sigtmp);
	}

	/* Visible only whole, and only once the log says so: the archive,
	 * then its signature, then the seal entry; if the entry cannot be
	 * appended, both files go again. */
	if (publish(s->tmp, req->out, err) < 0)
		return -1;
	s->tmp_made = false;
	if (req->sk && publish(s->sigtmp, sigpath, err) < 0) {
		unlink(req->out);
		return -1;
	}
	s->sigtmp_made = false;
	if (cryo_custody_append_prepared(&s->kase, seal_line, err) < 0) {
		unlink(req->out);
		if (req->sk)
			unlink(sigpath);
		return cryo_error_wrap(err, "sealed, but the custody log refused the seal entry; archive removed");
	}

	cleanup_free char *b2hex = hex_of(b2, sizeof(b2));
	cryo_json_str(result, "archive", req->out);
	cryo_json_num(result, "size", (double)s->sink.bytes);
	cryo_json_str(result, "sha256", sha);
	cryo_json_str(result, "blake2b", b2hex);
	cryo_json_str(result, "signature", req->sk ? sigpath : NULL);
	cryo_json_str(result, "key_id", keyid);
	cryo_json_num(result, "members", (double)(s->files.n + 2));
	cryo_json_num(result, "input_bytes", (double)(p.done));
	cryo_json_str(result, "custody_head", headtxt);
	cryo_json_num(result, "skipped_count", (double)s->files.nskipped);
	cJSON_AddItemToObject(result, "unrecorded", steal_pointer(&unrecorded));
	cJSON_AddItemToObject(result, "changed_after_capture", steal_pointer(&changed));
	return 0;
}

int cryo_pack(const struct cryo_pack_request *req, cJSON **result, struct cryo_error *err)
{
	struct pack_state s = { .kase = { .dirfd = -1 }, .lock = -1, .sink = { .fd = -1 } };
	*result = cJSON_CreateObject();
	if (cryo_sodium_init(err) < 0)
		return -1;
	uint64_t t0 = cryo_now_monotonic_ns();
	locale_t prev = cryo_utf8_locale_enter();
	int rc = do_pack(req, &s, *result, err);
	cryo_utf8_locale_leave(prev);
	cryo_json_num(*result, "seconds", (double)(cryo_now_monotonic_ns() - t0) / 1e9);
	pack_state_free(&s);
	return rc;
}
