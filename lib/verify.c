#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/evidence.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/util.h"
#include "cryo/verify.h"

#define CHUNK (1u << 20)
#define SIG_MAX 16384
#define MAX_BAD 100
#define LEGACY_MAX (1u << 30)

/* --- the checker: what both an archive and a directory go through ------- */

enum stage { WANT_MANIFEST, WANT_SIG, WANT_SUMS, WANT_MEMBERS };

struct checker {
	const struct cryo_verify_request *req;
	enum stage stage;
	char *manifest;
	size_t mlen;
	char manifest_sha[CRYO_SHA256_HEX];
	struct cryo_manifest man;
	bool have_man;
	size_t *order;          /* manifest indexes sorted by path: lookups in log time */
	size_t named_missing;   /* 1 + the index last reported as replaced */
	uint64_t announced;     /* what the manifest says the tar holds, bounded */
	size_t next;            /* the member expected next */
	size_t cur;             /* the member being read, or SIZE_MAX */
	uint64_t cur_got;
	struct cryo_sha256 *sha;
	char *keep;             /* custody.jsonl or case.json, or a member the caller keeps, whole */
	bool keep_user;         /* the caller asked for it */
	size_t keep_len;
	char *custody, *casejson;
	size_t custody_len, casejson_len;
	uint64_t bytes;
	bool fatal;             /* nothing after this can be trusted */
	cJSON *result, *bad;
	struct cryo_error first;
};

