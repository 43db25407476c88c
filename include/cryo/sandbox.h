/* The replay sandbox (cryo-replay): a command run on a rebuilt root in new
 * user, mount, pid, ipc, uts, cgroup and network namespaces (loopback
 * only), with no capabilities, no_new_privs, a seccomp filter, rlimits, a
 * cgroup when run as root, and a wall-clock limit.  The calls a contained
 * sample has no business making are refused with EPERM and recorded through
 * seccomp user notification; with a trace, opens, execs, connects, binds
 * and the like are recorded too, and connects and sends to any address
 * but loopback refused.  docs/man/cryo-replay.1 says what it protects
 * against and what it does not. */
#ifndef CRYO_SANDBOX_H
#define CRYO_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"

/* With root: the sandbox's ids 0..65535 are host ids from here (an unused
 * range: nothing inside is ever host root). */
#define CRYO_SANDBOX_ID_BASE 1879048192u
#define CRYO_SANDBOX_IDS 65536u

struct cryo_sandbox_opts {
	const char *scratch;      /* the replay's own directory: upper/, work/, mnt/ are made in it */
	const char *rootfs;       /* the rebuilt root (the read-only layer) */
	char *const *argv;        /* what to run; argv[0] searched in PATH of envp when it has no '/' */
	char *const *envp;
	const char *cwd;          /* inside; NULL or unreachable: "/" */
	uid_t uid;                /* inside */
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	const char *hostname;
	bool privileged;          /* root: 65536 ids from CRYO_SANDBOX_ID_BASE, a cgroup */
	uint64_t memory, pids, cpu_percent; /* 0: no limit */
	unsigned timeout_s;       /* 0: none */
	FILE *trace;              /* JSON lines; NULL: refusals are still counted */
	uint64_t trace_max;       /* bytes of trace, then one "trace-limit" line and no more */
};

struct cryo_sandbox_result {
	int exit;                 /* the command's exit code, 128+signal when killed */
	bool timed_out;
	bool overlay;             /* a throwaway layer over the read-only root (else the root itself is written) */
	bool cgroup;              /* memory, pids and CPU limited by a cgroup */
	bool notify;              /* refusals recorded (seccomp user notification) */
	char limits_note[256];    /* why a limit could not be set */
	uint64_t refused, traced;
	bool trace_truncated;     /* trace_max reached: later calls not written */
	cJSON *refused_calls;     /* {"mount": 2, ...} */
};

/* Run it, wait for it (or the timeout), remove what the sandbox made
 * outside the scratch directory (the cgroup).  0 when it ran (whatever its
 * exit), -1 when the sandbox could not be made. */
int cryo_sandbox_run(const struct cryo_sandbox_opts *o, struct cryo_sandbox_result *r, struct cryo_error *err);
void cryo_sandbox_result_free(struct cryo_sandbox_result *r);

#endif
