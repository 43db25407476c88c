/* util.c, error.c, hash.c and output.c: /proc/PID/stat, pid lists, number
 * parsing, time formatting, SHA-256, error wrapping, bounded reads, and the
 * table/JSON rendering that shows attacker-chosen text. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "cryo/cleanup.h"
#include "cryo/error.h"
#include "cryo/hash.h"
#include "cryo/output.h"
#include "cryo/util.h"

/* A /proc/PID/stat line: "<pid> (<comm>) S 1 ..." with field 22 = start
 * and the negative fields (tpgid, priority, nice) a real-time task shows. */
static void make_stat(char *buf, size_t size, const char *pid_comm, unsigned long long start)
{
	snprintf(buf, size,
		 "%s S 1 100 100 0 -1 4194560 120 0 0 0 5 3 0 0 -100 -20 1 0 %llu "
		 "8192000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 3 99 1 0 0 0 0 0 0 0 0 0 0\n",
		 pid_comm, start);
}

/* Offset of field n (1-based) in a stat line, counting from the last ')'. */
static size_t stat_field_offset(const char *line, int n)
{
	const char *p = strrchr(line, ')');
	CHECK(p != NULL);
	p++;
	for (int field = 3; field <= n; field++) {
		while (*p == ' ')
			p++;
		if (field == n)
			break;
		while (*p && *p != ' ')
			p++;
	}
	return (size_t)(p - line);
}

TEST(proc_stat_normal)
{
	char line[512];
	make_stat(line, sizeof(line), "4242 (nginx)", 987654321ull);
	struct cryo_proc_stat st;
	CHECK_INT_EQ(cryo_proc_stat_parse(line, &st), 0);
	CHECK_INT_EQ(st.pid, 4242);
	CHECK_STR_EQ(st.comm, "nginx");
	CHECK_INT_EQ(st.state, 'S');
	CHECK_INT_EQ(st.ppid, 1);
	CHECK_U64_EQ(st.start_time, 987654321ull);

	/* the start time as the kernel can print it: any unsigned long long */
	make_stat(line, sizeof(line), "1 (init)", 18446744073709551615ull);
	CHECK_INT_EQ(cryo_proc_stat_parse(line, &st), 0);
	CHECK_U64_EQ(st.start_time, 18446744073709551615ull);
}

TEST(proc_stat_hostile_comm)
{
	/* comm is chosen by the process (prctl PR_SET_NAME): ") (", spaces,
	 * digits that look like fields, and raw non-ASCII bytes */
	static const struct {
		const char *prefix, *comm;
	} cases[] = {
		{ "123 (a) b) (c)", "a) b) (c" },
		{ "124 (my prog)", "my prog" },
		{ "125 (x) R 9 9 9)", "x) R 9 9 9" },
		{ "126 ())", ")" },
		{ "127 ()", "" },
		{ "128 (\x01\x1b[2J\xff\x7f)", "\x01\x1b[2J\xff\x7f" },
		{ "129 ( (( )", " (( " },
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(cases); i++) {
		char line[512];
		make_stat(line, sizeof(line), cases[i].prefix, 5555ull + i);
		struct cryo_proc_stat st;
		CHECK_MSG(cryo_proc_stat_parse(line, &st) == 0, "rejected %s", cases[i].prefix);
		CHECK_STR_EQ(st.comm, cases[i].comm);
		CHECK_INT_EQ(st.pid, 123 + (int)i);
		CHECK_INT_EQ(st.state, 'S');
		CHECK_INT_EQ(st.ppid, 1);
		CHECK_U64_EQ(st.start_time, 5555ull + i);
	}
}

