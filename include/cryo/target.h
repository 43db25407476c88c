/* The target syntax shared by every tool:
 *   <id> | <unique id prefix> | <name> | <ns>/<pod>[/<container>]
 *   | pid:N[@START] | cgroup:/path                                        */
#ifndef CRYO_TARGET_H
#define CRYO_TARGET_H

#include <stdint.h>
#include <sys/types.h>
#include "cryo/container.h"

enum cryo_target_kind {
	CRYO_TARGET_ID_OR_NAME,
	CRYO_TARGET_PID,
	CRYO_TARGET_CGROUP,
	CRYO_TARGET_POD, /* ns/pod */
	CRYO_TARGET_POD_CONTAINER, /* ns/pod/container */
};

struct cryo_target {
	enum cryo_target_kind kind;
	char text[512];   /* as given */
	char value[512];  /* id/name, cgroup path, or "ns/pod" */
	char ns[256], pod[256], container[256];
	pid_t pid;
	uint64_t start;   /* for pid: given (@START) or recorded at resolution */
	bool start_given;
};

/* Check the syntax only.  Errors are CRYO_EXIT_USAGE. */
int cryo_target_parse(const char *text, struct cryo_target *t, struct cryo_error *err);

/* Resolve against discovered containers.  Fills out[] with indexes into
 * all->v (a pod target can name several); returns the count.  Errors:
 * NOTFOUND, AMBIGUOUS (message lists the candidates). */
int cryo_target_resolve(struct cryo_target *t, const struct cryo_containers *all,
			size_t *out, size_t max, struct cryo_error *err);

/* For pid: targets, re-check just before acting that the pid is still the
 * process that was resolved (start time unchanged). */
int cryo_target_recheck(const struct cryo_target *t, struct cryo_error *err);

/* Indexes of every container in the same Kubernetes pod as all->v[idx]. */
size_t cryo_pod_members(const struct cryo_containers *all, size_t idx, size_t *out, size_t max);

#endif
