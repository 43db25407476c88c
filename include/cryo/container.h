/* Discovery: the containers on this host, from kernel state first
 * (the cgroup tree, /proc/PID/cgroup, /proc/PID/mountinfo, /proc/PID/ns),
 * enriched from runtime state on disk. */
#ifndef CRYO_CONTAINER_H
#define CRYO_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "cryo/cgroup.h"
#include "cryo/mountinfo.h"
#include "cryo/error.h"

struct cryo_container {
	char id[129];
	char name[256];
	enum cryo_runtime runtime;
	char image[512];
	pid_t init_pid;
	uint64_t init_start;
	char cgroup_v2[1024];  /* relative to the v2 root; empty: none */
	char freezer[1024];    /* relative to the v1 freezer root; empty: none */
	char pod_uid[64], pod_name[256], pod_namespace[256], k8s_container[256];
	char qos[16];
	char bundle[1024];
	char state_dir[1024];
	char created[64];
	bool sandbox;
	/* filled by cryo_container_inspect() */
	bool inspected;
	struct cryo_pids pids;
	bool frozen;
	char rootfs_type[32];
	struct cryo_overlay rootfs;
	struct { const char *name; uint64_t ino; } ns[8];
	size_t nns;
};

struct cryo_containers {
	struct cryo_container *v;
	size_t n;
	struct cryo_cgroup_roots roots;
};

/* Find the containers.  Fast: walks the cgroup tree (a few hundred
 * directories) and the runtime state directories, reading one /proc file per
 * container, not one per process. */
int cryo_discover(struct cryo_containers *out, struct cryo_error *err);
void cryo_containers_free(struct cryo_containers *c);

/* Pids, freeze state, rootfs layers and namespaces of one container. */
int cryo_container_inspect(const struct cryo_cgroup_roots *roots, struct cryo_container *c,
			   struct cryo_error *err);

/* Absolute cgroup directories ("" when absent). */
void cryo_container_v2_dir(const struct cryo_cgroup_roots *roots, const struct cryo_container *c,
			   char *buf, size_t size);
void cryo_container_freezer_dir(const struct cryo_cgroup_roots *roots,
				const struct cryo_container *c, char *buf, size_t size);

/* The id as people see it: 12 hex digits for 64-hex ids (Docker, Falco),
 * the whole id otherwise (runc ids are names). */
const char *cryo_container_short_id(const struct cryo_container *c, char buf[130]);

/* Add the fields that name a container (id, short_id, name) to obj: every
 * tool's JSON names containers the same way. */
void cryo_container_json_identity(cJSON *obj, const struct cryo_container *c);

/* The whole record as JSON (what cryo-ls --json prints). */
cJSON *cryo_container_to_json(const struct cryo_container *c);

#endif