static void bad(struct checker *c, const char *member, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(struct checker *c, const char *member, const char *fmt, ...)
{
	char why[1024], safe[512];
	if (!member || !member[0])
		member = "(a member with no readable name)";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cryo_text_safe(member, safe, sizeof(safe));
	if (!c->first.msg[0])
		cryo_error_set(&c->first, CRYO_EXIT_NO, 0, "%s: %s", safe, why);
	if (cJSON_GetArraySize(c->bad) < MAX_BAD) {
		cJSON *o = cJSON_CreateObject();
		cryo_json_str(o, "member", member);
		cryo_json_str(o, "why", why);
		cJSON_AddItemToArray(c->bad, o);
	}
}

static const struct cryo_manifest *sort_man; /* for qsort: one verification at a time */

static int order_cmp(const void *a, const void *b)
{
	return strcmp(sort_man->v[*(const size_t *)a].path, sort_man->v[*(const size_t *)b].path);
}

static void checker_free(struct checker *c)
{
	free(c->order);
	if (c->have_man)
		cryo_manifest_free(&c->man);
	if (c->sha)
		cryo_sha256_free(c->sha);
	free(c->keep);
	free(c->custody);
	free(c->casejson);
	free(c->manifest);
}

static int checker_manifest(struct checker *c, const char *text, size_t len)
{
	if (!(c->manifest = malloc(len + 1))) {
		c->fatal = true;
		bad(c, CRYO_MANIFEST, "out of memory");
		return -1;
	}
	memcpy(c->manifest, text, len);
	c->manifest[len] = '\0';
	c->mlen = len;
	cryo_sha256_hex(text, len, c->manifest_sha);
	c->stage = WANT_SIG;
	return 0;
}

/* The manifest is trusted from here on, or nothing is. */
static int checker_trust(struct checker *c, const char *sig, size_t siglen)
{
	struct cryo_error e = { 0 };
	cJSON *s = cJSON_GetObjectItemCaseSensitive(c->result, "manifest_signature");
	if (sig && !c->req->pk) {
		/* --unsigned: integrity only, even where a signature is there */
		cryo_json_bool(s, "checked", false);
	} else if (sig) {
		struct cryo_minisig ms;
		uint8_t h[CRYO_BLAKE2B_BYTES];
		crypto_generichash(h, sizeof(h), (const uint8_t *)c->manifest, c->mlen, NULL, 0);
		if (cryo_minisig_parse(sig, siglen, &ms, &e) < 0 ||
		    cryo_minisig_verify(c->req->pk, &ms, h, c->manifest, c->mlen, &e) < 0) {
			cryo_json_bool(s, "ok", false);
			c->fatal = true;
			bad(c, CRYO_MANIFEST, "its signature does not hold (%s): no member can be trusted", e.msg);
			return -1;
		}
		cryo_json_bool(s, "ok", true);
		char id[CRYO_KEYID_HEX];
		cryo_keyid(ms.keynum, id);
		cryo_json_str(s, "key_id", id);
	} else if (!c->req->unsigned_ok) {
		c->fatal = true;
		bad(c, CRYO_MANIFEST_SIG, "missing: the archive is not signed (cryo-verify --unsigned checks integrity only)");
		return -1;
	}
	if (cryo_manifest_parse(c->manifest, c->mlen, &c->man, &e) < 0) {
		c->fatal = true;
		bad(c, CRYO_MANIFEST, "%s", e.msg);
		return -1;
	}
	c->have_man = true;
	if ((c->order = malloc(c->man.n * sizeof(*c->order)))) {
		for (size_t i = 0; i < c->man.n; i++)
			c->order[i] = i;
		sort_man = &c->man;
		qsort(c->order, c->man.n, sizeof(*c->order), order_cmp);
	}
	const char *by = cryo_json_get_str(c->man.json, "signed_by"), *sid = cryo_json_get_str(s, "key_id");
	if (sid && (!by || strcmp(by, sid) != 0))
		bad(c, CRYO_MANIFEST, "says it was signed by %s, its signature is key %s", by ? by : "nobody", sid);
	cryo_json_str(c->result, "case_id", c->man.case_id);
	cryo_json_num(c->result, "members", (double)c->man.n);
	/* every member's data and headers, and the three first members */
	c->announced = CRYO_MANIFEST_MAX * 2ull + SIG_MAX + (1u << 20);
	for (size_t i = 0; i < c->man.n; i++)
		c->announced += c->man.v[i].size + 3 * 512 + 2 * strlen(c->man.v[i].path);
	c->stage = WANT_SUMS;
	return 0;
}

static void checker_sums(struct checker *c, const char *text, size_t len)
{
	cleanup_free char *want = cryo_sums_text(&c->man, c->manifest_sha);
	if (!want || strlen(want) != len || memcmp(want, text, len) != 0)
		bad(c, CRYO_SUMS, "does not match the manifest");
	c->stage = WANT_MEMBERS;
}

static ssize_t manifest_index(const struct checker *c, const char *name)
{
	size_t lo = 0, hi = c->man.n;
	while (c->order && lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(c->man.v[c->order[mid]].path, name);
		if (r == 0)
			return (ssize_t)c->order[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* A member starts: is it the one expected, of the size announced? */
static int member_begin(struct checker *c, const char *name, uint64_t size, bool regular)
{
	c->cur = SIZE_MAX;
	if (c->next >= c->man.n || strcmp(c->man.v[c->next].path, name) != 0) {
		ssize_t at = manifest_index(c, name);
		if (at < 0 && c->next < c->man.n && c->named_missing != c->next + 1) {
			/* a renamed member: the one expected here is named first */
			bad(c, c->man.v[c->next].path, "missing or replaced (%s came in its place)", name);
			c->named_missing = c->next + 1;
		}
		if (at < 0)
			bad(c, name, "not in the manifest (an extra member)");
		else if ((size_t)at < c->next)
			bad(c, name, "appears twice");
		else
			bad(c, c->man.v[c->next].path, "missing or out of order (%s came in its place)", name);
		if (at >= 0 && (size_t)at >= c->next)
			c->next = (size_t)at + 1; /* resynchronise on what came */
		return -1;
	}
	const struct cryo_member *m = &c->man.v[c->next++];
	if (!regular) {
		bad(c, name, "not a regular file");
		return -1;
	}
	if (size != m->size) {
		bad(c, name, "%llu bytes, the manifest says %llu", (unsigned long long)size, (unsigned long long)m->size);
		return -1;
	}
	c->cur = c->next - 1;
	c->cur_got = 0;
	cryo_sha256_reset(c->sha);
	free(c->keep);
	c->keep = NULL;
	c->keep_len = 0;
	bool is_custody = !strcmp(name, CRYO_CUSTODY_MEMBER), is_case = !strcmp(name, CRYO_CASE_MEMBER);
	if ((is_custody && size > CRYO_CUSTODY_MAX) || (is_case && size > (1u << 20))) {
		bad(c, name, "larger than cryo reads (%llu bytes)", (unsigned long long)size);
		c->cur = SIZE_MAX;
		return -1;
	}
	c->keep_user = c->req->keep && c->req->kept && c->req->keep(name, size, c->req->keep_arg);
	if (is_custody || is_case || c->keep_user) {
		if (!(c->keep = malloc(size + 1))) {
			bad(c, name, "out of memory");
			return -1;
		}
	}
	return 0;
}

static void member_data(struct checker *c, const void *data, size_t n)
{
	if (c->cur == SIZE_MAX)
		return;
	cryo_sha256_update(c->sha, data, n);
	if (c->keep && c->keep_len + n <= c->man.v[c->cur].size) {
		memcpy(c->keep + c->keep_len, data, n);
		c->keep_len += n;
	}
	c->cur_got += n;
	c->bytes += n;
}

static void member_end(struct checker *c)
{
	if (c->cur == SIZE_MAX)
		return;
	const struct cryo_member *m = &c->man.v[c->cur];
	char got[CRYO_SHA256_HEX];
	cryo_sha256_final_hex(c->sha, got);
	c->cur = SIZE_MAX;
	if (c->cur_got != m->size) {
		bad(c, m->path, "truncated (%llu of %llu bytes)", (unsigned long long)c->cur_got, (unsigned long long)m->size);
		return;
	}
	if (strcmp(got, m->sha256) != 0) {
		bad(c, m->path, "content differs from the manifest (sha256 %.16s..., expected %.16s...)", got, m->sha256);
		return;
	}
	if (c->keep && c->keep_user) {
		c->keep[c->keep_len] = '\0';
		bool ours = !strcmp(m->path, CRYO_CUSTODY_MEMBER) || !strcmp(m->path, CRYO_CASE_MEMBER);
		char *give = ours ? malloc(c->keep_len + 1) : steal_pointer(&c->keep);
		if (give) {
			if (ours)
				memcpy(give, c->keep, c->keep_len + 1);
			c->req->kept(m->path, give, c->keep_len, c->req->keep_arg);
		}
	}
	if (c->keep) {
		c->keep[c->keep_len] = '\0';
		char **slot = !strcmp(m->path, CRYO_CUSTODY_MEMBER) ? &c->custody : &c->casejson;
		free(*slot);
		*slot = steal_pointer(&c->keep);
		if (slot == &c->custody)
			c->custody_len = c->keep_len;
		else
			c->casejson_len = c->keep_len;
	}
}

/* After the last member: what is missing, and the chain of custody. */
static void checker_finish(struct checker *c)
{
	if (!c->have_man || c->fatal)
		return;
	if (c->stage != WANT_MEMBERS)
		bad(c, CRYO_SUMS, "missing");
	for (size_t i = c->next; i < c->man.n; i++)
		bad(c, c->man.v[i].path, "missing from the archive");
	cJSON *cust = cJSON_AddObjectToObject(c->result, "custody");
	cryo_json_bool(cust, "ok", false);
	if (!c->custody || !c->casejson)
		return; /* reported as a bad member already */
	if (c->custody_len == 0) {
		bad(c, CRYO_CUSTODY_MEMBER, "empty: no seal entry");
		return;
	}
	cleanup_cjson cJSON *cj = cryo_json_parse(c->casejson, c->casejson_len);
	const char *cid = cryo_json_get_str(cj, "case_id");
	if (!cid || strcmp(cid, c->man.case_id) != 0) {
		bad(c, CRYO_CASE_MEMBER, "names case %s, the manifest %s", cid ? cid : "none", c->man.case_id);
		return;
	}
	long bad_line;
	struct cryo_error e = { 0 };
	long n = cryo_custody_verify_text(c->custody, c->custody_len, c->man.case_id, &bad_line, &e);
	if (n < 0) {
		bad(c, CRYO_CUSTODY_MEMBER, "%s", e.msg);
		return;
	}
	char head[CRYO_CUSTODY_HEAD_MAX];
	cryo_custody_head_text(c->custody, c->custody_len, head);
	if (strcmp(head, c->man.custody_head) != 0) {
		bad(c, CRYO_CUSTODY_MEMBER, "its last entry is not the seal the manifest names");
		return;
	}
	const char *last = c->custody + c->custody_len - 1;
	while (last > c->custody && last[-1] != '\n')
		last--;
	cleanup_cjson cJSON *lj = cryo_json_parse(last, (size_t)(c->custody + c->custody_len - last));
	const char *action = cryo_json_get_str(lj, "action");
	if (!action || strcmp(action, "seal") != 0) {
		bad(c, CRYO_CUSTODY_MEMBER, "does not end with the seal entry");
		return;
	}
	cryo_json_num(cust, "entries", (double)n);
	cryo_json_bool(cust, "ok", true);
}

static int checker_init(struct checker *c, const struct cryo_verify_request *req, cJSON *result,
			struct cryo_error *err)
{
	memset(c, 0, sizeof(*c));
	c->req = req;
	c->cur = SIZE_MAX;
	c->result = result;
	c->bad = cJSON_AddArrayToObject(result, "bad");
	cJSON_AddObjectToObject(result, "manifest_signature");
	if (cryo_sodium_init(err) < 0)
		return -1;
	if (!(c->sha = cryo_sha256_new()))
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "hash");
	return 0;
}

/* The verdict: the first thing that does not hold, or nothing. */
static int checker_verdict(struct checker *c, struct cryo_error *err)
{
	cryo_json_num(c->result, "bytes", (double)c->bytes);
	cryo_json_bool(c->result, "ok", !c->first.msg[0]);
	if (c->first.msg[0]) {
		*err = c->first;
		return -1;
	}
	return 0;
}

/* --- the detached signature ---------------------------------------------- */

static int load_sig(const struct cryo_verify_request *req, struct cryo_minisig *s, cJSON *result,
		    struct cryo_error *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", req->sig ? req->sig : req->path) >= (int)sizeof(path) ||
	    (!req->sig && strlen(path) + 9 > sizeof(path)))
		return cryo_error_set(err, CRYO_EXIT_USAGE, ENAMETOOLONG, "path too long");
	if (!req->sig)
		strcat(path, ".minisig");
	cleanup_free char *text = NULL;
	size_t len;
	cJSON *sj = cJSON_AddObjectToObject(result, "signature");
	cryo_json_str(sj, "path", path);
	cryo_json_bool(sj, "ok", false);
	if (cryo_read_file_at(AT_FDCWD, path, SIG_MAX, false, &text, &len, err) < 0) {
		err->exit = err->errnum == ENOENT ? CRYO_EXIT_NO : err->exit;
		return cryo_error_wrap(err, "signature");
	}
	if (cryo_minisig_parse(text, len, s, err) < 0) {
		err->exit = CRYO_EXIT_NO;
		return cryo_error_wrap(err, "%s", path);
	}
	char id[CRYO_KEYID_HEX];
	cryo_keyid(s->keynum, id);
	cryo_json_str(sj, "key_id", id);
	return 0;
}

static int check_sig(const struct cryo_verify_request *req, const struct cryo_minisig *s,
		     const uint8_t hash[CRYO_BLAKE2B_BYTES], const void *msg, size_t msglen, cJSON *result,
		     struct cryo_error *err)
{
	if (cryo_minisig_verify(req->pk, s, hash, msg, msglen, err) < 0)
		return -1;
	cJSON *sj = cJSON_GetObjectItemCaseSensitive(result, "signature");
	cryo_json_bool(sj, "ok", true);
	/* only a verified trusted comment is shown: it is what the key says */
	cryo_json_str(sj, "trusted_comment", s->trusted);
	return 0;
}

/* --- an archive, streamed ------------------------------------------------ */

struct source {
	int fd;
	uint8_t *buf;
	crypto_generichash_state b2;
	uint64_t raw;
	int errnum;
};

static la_ssize_t source_read(struct archive *a, void *arg, const void **out)
{
	struct source *s = arg;
	for (;;) {
		if (cryo_interrupted) {
			archive_set_error(a, EINTR, "interrupted");
			return -1;
		}
		ssize_t n = read(s->fd, s->buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->errnum = errno;
			archive_set_error(a, errno, "read failed");
			return -1;
		}
		crypto_generichash_update(&s->b2, s->buf, (size_t)n);
		s->raw += (uint64_t)n;
		*out = s->buf;
		return n;
	}
}

void cryo_archive_read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* Read a small member whole. */
static int read_small(struct archive *a, size_t max, char **out, size_t *len)
{
	char *buf = malloc(max + 1);
	size_t n = 0;
	if (!buf)
		return -1;
	for (;;) {
		la_ssize_t r = archive_read_data(a, buf + n, max + 1 - n);
		if (r < 0) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return -2;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Everything extracted goes under a directory that appears whole, at the
 * end, or not at all. */
struct extract {
	char final[PATH_MAX], partial[PATH_MAX];
	int cwd;
	struct archive *disk;
	bool made;
};

static int extract_begin(struct extract *x, const char *dir, struct cryo_error *err)
{
	struct stat st;
	if (lstat(dir, &st) == 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST, "%s exists: --extract makes a new directory", dir);
	if (snprintf(x->final, sizeof(x->final), "%s", dir) >= (int)sizeof(x->final) ||
	    snprintf(x->partial, sizeof(x->partial), "%s.partial-%d", dir, (int)getpid()) >= (int)sizeof(x->partial))
		return cryo_error_set(err, CRYO_EXIT_USAGE, ENAMETOOLONG, "%s: path too long", dir);
	if (mkdir(x->partial, 0700) < 0)
		return cryo_error_sys(err, "create %s", x->partial);
	x->made = true;
	x->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->cwd < 0 || chdir(x->partial) < 0)
		return cryo_error_sys(err, "enter %s", x->partial);
	x->disk = archive_write_disk_new();
	if (!x->disk)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "libarchive");
	/* libarchive's own guards on top of a signed manifest's checked names:
	 * no "..", no absolute path, no symlink followed, nothing replaced, no
	 * owner, mode or special bit taken from the archive */
	archive_write_disk_set_options(x->disk, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
							ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_NO_OVERWRITE);
	return 0;
}

static void extract_end(struct extract *x, bool keep, struct cryo_error *err)
{
	if (x->disk) {
		archive_write_close(x->disk);
		archive_write_free(x->disk);
		x->disk = NULL;
	}
	if (x->cwd >= 0) {
		if (fchdir(x->cwd) < 0) {
			/* the partial path is relative to where we were */
		}
		close(x->cwd);
		x->cwd = -1;
	}
	if (!x->made)
		return;
	if (keep && renameat2(AT_FDCWD, x->partial, AT_FDCWD, x->final, RENAME_NOREPLACE) == 0)
		return;
	if (keep)
		cryo_error_sys(err, "rename %s to %s", x->partial, x->final);
	cryo_remove_tree_at(AT_FDCWD, x->partial);
}

static int verify_archive(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err);

int cryo_verify_archive(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err)
{
	locale_t prev = cryo_utf8_locale_enter();
	int rc = verify_archive(req, result, err);
	cryo_utf8_locale_leave(prev);
	return rc;
}

static int verify_archive(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err)
{
	*result = cJSON_CreateObject();
	cJSON *res = *result;
	cryo_json_str(res, "archive", req->path);
	struct checker c;
	if (checker_init(&c, req, res, err) < 0) {
		checker_free(&c);
		return -1;
	}
	struct cryo_minisig sig;
	bool have_sig = false;
	if (req->pk) {
		if (load_sig(req, &sig, res, err) < 0) {
			checker_free(&c);
			return -1;
		}
		have_sig = true;
	}
	struct source src = { .fd = open(req->path, O_RDONLY | O_CLOEXEC) };
	if (src.fd < 0) {
		checker_free(&c);
		return cryo_error_sys(err, "open %s", req->path);
	}
	/* an archive is a file: a device or a FIFO could be read forever */
	struct stat sst;
	if (fstat(src.fd, &sst) < 0 || !S_ISREG(sst.st_mode)) {
		close(src.fd);
		checker_free(&c);
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "%s: not a regular file", req->path);
	}
	cleanup_free uint8_t *buf = malloc(CHUNK), *data = malloc(CHUNK);
	src.buf = buf;
	crypto_generichash_init(&src.b2, NULL, 0, CRYO_BLAKE2B_BYTES);
	struct extract x = { .cwd = -1 };
	cleanup_archive struct archive *a = archive_read_new();
	int rc = 0;
	if (!buf || !data || !a) {
		rc = cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "buffers");
		goto out;
	}
	/* only what cryo-pack writes: a tar, through zstd */
	archive_read_support_format_tar(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open(a, &src, NULL, source_read, NULL) != ARCHIVE_OK) {
		bad(&c, "ARCHIVE", "unreadable as a zstd-compressed tar: %s", archive_error_string(a));
		c.fatal = true;
	}
	if (req->extract && extract_begin(&x, req->extract, err) < 0) {
		rc = -1;
		goto out;
	}
	struct archive_entry *e;
	size_t count = 0;
	while (!c.fatal) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			/* a damaged header is ARCHIVE_RETRY, with no name: the
			 * member after the last good one is what is damaged */
			const char *what = c.have_man && c.next < c.man.n ? c.man.v[c.next].path : "ARCHIVE";
			bad(&c, what, "unreadable (damaged tar header after %zu members: %s)", count,
			    archive_error_string(a));
			c.fatal = true;
			break;
		}
		if (++count > (size_t)CRYO_MEMBERS_MAX + 3) {
			bad(&c, "ARCHIVE", "more than %d members", CRYO_MEMBERS_MAX);
			c.fatal = true;
			break;
		}
		const char *name = archive_entry_pathname_utf8(e);
		if (!name)
			name = "";
		if (count == 1 && archive_filter_code(a, 0) != ARCHIVE_FILTER_ZSTD) {
			bad(&c, "ARCHIVE", "not zstd-compressed (%s): not an archive cryo-pack made",
			    archive_filter_name(a, 0));
			c.fatal = true;
			break;
		}
		/* a hard link is AE_IFREG to libarchive: not a file of ours */
		bool regular = archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
			       !archive_entry_symlink(e);
		uint64_t size = archive_entry_size(e) < 0 ? 0 : (uint64_t)archive_entry_size(e);
		if (c.stage == WANT_MANIFEST || c.stage == WANT_SIG || c.stage == WANT_SUMS) {
			const char *want = c.stage == WANT_MANIFEST ? CRYO_MANIFEST : c.stage == WANT_SIG ? CRYO_MANIFEST_SIG : CRYO_SUMS;
			if (c.stage == WANT_SIG && strcmp(name, CRYO_MANIFEST_SIG) != 0) {
				if (checker_trust(&c, NULL, 0) < 0)
					break;
				want = CRYO_SUMS;
			}
			if (strcmp(name, want) != 0 || !regular) {
				bad(&c, want, "missing (the archive begins with %s)", name);
				c.fatal = true;
				break;
			}
			cleanup_free char *text = NULL;
			size_t len;
			int rr = read_small(a, !strcmp(want, CRYO_MANIFEST_SIG) ? SIG_MAX : CRYO_MANIFEST_MAX, &text, &len);
			if (rr < 0) {
				bad(&c, want, rr == -2 ? "too large" : "unreadable");
				c.fatal = true;
				break;
			}
			if (!strcmp(want, CRYO_MANIFEST))
				checker_manifest(&c, text, len);
			else if (!strcmp(want, CRYO_MANIFEST_SIG))
				checker_trust(&c, text, len);
			else
				checker_sums(&c, text, len);
			if (x.disk && !c.fatal) {
				archive_entry_set_perm(e, 0600);
				if (archive_write_header(x.disk, e) != ARCHIVE_OK ||
				    archive_write_data(x.disk, text, len) != (la_ssize_t)len) {
					rc = cryo_error_set(err, CRYO_EXIT_IOERR, archive_errno(x.disk), "extract %s: %s", name,
							    archive_error_string(x.disk));
					goto out;
				}
			}
			continue;
		}
		/* The tar stream may not hold more than the manifest announced:
		 * a compression bomb stops here, and only the raw bytes are still
		 * hashed, for the signature's verdict. */
		if (c.have_man && (uint64_t)archive_filter_bytes(a, 0) > c.announced) {
			bad(&c, "ARCHIVE", "holds more data than its manifest announces");
			c.fatal = true;
			break;
		}
		bool ok = member_begin(&c, name, size, regular) == 0;
		if (!ok)
			continue; /* not read: libarchive skips its stored bytes, a
				   * sparse member is never expanded */
		bool write = ok && x.disk && (!req->extract_member || req->extract_member(name, size, req->extract_arg));
		if (write) {
			archive_entry_set_perm(e, 0600);
			if (archive_write_header(x.disk, e) != ARCHIVE_OK) {
				rc = cryo_error_set(err, CRYO_EXIT_IOERR, archive_errno(x.disk), "extract %s: %s", name,
						    archive_error_string(x.disk));
				goto out;
			}
		}
		for (;;) {
			la_ssize_t n = archive_read_data(a, data, CHUNK);
			if (n == 0)
				break;
			if (n < 0) {
				bad(&c, name, "unreadable: %s", archive_error_string(a));
				c.fatal = true;
				break;
			}
			if (ok)
				member_data(&c, data, (size_t)n);
			if (write && archive_write_data(x.disk, data, (size_t)n) != n) {
				rc = cryo_error_set(err, CRYO_EXIT_IOERR, archive_errno(x.disk), "extract %s: %s", name,
						    archive_error_string(x.disk));
				goto out;
			}
		}
		if (ok && !c.fatal)
			member_end(&c);
		if (write)
			archive_write_finish_entry(x.disk);
	}
	if (!c.fatal && c.stage < WANT_MEMBERS)
		bad(&c, c.stage == WANT_MANIFEST ? CRYO_MANIFEST : CRYO_SUMS, "missing");
	checker_finish(&c);
	/* whatever libarchive left unread still belongs to the signed bytes */
	for (ssize_t n; (n = read(src.fd, buf, CHUNK)) != 0;) {
		if (cryo_interrupted) {
			rc = cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
			goto out;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cryo_error_sys(err, "read %s", req->path);
			goto out;
		}
		crypto_generichash_update(&src.b2, buf, (size_t)n);
		src.raw += (uint64_t)n;
	}
	uint8_t b2[CRYO_BLAKE2B_BYTES];
	crypto_generichash_final(&src.b2, b2, sizeof(b2));
	cryo_json_num(res, "archive_bytes", (double)src.raw);
	if (have_sig) {
		struct cryo_error se = { 0 };
		if (check_sig(req, &sig, b2, NULL, 0, res, &se) < 0) {
			/* the signature comes first in the verdict */
			struct cryo_error first = c.first;
			cryo_error_set(&c.first, CRYO_EXIT_NO, 0, "%s: %s%s%s", req->path, se.msg,
				       first.msg[0] ? "; first bad member: " : "", first.msg);
		} else if (c.have_man) {
			/* the trusted comment's tab-separated "case:" field, whole */
			bool same = false;
			size_t cl = strlen(c.man.case_id);
			for (const char *f = sig.trusted; f && *f; f = strchr(f, '\t') ? strchr(f, '\t') + 1 : NULL)
				if (!strncmp(f, "case:", 5) && !strncmp(f + 5, c.man.case_id, cl) && (f[5 + cl] == '\t' || !f[5 + cl]))
					same = true;
			if (!same)
				bad(&c, "ARCHIVE", "its signature is not this case's (trusted comment: %s)", sig.trusted);
		}
	} else {
		cryo_json_bool(cJSON_AddObjectToObject(res, "signature"), "ok", false);
	}
	rc = checker_verdict(&c, err);
