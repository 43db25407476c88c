/* counter FILE: count as fast as possible, writing the count to FILE about
 * every millisecond (pwrite at offset 0, fixed width).  A frozen container
 * shows a count that does not move. */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: counter FILE\n");
		return 64;
	}
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	unsigned long long n = 0;
	char buf[32];
	for (;;) {
		n++;
		int len = snprintf(buf, sizeof(buf), "%020llu\n", n);
		if (pwrite(fd, buf, (size_t)len, 0) < 0)
			return 1;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}
