#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/runtime.h"
#include "cryo/util.h"

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static double get_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static pid_t valid_pid(double v)
{
	return (v >= 1 && v <= INT_MAX) ? (pid_t)v : 0;
}

static uint64_t valid_u64(double v)
{
	return (v >= 0 && v < 1.8e19) ? (uint64_t)v : 0;
}

int cryo_oci_state_parse(const char *json, size_t len, struct cryo_oci_state *s)
{
	memset(s, 0, sizeof(*s));
	cleanup_cjson cJSON *root = cryo_json_parse(json, len);
	if (!cJSON_IsObject(root))
		return -1;
	copy_str(s->id, sizeof(s->id), cryo_json_get_str(root, "id"));
	copy_str(s->created, sizeof(s->created), cryo_json_get_str(root, "created"));
	if (cJSON_GetObjectItemCaseSensitive(root, "init_process_pid")) {
		/* runc (libcontainer) */
		s->init_pid = valid_pid(get_num(root, "init_process_pid", 0));
		s->init_start = valid_u64(get_num(root, "init_process_start", 0));
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
		copy_str(s->rootfs, sizeof(s->rootfs), cryo_json_get_str(cfg, "rootfs"));
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "labels"), *l;
		cJSON_ArrayForEach(l, labels)
			if (cJSON_IsString(l) && cryo_has_prefix(l->valuestring, "bundle="))
				copy_str(s->bundle, sizeof(s->bundle), l->valuestring + 7);
		const cJSON *cg = cJSON_GetObjectItemCaseSensitive(root, "cgroup_paths");
		copy_str(s->cgroup_v2, sizeof(s->cgroup_v2), cryo_json_get_str(cg, ""));
		copy_str(s->freezer, sizeof(s->freezer), cryo_json_get_str(cg, "freezer"));
	} else if (cJSON_GetObjectItemCaseSensitive(root, "pid")) {
		/* crun status file */
		s->init_pid = valid_pid(get_num(root, "pid", 0));
		s->init_start = valid_u64(get_num(root, "process-start-time", 0));
		copy_str(s->rootfs, sizeof(s->rootfs), cryo_json_get_str(root, "rootfs"));
		copy_str(s->bundle, sizeof(s->bundle), cryo_json_get_str(root, "bundle"));
		const char *cgp = cryo_json_get_str(root, "cgroup-path");
		copy_str(s->cgroup_v2, sizeof(s->cgroup_v2), cgp);
	} else {
		return -1;
	}
	return s->init_pid ? 0 : -1;
}

int cryo_docker_config_parse(const char *json, size_t len, struct cryo_docker_config *d)
{
	memset(d, 0, sizeof(*d));
	cleanup_cjson cJSON *root = cryo_json_parse(json, len);
	if (!cJSON_IsObject(root))
		return -1;
	copy_str(d->id, sizeof(d->id), cryo_json_get_str(root, "ID"));
	const char *name = cryo_json_get_str(root, "Name");
	copy_str(d->name, sizeof(d->name), name && name[0] == '/' ? name + 1 : name);
	copy_str(d->image_id, sizeof(d->image_id), cryo_json_get_str(root, "Image"));
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "Config");
	copy_str(d->image, sizeof(d->image), cryo_json_get_str(cfg, "Image"));
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
	copy_str(d->pod_name, sizeof(d->pod_name), cryo_json_get_str(labels, "io.kubernetes.pod.name"));
	copy_str(d->pod_namespace, sizeof(d->pod_namespace),
		 cryo_json_get_str(labels, "io.kubernetes.pod.namespace"));
	copy_str(d->k8s_container, sizeof(d->k8s_container),
		 cryo_json_get_str(labels, "io.kubernetes.container.name"));
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "State");
	d->running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "Running"));
	d->paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "Paused"));
	d->pid = valid_pid(get_num(st, "Pid", 0));
	return d->id[0] ? 0 : -1;
}

