/* case.c: the case directory and its hash-chained custody log, and the
 * atomic writes (util.c) it is built on.  Every tamper test works on a
 * fresh copy of a good case, and says which line the verifier must name. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/util.h"

static char *read_text(int dirfd, const char *name)
{
	char *text = NULL;
	size_t len;
	struct cryo_error err;
	CHECK_MSG(cryo_read_file_at(dirfd, name, 64u << 20, true, &text, &len, &err) == 0, "%s",
		  err.msg);
	return text;
}

static void write_text(int dirfd, const char *name, const char *text, size_t len)
{
	cleanup_close int fd =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	CHECK_MSG(fd >= 0, "create %s: %s", name, strerror(errno));
	CHECK_INT_EQ(write(fd, text, len), (ssize_t)len);
}

static void commit_one(struct cryo_case *c, int i)
{
	char action[32], art[64], hex[CRYO_SHA256_HEX];
	snprintf(action, sizeof(action), "act%d", i);
	snprintf(art, sizeof(art), "mem/%d.bin", i);
	cryo_sha256_hex(art, strlen(art), hex);
	char *argv[] = { "cryo-test", "--case", c->path, "web" };
	struct cryo_custody_entry e;
	cryo_custody_begin(&e, "cryo-test", action, "web", 4, argv);
	cryo_custody_artifact(&e, art, 1000u + (unsigned)i, hex);
	struct cryo_error err;
	CHECK_MSG(cryo_custody_commit(c, &e, "ok", "done", &err) == 0, "commit %d: %s", i, err.msg);
	CHECK(e.obj == NULL);
}

/* dir/name as a case with n entries. */
static void make_case(const char *dir, const char *name, int n, struct cryo_case *c)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct cryo_error err;
	CHECK_MSG(cryo_case_open(path, "cryo-test", "web", c, &err) == 0, "open %s: %s", path, err.msg);
	for (int i = 1; i <= n; i++)
		commit_one(c, i);
}

struct lines {
	char *v[256];
	size_t n;
};

/* Split at '\n'; a last line without newline is kept too. */
static void split_lines(const char *text, struct lines *l)
{
	l->n = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		CHECK(l->n < CRYO_ARRAY_SIZE(l->v));
		l->v[l->n++] = strndup(p, n);
		p += n + (nl ? 1 : 0);
	}
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* The lines joined by '\n', each ending in one unless !last_newline. */
static char *join_lines(const struct lines *l, bool last_newline)
{
	size_t len = 1;
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 1;
	char *s = malloc(len), *p = s;
	CHECK(s != NULL);
	for (size_t i = 0; i < l->n; i++)
		p += sprintf(p, "%s%s", l->v[i], (i + 1 < l->n || last_newline) ? "\n" : "");
	*p = '\0';
	return s;
}

/* A copy of a case directory (case.json) with the given custody text. */
static int tampered_copy(const char *dir, const char *name, const struct cryo_case *src,
			 const char *custody, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK_MSG(mkdir(path, 0700) == 0, "mkdir %s: %s", path, strerror(errno));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	cleanup_free char *cj = read_text(src->dirfd, "case.json");
	write_text(fd, "case.json", cj, strlen(cj));
	write_text(fd, "custody.jsonl", custody, len);
	return fd;
}

