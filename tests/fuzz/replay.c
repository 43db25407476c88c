/* A plain main() for the fuzz targets: it feeds committed inputs to
 * LLVMFuzzerTestOneInput without clang or libFuzzer, so each corpus is a
 * regression suite in every build, sanitized or not (make replayers,
 * tests/run).
 *
 *   fuzz_X DIR|FILE...
 *
 * One line per argument on stdout:
 *   PASS: fuzz-replay/fuzz_X/<name>: N inputs
 *   FAIL: fuzz-replay/fuzz_X/<name>: <reason>
 * A directory runs every regular file in it; an empty or missing one fails,
 * since a corpus that silently vanished would otherwise pass forever.
 *
 * Each input runs in a child process: a crash, a sanitizer report or a hang
 * is pinned to the input that caused it, and the remaining inputs still run.
 * Exit 0 when everything passed, 1 when something failed, 64 on misuse. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "fuzz.h"

/* libFuzzer's own -max_len default is far below this; a bigger file in a
 * corpus is a mistake worth a failure, not an allocation. */
#define INPUT_MAX (16u << 20)
/* Parsers take microseconds per input even under ASan: 20 s is a hang. */
#define INPUT_TIMEOUT_S 20

static const char *prog = "replay";

/* Last component of path, ignoring trailing slashes ("corpus/x/" -> "x"). */
static void last_component(const char *path, char *buf, size_t size)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *start = path;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/' && i + 1 < n)
			start = path + i + 1;
	snprintf(buf, size, "%.*s", (int)(n - (size_t)(start - path)), start);
}

static int read_input(const char *path, uint8_t **data, size_t *size)
{
	*data = NULL;
	*size = 0;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EINVAL;
	if ((uint64_t)st.st_size > INPUT_MAX)
		return EFBIG;
	size_t cap = (size_t)st.st_size, n = 0;
	/* at least one byte: the target gets a real pointer for empty input */
	cleanup_free uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf)
		return ENOMEM;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			break; /* shrank meanwhile: run what is there */
		n += (size_t)r;
	}
	*data = steal_pointer(&buf);
	*size = n;
	return 0;
}

/* Run one input in a child.  0 when the target returned; otherwise -1 and
 * the reason in why. */
static int run_input(const char *path, char *why, size_t whysize)
{
	uint8_t *data;
	size_t size;
	int e = read_input(path, &data, &size);
	if (e) {
		snprintf(why, whysize, "%s: cannot read: %s", path, strerror(e));
		return -1;
	}
	/* nothing buffered may be written twice, by parent and child */
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		e = errno;
		free(data);
		snprintf(why, whysize, "%s: fork: %s", path, strerror(e));
		return -1;
	}
	if (pid == 0) {
		alarm(INPUT_TIMEOUT_S);
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		/* exit(), not _exit(): LeakSanitizer checks at exit in ASan builds */
		exit(0);
	}
	free(data);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whysize, "%s: waitpid: %s", path, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGALRM)
			snprintf(why, whysize, "%s: no result within %d s (a hang?)", path,
				 INPUT_TIMEOUT_S);
		else
			snprintf(why, whysize, "%s: killed by signal %d (%s)", path, sig,
				 strsignal(sig));
	} else {
		snprintf(why, whysize, "%s: exited %d (a sanitizer report?)", path,
			 WEXITSTATUS(status));
	}
	return -1;
}

static int only_visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Run one argument; print its PASS/FAIL line.  Returns true when passed. */
static bool run_arg(const char *arg)
{
	char name[256], why[PATH_MAX + 256];
	last_component(arg, name, sizeof(name));
	struct stat st;
	if (stat(arg, &st) < 0) {
		printf("FAIL: fuzz-replay/%s/%s: %s: %s\n", prog, name, arg, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (run_input(arg, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, why);
			printf("FAIL: fuzz-replay/%s/%s: %s\n", prog, name, why);
			return false;
		}
		printf("PASS: fuzz-replay/%s/%s: 1 inputs\n", prog, name);
		return true;
	}

	struct dirent **list = NULL;
	int nent = scandir(arg, &list, only_visible, alphasort);
	if (nent < 0) {
		printf("FAIL: fuzz-replay/%s/%s: %s: %s\n", prog, name, arg, strerror(errno));
		return false;
	}
	size_t ran = 0, failed = 0;
	char first[sizeof(why)] = "";
	for (int i = 0; i < nent; i++) {
		char path[PATH_MAX];
		int pl = snprintf(path, sizeof(path), "%s/%s", arg, list[i]->d_name);
		free(list[i]);
		if (pl < 0 || (size_t)pl >= sizeof(path)) {
			failed++;
			if (!first[0])
				snprintf(first, sizeof(first), "%s/...: path too long", arg);
			continue;
		}
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue; /* subdirectories and the like are not inputs */
		ran++;
		if (run_input(path, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, why);
			failed++;
			if (!first[0])
				snprintf(first, sizeof(first), "%s", why);
		}
	}
	free(list);
	if (failed) {
		printf("FAIL: fuzz-replay/%s/%s: %zu of %zu inputs failed; first: %s\n", prog, name,
		       failed, ran, first);
		return false;
	}
	if (ran == 0) {
		printf("FAIL: fuzz-replay/%s/%s: no inputs in %s\n", prog, name, arg);
		return false;
	}
	printf("PASS: fuzz-replay/%s/%s: %zu inputs\n", prog, name, ran);
	return true;
}

int main(int argc, char **argv)
{
	static char progbuf[256];
	if (argc > 0 && argv[0][0]) {
		last_component(argv[0], progbuf, sizeof(progbuf));
		prog = progbuf;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "Usage: %s DIR|FILE...\n"
			     "Run each file (or every regular file in each directory) through the\n"
			     "fuzz target once; print PASS or FAIL per argument.\n", prog);
		return argc < 2 ? 64 : 0;
	}
	bool ok = true;
	for (int i = 1; i < argc; i++)
		ok &= run_arg(argv[i]);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 74;
	return ok ? 0 : 1;
}
