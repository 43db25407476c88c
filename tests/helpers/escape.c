/* escape: a test payload for cryo-replay's sandbox.  It tries what a
 * sample trying to get out would, and prints one line per attempt:
 * "NAME: ok" or "NAME: <errno name>".
 *   escape connect IP PORT   TCP connect, then send "escaped\n"
 *   escape udp IP PORT       one datagram
 *   escape write PATH        create PATH and write to it
 *   escape mount             mount a tmpfs on /mnt
 *   escape ptrace PID        attach to PID
 *   escape bpf               load a one-instruction socket filter
 *   escape userns            unshare a new user namespace
 *   escape netns             clone into a new network namespace
 *   escape keyctl            add a key to the process keyring
 *   escape module            finit_module(0)
 *   escape tiocsti           push a byte into the terminal's input
 *   escape uring             io_uring_setup
 *   escape vsock             a socket to the hypervisor (AF_VSOCK)
 *   escape killpg            SIGKILL to its whole process group
 * Static: it runs inside busybox root filesystems. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int report(const char *name, long rc)
{
	if (rc < 0)
		printf("%s: %s\n", name, strerrorname_np(errno));
	else
		printf("%s: ok\n", name);
	fflush(stdout);
	return rc < 0;
}

static int child_fn(void *arg)
{
	(void)arg;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: escape ACTION [ARGS]\n");
		return 64;
	}
	const char *a = argv[1];
	if (!strcmp(a, "connect") || !strcmp(a, "udp")) {
		if (argc < 4)
			return 64;
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
		inet_pton(AF_INET, argv[2], &sin.sin_addr);
		int udp = !strcmp(a, "udp");
		int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (s < 0)
			return report(a, -1);
		if (udp)
			return report(a, sendto(s, "escaped\n", 8, 0, (struct sockaddr *)&sin, sizeof(sin)));
		struct timeval tv = { 2, 0 };
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (report(a, connect(s, (struct sockaddr *)&sin, sizeof(sin))))
			return 1;
		return write(s, "escaped\n", 8) != 8;
	}
	if (!strcmp(a, "write")) {
		if (argc < 3)
			return 64;
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0 && write(fd, "escaped\n", 8) != 8)
			fd = -1;
		return report(a, fd);
	}
	if (!strcmp(a, "mount"))
		return report(a, mount("none", "/mnt", "tmpfs", 0, NULL));
	if (!strcmp(a, "ptrace"))
		return report(a, ptrace(PTRACE_ATTACH, argc > 2 ? atoi(argv[2]) : 1, NULL, NULL));
	if (!strcmp(a, "bpf")) {
		struct bpf_insn prog[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
					    { .code = BPF_JMP | BPF_EXIT } };
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		attr.insns = (uint64_t)(uintptr_t)prog;
		attr.insn_cnt = 2;
		attr.license = (uint64_t)(uintptr_t)"GPL";
		return report(a, syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)));
	}
	if (!strcmp(a, "userns"))
		return report(a, unshare(CLONE_NEWUSER));
	if (!strcmp(a, "netns")) {
		static char stack[65536];
		pid_t p = clone(child_fn, stack + sizeof(stack), CLONE_NEWNET | SIGCHLD, NULL);
		if (p > 0)
			waitpid(p, NULL, 0);
		return report(a, p);
	}
	if (!strcmp(a, "keyctl"))
		return report(a, syscall(SYS_add_key, "user", "cryo", "x", 1, -2 /* process keyring */));
	if (!strcmp(a, "module"))
		return report(a, syscall(SYS_finit_module, 0, "", 0));
	if (!strcmp(a, "tiocsti")) {
		char c = 'x';
		return report(a, ioctl(0, TIOCSTI, &c));
	}
	if (!strcmp(a, "vsock"))
		return report(a, socket(40 /* AF_VSOCK */, SOCK_STREAM, 0));
	if (!strcmp(a, "killpg")) {
		printf("killpg: now\n");
		fflush(stdout);
		return report(a, kill(0, SIGKILL));
	}
	if (!strcmp(a, "uring"))
		return report(a, syscall(SYS_io_uring_setup, 1, calloc(1, 256)));
	fprintf(stderr, "escape: unknown action %s\n", a);
	return 64;
}
