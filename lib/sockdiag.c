#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cryo/util.h"
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/sockdiag.h"

#define MAX_SOCKETS 100000
#define MAX_FDS_PER_PROC 65536

static int open_diag(void *fd)
{
	*(int *)fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	return *(int *)fd < 0 ? errno : 0;
}

/* NETLINK_SOCK_DIAG answers for the namespace the socket was made in. */
static int diag_socket(const struct cryo_netns *ns, struct cryo_error *err)
{
	int fd = -1;
	if (cryo_netns_run(ns, open_diag, &fd, err) < 0)
		return cryo_error_wrap(err, "sock_diag socket");
	return fd;
}

static const char *tcp_state(unsigned s)
{
	static const char *const names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
					     "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
					     "LISTEN", "CLOSING", "NEW_SYN_RECV" };
	return s < CRYO_ARRAY_SIZE(names) ? names[s] : "?";
}

static void endpoint(char *buf, size_t size, int family, const __be32 *addr, __be16 port)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, addr, a, sizeof(a));
	snprintf(buf, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, ntohs(port));
}

/* Send one dump request and hand each answer to cb; bounded in count.
 * *unsupported (when given) is set when the kernel has no diag module for
 * the protocol. */
static int dump(int fd, void *req, size_t len, int (*cb)(struct nlmsghdr *, void *), void *arg,
		bool *unsupported, struct cryo_error *err)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	if (sendto(fd, req, len, 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return cryo_error_sys(err, "sock_diag request");
	static char buf[32768] __attribute__((aligned(4)));
	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t got = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return cryo_error_sys(err, "sock_diag reply");
		}
		if (got == 0)
			return 0;
		/* only the kernel answers: a process with CAP_NET_ADMIN in the
		 * namespace could otherwise send us what it likes */
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;
		/* int, as NLMSG_OK/NLMSG_NEXT expect: an odd nlmsg_len must not
		 * wrap an unsigned length into a huge one */
		int n = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				/* a dump's error comes in its DONE message */
				int e = 0;
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if ((e == -ENOENT || e == -EOPNOTSUPP) && unsupported)
					*unsupported = true;
				return 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				/* a protocol without diag support (no module): none to list */
				if (e->error == -ENOENT || e->error == -EOPNOTSUPP) {
					if (unsupported)
						*unsupported = true;
					return 0;
				}
				errno = -e->error;
				return cryo_error_sys(err, "sock_diag");
			}
			if (cb(h, arg) < 0)
				return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "more than %d sockets", MAX_SOCKETS);
		}
	}
}

struct collect {
	cJSON *arr;
	size_t *count; /* shared by every dump: cJSON_GetArraySize walks the list */
	const char *proto;
};

static int inet_cb(struct nlmsghdr *h, void *arg)
{
	struct collect *c = arg;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
		return 0;
	if (++*c->count > MAX_SOCKETS)
		return -1;
	struct inet_diag_msg *m = NLMSG_DATA(h);
	char local[80], remote[80];
	endpoint(local, sizeof(local), m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
	endpoint(remote, sizeof(remote), m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "proto", c->proto);
	cryo_json_str(o, "family", m->idiag_family == AF_INET6 ? "inet6" : "inet");
	cryo_json_str(o, "state", strcmp(c->proto, "tcp") ? (m->idiag_state == TCP_ESTABLISHED ? "CONNECTED" : "UNCONNECTED")
							 : tcp_state(m->idiag_state));
	cryo_json_str(o, "local", local);
	cryo_json_str(o, "remote", remote);
	cryo_json_num(o, "inode", m->idiag_inode);
	cryo_json_num(o, "uid", m->idiag_uid);
	cryo_json_num(o, "rqueue", m->idiag_rqueue);
	cryo_json_num(o, "wqueue", m->idiag_wqueue);
	cJSON_AddItemToArray(c->arr, o);
	return 0;
}

static int unix_cb(struct nlmsghdr *h, void *arg)
{
	struct collect *c = arg;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return 0;
	if (++*c->count > MAX_SOCKETS)
		return -1;
	struct unix_diag_msg *m = NLMSG_DATA(h);
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "proto", "unix");
	cryo_json_str(o, "family", "unix");
	cryo_json_str(o, "type", m->udiag_type == SOCK_STREAM ? "stream" : m->udiag_type == SOCK_DGRAM ? "dgram" : "seqpacket");
	cryo_json_str(o, "state", tcp_state(m->udiag_state));
	cryo_json_num(o, "inode", m->udiag_ino);
	/* int, as RTA_OK/RTA_NEXT expect: a size_t would wrap below zero */
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	struct rtattr *a = (struct rtattr *)(m + 1);
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_NAME) {
			/* an abstract name starts with NUL; names are attacker-chosen
			 * bytes: kept as they are, JSON escapes them */
			size_t n = RTA_PAYLOAD(a);
			char name[110];
			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, RTA_DATA(a), n);
			name[n] = '\0';
			/* abstract: NUL first, and maybe more inside; each shown as
			 * '@' (ss's convention) so that two names stay two.  A path
			 * name ends at its NUL (the kernel counts it in). */
			if (n && name[0] == '\0') {
				for (size_t k = 0; k < n; k++)
					if (name[k] == '\0')
						name[k] = '@';
			}
			cryo_json_str(o, "path", name);
		} else if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t peer;
			memcpy(&peer, RTA_DATA(a), sizeof(peer));
			cryo_json_num(o, "peer_inode", peer);
		}
	}
	cJSON_AddItemToArray(c->arr, o);
	return 0;
}