TEST(proc_stat_long_comm_is_bounded)
{
	char prefix[400], line[1024];
	char comm[300];
	memset(comm, 'A', sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = '\0';
	snprintf(prefix, sizeof(prefix), "77 (%s)", comm);
	make_stat(line, sizeof(line), prefix, 42);
	struct cryo_proc_stat st;
	CHECK_INT_EQ(cryo_proc_stat_parse(line, &st), 0);
	CHECK_INT_EQ(strlen(st.comm), sizeof(st.comm) - 1);
	CHECK_U64_EQ(st.start_time, 42);
}

TEST(proc_stat_self_start_time)
{
	cleanup_free char *text = NULL;
	struct cryo_error err;
	CHECK(cryo_read_file_at(AT_FDCWD, "/proc/self/stat", 4096, false, &text, NULL, &err) == 0);

	/* independent parse: field 22 is the 20th space-separated token
	 * after the last ')' */
	const char *p = strrchr(text, ')');
	CHECK(p != NULL);
	cleanup_free char *rest = strdup(p + 1);
	char *save = NULL, *tok = strtok_r(rest, " \n", &save);
	int field = 3;
	unsigned long long want = 0;
	for (; tok; tok = strtok_r(NULL, " \n", &save), field++)
		if (field == 22) {
			want = strtoull(tok, NULL, 10);
			break;
		}
	CHECK_INT_EQ(field, 22);

	struct cryo_proc_stat st;
	CHECK_INT_EQ(cryo_proc_stat_parse(text, &st), 0);
	CHECK_INT_EQ(st.pid, getpid());
	CHECK_INT_EQ(st.ppid, getppid());
	CHECK_INT_EQ(st.state, 'R');
	CHECK_U64_EQ(st.start_time, want);

	struct cryo_proc_stat st2;
	CHECK_INT_EQ(cryo_proc_stat_read(getpid(), &st2, &err), 0);
	CHECK_U64_EQ(st2.start_time, want);
}

TEST(proc_stat_truncated)
{
	char line[512];
	make_stat(line, sizeof(line), "123 (a) b) (c)", 424242);
	size_t f22 = stat_field_offset(line, 22);
	/* every cut before field 22 begins must be refused */
	for (size_t cut = 0; cut <= f22; cut++) {
		char part[512];
		memcpy(part, line, cut);
		part[cut] = '\0';
		struct cryo_proc_stat st;
		CHECK_MSG(cryo_proc_stat_parse(part, &st) == -1, "accepted truncated line [%s]", part);
	}
	static const char *bad[] = {
		"", "abc", "0 (x) S 1", "-5 (x) S 1", "123", "123 x) S 1", "123 (x S 1 2 3",
		"99999999999 (x) S 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
		"123 (x) S one 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
		"123 (x) S 1 1 1 1 1 x 1 1 1 1 1 1 1 1 1 1 1 1 1",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		struct cryo_proc_stat st;
		CHECK_MSG(cryo_proc_stat_parse(bad[i], &st) == -1, "accepted [%s]", bad[i]);
	}
}

TEST(pids_parse)
{
	struct cryo_pids p = { 0 };
	CHECK_INT_EQ(cryo_pids_parse("1\n22\n333\n", &p), 0);
	CHECK_INT_EQ(p.n, 3);
	CHECK_INT_EQ(p.v[0], 1);
	CHECK_INT_EQ(p.v[1], 22);
	CHECK_INT_EQ(p.v[2], 333);
	/* appends to what is there; no trailing newline is fine */
	CHECK_INT_EQ(cryo_pids_parse("4194304", &p), 0);
	CHECK_INT_EQ(p.n, 4);
	CHECK_INT_EQ(p.v[3], 4194304);
	cryo_pids_free(&p);
	CHECK(p.v == NULL && p.n == 0);

	CHECK_INT_EQ(cryo_pids_parse("", &p), 0);
	CHECK_INT_EQ(p.n, 0);
	CHECK_INT_EQ(cryo_pids_parse("\n\n", &p), 0);
	CHECK_INT_EQ(p.n, 0);

	/* an empty cgroup with many members: growth past the first block */
	char big[8 * 1000 + 1] = "";
	size_t off = 0;
	for (int i = 1; i <= 1000; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%d\n", 1000 + i);
	CHECK_INT_EQ(cryo_pids_parse(big, &p), 0);
	CHECK_INT_EQ(p.n, 1000);
	CHECK_INT_EQ(p.v[999], 2000);
	cryo_pids_free(&p);

	static const char *bad[] = { "abc\n", "1\nx\n", "0\n", "-1\n", "12abc\n",
				     "2147483648\n", "99999999999999999999\n", "1.5\n" };
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		struct cryo_pids q = { 0 };
		CHECK_MSG(cryo_pids_parse(bad[i], &q) == -1, "accepted [%s]", bad[i]);
		cryo_pids_free(&q);
	}
}

TEST(parse_long_bounds)
{
	long v = -7;
	CHECK_INT_EQ(cryo_parse_long("42", 0, 100, &v), 0);
	CHECK_INT_EQ(v, 42);
	CHECK_INT_EQ(cryo_parse_long("0", 0, 100, &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(cryo_parse_long("100", 0, 100, &v), 0);
	CHECK_INT_EQ(v, 100);
	CHECK_INT_EQ(cryo_parse_long("-5", -10, 10, &v), 0);
	CHECK_INT_EQ(v, -5);
	CHECK_INT_EQ(cryo_parse_long("9223372036854775807", LONG_MIN, LONG_MAX, &v), 0);
	CHECK_INT_EQ(v, LONG_MAX);
	CHECK_INT_EQ(cryo_parse_long("-9223372036854775808", LONG_MIN, LONG_MAX, &v), 0);
	CHECK_INT_EQ(v, LONG_MIN);

	v = 17;
	static const char *bad[] = { "101", "-1", "", " 5", "5 ", "5x", "x5", "0x10", "1e3",
				     "9223372036854775808", "-9223372036854775809", "\t7", "5\n" };
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++)
		CHECK_MSG(cryo_parse_long(bad[i], 0, 100, &v) == -1, "accepted [%s]", bad[i]);
	CHECK_INT_EQ(cryo_parse_long(NULL, 0, 100, &v), -1);
	CHECK_INT_EQ(v, 17); /* untouched on error */
}

TEST(format_utc_ts_before_1970)
{
	char buf[64];
	cryo_format_utc_ts(-1, 500, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "1969-12-31T23:59:59.000000500Z");
	cryo_format_utc_ts(0, 0, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "1970-01-01T00:00:00.000000000Z");
}

TEST(format_utc_ns)
{
	char buf[64];
	cryo_format_utc_ns(0, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "1970-01-01T00:00:00.000000000Z");
	cryo_format_utc_ns(1700000000123456789ull, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "2023-11-14T22:13:20.123456789Z");
	cryo_format_utc_ns(999999999ull, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "1970-01-01T00:00:00.999999999Z");
	cryo_format_utc_ns(951782400000000001ull, buf, sizeof(buf)); /* leap day 2000 */
	CHECK_STR_EQ(buf, "2000-02-29T00:00:00.000000001Z");
	/* the documented minimum buffer of 32 bytes is enough */
	char small[32];
	cryo_format_utc_ns(1700000000123456789ull, small, sizeof(small));
	CHECK_STR_EQ(small, "2023-11-14T22:13:20.123456789Z");
}

TEST(sha256_hex)
{
	char hex[CRYO_SHA256_HEX];
	cryo_sha256_hex("abc", 3, hex);
	CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cryo_sha256_hex("", 0, hex);
	CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	struct cryo_sha256 *h = cryo_sha256_new();
	CHECK(h != NULL);
	cryo_sha256_update(h, "a", 1);
	cryo_sha256_update(h, "", 0);
	cryo_sha256_update(h, "bc", 2);
	char hex2[CRYO_SHA256_HEX];
	cryo_sha256_final_hex(h, hex2);
	cryo_sha256_free(h);
	CHECK_STR_EQ(hex2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	/* NIST two-block message */
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	cryo_sha256_hex(m, strlen(m), hex);
	CHECK_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(error_set_sys_wrap)
{
	struct cryo_error err;
	cryo_error_clear(&err);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_OK);
	CHECK_STR_EQ(err.msg, "");

	CHECK_INT_EQ(cryo_error_set(&err, CRYO_EXIT_DATAERR, 0, "bad %s", "thing"), -1);
	CHECK_STR_EQ(err.msg, "bad thing");
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	CHECK_INT_EQ(err.errnum, 0);

	CHECK_INT_EQ(cryo_error_set(&err, CRYO_EXIT_IOERR, ENOENT, "open %s", "/x"), -1);
	char want[256];
	snprintf(want, sizeof(want), "open /x: %s", strerror(ENOENT));
	CHECK_STR_EQ(err.msg, want);
	CHECK_INT_EQ(err.errnum, ENOENT);

	CHECK_INT_EQ(cryo_error_wrap(&err, "reading %s", "state"), -1);
	snprintf(want, sizeof(want), "reading state: open /x: %s", strerror(ENOENT));
	CHECK_STR_EQ(err.msg, want);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_IOERR); /* wrapping keeps the class */
	CHECK_INT_EQ(err.errnum, ENOENT);
	CHECK_INT_EQ(cryo_error_wrap(&err, "case %s", "/c"), -1);
	snprintf(want, sizeof(want), "case /c: reading state: open /x: %s", strerror(ENOENT));
	CHECK_STR_EQ(err.msg, want);

	errno = EACCES;
	CHECK_INT_EQ(cryo_error_sys(&err, "open %s", "/root/x"), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOPERM);
	CHECK_INT_EQ(err.errnum, EACCES);
	CHECK_INT_EQ(errno, EACCES); /* preserved for the caller */
	errno = ESRCH;
	cryo_error_sys(&err, "kill");
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);

	CHECK_INT_EQ(cryo_exit_from_errno(ENOENT), CRYO_EXIT_NOTFOUND);
	CHECK_INT_EQ(cryo_exit_from_errno(EPERM), CRYO_EXIT_NOPERM);
	CHECK_INT_EQ(cryo_exit_from_errno(ENOSPC), CRYO_EXIT_IOERR);
	CHECK_INT_EQ(cryo_exit_from_errno(ETIMEDOUT), CRYO_EXIT_TIMEOUT);
	CHECK_INT_EQ(cryo_exit_from_errno(EBUSY), CRYO_EXIT_OSERR);

	/* NULL error objects are tolerated */
	CHECK_INT_EQ(cryo_error_set(NULL, CRYO_EXIT_SOFTWARE, 0, "x"), -1);
	CHECK_INT_EQ(cryo_error_wrap(NULL, "x"), -1);
}

TEST(error_wrap_long_message_is_bounded)
{
	struct cryo_error err;
	char big[4000];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cryo_error_set(&err, CRYO_EXIT_SOFTWARE, 0, "%s", big);
	CHECK_INT_EQ(strlen(err.msg), sizeof(err.msg) - 1);
	for (int i = 0; i < 5; i++)
		cryo_error_wrap(&err, "ctx%d", i);
	CHECK_INT_EQ(strlen(err.msg), sizeof(err.msg) - 1);
	CHECK(strncmp(err.msg, "ctx4: ctx3: ctx2: ctx1: ctx0: mmm", 33) == 0);
}

/* Everything written to f, as a string. */
static char *slurp(FILE *f)
{
	fflush(f);
	long n = ftell(f);
	CHECK(n >= 0);
	char *s = calloc(1, (size_t)n + 1);
	CHECK(s != NULL);
	rewind(f);
	CHECK_INT_EQ(fread(s, 1, (size_t)n, f), n);
	return s;
}

TEST(print_table_aligned_sanitized_truncated)
{
	cleanup_cjson cJSON *rows = cJSON_CreateArray();
	cJSON *r = cJSON_CreateObject();
	cryo_json_str(r, "name", "web");
	cryo_json_str(r, "id", "abcdef0123");
	cryo_json_num(r, "pid", 42);
	cryo_json_bool(r, "frozen", true);
	cJSON_AddItemToArray(rows, r);
	r = cJSON_CreateObject();
	cryo_json_str(r, "name", "evil\x1b[2Jname\n");
	cryo_json_str(r, "id", "ab");
	cryo_json_str(r, "pid", NULL);
	cryo_json_bool(r, "frozen", false);
	cJSON_AddItemToArray(rows, r);
	r = cJSON_CreateObject(); /* missing keys show as "-" */
	cryo_json_str(r, "name", "tab\there\x7f");
	cJSON_AddItemToArray(rows, r);

	const struct cryo_column cols[] = {
		{ "NAME", "name", 0 },
		{ "ID", "id", 5 },
		{ "PID", "pid", 0 },
		{ "FROZEN", "frozen", 0 },
	};
	cleanup_fclose FILE *f = tmpfile();
	CHECK(f != NULL);
	cryo_print_table(f, rows, cols, CRYO_ARRAY_SIZE(cols));
	cleanup_free char *out = slurp(f);
	CHECK_STR_EQ(out,
		     "NAME           ID     PID  FROZEN\n"
		     "web            abcd~  42   yes\n"
		     "evil?[2Jname?  ab     -    no\n"
		     "tab?here?      -      -    -\n");
}

TEST(print_table_nested_keys_and_narrow_columns)
{
	cleanup_cjson cJSON *rows = cJSON_CreateArray();
	cJSON *r = cJSON_CreateObject();
	cJSON *pod = cJSON_AddObjectToObject(r, "pod");
	cryo_json_str(pod, "name", "web-0");
	cryo_json_num(r, "big", 12345678901.0);
	cryo_json_str(r, "w", "xyz");
	cJSON_AddItemToArray(rows, r);
	const struct cryo_column cols[] = {
		{ "POD", "pod.name", 0 },
		{ "B", "big", 0 },
		{ "LONGHEADER", "w", 2 }, /* header wider than max_width stays whole */
		{ "X", "w", 1 },
	};
	cleanup_fclose FILE *f = tmpfile();
	CHECK(f != NULL);
	cryo_print_table(f, rows, cols, CRYO_ARRAY_SIZE(cols));
	cleanup_free char *out = slurp(f);
	CHECK_STR_EQ(out,
		     "POD    B            LONGHEADER  X\n"
		     "web-0  12345678901  x~          ~\n");

	/* no rows: headers only */
	cleanup_cjson cJSON *none = cJSON_CreateArray();
	cleanup_fclose FILE *g = tmpfile();
	cryo_print_table(g, none, cols, 2);
	cleanup_free char *out2 = slurp(g);
	CHECK_STR_EQ(out2, "POD  B\n");
}

/* The C1 controls (U+0080..U+009F) are control characters too: CSI is
 * U+009B, "\xc2\x9b" in UTF-8 or the raw byte 0x9b on an 8-bit terminal,
 * and xterm-like terminals act on both.  Container names are chosen by
 * whoever created the container. */
TEST(print_table_c1_controls)
{
	cleanup_cjson cJSON *rows = cJSON_CreateArray();
	cJSON *r = cJSON_CreateObject();
	cryo_json_str(r, "name", "a\xc2\x9b" "2Jb\x9b" "31mc\xc2\x9d" "0;title\x07");
	cJSON_AddItemToArray(rows, r);
	const struct cryo_column cols[] = { { "NAME", "name", 0 } };
	cleanup_fclose FILE *f = tmpfile();
	CHECK(f != NULL);
	cryo_print_table(f, rows, cols, 1);
	cleanup_free char *out = slurp(f);
	/* walk it as UTF-8: no code point U+0080..U+009F, no stray byte 0x80..0x9f */
	for (const unsigned char *p = (const unsigned char *)out; *p;) {
		unsigned cp = p[0];
		size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
		for (size_t k = 1; k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				n = 0;
		if (n > 1) {
			cp = p[0] & (0x7f >> n);
			for (size_t k = 1; k < n; k++)
				cp = cp << 6 | (p[k] & 0x3f);
		}
		CHECK_MSG(!(cp >= 0x80 && cp <= 0x9f), "C1 control 0x%02X (%s) reaches the terminal",
			  cp, n ? "UTF-8" : "raw byte");
		p += n ? n : 1;
	}
}

TEST(print_json_escapes_control_characters)
{
	cleanup_cjson cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "name", "a\x1b[31mb\n");
	cryo_json_num(o, "pid", 7);
	cryo_json_str(o, "image", "");
	cleanup_fclose FILE *f = tmpfile();
	CHECK(f != NULL);
	cryo_print_json(f, o);
	cleanup_free char *out = slurp(f);
	/* not a terminal: one line, compact */
	CHECK_STR_EQ(out, "{\"name\":\"a\\u001b[31mb\\n\",\"pid\":7,\"image\":null}\n");
	for (const char *p = out; *p; p++)
		CHECK_MSG((unsigned char)*p >= 0x20 || *p == '\n', "raw control byte 0x%02x in JSON",
			  (unsigned char)*p);
}

TEST(json_strings_always_utf8)
{
	cleanup_cjson cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "ok", "caf\xc3\xa9");
	cryo_json_str(o, "bad", "a\xff\xfe\xc3\xa9\xc3" "b");
	cryo_json_str(o, "overlong", "\xc0\xaf");
	/* set twice: one key */
	cryo_json_bool(o, "t", false);
	cryo_json_bool(o, "t", true);
	CHECK_STR_EQ(cryo_json_get_str(o, "ok"), "caf\xc3\xa9");
	CHECK_STR_EQ(cryo_json_get_str(o, "bad"), "a\\xff\\xfe\xc3\xa9\\xc3" "b");
	CHECK_STR_EQ(cryo_json_get_str(o, "overlong"), "\\xc0\\xaf");
	CHECK_INT_EQ(cJSON_GetArraySize(o), 4);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "t")));
	CHECK(cryo_utf8_valid("\xf0\x9f\x98\x80"));
	CHECK(!cryo_utf8_valid("\xed\xa0\x80")); /* a surrogate */
	CHECK(!cryo_utf8_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
}

