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
#include <cjson/cJSON.h>
#include "cryo/case.h"
#include "cryo/container.h"

#define CRYO_CUT_STATE "net/cut-state.json"
#define CRYO_NET_BEFORE "net/state-before-cut.json"

enum cryo_cut_op { CRYO_CUT, CRYO_CUT_RESTORE, CRYO_CUT_STATUS };

struct cryo_cut_request {
	enum cryo_cut_op op;
	struct cryo_case *kase;          /* required: the record lives there */
	const struct cryo_container *c;
	struct cryo_custody_entry *entry; /* artifacts are added to it */
};

/* Do op; *result gets the JSON result (also on failure, when there is
 * something to say).  Returns 0, or -1 with err (exit class set). */
int cryo_cut_run(const struct cryo_cut_request *req, cJSON **result, struct cryo_error *err);

#endif
