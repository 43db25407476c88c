/* A tiny unit-test harness.
 *
 * Each test is a function declared with TEST(name) and listed in a table of
 * CHECK_TEST(name) entries; main() hands the table to check_main().  Every
 * test runs in its own forked process, so a crash, a hang (alarm) or a leak
 * report under ASan fails that test only and the rest still run.  Output is
 * exactly one line per test on stdout:
 *
 *   PASS: unit/<file>/<test>
 *   FAIL: unit/<file>/<test>: <file>:<line>: <reason>
 *
 * and the binary exits 1 when any test failed.  Diagnostics go to stderr.
 * A failed CHECK ends its test at once (the child _exits), from any depth of
 * helper functions.  Scratch directories (check_tmpdir) live under one
 * directory per test that the harness removes when the test has ended,
 * however it ended; CHECK_KEEP=1 in the environment keeps a failed test's
 * for inspection (the path goes to stderr).
 *
 * Usage: test_x            run every test
 *        test_x NAME...    run the named tests only
 *        test_x --list     print the names                                 */
#ifndef CRYO_TESTS_CHECK_H
#define CRYO_TESTS_CHECK_H

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CHECK_TIMEOUT_S
#define CHECK_TIMEOUT_S 120
#endif

struct check_test {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void test_##name(void)
#define CHECK_TEST(name) { #name, test_##name }
#define CHECK_NTESTS(a) (sizeof(a) / sizeof((a)[0]))

/* Where the child reports a failure, and (shared with the parent) the last
 * check reached, so that a crash can still be placed near a line. */
static int check_report_fd = -1;
static char check_scratch[256]; /* this test's scratch root */
static struct check_where {
	char file[192];
	int line;
} *check_last;

static inline void check_mark(const char *file, int line)
{
	if (check_last) {
		snprintf(check_last->file, sizeof(check_last->file), "%s", file);
		check_last->line = line;
	}
}

/* Append s to buf as one printable line: control bytes become C escapes,
 * so an error message with newlines stays on its FAIL line. */
static inline void check_escape(char *buf, size_t size, const char *s, size_t max)
{
	size_t n = strlen(buf);
	if (!s) {
		snprintf(buf + n, size - n, "(null)");
		return;
	}
	if (n < size)
		buf[n++] = '"';
	for (size_t i = 0; s[i] && n + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == max) {
			n += (size_t)snprintf(buf + n, size - n, "...");
			break;
		}
		if (c == '\n')
			n += (size_t)snprintf(buf + n, size - n, "\\n");
		else if (c == '\t')
			n += (size_t)snprintf(buf + n, size - n, "\\t");
		else if (c == '"' || c == '\\')
			n += (size_t)snprintf(buf + n, size - n, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n < size ? n : size - 1] = '\0';
}

static inline void check_vfail(const char *file, int line, const char *fmt, va_list ap)
	__attribute__((noreturn, format(printf, 3, 0)));
static inline void check_vfail(const char *file, int line, const char *fmt, va_list ap)
{
	char msg[3072], out[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(out, sizeof(out), "%s:%d: ", file, line);
	/* the message is already quoted where it holds values; flatten it */
	size_t n = strlen(out);
	for (const char *p = msg; *p && n + 3 < sizeof(out); p++) {
		if (*p == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
		}
	}
	out[n] = '\0';
	if (check_report_fd >= 0) {
		ssize_t w = write(check_report_fd, out, strlen(out));
		(void)w;
	} else {
		fprintf(stderr, "%s\n", out);
	}
	_exit(1);
}

static inline void check_failf(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
static inline void check_failf(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_vfail(file, line, fmt, ap);
}

static inline void check_str_eq(const char *file, int line, const char *ea, const char *eb,
				const char *a, const char *b)
{
	check_mark(file, line);
	if (a == b || (a && b && strcmp(a, b) == 0))
		return;
	char va[1400] = "", vb[1400] = "";
	check_escape(va, sizeof(va), a, 600);
	check_escape(vb, sizeof(vb), b, 600);
	check_failf(file, line, "CHECK_STR_EQ(%s, %s): %s != %s", ea, eb, va, vb);
}

static inline void check_str_contains(const char *file, int line, const char *ehay,
				      const char *hay, const char *needle)
{
	check_mark(file, line);
	if (hay && needle && strstr(hay, needle))
		return;
	char vh[1400] = "", vn[700] = "";
	check_escape(vh, sizeof(vh), hay, 600);
	check_escape(vn, sizeof(vn), needle, 300);
	check_failf(file, line, "CHECK_STR_CONTAINS(%s): %s does not contain %s", ehay, vh, vn);
}

#define CHECK(cond)                                                                         \
	do {                                                                                \
		check_mark(__FILE__, __LINE__);                                             \
		if (!(cond))                                                                \
			check_failf(__FILE__, __LINE__, "CHECK(%s) failed", #cond);         \
	} while (0)

/* CHECK with a message of its own (printf format), e.g. naming the input. */
#define CHECK_MSG(cond, ...)                                                                \
	do {                                                                                \
		check_mark(__FILE__, __LINE__);                                             \
		if (!(cond))                                                                \
			check_failf(__FILE__, __LINE__, __VA_ARGS__);                       \
	} while (0)

#define CHECK_INT_EQ(a, b)                                                                  \
	do {                                                                                \
		check_mark(__FILE__, __LINE__);                                             \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);             \
		if (check_a_ != check_b_)                                                   \
			check_failf(__FILE__, __LINE__, "CHECK_INT_EQ(%s, %s): %lld != %lld", \
				    #a, #b, check_a_, check_b_);                              \
	} while (0)

#define CHECK_U64_EQ(a, b)                                                                  \
	do {                                                                                \
		check_mark(__FILE__, __LINE__);                                             \
		unsigned long long check_a_ = (unsigned long long)(a),                      \
				   check_b_ = (unsigned long long)(b);                      \
		if (check_a_ != check_b_)                                                   \
			check_failf(__FILE__, __LINE__, "CHECK_U64_EQ(%s, %s): %llu != %llu", \
				    #a, #b, check_a_, check_b_);                              \
	} while (0)

#define CHECK_STR_EQ(a, b) check_str_eq(__FILE__, __LINE__, #a, #b, (a), (b))
#define CHECK_STR_CONTAINS(hay, needle) check_str_contains(__FILE__, __LINE__, #hay, (hay), (needle))

/* Unconditional failure, e.g. for an unexpected branch. */
#define CHECK_FAIL(...) check_failf(__FILE__, __LINE__, __VA_ARGS__)

/* A fresh scratch directory (absolute path) inside the test's own. */
static inline void check_tmpdir(char *buf, size_t size)
{
	snprintf(buf, size, "%s/d.XXXXXX", check_scratch);
	if (!check_scratch[0] || !mkdtemp(buf))
		check_failf(__FILE__, __LINE__, "mkdtemp %s: %s", buf, strerror(errno));
}

static inline int check_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static inline void check_rm_rf(const char *path)
{
	if (nftw(path, check_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "check: cannot remove %s: %s\n", path, strerror(errno));
}

static inline int check_run_one(const char *unit, const struct check_test *t)
{
	int p[2];
	fflush(stdout);
	fflush(stderr);
	if (pipe(p) < 0) {
		printf("FAIL: unit/%s/%s: harness: pipe: %s\n", unit, t->name, strerror(errno));
		return 1;
	}
	memset(check_last, 0, sizeof(*check_last));
	const char *tmp = getenv("TMPDIR");
	snprintf(check_scratch, sizeof(check_scratch), "%s/cryo-unit.XXXXXX",
		 tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(check_scratch)) {
		fprintf(stderr, "check: mkdtemp %s: %s\n", check_scratch, strerror(errno));
		check_scratch[0] = '\0';
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("FAIL: unit/%s/%s: harness: fork: %s\n", unit, t->name, strerror(errno));
		close(p[0]);
		close(p[1]);
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		check_report_fd = p[1];
		alarm(CHECK_TIMEOUT_S);
		t->fn();
		exit(0); /* exit, not _exit: lets LeakSanitizer check the test */
	}
	close(p[1]);
	char reason[4096];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p[0], reason + n, sizeof(reason) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == sizeof(reason) - 1)
			break;
	}
	reason[n] = '\0';
	close(p[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == 0;
	if (check_scratch[0]) {
		const char *keep = getenv("CHECK_KEEP");
		if (!passed && keep && strcmp(keep, "1") == 0)
			fprintf(stderr, "check: %s: scratch kept in %s\n", t->name, check_scratch);
		else
			check_rm_rf(check_scratch);
	}
	if (passed) {
		printf("PASS: unit/%s/%s\n", unit, t->name);
		return 0;
	}
	char where[256] = "before any check";
	if (check_last->file[0])
		snprintf(where, sizeof(where), "after %s:%d", check_last->file, check_last->line);
	if (n) {
		printf("FAIL: unit/%s/%s: %s\n", unit, t->name, reason);
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		printf("FAIL: unit/%s/%s: killed by signal %d (%s%s) %s\n", unit, t->name, sig,
		       strsignal(sig), sig == SIGALRM ? ": timeout" : "", where);
	} else {
		printf("FAIL: unit/%s/%s: exited with status %d %s\n", unit, t->name,
		       WEXITSTATUS(status), where);
	}
	return 1;
}

static inline int check_main(const char *file, const struct check_test *tests, size_t ntests,
			     int argc, char **argv)
{
	char unit[128];
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	snprintf(unit, sizeof(unit), "%s", base);
	char *dot = strrchr(unit, '.');
	if (dot)
		*dot = '\0';
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	check_last = mmap(NULL, sizeof(*check_last), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (check_last == MAP_FAILED) {
		fprintf(stderr, "check: mmap: %s\n", strerror(errno));
		return 1;
	}
	int failed = 0;
	if (argc > 1) {
		for (int a = 1; a < argc; a++) {
			size_t i;
			for (i = 0; i < ntests && strcmp(tests[i].name, argv[a]) != 0; i++)
				;
			if (i == ntests) {
				printf("FAIL: unit/%s/%s: no such test\n", unit, argv[a]);
				failed = 1;
				continue;
			}
			failed |= check_run_one(unit, &tests[i]);
		}
	} else {
		for (size_t i = 0; i < ntests; i++)
			failed |= check_run_one(unit, &tests[i]);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return failed ? 1 : 0;
}

#define CHECK_MAIN(tests)                                                                   \
	int main(int argc, char **argv)                                                     \
	{                                                                                   \
		return check_main(__FILE__, tests, CHECK_NTESTS(tests), argc, argv);        \
	}

#endif