TEST(json_helpers)
{
	cleanup_cjson cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "s", "v");
	cryo_json_str(o, "empty", "");
	cryo_json_str(o, "null", NULL);
	cryo_json_bool(o, "t", true);
	cJSON *a = cJSON_AddObjectToObject(o, "a");
	cJSON *b = cJSON_AddObjectToObject(a, "b");
	cryo_json_num(b, "c", 1.5);
	cJSON_AddArrayToObject(o, "arr");

	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "empty")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "null")));
	CHECK_STR_EQ(cryo_json_get_str(o, "s"), "v");
	CHECK(cryo_json_get_str(o, "t") == NULL);
	CHECK(cryo_json_get_str(o, "missing") == NULL);
	CHECK(cryo_json_get_str(NULL, "s") == NULL);
	CHECK(cryo_json_path(o, "a.b.c") != NULL);
	CHECK(cryo_json_path(o, "a.x.c") == NULL);
	CHECK(cryo_json_path(NULL, "a") == NULL);

	char buf[64];
	cryo_json_text(cryo_json_path(o, "a.b.c"), buf, sizeof(buf));
	CHECK_STR_EQ(buf, "1.5");
	cryo_json_text(cryo_json_path(o, "t"), buf, sizeof(buf));
	CHECK_STR_EQ(buf, "yes");
	cryo_json_text(cryo_json_path(o, "null"), buf, sizeof(buf));
	CHECK_STR_EQ(buf, "-");
	cryo_json_text(NULL, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "-");
	cryo_json_text(cryo_json_path(o, "arr"), buf, sizeof(buf));
	CHECK_STR_EQ(buf, "...");

	/* bounded parse: only len bytes are looked at */
	const char text[] = "{\"k\":1}garbage";
	cleanup_cjson cJSON *j = cryo_json_parse(text, 7);
	CHECK(cJSON_IsObject(j));
	CHECK(cryo_json_parse("{\"k\":", 5) == NULL);
}

