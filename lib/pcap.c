#include <arpa/inet.h>
#include <net/if_arp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cryo/case.h"
#include "cryo/hash.h"
#include "cryo/pcap.h"
#include "cryo/util.h"

#define SNAPLEN 65535u

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int write_all(int fd, const void *p, size_t n, struct cryo_sha256 *h)
{
	const char *c = p;
	cryo_sha256_update(h, p, n);
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The recorder itself: never returns. */
static void record(const struct cryo_pcap_request *req, int sock, int out, const char *part,
		   int ready_fd)
{
	struct cryo_sha256 *h = cryo_sha256_new();
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} gh = { 0xa1b2c3d4, 2, 4, 0, 0, SNAPLEN, 1 /* Ethernet */ };
	uint64_t total = sizeof(gh), packets = 0;
	const char *why = "duration reached";
	if (!h || write_all(out, &gh, sizeof(gh), h) < 0)
		_exit(1);
	/* tell the parent the socket is bound and the file started */
	struct {
		pid_t pid;
		char ok;
	} ready = { getpid(), 'k' };
	if (write(ready_fd, &ready, sizeof(ready)) != (ssize_t)sizeof(ready))
		_exit(1);
	close(ready_fd);
	uint64_t deadline = cryo_now_monotonic_ns() + (uint64_t)req->max_seconds * 1000000000ull;
	static unsigned char buf[SNAPLEN];
	for (;;) {
		uint64_t now = cryo_now_monotonic_ns();
		if (stop_requested) {
			why = "stopped (links restored)";
			break;
		}
		if (now >= deadline)
			break;
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int ms = (int)((deadline - now) / 1000000ull) + 1;
		int r = poll(&p, 1, ms > 1000 ? 1000 : ms);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(sock, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n >= 0 && from.sll_hatype == ARPHRD_LOOPBACK)
			continue; /* the namespace's own loopback, not the container */
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			why = "capture socket error";
			break;
		}
		size_t incl = (size_t)n > SNAPLEN ? SNAPLEN : (size_t)n;
		if (total + 16 + incl > req->max_bytes) {
			why = "size bound reached";
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint32_t rec[4] = { (uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), (uint32_t)incl,
				    (uint32_t)n };
		if (write_all(out, rec, sizeof(rec), h) < 0 || write_all(out, buf, incl, h) < 0) {
			why = "write error";
			break;
		}
		total += sizeof(rec) + incl;
		packets++;
	}
	char hex[CRYO_SHA256_HEX];
	cryo_sha256_final_hex(h, hex);
	fsync(out);
	close(out);
	int renamed = rename(part, req->path) == 0;
	if (req->case_path) {
		struct cryo_case k;
		struct cryo_error e;
		if (cryo_case_open(req->case_path, "cryo-cut", req->target, &k, &e) == 0) {
			struct cryo_custody_entry ce;
			char *argv[] = { (char *)"cryo-cut (pcap recorder)", NULL };
			cryo_custody_begin(&ce, "cryo-cut", "pcap", req->target, 1, argv);
			/* the path as given: inside the case it is relative to it */
			size_t cl = strlen(req->case_path);
			const char *rel = strncmp(req->path, req->case_path, cl) == 0 && req->path[cl] == '/'
						  ? req->path + cl + 1 : req->path;
			cryo_custody_artifact(&ce, rel, total, hex);
			cJSON *d = cJSON_GetObjectItemCaseSensitive(ce.obj, "details");
			cJSON_AddNumberToObject(d, "packets", (double)packets);
			cJSON_AddStringToObject(d, "stopped", why);
			cryo_custody_commit(&k, &ce, renamed ? "ok" : "error",
					    renamed ? "capture complete" : "capture could not be renamed", &e);
			cryo_case_close(&k);
		}
	}
	_exit(renamed ? 0 : 1);
}

/* Close every descriptor above 2 except three. */
static void keep_only(int a, int b, int c)
{
	int v[3] = { a, b, c };
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (v[j] < v[i]) {
				int t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	unsigned lo = 3;
	for (int i = 0; i < 3; i++) {
		if ((unsigned)v[i] > lo)
			close_range(lo, (unsigned)v[i] - 1, 0);
		if ((unsigned)v[i] + 1 > lo)
			lo = (unsigned)v[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

int cryo_pcap_start(const struct cryo_pcap_request *req, pid_t *pid, struct cryo_error *err)
{
	char part[PATH_MAX];
	if (snprintf(part, sizeof(part), "%s.part", req->path) >= (int)sizeof(part))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "pcap path too long");
	struct stat st;
	if (lstat(req->path, &st) == 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, EEXIST, "pcap %s", req->path);
	int out = open(part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return cryo_error_sys(err, "create %s", part);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		close(out);
		unlink(part);
		return cryo_error_sys(err, "pipe");
	}
	pid_t c = fork();
	if (c < 0) {
		int e = errno;
		close(out);
		close(pfd[0]);
		close(pfd[1]);
		unlink(part);
		errno = e;
		return cryo_error_sys(err, "fork");
	}
	if (c == 0) {
		/* middle child: detach, so the recorder outlives cryo-cut */
		close(pfd[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		pid_t g = fork();
		if (g != 0)
			_exit(g > 0 ? 0 : 1);
		struct sigaction sa = { .sa_handler = on_term };
		sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: poll returns EINTR */
		if (setns(req->ns->fd, CLONE_NEWNET) < 0)
			_exit(2);
		int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
					   .sll_ifindex = req->ifindex };
		if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			_exit(3);
		int dn = open("/dev/null", O_RDWR);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
			dup2(dn, 2);
		}
		/* Nothing of the parent's stays open in a process that lives on:
		 * not its lock on the case, not its namespace or netlink fds. */
		keep_only(s, out, pfd[1]);
		prctl(PR_SET_NAME, CRYO_PCAP_COMM, 0, 0, 0);
		record(req, s, out, part, pfd[1]);
	}
	close(out);
	close(pfd[1]);
	int status;
	waitpid(c, &status, 0);
	struct {
		pid_t pid;
		char ok;
	} ready = { -1, 0 };
	ssize_t n;
	do
		n = read(pfd[0], &ready, sizeof(ready));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	pid_t g = ready.pid;
	if (n != (ssize_t)sizeof(ready) || ready.ok != 'k') {
		unlink(part);
		return cryo_error_set(err, CRYO_EXIT_OSERR, 0,
				      "packet recorder did not start (AF_PACKET socket in %s)", req->ns->ref);
	}
	*pid = g;
	return 0;
}