/* Verify the copy; it must fail at bad_line with exit class NO. */
static void expect_broken(const char *dir, const char *name, const struct cryo_case *src,
			  const char *custody, long want_line, const char *why)
{
	cleanup_close int fd = tampered_copy(dir, name, src, custody, strlen(custody));
	long bad = -7;
	struct cryo_error err = { 0 };
	long n = cryo_custody_verify(fd, &bad, &err);
	CHECK_MSG(n == -1, "%s: tampered log verified as %ld entries", why, n);
	CHECK_MSG(bad == want_line, "%s: bad_line %ld, want %ld (%s)", why, bad, want_line, err.msg);
	CHECK_MSG(err.exit == CRYO_EXIT_NO, "%s: exit %d, want %d", why, err.exit, CRYO_EXIT_NO);
	char want[32];
	snprintf(want, sizeof(want), "line %ld", want_line);
	CHECK_STR_CONTAINS(err.msg, want);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	CHECK_MSG(lstat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

TEST(case_open_creates_private_case)
{
	char dir[256], path[PATH_MAX], file[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/incident-42", dir);
	mode_t old = umask(0);
	struct cryo_case c;
	struct cryo_error err;
	int rc = cryo_case_open(path, "cryo-freeze", "web", &c, &err);
	umask(old);
	CHECK_MSG(rc == 0, "%s", err.msg);
	CHECK(c.dirfd >= 0);
	CHECK_STR_EQ(c.path, path);
	CHECK_INT_EQ(mode_of(path), 0700);
	snprintf(file, sizeof(file), "%s/case.json", path);
	CHECK_INT_EQ(mode_of(file), 0600);

	/* 20261129T051355Z-0a1b2c3d */
	CHECK_INT_EQ(strlen(c.id), 25);
	CHECK(c.id[8] == 'T' && c.id[15] == 'Z' && c.id[16] == '-');
	CHECK(cryo_is_hex(c.id + 17, 8));

	cleanup_free char *text = read_text(c.dirfd, "case.json");
	cleanup_cjson cJSON *j = cJSON_Parse(text);
	CHECK(cJSON_IsObject(j));
	CHECK_STR_EQ(cryo_json_get_str(j, "case_id"), c.id);
	CHECK_STR_EQ(cryo_json_get_str(j, "tool"), "cryo-freeze");
	CHECK_STR_EQ(cryo_json_get_str(j, "target"), "web");
	CHECK_STR_EQ(cryo_json_get_str(j, "version"), CRYO_VERSION);
	CHECK(cryo_json_get_str(j, "created") != NULL);
	CHECK(cryo_json_get_str(j, "host") != NULL);
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
	CHECK(cJSON_IsNumber(fmt) && fmt->valuedouble == CRYO_CASE_FORMAT);

	/* opening again keeps the case: same id, case.json untouched */
	char id[64];
	snprintf(id, sizeof(id), "%s", c.id);
	cryo_case_close(&c);
	CHECK_INT_EQ(c.dirfd, -1);
	struct cryo_case c2;
	CHECK_INT_EQ(cryo_case_open(path, "cryo-dump", NULL, &c2, &err), 0);
	CHECK_STR_EQ(c2.id, id);
	cleanup_free char *text2 = read_text(c2.dirfd, "case.json");
	CHECK_STR_EQ(text2, text);
	cryo_case_close(&c2);

	/* a NULL target is recorded as null */
	snprintf(path, sizeof(path), "%s/other", dir);
	struct cryo_case c3;
	CHECK_INT_EQ(cryo_case_open(path, "cryo-ls", NULL, &c3, &err), 0);
	cleanup_free char *text3 = read_text(c3.dirfd, "case.json");
	cleanup_cjson cJSON *j3 = cJSON_Parse(text3);
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j3, "target")));
	CHECK(strcmp(c3.id, id) != 0);
	cryo_case_close(&c3);
	check_rm_rf(dir);
}