TEST(small_string_helpers)
{
	CHECK(cryo_is_hex("0123456789abcdef", 16));
	CHECK(!cryo_is_hex("0123456789ABCDEF", 16)); /* ids are lower case */
	CHECK(!cryo_is_hex("", 0));
	CHECK(!cryo_is_hex("12g4", 4));
	CHECK(cryo_is_hex("12g4", 2));
	CHECK(cryo_has_prefix("docker-abc.scope", "docker-"));
	CHECK(!cryo_has_prefix("dock", "docker-"));
	CHECK(cryo_has_prefix("x", ""));
	CHECK(cryo_has_suffix("docker-abc.scope", ".scope"));
	CHECK(!cryo_has_suffix("scope", ".scope"));
	CHECK(cryo_has_suffix("x", ""));

	char *argv[] = { "cryo-freeze", "--case", "/c", "web 1" };
	cleanup_free char *j = cryo_join_argv(4, argv);
	CHECK_STR_EQ(j, "cryo-freeze --case /c web 1");
	cleanup_free char *e = cryo_join_argv(0, argv);
	CHECK_STR_EQ(e, "");
	cleanup_free char *s = cryo_strdup_printf("%s-%d", "a", 7);
	CHECK_STR_EQ(s, "a-7");
}

static void write_plain(int dirfd, const char *name, const char *data, size_t len)
{
	cleanup_close int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK_INT_EQ(write(fd, data, len), (ssize_t)len);
}