static int packet_cb(struct nlmsghdr *h, void *arg)
{
	struct collect *c = arg;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct packet_diag_msg)))
		return 0;
	if (++*c->count > MAX_SOCKETS)
		return -1;
	struct packet_diag_msg *m = NLMSG_DATA(h);
	cJSON *o = cJSON_CreateObject();
	cryo_json_str(o, "proto", "packet");
	cryo_json_str(o, "family", "packet");
	cryo_json_str(o, "type", m->pdiag_type == SOCK_RAW ? "raw" : m->pdiag_type == SOCK_DGRAM ? "dgram" : "?");
	char ethertype[8];
	snprintf(ethertype, sizeof(ethertype), "0x%04x", ntohs(m->pdiag_num));
	cryo_json_str(o, "ethertype", ethertype);
	cryo_json_num(o, "inode", m->pdiag_ino);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == PACKET_DIAG_INFO && RTA_PAYLOAD(a) >= sizeof(struct packet_diag_info)) {
			struct packet_diag_info pi;
			memcpy(&pi, RTA_DATA(a), sizeof(pi));
			cryo_json_num(o, "ifindex", pi.pdi_index); /* 0: every interface */
		} else if (a->rta_type == PACKET_DIAG_UID && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t uid;
			memcpy(&uid, RTA_DATA(a), sizeof(uid));
			cryo_json_num(o, "uid", uid);
		}
	}
	cJSON_AddItemToArray(c->arr, o);
	return 0;
}

/* Raw sockets when the kernel has no raw_diag (CONFIG_INET_RAW_DIAG):
 * /proc/thread-self/net/raw{,6} read from a thread inside the namespace
 * (a container's process may sit in a namespace of its own), whose
 * addresses are the in-memory words printed in hex. */
struct raw_read {
	const char *path;
	char *text;
	size_t len;
};

static int read_in_ns(void *arg)
{
	struct raw_read *r = arg;
	struct cryo_error e;
	return cryo_read_file_at(AT_FDCWD, r->path, 64u << 20, false, &r->text, &r->len, &e) < 0 ? e.errnum : 0;
}

static void proc_net_raw(cJSON *arr, size_t *count, const struct cryo_netns *ns, int family)
{
	struct raw_read rr = { family == AF_INET6 ? "/proc/thread-self/net/raw6" : "/proc/thread-self/net/raw", NULL, 0 };
	struct cryo_error e;
	if (cryo_netns_run(ns, read_in_ns, &rr, &e) < 0 || !rr.text) {
		free(rr.text);
		return;
	}
	cleanup_free char *text = rr.text;
	const char *path = family == AF_INET6 ? "/proc/net/raw6" : "/proc/net/raw";
	char *save = NULL;
	strtok_r(text, "\n", &save); /* header */
	for (char *line = strtok_r(NULL, "\n", &save); line && *count < MAX_SOCKETS; line = strtok_r(NULL, "\n", &save)) {
		char la[40], ra[40];
		unsigned lp, rp, st, uid;
		unsigned long tx, rx, inode;
		if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %lx:%lx %*x:%*x %*x %u %*d %lu", la, &lp, ra,
			   &rp, &st, &tx, &rx, &uid, &inode) != 9)
			continue;
		uint32_t l[4] = { 0 }, r[4] = { 0 };
		for (int w = 0; w < (family == AF_INET6 ? 4 : 1); w++) {
			char lw[9] = { 0 }, rw[9] = { 0 };
			memcpy(lw, la + 8 * w, 8);
			memcpy(rw, ra + 8 * w, 8);
			l[w] = (uint32_t)strtoul(lw, NULL, 16);
			r[w] = (uint32_t)strtoul(rw, NULL, 16);
		}
		char local[80], remote[80];
		endpoint(local, sizeof(local), family, l, htons((uint16_t)lp));
		endpoint(remote, sizeof(remote), family, r, htons((uint16_t)rp));
		cJSON *o = cJSON_CreateObject();
		cryo_json_str(o, "proto", "raw");
		cryo_json_str(o, "family", family == AF_INET6 ? "inet6" : "inet");
		cryo_json_str(o, "state", st == TCP_ESTABLISHED ? "CONNECTED" : "UNCONNECTED");
		cryo_json_str(o, "local", local);
		cryo_json_str(o, "remote", remote);
		cryo_json_num(o, "inode", (double)inode);
		cryo_json_num(o, "uid", uid);
		cryo_json_num(o, "rqueue", (double)rx);
		cryo_json_num(o, "wqueue", (double)tx);
		cryo_json_str(o, "source", path);
		cJSON_AddItemToArray(arr, o);
		++*count;
	}
}