out:
	extract_end(&x, rc == 0 && req->extract, err);
	if (rc == 0 && req->extract)
		cryo_json_str(res, "extracted", req->extract);
	if (rc < 0 && err->exit == 0)
		err->exit = CRYO_EXIT_SOFTWARE;
	if (rc < 0 && !cJSON_GetObjectItemCaseSensitive(res, "ok"))
		cryo_json_bool(res, "ok", false);
	close(src.fd);
	checker_free(&c);
	return rc;
}

/* --- an extracted directory ---------------------------------------------- */

static int read_member_file(int dirfd, const char *name, size_t max, char **out, size_t *len,
			    struct cryo_error *err)
{
	cleanup_close int fd = cryo_open_beneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, err);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "%s: not a regular file", name);
	return cryo_read_fd(fd, name, max, out, len, err);
}

/* Files in the directory that the manifest does not name.  What cannot be
 * looked at is bad too: a check that skips is a check that can be fooled. */
static void find_extra(struct checker *c, int dirfd, const char *prefix, int depth)
{
	int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	cleanup_closedir DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		bad(c, prefix[0] ? prefix : ".", "directory cannot be read: %s", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (cryo_is_dot(de->d_name))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "/" : "", de->d_name) >= (int)sizeof(path)) {
			bad(c, prefix, "holds a path longer than any member's (an extra file)");
			continue;
		}
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			bad(c, path, "cannot be looked at: %s", strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			/* members are at most 1024 bytes: 513 levels is already extra */
			if (depth > 513) {
				bad(c, path, "deeper than any member (an extra directory)");
				continue;
			}
			cleanup_close int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				bad(c, path, "directory cannot be opened: %s", strerror(errno));
			else
				find_extra(c, sub, path, depth + 1);
			continue;
		}
		if (!prefix[0] && (!strcmp(path, CRYO_MANIFEST) || !strcmp(path, CRYO_MANIFEST_SIG) || !strcmp(path, CRYO_SUMS)))
			continue;
		if (manifest_index(c, path) < 0)
			bad(c, path, "not in the manifest (an extra file)");
	}
}

