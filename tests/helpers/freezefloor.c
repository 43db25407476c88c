/* freezefloor CGROUP_DIR RUNS: the kernel's own cost of a cgroup v2 freeze
 * and thaw, in-process: write cgroup.freeze, poll cgroup.events until
 * "frozen 1", write 0, poll until "frozen 0".  Prints "median_ms min_ms". */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int wait_frozen(int ev, int want)
{
	char buf[256], pat[16];
	snprintf(pat, sizeof(pat), "frozen %d", want);
	for (int i = 0; i < 100000; i++) {
		ssize_t n = pread(ev, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return -1;
		buf[n] = '\0';
		if (strstr(buf, pat))
			return 0;
		struct pollfd p = { .fd = ev, .events = POLLPRI };
		poll(&p, 1, 1000);
	}
	return -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 64;
	char p[4096];
	snprintf(p, sizeof(p), "%s/cgroup.freeze", argv[1]);
	int fz = open(p, O_WRONLY);
	snprintf(p, sizeof(p), "%s/cgroup.events", argv[1]);
	int ev = open(p, O_RDONLY);
	int runs = atoi(argv[2]);
	if (fz < 0 || ev < 0 || runs < 1)
		return 1;
	double *t = calloc((size_t)runs, sizeof(*t));
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (pwrite(fz, "1", 1, 0) != 1 || wait_frozen(ev, 1) < 0 || pwrite(fz, "0", 1, 0) != 1 ||
		    wait_frozen(ev, 0) < 0)
			return 1;
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp);
	printf("%.3f %.3f\n", t[runs / 2], t[0]);
	return 0;
}