TEST(case_open_existing_dir_is_made_private)
{
	char dir[256], path[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/shared", dir);
	CHECK_INT_EQ(mkdir(path, 0700), 0);
	CHECK_INT_EQ(chmod(path, 0755), 0);
	struct cryo_case c;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_case_open(path, "t", NULL, &c, &err), 0);
	CHECK_INT_EQ(mode_of(path), 0700);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(case_open_refusals)
{
	char dir[256], path[PATH_MAX], real[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	struct cryo_error err;

	/* a symlink where the case directory should be */
	snprintf(real, sizeof(real), "%s/real", dir);
	snprintf(path, sizeof(path), "%s/link", dir);
	CHECK_INT_EQ(mkdir(real, 0700), 0);
	CHECK_INT_EQ(symlink(real, path), 0);
	CHECK_INT_EQ(cryo_case_open(path, "t", NULL, &c, &err), -1);
	cryo_case_close(&c);
	char probe[PATH_MAX];
	snprintf(probe, sizeof(probe), "%s/case.json", real);
	CHECK_MSG(access(probe, F_OK) == -1, "case.json written through a symlink");

	/* case.json without a case id, or not JSON, or a symlink */
	snprintf(path, sizeof(path), "%s/noid", dir);
	CHECK_INT_EQ(mkdir(path, 0700), 0);
	{
		cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY);
		write_text(fd, "case.json", "{\"format\":1}\n", 13);
	}
	CHECK_INT_EQ(cryo_case_open(path, "t", NULL, &c, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	cryo_case_close(&c);

	snprintf(path, sizeof(path), "%s/garbage", dir);
	CHECK_INT_EQ(mkdir(path, 0700), 0);
	{
		cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY);
		write_text(fd, "case.json", "\x7f" "ELF", 4);
	}
	CHECK_INT_EQ(cryo_case_open(path, "t", NULL, &c, &err), -1);
	cryo_case_close(&c);

	snprintf(path, sizeof(path), "%s/symjson", dir);
	CHECK_INT_EQ(mkdir(path, 0700), 0);
	char target[PATH_MAX], link[PATH_MAX];
	snprintf(target, sizeof(target), "%s/noid/case.json", dir);
	snprintf(link, sizeof(link), "%s/case.json", path);
	CHECK_INT_EQ(symlink(target, link), 0);
	CHECK_INT_EQ(cryo_case_open(path, "t", NULL, &c, &err), -1);
	cryo_case_close(&c);

	/* a path that does not fit */
	char longp[5000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CHECK_INT_EQ(cryo_case_open(longp, "t", NULL, &c, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_USAGE);
	check_rm_rf(dir);
}

TEST(custody_chain_of_three)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);

	long bad = -1;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_custody_verify(c.dirfd, &bad, &err), 3);
	CHECK_INT_EQ(bad, 0);

	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/case/custody.jsonl", dir);
	CHECK_INT_EQ(mode_of(file), 0600);

	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	CHECK_INT_EQ(l.n, 3);
	char want_prev[128];
	snprintf(want_prev, sizeof(want_prev), "case:%s", c.id);
	for (size_t i = 0; i < l.n; i++) {
		cleanup_cjson cJSON *j = cJSON_Parse(l.v[i]);
		CHECK_MSG(cJSON_IsObject(j), "line %zu is not JSON", i + 1);
		/* seq and prev lead the line */
		CHECK_MSG(strncmp(l.v[i], "{\"seq\":", 7) == 0, "line %zu starts %.20s", i + 1, l.v[i]);
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
		CHECK(cJSON_IsNumber(seq) && seq->valuedouble == (double)(i + 1));
		CHECK_STR_EQ(cryo_json_get_str(j, "prev"), want_prev);
		CHECK_STR_EQ(cryo_json_get_str(j, "case_id"), c.id);
		CHECK_STR_EQ(cryo_json_get_str(j, "tool"), "cryo-test");
		CHECK_STR_EQ(cryo_json_get_str(j, "result"), "ok");
		CHECK_STR_EQ(cryo_json_get_str(j, "message"), "done");
		CHECK_STR_EQ(cryo_json_get_str(j, "target"), "web");
		char action[16];
		snprintf(action, sizeof(action), "act%zu", i + 1);
		CHECK_STR_EQ(cryo_json_get_str(j, "action"), action);
		const cJSON *arts = cJSON_GetObjectItemCaseSensitive(j, "artifacts");
		CHECK(cJSON_GetArraySize(arts) == 1);
		const cJSON *a0 = cJSON_GetArrayItem(arts, 0);
		char art[32], hex[CRYO_SHA256_HEX];
		snprintf(art, sizeof(art), "mem/%zu.bin", i + 1);
		cryo_sha256_hex(art, strlen(art), hex);
		CHECK_STR_EQ(cryo_json_get_str(a0, "path"), art);
		CHECK_STR_EQ(cryo_json_get_str(a0, "sha256"), hex);
		CHECK(cJSON_GetObjectItemCaseSensitive(a0, "size")->valuedouble == 1001.0 + (double)i);
		const cJSON *argv = cJSON_GetObjectItemCaseSensitive(j, "argv");
		CHECK(cJSON_GetArraySize(argv) == 4);
		const cJSON *who = cJSON_GetObjectItemCaseSensitive(j, "who");
		CHECK(cJSON_GetObjectItemCaseSensitive(who, "uid")->valuedouble == (double)geteuid());
		CHECK(cJSON_GetObjectItemCaseSensitive(who, "pid")->valuedouble == (double)getpid());
		CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "duration_ns")));
		char hexl[CRYO_SHA256_HEX];
		cryo_sha256_hex(l.v[i], strlen(l.v[i]), hexl);
		snprintf(want_prev, sizeof(want_prev), "sha256:%s", hexl);
	}
	free_lines(&l);

	/* the in-memory check of the same text agrees */
	CHECK_INT_EQ(cryo_custody_verify_text(text, strlen(text), c.id, &bad, &err), 3);
	CHECK_INT_EQ(cryo_custody_verify_text(text, strlen(text), "20000101T000000Z-00000000", &bad, &err),
		     -1);
	CHECK_INT_EQ(bad, 1);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(custody_entry_lifecycle)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 0, &c);
	struct cryo_error err;
	long bad;
	/* no log yet */
	CHECK_INT_EQ(cryo_custody_verify(c.dirfd, &bad, &err), -1);
	CHECK_INT_EQ(err.errnum, ENOENT);

	/* abandoned entries leave no trace */
	struct cryo_custody_entry e;
	cryo_custody_begin(&e, "t", "a", NULL, 0, NULL);
	cryo_custody_abandon(&e);
	CHECK(e.obj == NULL);
	CHECK_INT_EQ(faccessat(c.dirfd, "custody.jsonl", F_OK, 0), -1);

	/* an entry is committed once */
	cryo_custody_begin(&e, "t", "a", NULL, 0, NULL);
	CHECK_INT_EQ(cryo_custody_commit(&c, &e, "partial", NULL, &err), 0);
	CHECK_INT_EQ(cryo_custody_commit(&c, &e, "ok", NULL, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_SOFTWARE);
	CHECK_INT_EQ(cryo_custody_verify(c.dirfd, &bad, &err), 1);

	/* an empty log is a valid empty chain */
	cleanup_close int fd = openat(c.dirfd, "custody.jsonl", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK_INT_EQ(cryo_custody_verify(c.dirfd, &bad, &err), 0);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(tamper_edit_byte_in_line_2)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);

	/* still valid JSON: line 2 itself checks out, line 3's prev does not */
	char *p = strstr(l.v[1], "\"action\":\"act2\"");
	CHECK(p != NULL);
	p[13] = '9';
	cleanup_free char *t1 = join_lines(&l, true);
	expect_broken(dir, "t1", &c, t1, 3, "action act2 -> act9");
	p[13] = '2';

	/* the result, as someone hiding a failure would */
	free_lines(&l);
	split_lines(text, &l);
	char *r = strstr(l.v[1], "\"result\":\"ok\"");
	CHECK(r != NULL);
	memcpy(r + 10, "OK", 2);
	cleanup_free char *t2 = join_lines(&l, true);
	expect_broken(dir, "t2", &c, t2, 3, "result ok -> OK");

	/* no longer JSON: line 2 is named */
	free_lines(&l);
	split_lines(text, &l);
	l.v[1][0] = 'x';
	cleanup_free char *t3 = join_lines(&l, true);
	expect_broken(dir, "t3", &c, t3, 2, "'{' -> 'x'");

	/* the first line: its own prev still matches, line 2's does not */
	free_lines(&l);
	split_lines(text, &l);
	char *m = strstr(l.v[0], "\"message\":\"done\"");
	CHECK(m != NULL);
	m[11] = 'D';
	cleanup_free char *t4 = join_lines(&l, true);
	expect_broken(dir, "t4", &c, t4, 2, "line 1 message");
	free_lines(&l);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(tamper_delete_line_2)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	free(l.v[1]);
	l.v[1] = l.v[2];
	l.n = 2;
	cleanup_free char *t = join_lines(&l, true);
	expect_broken(dir, "t", &c, t, 2, "line 2 deleted");

	/* the first line deleted */
	free_lines(&l);
	split_lines(text, &l);
	free(l.v[0]);
	l.v[0] = l.v[1];
	l.v[1] = l.v[2];
	l.n = 2;
	cleanup_free char *t2 = join_lines(&l, true);
	expect_broken(dir, "t2", &c, t2, 1, "line 1 deleted");
	free_lines(&l);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(tamper_swap_lines)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	char *tmp = l.v[1];
	l.v[1] = l.v[2];
	l.v[2] = tmp;
	cleanup_free char *t = join_lines(&l, true);
	expect_broken(dir, "t23", &c, t, 2, "lines 2 and 3 swapped");
	tmp = l.v[1];
	l.v[1] = l.v[2];
	l.v[2] = tmp;
	tmp = l.v[0];
	l.v[0] = l.v[1];
	l.v[1] = tmp;
	cleanup_free char *t2 = join_lines(&l, true);
	expect_broken(dir, "t12", &c, t2, 1, "lines 1 and 2 swapped");
	free_lines(&l);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(tamper_truncate_last_newline)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	size_t len = strlen(text);
	CHECK(len > 0 && text[len - 1] == '\n');
	text[len - 1] = '\0';
	expect_broken(dir, "t", &c, text, 3, "last newline cut");

	/* a torn write in the middle of the last line */
	text[len - 40] = '\0';
	expect_broken(dir, "t2", &c, text, 3, "last line cut short");

	/* and nobody chains onto a torn log */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/t2", dir);
	struct cryo_case t2;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_case_open(path, "t", NULL, &t2, &err), 0);
	struct cryo_custody_entry e;
	cryo_custody_begin(&e, "t", "after-tear", NULL, 0, NULL);
	CHECK_INT_EQ(cryo_custody_commit(&t2, &e, "ok", NULL, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	cleanup_free char *after = read_text(t2.dirfd, "custody.jsonl");
	CHECK_STR_EQ(after, text);
	cryo_case_close(&t2);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(tamper_line_from_another_case)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case a, b;
	make_case(dir, "a", 3, &a);
	make_case(dir, "b", 4, &b);
	cleanup_free char *ta = read_text(a.dirfd, "custody.jsonl");
	cleanup_free char *tb = read_text(b.dirfd, "custody.jsonl");
	struct lines lb;
	split_lines(tb, &lb);

	/* b's fourth entry appended to a: seq fits, prev does not */
	size_t n = strlen(ta) + strlen(lb.v[3]) + 2;
	cleanup_free char *t1 = malloc(n);
	snprintf(t1, n, "%s%s\n", ta, lb.v[3]);
	expect_broken(dir, "t1", &a, t1, 4, "b's line 4 appended");

	/* b's first entry appended: wrong seq */
	cleanup_free char *t2 = malloc(strlen(ta) + strlen(lb.v[0]) + 2);
	sprintf(t2, "%s%s\n", ta, lb.v[0]);
	expect_broken(dir, "t2", &a, t2, 4, "b's line 1 appended");

	/* a forged line that chains correctly but names case b */
	struct lines la;
	split_lines(ta, &la);
	char hex[CRYO_SHA256_HEX];
	cryo_sha256_hex(la.v[2], strlen(la.v[2]), hex);
	char forged[512];
	snprintf(forged, sizeof(forged),
		 "{\"seq\":4,\"prev\":\"sha256:%s\",\"tool\":\"x\",\"result\":\"ok\",\"case_id\":\"%s\"}",
		 hex, b.id);
	cleanup_free char *t3 = malloc(strlen(ta) + strlen(forged) + 2);
	sprintf(t3, "%s%s\n", ta, forged);
	expect_broken(dir, "t3", &a, t3, 4, "forged line of case b");

	/* the same forged line with a's id passes: the chain is not a signature */
	snprintf(forged, sizeof(forged),
		 "{\"seq\":4,\"prev\":\"sha256:%s\",\"tool\":\"x\",\"result\":\"ok\",\"case_id\":\"%s\"}",
		 hex, a.id);
	cleanup_free char *t4 = malloc(strlen(ta) + strlen(forged) + 2);
	sprintf(t4, "%s%s\n", ta, forged);
	long bad;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_custody_verify_text(t4, strlen(t4), a.id, &bad, &err), 4);

	/* b's whole log in a's directory */
	expect_broken(dir, "t5", &a, tb, 1, "b's log under a");
	free_lines(&la);
	free_lines(&lb);
	cryo_case_close(&a);
	cryo_case_close(&b);
	check_rm_rf(dir);
}