int cryo_verify_dir(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err)
{
	*result = cJSON_CreateObject();
	cJSON *res = *result;
	cryo_json_str(res, "directory", req->path);
	struct checker c;
	if (checker_init(&c, req, res, err) < 0) {
		checker_free(&c);
		return -1;
	}
	cleanup_close int dirfd = open(req->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		checker_free(&c);
		return cryo_error_sys(err, "open %s", req->path);
	}
	cleanup_free char *mtext = NULL, *stext = NULL, *sums = NULL;
	cleanup_free uint8_t *data = malloc(CHUNK);
	size_t mlen, slen = 0, sumlen;
	struct cryo_error e = { 0 };
	if (read_member_file(dirfd, CRYO_MANIFEST, CRYO_MANIFEST_MAX, &mtext, &mlen, &e) < 0) {
		bad(&c, CRYO_MANIFEST, "%s", e.msg);
		goto done;
	}
	checker_manifest(&c, mtext, mlen);
	bool have_sig = req->pk && read_member_file(dirfd, CRYO_MANIFEST_SIG, SIG_MAX, &stext, &slen, &e) == 0;
	if (req->pk && !have_sig) {
		bad(&c, CRYO_MANIFEST_SIG, "%s", e.msg);
		goto done;
	}
	if (checker_trust(&c, have_sig ? stext : NULL, slen) < 0)
		goto done;
	if (read_member_file(dirfd, CRYO_SUMS, CRYO_MANIFEST_MAX, &sums, &sumlen, &e) < 0)
		bad(&c, CRYO_SUMS, "%s", e.msg);
	else
		checker_sums(&c, sums, sumlen);
	c.stage = WANT_MEMBERS;
	if (!data) {
		checker_free(&c);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "buffer");
	}
	for (size_t i = 0; i < c.man.n; i++) {
		const char *name = c.man.v[i].path;
		cleanup_close int fd = cryo_open_beneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, &e);
		struct stat st;
		if (fd < 0) {
			c.next = i + 1;
			bad(&c, name, "%s", e.errnum == ENOENT ? "missing" : e.msg);
			continue;
		}
		if (fstat(fd, &st) < 0)
			st.st_mode = 0;
		if (member_begin(&c, name, (uint64_t)st.st_size, S_ISREG(st.st_mode)) < 0)
			continue;
		for (ssize_t n; (n = read(fd, data, CHUNK)) != 0;) {
			if (cryo_interrupted) {
				checker_free(&c);
				return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, EINTR, "interrupted");
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				bad(&c, name, "unreadable: %s", strerror(errno));
				c.cur = SIZE_MAX;
				break;
			}
			member_data(&c, data, (size_t)n);
		}
		member_end(&c);
	}
	find_extra(&c, dirfd, "", 0);
	checker_finish(&c);
