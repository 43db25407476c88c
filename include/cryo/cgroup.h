/* cgroup facts: /proc/PID/cgroup lines, the hierarchies mounted on this
 * host, and how runtimes name container cgroups. */
#ifndef CRYO_CGROUP_H
#define CRYO_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cryo/error.h"
#include "cryo/util.h"

/* Where the hierarchies we use are mounted (empty string: absent). */
struct cryo_cgroup_roots {
	char v2[256];      /* cgroup2: /sys/fs/cgroup or /sys/fs/cgroup/unified */
	char freezer[256]; /* v1 freezer hierarchy */
	bool hybrid;       /* v1 controllers plus a v2 tree */
};
/* Read the mounts from /proc/self/mountinfo (cached after the first call). */
int cryo_cgroup_roots(struct cryo_cgroup_roots *r, struct cryo_error *err);
/* Parse mountinfo text into roots (for tests and fuzzing). */
int cryo_cgroup_roots_parse(char *mountinfo, struct cryo_cgroup_roots *r);

/* A process's place in the hierarchies, from /proc/PID/cgroup. */
struct cryo_proc_cgroup {
	char v2[1024];      /* the "0::" line; empty when absent */
	char freezer[1024]; /* the v1 freezer line; empty when absent */
	char systemd[1024]; /* name=systemd (v1), used for naming on hybrid hosts */
};
/* Parse the text of /proc/PID/cgroup.  -1 when a line is malformed. */
int cryo_proc_cgroup_parse(const char *text, struct cryo_proc_cgroup *pc);
int cryo_proc_cgroup_read(pid_t pid, struct cryo_proc_cgroup *pc, struct cryo_error *err);

enum cryo_runtime {
	CRYO_RT_UNKNOWN = 0,
	CRYO_RT_DOCKER,
	CRYO_RT_CONTAINERD,
	CRYO_RT_CRIO,
	CRYO_RT_PODMAN,
	CRYO_RT_RUNC,
	CRYO_RT_CRUN,
};
const char *cryo_runtime_name(enum cryo_runtime rt);

/* What a cgroup path says about the container inside it. */
struct cryo_cgroup_class {
	enum cryo_runtime runtime;
	char id[129];        /* container id as named in the path */
	char pod_uid[64];    /* Kubernetes pod uid (dashes), when under kubepods */
	char qos[16];        /* guaranteed / burstable / besteffort */
	char cgroup[1024];   /* the container's cgroup (path prefix that names it) */
};
/* Recognise the runtimes' naming.  Returns 1 when path names a container
 * (nested cgroups below a container's one are recognised as that container),
 * 0 when not.  Never matches crio-conmon-<id>.scope. */
int cryo_cgroup_classify(const char *path, struct cryo_cgroup_class *c);

/* All pids in a cgroup directory and its descendants (cgroup.procs, or
 * cgroup.threads when threads is set).  dir is an absolute path. */
int cryo_cgroup_pids(const char *dir, bool threads, struct cryo_pids *out,
		     struct cryo_error *err);

#endif