TEST(tamper_blank_and_junk_lines)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 2, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	cleanup_free char *t1 = malloc(strlen(text) + 8);
	sprintf(t1, "%s\n%s\n\n", l.v[0], l.v[1]);
	expect_broken(dir, "t1", &c, t1, 3, "blank line appended");
	cleanup_free char *t2 = malloc(strlen(text) + 8);
	sprintf(t2, "%s\n\n%s\n", l.v[0], l.v[1]);
	expect_broken(dir, "t2", &c, t2, 2, "blank line inserted");
	cleanup_free char *t3 = malloc(strlen(text) + 16);
	sprintf(t3, "%s\n%s\n[1,2]\n", l.v[0], l.v[1]);
	expect_broken(dir, "t3", &c, t3, 3, "array appended");
	free_lines(&l);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

/* The tail has no successor to carry its hash: editing or dropping the last
 * line keeps the chain valid (case.h says so), and only the head anchored
 * in a signed manifest catches it.  These tests pin both halves: the chain
 * alone verifies, and the head changes. */
static void expect_tail_caught_by_head(const char *orig, const char *t, long want_count)
{
	long bad = 0;
	struct cryo_error err = { 0 };
	long n = cryo_custody_verify_text(t, strlen(t), NULL, &bad, &err);
	CHECK_MSG(n == want_count, "chain alone: %ld entries (%s), want %ld", n, err.msg, want_count);
	char h1[CRYO_CUSTODY_HEAD_MAX], h2[CRYO_CUSTODY_HEAD_MAX];
	cryo_custody_head_text(orig, strlen(orig), h1);
	cryo_custody_head_text(t, strlen(t), h2);
	CHECK_STR_CONTAINS(h1, "sha256:");
	CHECK_MSG(strcmp(h1, h2) != 0, "head unchanged after tampering with the tail: %s", h1);
}