TEST(read_file_at)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	write_plain(dfd, "small", "hello\0world", 11);

	struct cryo_error err;
	cleanup_free char *text = NULL;
	size_t len = 0;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "small", 1024, true, &text, &len, &err), 0);
	CHECK_INT_EQ(len, 11);
	CHECK(memcmp(text, "hello\0world", 12) == 0); /* NUL terminated after the data */

	/* a file growing past several buffer doublings */
	char big[20000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	write_plain(dfd, "big", big, sizeof(big));
	cleanup_free char *t2 = NULL;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "big", 1u << 20, false, &t2, &len, &err), 0);
	CHECK_INT_EQ(len, sizeof(big));
	CHECK(memcmp(t2, big, sizeof(big)) == 0);

	/* more than max: EFBIG */
	char *t3 = NULL;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "big", 10000, false, &t3, &len, &err), -1);
	CHECK_INT_EQ(err.errnum, EFBIG);
	CHECK(t3 == NULL);

	/* nofollow: a symlink in place of the file is refused, a FIFO too */
	CHECK_INT_EQ(symlinkat("small", dfd, "link"), 0);
	char *t4 = NULL;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "link", 1024, true, &t4, &len, &err), -1);
	CHECK_INT_EQ(err.errnum, ELOOP);
	CHECK_INT_EQ(cryo_read_file_at(dfd, "link", 1024, false, &t4, &len, &err), 0);
	free(t4);
	CHECK_INT_EQ(mkfifoat(dfd, "fifo", 0600), 0);
	char *t5 = NULL;
	CHECK_INT_EQ(cryo_read_file_at(dfd, "fifo", 1024, true, &t5, &len, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	CHECK_INT_EQ(cryo_read_file_at(dfd, "missing", 1024, true, &t5, &len, &err), -1);
	CHECK_INT_EQ(err.errnum, ENOENT);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	check_rm_rf(dir);
}

/* util.h: "Read a whole file, at most max bytes (more is an error: EFBIG)". */
TEST(read_file_at_limit_below_first_buffer)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	write_plain(dfd, "f", "0123456789abcdef0123456789abcdef", 32);
	struct cryo_error err = { 0 };
	char *t = NULL;
	size_t len = 0;
	int rc = cryo_read_file_at(dfd, "f", 16, false, &t, &len, &err);
	free(t);
	check_rm_rf(dir);
	CHECK_MSG(rc == -1 && err.errnum == EFBIG,
		  "a 32-byte file read with max 16 returned %d with %zu bytes (want -1, EFBIG)", rc,
		  len);
}