done:;
	int rc = checker_verdict(&c, err);
	checker_free(&c);
	return rc;
}

/* --- any file ------------------------------------------------------------- */

int cryo_verify_file(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err)
{
	*result = cJSON_CreateObject();
	cJSON *res = *result;
	cryo_json_str(res, "file", req->path);
	cryo_json_bool(res, "ok", false);
	if (cryo_sodium_init(err) < 0)
		return -1;
	struct cryo_minisig sig;
	if (load_sig(req, &sig, res, err) < 0)
		return -1;
	cleanup_close int fd = open(req->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cryo_error_sys(err, "open %s", req->path);
	uint8_t b2[CRYO_BLAKE2B_BYTES];
	cleanup_free char *whole = NULL;
	size_t len = 0;
	if (sig.prehashed) {
		cleanup_free uint8_t *buf = malloc(CHUNK);
		crypto_generichash_state st;
		if (!buf)
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "buffer");
		crypto_generichash_init(&st, NULL, 0, sizeof(b2));
		for (ssize_t n; (n = read(fd, buf, CHUNK)) != 0;) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return cryo_error_sys(err, "read %s", req->path);
			crypto_generichash_update(&st, buf, (size_t)n);
		}
		crypto_generichash_final(&st, b2, sizeof(b2));
	} else if (cryo_read_fd(fd, req->path, LEGACY_MAX, &whole, &len, err) < 0) {
		return cryo_error_wrap(err, "legacy (not prehashed) signature: the file is read whole");
	}
	if (check_sig(req, &sig, b2, whole, len, res, err) < 0)
		return cryo_error_wrap(err, "%s", req->path);
	cryo_json_bool(res, "ok", true);
	return 0;
}
