/* Cutting a container's network, reversibly, through rtnetlink.
 *
 * The host-side peer of each of the container's veths is set down: the
 * container cannot undo that from inside, even as root with CAP_NET_ADMIN,
 * because the peer lives in another namespace.  Links without a host-side
 * peer (macvlan, ipvlan) are set down inside the container's namespace,
 * which a root process inside could undo; the result says so.
 *
 * Before anything changes, the namespace's network state and the plan (what
 * restore needs: peer name, ifindex, namespace identity, flags, master, MTU)
 * are written to the case directory, atomically; the plan's "state" moves
 * from "cutting" to "cut" to "restored".  A cut killed half way leaves
 * "cutting", which status explains and restore undoes from the record. */
#ifndef CRYO_CUT_H
#define CRYO_CUT_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cryo/case.h"
#include "cryo/container.h"

#define CRYO_CUT_STATE "net/cut-state.json"
#define CRYO_NET_BEFORE "net/state-before-cut.json"

enum cryo_cut_op { CRYO_CUT, CRYO_CUT_RESTORE, CRYO_CUT_STATUS };

/* down: host-side peers set down (the container sees its cable pulled).
 * quarantine: host-side peers moved into a namespace cryo makes for the
 * case (/run/netns/cryo-q-<case id>) and kept up there with no address or
 * route: the container keeps carrier while nothing it sends goes anywhere,
 * and what it sends can be recorded (pcap). */
enum cryo_cut_mode { CRYO_CUT_MODE_DOWN, CRYO_CUT_MODE_QUARANTINE };

struct cryo_cut_request {
	enum cryo_cut_op op;
	enum cryo_cut_mode mode;
	const char *pcap_path;           /* quarantine only; NULL: no capture */
	uint64_t pcap_max_bytes;
	unsigned pcap_seconds;
	struct cryo_case *kase;          /* required: the record lives there */
	const struct cryo_container *c;
	const struct cryo_cgroup_roots *roots; /* to find the container's processes */
	struct cryo_custody_entry *entry; /* artifacts are added to it */
};

/* Do op; *result gets the JSON result (also on failure, when there is
 * something to say).  Returns 0, or -1 with err (exit class set). */
int cryo_cut_run(const struct cryo_cut_request *req, cJSON **result, struct cryo_error *err);

#endif
