/* rtnetlink through libnl-route, in any network namespace.  Nothing here
 * runs ip, tc, iptables or nft: on a compromised host those binaries are
 * not to be trusted.
 *
 * A socket is bound to a network namespace when it is created; a
 * short-lived thread joins the namespace with setns(2) (network namespaces
 * are per thread), creates the socket and exits, so the process itself
 * never changes namespace. */
#ifndef CRYO_NETLINK_H
#define CRYO_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"

struct nl_sock;

/* A network namespace we hold open, with where we found it. */
struct cryo_netns {
	int fd;
	uint64_t ino;
	char ref[256]; /* "host", "/run/netns/NAME", "/run/docker/netns/X" or "/proc/PID/ns/net" */
};

int cryo_netns_open(const char *path, struct cryo_netns *ns, struct cryo_error *err);
void cryo_netns_close(struct cryo_netns *ns);
/* Our own namespace (the host's, for a tool run on the host). */
int cryo_netns_self(struct cryo_netns *ns, struct cryo_error *err);
/* Find an open namespace by inode: the recorded ref first, then
 * /run/netns, /run/docker/netns and every /proc/PID/ns/net. */
int cryo_netns_find(uint64_t ino, const char *ref_hint, struct cryo_netns *ns,
		    struct cryo_error *err);

/* Run fn(arg) in a short-lived thread that joined ns (or, with ns NULL, a
 * brand-new network namespace of its own).  fn returns 0 or an errno value.
 * This is how every socket of another namespace is made. */
int cryo_netns_run(const struct cryo_netns *ns, int (*fn)(void *arg), void *arg,
		   struct cryo_error *err);

/* An rtnetlink socket living in ns (NULL: our own namespace). */
int cryo_rtnl_open(const struct cryo_netns *ns, struct nl_sock **sk, struct cryo_error *err);
void cryo_rtnl_close(struct nl_sock *sk);

/* The nsid that the namespace of sk gives to other (RTM_GETNSID), or -1
 * when it has none. */
int cryo_rtnl_nsid_of(struct nl_sock *sk, const struct cryo_netns *other, int32_t *nsid,
		      struct cryo_error *err);

struct cryo_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];        /* veth, bridge, macvlan, ipvlan, ... ("" for none) */
	unsigned flags;       /* IFF_* */
	unsigned mtu;
	int master;           /* ifindex of the bridge it is enslaved to, or 0 */
	char master_name[IFNAMSIZ];
	int link;             /* IFLA_LINK: the peer's ifindex (veth), parent (macvlan) */
	int32_t link_netnsid; /* where link lives, as an nsid of this namespace; -1: here */
	char mac[32];
	char operstate[16];
	unsigned carrier;
};
struct cryo_links {
	struct cryo_link *v;
	size_t n;
};
int cryo_rtnl_links(struct nl_sock *sk, struct cryo_links *out, struct cryo_error *err);
void cryo_links_free(struct cryo_links *l);
const struct cryo_link *cryo_links_find(const struct cryo_links *l, int ifindex);
cJSON *cryo_link_to_json(const struct cryo_link *l);

const struct cryo_link *cryo_links_find_name(const struct cryo_links *l, const char *name);

/* A named network namespace, as `ip netns add` makes it: a bind mount of a
 * fresh namespace on /run/netns/NAME, which keeps it alive with no process
 * in it.  Fails with EEXIST when the name is taken. */
int cryo_netns_create_named(const char *name, struct cryo_netns *ns, struct cryo_error *err);
int cryo_netns_delete_named(const char *name, struct cryo_error *err);

/* Move a link to another namespace (it leaves its bridge and loses its
 * addresses on the way, as the kernel does). */
int cryo_rtnl_link_move(struct nl_sock *sk, int ifindex, const struct cryo_netns *to,
			struct cryo_error *err);
int cryo_rtnl_link_set_master(struct nl_sock *sk, int ifindex, int master, struct cryo_error *err);
/* The addresses on ifindex, as ["10.0.0.1/30", "fe80::1/64"]. */
cJSON *cryo_rtnl_addrs_of(struct nl_sock *sk, int ifindex, struct cryo_error *err);
/* Add an address ("10.0.0.1/30") to ifindex; an existing one is fine. */
int cryo_rtnl_addr_add(struct nl_sock *sk, int ifindex, const char *addr, struct cryo_error *err);

/* The routes through ifindex that the kernel will not bring back by itself
 * (it flushes them when the link goes down or leaves the namespace):
 * everything but protocol "kernel" and the local table. */
cJSON *cryo_rtnl_routes_of(struct nl_sock *sk, int ifindex, struct cryo_error *err);
/* Re-add a route recorded by cryo_rtnl_routes_of(), with its nexthops on
 * old_ifindex moved to new_ifindex; an existing route is fine. */
int cryo_rtnl_route_add(struct nl_sock *sk, const cJSON *route, int old_ifindex, int new_ifindex,
			struct cryo_error *err);

/* Set or clear IFF_UP on ifindex. */
int cryo_rtnl_link_set_up(struct nl_sock *sk, int ifindex, bool up, struct cryo_error *err);

/* The namespace's network state as JSON: links, addresses, routes (all
 * tables), neighbours.  For the evidence, before anything is changed. */
cJSON *cryo_rtnl_state_json(struct nl_sock *sk, struct cryo_error *err);

#endif
