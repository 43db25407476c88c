/* pipefreeze CGROUP_DIR: for each line read on stdin, write "1" to the
 * cgroup's cgroup.freeze (opened once).  The floor for any process that a
 * detector wakes through a pipe to freeze a cgroup: scripts/bench-respond
 * sets cryo-hook beside it. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pipefreeze CGROUP_DIR\n");
		return 64;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/cgroup.freeze", argv[1]);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (pwrite(fd, "1", 1, 0) != 1)
			perror("write");
	return 0;
}
