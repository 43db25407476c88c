/* forker -n N: start N children that sleep forever (a container with many
 * processes).  forker -c: fork constantly, each child exiting at once (a
 * container that races the freezer).  The parent never exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	signal(SIGCHLD, SIG_DFL);
	if (argc == 3 && strcmp(argv[1], "-n") == 0) {
		int n = atoi(argv[2]);
		for (int i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0)
				for (;;)
					pause();
			if (p < 0) {
				perror("fork");
				return 1;
			}
		}
		for (;;)
			pause();
	}
	if (argc == 2 && strcmp(argv[1], "-c") == 0) {
		for (;;) {
			pid_t p = fork();
			if (p == 0)
				_exit(0);
			if (p > 0)
				waitpid(p, NULL, 0);
		}
	}
	fprintf(stderr, "usage: forker -n N | forker -c\n");
	return 64;
}
