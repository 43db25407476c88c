/* The sockets of a network namespace, from NETLINK_SOCK_DIAG (TCP, UDP,
 * raw IP, UNIX, packet), each with the processes and descriptors that hold it, matched
 * through the socket inodes in /proc/PID/fd.  Shared by cryo-cut's snapshot
 * before the cut and by the process snapshot. */
#ifndef CRYO_SOCKDIAG_H
#define CRYO_SOCKDIAG_H

#include <cjson/cJSON.h>
#include "cryo/error.h"
#include "cryo/netlink.h"
#include "cryo/util.h"

/* An array of sockets: {proto, family, state, local, remote, inode, uid,
 * rqueue, wqueue, owners: [{pid, fd}]} (UNIX: type, path, peer_inode;
 * packet: type, ethertype, ifindex).  A protocol whose diag module is
 * missing lists nothing.   pids:
 * whose descriptors to match (the container's processes). */
cJSON *cryo_sockets_json(const struct cryo_netns *ns, const struct cryo_pids *pids,
			 struct cryo_error *err);

#endif
