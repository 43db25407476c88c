/* sockhog N: hold N UNIX sockets (N/2 socket pairs) open, spread over
 * child processes of at most 1000 descriptors each (runc's default
 * RLIMIT_NOFILE is 1024), then sleep.  A container that makes the
 * pre-cut socket snapshot work hard. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PER_PROC 1000

static void hold(int pairs)
{
	for (int i = 0; i < pairs; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
			perror("socketpair");
			exit(1);
		}
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sockhog N\n");
		return 64;
	}
	int n = atoi(argv[1]);
	signal(SIGCHLD, SIG_IGN);
	while (n > 0) {
		int here = n > PER_PROC ? PER_PROC : n;
		n -= here;
		pid_t p = fork();
		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0)
			hold(here / 2);
	}
	for (;;)
		pause();
}
