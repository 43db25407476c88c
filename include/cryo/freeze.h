/* Freezing a container's cgroup: v2 cgroup.freeze (waiting on cgroup.events
 * with poll(2): kernfs notifies), or the v1 freezer (polled: v1 has no
 * notification).  Several containers are requested first, then waited on
 * together, so they stop within the same instant. */
#ifndef CRYO_FREEZE_H
#define CRYO_FREEZE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "cryo/container.h"

enum cryo_freeze_mech { CRYO_FREEZE_NONE, CRYO_FREEZE_V2, CRYO_FREEZE_V1 };
const char *cryo_freeze_mech_name(enum cryo_freeze_mech m);

enum cryo_freeze_state { CRYO_THAWED, CRYO_FREEZING, CRYO_FROZEN, CRYO_GONE };
const char *cryo_freeze_state_name(enum cryo_freeze_state s);

struct cryo_freezer {
	enum cryo_freeze_mech mech;
	char dir[PATH_MAX];    /* the container's cgroup directory */
	int events_fd;         /* v2: cgroup.events, for poll(2) */
	int ctl_fd;            /* cgroup.freeze or freezer.state, opened by init:
				  a request is then one write (a hook keeps
				  freezers ready for the moment an alert comes) */
	bool want_frozen;
	enum cryo_freeze_state state;
	uint64_t t_start_ns, t_done_ns;
	struct cryo_error err;
	int result;            /* 0 done, -1 error (err filled) */
};

/* Pick the mechanism: v2 when the container's unified cgroup has
 * cgroup.freeze, else v1 freezer.  force: 0 auto, or a mechanism. */
int cryo_freezer_init(struct cryo_freezer *f, const struct cryo_cgroup_roots *roots,
		      const struct cryo_container *c, enum cryo_freeze_mech force,
		      struct cryo_error *err);
void cryo_freezer_close(struct cryo_freezer *f);

/* Current state, without changing anything. */
int cryo_freezer_state(struct cryo_freezer *f, enum cryo_freeze_state *st, struct cryo_error *err);
/* Write the request (frozen or thawed). */
int cryo_freezer_request(struct cryo_freezer *f, bool frozen, struct cryo_error *err);
/* Wait until every freezer reached what was requested, or timeout_ms passed.
 * Each freezer's result/err say how it ended; returns the number that did
 * not reach their state. */
size_t cryo_freezers_wait(struct cryo_freezer *f, size_t n, int timeout_ms);

/* The tasks of a cgroup that look like they hold up a freeze: running (R)
 * or in uninterruptible sleep (D).  Returns a malloc'd text "pid comm state"
 * joined by ", " (empty string when none). */
char *cryo_freeze_stuck_tasks(const char *dir);

/* Kill every process of the container (done after the evidence is
 * sealed): v2 cgroup.kill, which reaches frozen tasks and races no fork;
 * else SIGKILL to each task and, for the v1 freezer, a thaw (a v1-frozen
 * task dies only once it runs).  Waits up to timeout_ms for the cgroup to
 * be empty.  *killed: tasks found first; *left: tasks remaining (then
 * CRYO_EXIT_TIMEOUT). */
int cryo_freezer_kill(struct cryo_freezer *f, int timeout_ms, size_t *killed, size_t *left,
		      struct cryo_error *err);

#endif
