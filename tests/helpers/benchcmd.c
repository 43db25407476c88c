/* benchcmd RUNS CMD_A... [--- CMD_B...]: run A then B (no shell) RUNS times
 * after 3 warm-up rounds and print the median and minimum wall time of the
 * pair in milliseconds: "median_ms min_ms".  A non-zero exit is an error. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run(char **argv)
{
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: benchcmd RUNS CMD_A... [--- CMD_B...]\n");
		return 64;
	}
	int runs = atoi(argv[1]);
	char **a = argv + 2, **b = NULL;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "---") == 0) {
			argv[i] = NULL;
			b = argv + i + 1;
		}
	if (runs < 1 || runs > 100000)
		return 64;
	double *t = calloc((size_t)runs, sizeof(*t));
	for (int i = -3; i < runs; i++) {
		double t0 = now_ms();
		if (run(a) < 0 || (b && run(b) < 0)) {
			fprintf(stderr, "benchcmd: %s failed\n", a[0]);
			return 1;
		}
		if (i >= 0)
			t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp);
	printf("%.3f %.3f\n", t[runs / 2], t[0]);
	return 0;
}