TEST(tamper_edit_last_line)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	char *r = strstr(l.v[2], "\"result\":\"ok\"");
	CHECK(r != NULL);
	memcpy(r + 10, "OK", 2);
	cleanup_free char *t = join_lines(&l, true);
	free_lines(&l);
	expect_tail_caught_by_head(text, t, 3);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(tamper_remove_last_line)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 3, &c);
	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	l.n = 2;
	cleanup_free char *t = join_lines(&l, true);
	l.n = 3;
	free_lines(&l);
	expect_tail_caught_by_head(text, t, 2);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

#define WRITERS 4
#define PER_WRITER 25

TEST(custody_concurrent_writers)
{
	char dir[256], path[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	struct cryo_case c;
	make_case(dir, "case", 0, &c);
	snprintf(path, sizeof(path), "%s/case", dir);

	int gate[2];
	CHECK_INT_EQ(pipe(gate), 0);
	pid_t kids[WRITERS];
	for (int k = 0; k < WRITERS; k++) {
		kids[k] = fork();
		CHECK(kids[k] >= 0);
		if (kids[k] == 0) {
			/* no CHECK here: a child reports through its exit status */
			close(gate[1]);
			char b;
			if (read(gate[0], &b, 1) != 0)
				_exit(9);
			struct cryo_case mine;
			struct cryo_error err;
			if (cryo_case_open(path, "writer", NULL, &mine, &err) < 0)
				_exit(2);
			for (int i = 0; i < PER_WRITER; i++) {
				struct cryo_custody_entry e;
				char action[32];
				snprintf(action, sizeof(action), "w%d-%d", k, i);
				cryo_custody_begin(&e, "writer", action, NULL, 0, NULL);
				cryo_custody_artifact(&e, action, (uint64_t)i, NULL);
				if (cryo_custody_commit(&mine, &e, "ok", NULL, &err) < 0) {
					fprintf(stderr, "writer %d: %s\n", k, err.msg);
					_exit(3);
				}
			}
			cryo_case_close(&mine);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]); /* all start at once */
	for (int k = 0; k < WRITERS; k++) {
		int st = 0;
		CHECK_INT_EQ(waitpid(kids[k], &st, 0), kids[k]);
		CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d: status 0x%x", k, st);
	}

	long bad = -1;
	struct cryo_error err;
	long n = cryo_custody_verify(c.dirfd, &bad, &err);
	CHECK_MSG(n == WRITERS * PER_WRITER, "verify: %ld (bad line %ld: %s)", n, bad, err.msg);

	cleanup_free char *text = read_text(c.dirfd, "custody.jsonl");
	struct lines l;
	split_lines(text, &l);
	CHECK_INT_EQ(l.n, WRITERS * PER_WRITER);
	int per[WRITERS] = { 0 }, next[WRITERS] = { 0 };
	for (size_t i = 0; i < l.n; i++) {
		cleanup_cjson cJSON *j = cJSON_Parse(l.v[i]);
		CHECK_MSG(cJSON_IsObject(j), "line %zu does not parse: %.80s", i + 1, l.v[i]);
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
		CHECK(cJSON_IsNumber(seq) && seq->valuedouble == (double)(i + 1));
		int k = -1, e = -1;
		CHECK(sscanf(cryo_json_get_str(j, "action"), "w%d-%d", &k, &e) == 2);
		CHECK(k >= 0 && k < WRITERS);
		/* each writer's entries appear in its own order */
		CHECK_MSG(e == next[k], "writer %d: entry %d where %d was due", k, e, next[k]);
		next[k]++;
		per[k]++;
	}
	for (int k = 0; k < WRITERS; k++)
		CHECK_INT_EQ(per[k], PER_WRITER);
	free_lines(&l);
	cryo_case_close(&c);
	check_rm_rf(dir);
}

TEST(case_open_concurrent_creation)
{
	char dir[256], path[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/new", dir);
	int gate[2], ids[2];
	CHECK_INT_EQ(pipe(gate), 0);
	CHECK_INT_EQ(pipe(ids), 0);
	pid_t kids[WRITERS];
	for (int k = 0; k < WRITERS; k++) {
		kids[k] = fork();
		CHECK(kids[k] >= 0);
		if (kids[k] == 0) {
			close(gate[1]);
			close(ids[0]);
			char b;
			if (read(gate[0], &b, 1) != 0)
				_exit(9);
			struct cryo_case c;
			struct cryo_error err;
			if (cryo_case_open(path, "racer", NULL, &c, &err) < 0) {
				fprintf(stderr, "racer %d: %s\n", k, err.msg);
				_exit(2);
			}
			char line[80];
			int n = snprintf(line, sizeof(line), "%-63s\n", c.id);
			_exit(write(ids[1], line, (size_t)n) == n ? 0 : 3);
		}
	}
	close(gate[0]);
	close(ids[1]);
	close(gate[1]);
	char buf[WRITERS * 64 + 1];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(ids[0], buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(ids[0]);
	buf[got] = '\0';
	for (int k = 0; k < WRITERS; k++) {
		int st = 0;
		CHECK_INT_EQ(waitpid(kids[k], &st, 0), kids[k]);
		CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "racer %d: status 0x%x", k, st);
	}
	CHECK_INT_EQ(got, WRITERS * 64);
	for (int k = 1; k < WRITERS; k++)
		CHECK_MSG(memcmp(buf, buf + 64 * k, 64) == 0, "racers disagree on the case id:\n%s", buf);

	/* one case.json, no temporaries */
	cleanup_closedir DIR *d = opendir(path);
	CHECK(d != NULL);
	struct dirent *de;
	int entries = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			CHECK_STR_EQ(de->d_name, "case.json");
			entries++;
		}
	CHECK_INT_EQ(entries, 1);
	check_rm_rf(dir);
}

/* Names in dir other than "." and "..", sorted, joined by ' '. */
static void dir_names(const char *dir, char *buf, size_t size)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	CHECK(n >= 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			size_t l = strlen(buf);
			snprintf(buf + l, size - l, "%s%s", l ? " " : "", names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
}

TEST(write_file_atomic_at)
{
	char dir[256], names[512];
	check_tmpdir(dir, sizeof(dir));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	struct cryo_error err;
	CHECK_INT_EQ(cryo_write_file_atomic_at(dfd, "out.json", "first", 5, 0640, &err), 0);
	CHECK_INT_EQ(cryo_write_file_atomic_at(dfd, "out.json", "second!", 7, 0600, &err), 0);
	cleanup_free char *text = NULL;
	size_t len;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "out.json", 1024, true, &text, &len, &err), 0);
	CHECK_STR_EQ(text, "second!");
	struct stat st;
	CHECK_INT_EQ(fstatat(dfd, "out.json", &st, AT_SYMLINK_NOFOLLOW), 0);
	CHECK_INT_EQ(st.st_mode & 07777, 0600);
	dir_names(dir, names, sizeof(names));
	CHECK_STR_EQ(names, "out.json"); /* no temporary left behind */

	/* a symlink planted at the name is replaced, never followed */
	write_text(dfd, "victim", "keep", 4);
	CHECK_INT_EQ(symlinkat("victim", dfd, "planted"), 0);
	CHECK_INT_EQ(cryo_write_file_atomic_at(dfd, "planted", "new", 3, 0600, &err), 0);
	cleanup_free char *v = NULL;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "victim", 1024, true, &v, &len, &err), 0);
	CHECK_STR_EQ(v, "keep");
	CHECK_INT_EQ(fstatat(dfd, "planted", &st, AT_SYMLINK_NOFOLLOW), 0);
	CHECK(S_ISREG(st.st_mode));

	/* an empty file is a file */
	CHECK_INT_EQ(cryo_write_file_atomic_at(dfd, "empty", "", 0, 0600, &err), 0);
	CHECK_INT_EQ(fstatat(dfd, "empty", &st, 0), 0);
	CHECK_INT_EQ(st.st_size, 0);
	dir_names(dir, names, sizeof(names));
	CHECK_STR_EQ(names, "empty out.json planted victim");
	check_rm_rf(dir);
}

