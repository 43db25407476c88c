/* Runtime state read from disk, never from a daemon: runc/crun state,
 * Docker config.v2.json, containerd bundle config.json, Podman/CRI-O
 * containers.json.  All of it is attacker-influenced (a container name, an
 * annotation): parsers bound sizes and never trust lengths. */
#ifndef CRYO_RUNTIME_H
#define CRYO_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cryo/error.h"
#include "cryo/cgroup.h"

#define CRYO_STATE_MAX (4u << 20) /* no state file we read is bigger */

/* runc/crun state.json (libcontainer format). */
struct cryo_oci_state {
	char id[129];
	pid_t init_pid;
	uint64_t init_start; /* clock ticks, as /proc/PID/stat field 22 */
	char created[64];
	char bundle[1024];
	char rootfs[1024];
	char cgroup_v2[1024];   /* absolute, from cgroup_paths[""] */
	char freezer[1024];     /* absolute, from cgroup_paths["freezer"] */
};
int cryo_oci_state_parse(const char *json, size_t len, struct cryo_oci_state *s);

/* Docker /var/lib/docker/containers/<id>/config.v2.json */
struct cryo_docker_config {
	char id[129];
	char name[256];
	char image[512];     /* as the user named it (Config.Image) */
	char image_id[160];  /* sha256:... */
	bool running, paused;
	pid_t pid;
	char pod_name[256], pod_namespace[256], k8s_container[256]; /* dockershim labels */
};
int cryo_docker_config_parse(const char *json, size_t len, struct cryo_docker_config *d);

/* OCI bundle config.json annotations (containerd/CRI-O with Kubernetes). */
struct cryo_bundle_meta {
	char pod_name[256], pod_namespace[256], pod_uid[64];
	char container_name[256];
	char image[512];
	char sandbox_id[129];
	bool sandbox; /* the pod's pause container */
};
int cryo_bundle_config_parse(const char *json, size_t len, struct cryo_bundle_meta *b);

/* Podman/CRI-O containers.json: find the entry for id. Returns 1 found, 0 not. */
struct cryo_storage_entry {
	char id[129];
	char name[256];
	char image[160];
};
int cryo_storage_containers_find(const char *json, size_t len, const char *id,
				 struct cryo_storage_entry *e);

/* Every runc-format state found under the known state roots. */
struct cryo_runtime_state {
	enum cryo_runtime runtime;
	char ns[64]; /* containerd namespace / "moby" */
	char state_dir[1024];
	struct cryo_oci_state st;
};
struct cryo_runtime_states {
	struct cryo_runtime_state *v;
	size_t n;
};
/* root: prefix for tests ("" for the real host). */
int cryo_runtime_states_scan(const char *root, struct cryo_runtime_states *out,
			     struct cryo_error *err);
void cryo_runtime_states_free(struct cryo_runtime_states *s);

#endif