TEST(read_file_at_exactly_max_bytes)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	static char data[8192];
	memset(data, 'x', sizeof(data));
	write_plain(dfd, "f", data, sizeof(data));
	struct cryo_error err = { 0 };
	char *t = NULL;
	size_t len = 0;
	int rc = cryo_read_file_at(dfd, "f", sizeof(data), false, &t, &len, &err);
	free(t);
	check_rm_rf(dir);
	CHECK_MSG(rc == 0 && len == sizeof(data),
		  "an 8192-byte file read with max 8192 failed: %s", err.msg);
}

static const struct check_test tests[] = {
	CHECK_TEST(proc_stat_normal),
	CHECK_TEST(proc_stat_hostile_comm),
	CHECK_TEST(proc_stat_long_comm_is_bounded),
	CHECK_TEST(proc_stat_self_start_time),
	CHECK_TEST(proc_stat_truncated),
	CHECK_TEST(pids_parse),
	CHECK_TEST(parse_long_bounds),
	CHECK_TEST(format_utc_ts_before_1970),
	CHECK_TEST(format_utc_ns),
	CHECK_TEST(sha256_hex),
	CHECK_TEST(error_set_sys_wrap),
	CHECK_TEST(error_wrap_long_message_is_bounded),
	CHECK_TEST(print_table_aligned_sanitized_truncated),
	CHECK_TEST(print_table_nested_keys_and_narrow_columns),
	CHECK_TEST(print_table_c1_controls),
	CHECK_TEST(print_json_escapes_control_characters),
	CHECK_TEST(json_strings_always_utf8),
	CHECK_TEST(json_helpers),
	CHECK_TEST(small_string_helpers),
	CHECK_TEST(read_file_at),
	CHECK_TEST(read_file_at_limit_below_first_buffer),
	CHECK_TEST(read_file_at_exactly_max_bytes),
};

CHECK_MAIN(tests)