TEST(write_file_new_at)
{
	char dir[256], names[512];
	check_tmpdir(dir, sizeof(dir));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	struct cryo_error err;
	CHECK_INT_EQ(cryo_write_file_new_at(dfd, "case.json", "one", 3, 0600, &err), 0);
	cryo_error_clear(&err);
	CHECK_INT_EQ(cryo_write_file_new_at(dfd, "case.json", "two", 3, 0600, &err), -1);
	CHECK_INT_EQ(err.errnum, EEXIST);
	CHECK_STR_CONTAINS(err.msg, "case.json");
	cleanup_free char *text = NULL;
	size_t len;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "case.json", 1024, true, &text, &len, &err), 0);
	CHECK_STR_EQ(text, "one");
	struct stat st;
	CHECK_INT_EQ(fstatat(dfd, "case.json", &st, 0), 0);
	CHECK_INT_EQ(st.st_mode & 07777, 0600);
	CHECK_INT_EQ(st.st_nlink, 1); /* the temporary link is gone */
	dir_names(dir, names, sizeof(names));
	CHECK_STR_EQ(names, "case.json");

	/* a dangling symlink at the name also counts as existing */
	CHECK_INT_EQ(symlinkat("nowhere", dfd, "dangling"), 0);
	CHECK_INT_EQ(cryo_write_file_new_at(dfd, "dangling", "x", 1, 0600, &err), -1);
	CHECK_INT_EQ(err.errnum, EEXIST);
	CHECK_INT_EQ(faccessat(dfd, "nowhere", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	dir_names(dir, names, sizeof(names));
	CHECK_STR_EQ(names, "case.json dangling");
	check_rm_rf(dir);
}

static const struct check_test tests[] = {
	CHECK_TEST(case_open_creates_private_case),
	CHECK_TEST(case_open_existing_dir_is_made_private),
	CHECK_TEST(case_open_refusals),
	CHECK_TEST(custody_chain_of_three),
	CHECK_TEST(custody_entry_lifecycle),
	CHECK_TEST(tamper_edit_byte_in_line_2),
	CHECK_TEST(tamper_delete_line_2),
	CHECK_TEST(tamper_swap_lines),
	CHECK_TEST(tamper_truncate_last_newline),
	CHECK_TEST(tamper_line_from_another_case),
	CHECK_TEST(tamper_blank_and_junk_lines),
	CHECK_TEST(tamper_edit_last_line),
	CHECK_TEST(tamper_remove_last_line),
	CHECK_TEST(custody_concurrent_writers),
	CHECK_TEST(case_open_concurrent_creation),
	CHECK_TEST(write_file_atomic_at),
	CHECK_TEST(write_file_new_at),
};

CHECK_MAIN(tests)