struct by_inode {
	unsigned long inode;
	cJSON *owners;
};

static int by_inode_cmp(const void *a, const void *b)
{
	unsigned long x = ((const struct by_inode *)a)->inode, y = ((const struct by_inode *)b)->inode;
	return x < y ? -1 : x > y;
}

/* inode -> owners, from /proc/PID/fd of the given processes.  One sorted
 * index and a binary search per descriptor: a container can hold tens of
 * thousands of sockets and as many descriptors, and this runs before the
 * cut, so it must stay O((sockets + fds) log sockets). */
static void add_owners(cJSON *arr, size_t n, const struct cryo_pids *pids)
{
	cleanup_free struct by_inode *idx = calloc(n ? n : 1, sizeof(*idx));
	if (!idx)
		return;
	size_t k = 0;
	cJSON *s;
	cJSON_ArrayForEach(s, arr) {
		const cJSON *si = cJSON_GetObjectItemCaseSensitive(s, "inode");
		cJSON *owners = cJSON_AddArrayToObject(s, "owners");
		if (k < n && cJSON_IsNumber(si))
			idx[k++] = (struct by_inode){ (unsigned long)si->valuedouble, owners };
	}
	qsort(idx, k, sizeof(*idx), by_inode_cmp);
	for (size_t p = 0; pids && p < pids->n; p++) {
		char dir[64];
		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pids->v[p]);
		cleanup_closedir DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		size_t count = 0;
		while ((de = readdir(d)) && count++ < MAX_FDS_PER_PROC) {
			char link[64];
			unsigned long ino;
			ssize_t l = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			struct by_inode key = { ino, NULL };
			struct by_inode *hit = bsearch(&key, idx, k, sizeof(*idx), by_inode_cmp);
			/* inodes are unique, but a forged duplicate costs nothing */
			while (hit && hit > idx && hit[-1].inode == ino)
				hit--;
			for (; hit && hit < idx + k && hit->inode == ino; hit++) {
				cJSON *o = cJSON_CreateObject();
				cryo_json_num(o, "pid", pids->v[p]);
				cryo_json_num(o, "fd", atoi(de->d_name));
				cJSON_AddItemToArray(hit->owners, o);
			}
		}
	}
}

cJSON *cryo_sockets_json(const struct cryo_netns *ns, const struct cryo_pids *pids,
			 struct cryo_error *err)
{
	cleanup_close int fd = diag_socket(ns, err);
	if (fd < 0)
		return NULL;
	cleanup_cjson cJSON *arr = cJSON_CreateArray();
	size_t count = 0;
	static const struct {
		int family, proto;
		const char *name;
	} kinds[] = {
		{ AF_INET, IPPROTO_TCP, "tcp" },  { AF_INET6, IPPROTO_TCP, "tcp" },
		{ AF_INET, IPPROTO_UDP, "udp" },  { AF_INET6, IPPROTO_UDP, "udp" },
		{ AF_INET, IPPROTO_RAW, "raw" },  { AF_INET6, IPPROTO_RAW, "raw" },
	};
	for (size_t k = 0; k < CRYO_ARRAY_SIZE(kinds); k++) {
		struct {
			struct nlmsghdr h;
			struct inet_diag_req_v2 r;
		} req = { 0 };
		req.h.nlmsg_len = sizeof(req);
		req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.r.sdiag_family = (uint8_t)kinds[k].family;
		req.r.sdiag_protocol = (uint8_t)kinds[k].proto;
		req.r.idiag_states = ~0u;
		/* raw sockets: the field after the protocol is the raw protocol
		 * (struct inet_diag_req_raw); IPPROTO_RAW asks for all of them */
		if (kinds[k].proto == IPPROTO_RAW)
			req.r.pad = IPPROTO_RAW;
		struct collect c = { arr, &count, kinds[k].name };
		bool unsupported = false;
		if (dump(fd, &req, sizeof(req), inet_cb, &c, &unsupported, err) < 0)
			return NULL;
		if (unsupported && kinds[k].proto == IPPROTO_RAW)
			proc_net_raw(arr, &count, ns, kinds[k].family);
	}
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} ureq = { 0 };
	ureq.h.nlmsg_len = sizeof(ureq);
	ureq.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	ureq.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ureq.r.sdiag_family = AF_UNIX;
	ureq.r.udiag_states = ~0u;
	ureq.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER;
	struct collect uc = { arr, &count, "unix" };
	if (dump(fd, &ureq, sizeof(ureq), unix_cb, &uc, NULL, err) < 0)
		return NULL;
	struct {
		struct nlmsghdr h;
		struct packet_diag_req r;
	} preq = { 0 };
	preq.h.nlmsg_len = sizeof(preq);
	preq.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	preq.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	preq.r.sdiag_family = AF_PACKET;
	preq.r.pdiag_show = PACKET_SHOW_INFO;
	struct collect pc = { arr, &count, "packet" };
	if (dump(fd, &preq, sizeof(preq), packet_cb, &pc, NULL, err) < 0)
		return NULL;
	add_owners(arr, count, pids);
	return steal_pointer(&arr);
}