int cryo_bundle_config_parse(const char *json, size_t len, struct cryo_bundle_meta *b)
{
	memset(b, 0, sizeof(*b));
	cleanup_cjson cJSON *root = cryo_json_parse(json, len);
	if (!cJSON_IsObject(root))
		return -1;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "annotations");
	if (!cJSON_IsObject(a))
		return 0;
	/* containerd CRI and CRI-O use different annotation keys */
	const char *v;
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.sandbox-name")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.pod.name")))
		copy_str(b->pod_name, sizeof(b->pod_name), v);
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.sandbox-namespace")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.pod.namespace")))
		copy_str(b->pod_namespace, sizeof(b->pod_namespace), v);
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.sandbox-uid")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.pod.uid")))
		copy_str(b->pod_uid, sizeof(b->pod_uid), v);
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.container-name")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.container.name")))
		copy_str(b->container_name, sizeof(b->container_name), v);
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.image-name")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.cri-o.ImageName")))
		copy_str(b->image, sizeof(b->image), v);
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.sandbox-id")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.cri-o.SandboxID")))
		copy_str(b->sandbox_id, sizeof(b->sandbox_id), v);
	if ((v = cryo_json_get_str(a, "io.kubernetes.cri.container-type")) ||
	    (v = cryo_json_get_str(a, "io.kubernetes.cri-o.ContainerType")))
		b->sandbox = strcmp(v, "sandbox") == 0;
	return 0;
}

int cryo_storage_containers_find(const char *json, size_t len, const char *id,
				 struct cryo_storage_entry *e)
{
	memset(e, 0, sizeof(*e));
	cleanup_cjson cJSON *root = cryo_json_parse(json, len);
	if (!cJSON_IsArray(root))
		return -1;
	const cJSON *c;
	cJSON_ArrayForEach(c, root) {
		const char *cid = cryo_json_get_str(c, "id");
		if (!cid || strcmp(cid, id) != 0)
			continue;
		copy_str(e->id, sizeof(e->id), cid);
		const cJSON *names = cJSON_GetObjectItemCaseSensitive(c, "names");
		const cJSON *n0 = cJSON_GetArrayItem(names, 0);
		if (cJSON_IsString(n0))
			copy_str(e->name, sizeof(e->name), n0->valuestring);
		copy_str(e->image, sizeof(e->image), cryo_json_get_str(c, "image"));
		return 1;
	}
	return 0;
}

void cryo_runtime_states_free(struct cryo_runtime_states *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int add_state(const char *dir, const char *file, enum cryo_runtime rt, const char *ns,
		     struct cryo_runtime_states *out)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct cryo_error e;
	if (cryo_read_file_at(AT_FDCWD, path, CRYO_STATE_MAX, true, &text, &len, &e) < 0)
		return 0; /* a container being created or deleted: not there yet */
	struct cryo_runtime_state st = { .runtime = rt };
	if (cryo_oci_state_parse(text, len, &st.st) < 0)
		return 0;
	copy_str(st.ns, sizeof(st.ns), ns);
	copy_str(st.state_dir, sizeof(st.state_dir), dir);
	if (!st.st.id[0]) {
		const char *slash = strrchr(dir, '/');
		copy_str(st.st.id, sizeof(st.st.id), slash ? slash + 1 : dir);
	}
	struct cryo_runtime_state *nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	out->v = nv;
	out->v[out->n++] = st;
	return 0;
}

/* root/<id>/<file> for every id; with nested set, root/<ns>/<id>/<file>. */
static int scan_dir(const char *root, bool nested, const char *file, enum cryo_runtime rt,
		    const char *fixed_ns, struct cryo_runtime_states *out)
{
	cleanup_closedir DIR *d = opendir(root);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "%s/%s", root, de->d_name);
		int rc = nested ? scan_dir(sub, false, file, rt, de->d_name, out)
				: add_state(sub, file, rt, fixed_ns, out);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int cryo_runtime_states_scan(const char *root, struct cryo_runtime_states *out,
			     struct cryo_error *err)
{
	memset(out, 0, sizeof(*out));
	static const struct {
		const char *dir;
		bool nested;
		const char *file;
		enum cryo_runtime rt;
		const char *ns;
	} places[] = {
		{ "/run/runc", false, "state.json", CRYO_RT_RUNC, "" },
		{ "/run/crun", false, "status", CRYO_RT_CRUN, "" },
		{ "/run/docker/runtime-runc", true, "state.json", CRYO_RT_DOCKER, NULL },
		{ "/run/containerd/runc", true, "state.json", CRYO_RT_CONTAINERD, NULL },
		{ "/run/containerd/crun", true, "status", CRYO_RT_CONTAINERD, NULL },
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(places); i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s%s", root, places[i].dir);
		if (scan_dir(dir, places[i].nested, places[i].file, places[i].rt, places[i].ns, out) < 0) {
			cryo_runtime_states_free(out);
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "scanning runtime state");
		}
	}
	return 0;
}
