/* memprobe TAG DIR [BIG_MIB [CONNECT_IP:PORT]]: a process whose memory a
 * capture must find.  It writes "TAG-heap", "TAG-stack", "TAG-big" (in the
 * middle of a BIG_MIB anonymous mapping, default 64, of which only a few
 * pages are touched), "TAG-hidden" (in a page then made PROT_NONE, as
 * payloads hide), "TAG-secret" (in memfd_secret memory, which nobody else
 * can read) and "TAG-deleted-file" (into DIR/payload, then deleted but kept
 * open), starts a second thread named "worker", optionally keeps a TCP
 * connection open to CONNECT_IP:PORT, writes where each string is, one
 * "name=0xADDR" per line then "ready", to stdout and to DIR/addrs (made
 * whole by a rename), and sleeps until killed.  IP:PORT "-" connects
 * nowhere.  MEMPROBE_TOUCH=1 fills the whole large mapping (with bytes
 * that compress like real data, neither zeros nor noise), making it
 * resident; MEMPROBE_THREADS=N starts N workers instead of one;
 * MEMPROBE_TRACEME=1 has its parent trace it (PTRACE_TRACEME), the
 * anti-debugging trick that keeps any other tracer out; MEMPROBE_EXIT_MAIN=1
 * ends the main thread once ready (the others run on), which empties
 * /proc/PID's maps and command line. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

static void *worker(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "worker");
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: memprobe TAG DIR [BIG_MIB [IP:PORT]]\n");
		return 64;
	}
	const char *tag = argv[1];
	size_t big_mib = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
	char stack[256];
	snprintf(stack, sizeof(stack), "%s-stack", tag);

	char *heap = malloc(4096);
	snprintf(heap, 4096, "%s-heap", tag);

	size_t big_len = big_mib << 20;
	char *big = mmap(NULL, big_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (getenv("MEMPROBE_TOUCH")) {
		/* half random-looking, half text-like: xorshift bytes, every other
		 * 4 KiB page folded into lowercase letters */
		uint64_t x = 88172645463325252ull;
		for (size_t i = 0; i < big_len; i += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint64_t v = x;
			if ((i >> 12) & 1)
				v = (v & 0x0f0f0f0f0f0f0f0full) + 0x6161616161616161ull;
			memcpy(big + i, &v, 8);
		}
	}
	char *big_at = big + big_len / 2;
	snprintf(big_at, 64, "%s-big", tag);
	big[0] = 1; /* a second touched page, far from the first */

	char *hidden = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(hidden, 64, "%s-hidden", tag);
	mprotect(hidden, 4096, PROT_NONE);

	char *secret = NULL;
	int sfd = (int)syscall(SYS_memfd_secret, 0);
	if (sfd >= 0 && ftruncate(sfd, 4096) == 0) {
		secret = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
		if (secret == MAP_FAILED)
			secret = NULL;
		else
			snprintf(secret, 64, "%s-secret", tag);
	}

	char path[4096];
	snprintf(path, sizeof(path), "%s/payload", argv[2]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0700);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	dprintf(fd, "%s-deleted-file\n", tag);
	unlink(path);

	int sock = -1;
	if (argc > 4 && strcmp(argv[4], "-")) {
		char ip[64];
		snprintf(ip, sizeof(ip), "%s", argv[4]);
		char *colon = strrchr(ip, ':');
		if (!colon)
			return 64;
		*colon = '\0';
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
		inet_pton(AF_INET, ip, &sa.sin_addr);
		sock = socket(AF_INET, SOCK_STREAM, 0);
		for (int i = 0; i < 50 && connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0; i++)
			usleep(100000);
	}

	int mfd = memfd_create("payload", 0);
	if (mfd >= 0)
		dprintf(mfd, "%s-memfd-payload\n", tag);
	int ep = epoll_create1(0);
	(void)ep;

	/* kept open, never used: what a capture must list */
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	int pkt = socket(AF_PACKET, SOCK_RAW, htons(0x0003 /* ETH_P_ALL */));
	(void)raw, (void)pkt;

	if (getenv("MEMPROBE_TRACEME") && ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
		perror("PTRACE_TRACEME");
		return 1;
	}

	int nthreads = getenv("MEMPROBE_THREADS") ? atoi(getenv("MEMPROBE_THREADS")) : 1;
	for (int i = 0; i < nthreads; i++) {
		pthread_t t;
		pthread_create(&t, NULL, worker, NULL);
	}

	char out[1024];
	int n = snprintf(out, sizeof(out), "pid=%d\nheap=%p\nstack=%p\nbig=%p\nhidden=%p\nsecret=%p\nsock=%d\nready\n",
			 (int)getpid(), (void *)heap, (void *)stack, (void *)big_at, (void *)hidden, (void *)secret, sock);
	fwrite(out, 1, (size_t)n, stdout);
	fflush(stdout);
	char tmp[4200], final[4200];
	snprintf(tmp, sizeof(tmp), "%s/.addrs", argv[2]);
	snprintf(final, sizeof(final), "%s/addrs", argv[2]);
	int afd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (afd >= 0 && write(afd, out, (size_t)n) == n) {
		close(afd);
		rename(tmp, final);
	}
	if (getenv("MEMPROBE_EXIT_MAIN"))
		syscall(SYS_exit, 0);
	for (;;)
		pause();
}
