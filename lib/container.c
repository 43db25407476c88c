#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cryo/cleanup.h"
#include "cryo/container.h"
#include "cryo/output.h"
#include "cryo/runtime.h"

void cryo_containers_free(struct cryo_containers *c)
{
	for (size_t i = 0; i < c->n; i++) {
		cryo_pids_free(&c->v[i].pids);
		cryo_overlay_free(&c->v[i].rootfs);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static struct cryo_container *find_id(struct cryo_containers *all, const char *id)
{
	for (size_t i = 0; i < all->n; i++)
		if (strcmp(all->v[i].id, id) == 0)
			return &all->v[i];
	return NULL;
}

static struct cryo_container *add(struct cryo_containers *all, const char *id)
{
	struct cryo_container *nv = realloc(all->v, (all->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	all->v = nv;
	struct cryo_container *c = &all->v[all->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	return c;
}

/* Walk a cgroup hierarchy for directories that runtimes name as containers.
 * A container's own sub-cgroups are not descended into. */
static int walk(struct cryo_containers *all, int dirfd, char *rel, size_t rel_len, bool v2,
		int depth)
{
	if (depth > 64) /* the host's own tree; runtimes nest a handful deep */
		return 0;
	int dfd = dup(dirfd);
	if (dfd < 0)
		return 0;
	cleanup_closedir DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || cryo_is_dot(de->d_name))
			continue;
		size_t nl = strlen(de->d_name);
		if (rel_len + 1 + nl >= PATH_MAX)
			continue;
		rel[rel_len] = '/';
		memcpy(rel + rel_len + 1, de->d_name, nl + 1);
		struct cryo_cgroup_class cl;
		if (cryo_cgroup_classify(rel, &cl) == 1 && strcmp(cl.cgroup, rel) == 0) {
			struct cryo_container *c = find_id(all, cl.id);
			if (!c && !(c = add(all, cl.id)))
				return -1;
			c->runtime = c->runtime ? c->runtime : cl.runtime;
			snprintf(c->pod_uid, sizeof(c->pod_uid), "%s", cl.pod_uid);
			snprintf(c->qos, sizeof(c->qos), "%s", cl.qos);
			snprintf(v2 ? c->cgroup_v2 : c->freezer, sizeof(c->cgroup_v2), "%s", rel);
		} else {
			cleanup_close int sub =
				openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0 && walk(all, sub, rel, rel_len + 1 + nl, v2, depth + 1) < 0)
				return -1;
		}
		rel[rel_len] = '\0';
	}
	return 0;
}

static int walk_root(struct cryo_containers *all, const char *root, bool v2)
{
	if (!root[0])
		return 0;
	cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char rel[PATH_MAX] = "";
	return walk(all, fd, rel, 0, v2, 0);
}

static void strip_root(char *dst, size_t size, const char *abs, const char *root)
{
	size_t rl = strlen(root);
	if (rl && strncmp(abs, root, rl) == 0 && (abs[rl] == '/' || abs[rl] == '\0'))
		snprintf(dst, size, "%s", abs[rl] ? abs + rl : "/");
}

/* The cgroup path that names the container: the classified prefix of the
 * process's own (possibly nested) cgroup, or the whole path. */
static void container_cgroup(char *dst, size_t size, const char *proc_path)
{
	struct cryo_cgroup_class cl;
	if (cryo_cgroup_classify(proc_path, &cl) == 1)
		snprintf(dst, size, "%s", cl.cgroup);
	else if (strcmp(proc_path, "/") != 0)
		snprintf(dst, size, "%s", proc_path);
	/* A process left in the root cgroup of a hierarchy (a hybrid host where
	 * the runtime only made a v2 cgroup): that root is the whole host, never
	 * the container's; leave the path empty so nothing acts on it. */
}

/* Without runtime state, the init is the process of the cgroup whose parent
 * is outside it: start from the lowest pid and climb. */
static void find_init(const struct cryo_cgroup_roots *roots, struct cryo_container *c)
{
	char dir[PATH_MAX];
	cryo_container_v2_dir(roots, c, dir, sizeof(dir));
	if (!dir[0])
		cryo_container_freezer_dir(roots, c, dir, sizeof(dir));
	struct cryo_pids p = { 0 };
	struct cryo_error e;
	if (!dir[0] || cryo_cgroup_pids(dir, false, &p, &e) < 0 || p.n == 0) {
		cryo_pids_free(&p);
		return;
	}
	pid_t cur = p.v[0];
	for (size_t i = 1; i < p.n; i++)
		if (p.v[i] < cur)
			cur = p.v[i];
	for (int hops = 0; hops < 64; hops++) {
		struct cryo_proc_stat st;
		if (cryo_proc_stat_read(cur, &st, &e) < 0)
			break;
		c->init_pid = cur;
		c->init_start = st.start_time;
		bool inside = false;
		for (size_t i = 0; i < p.n && !inside; i++)
			inside = p.v[i] == st.ppid;
		if (!inside)
			break;
		cur = st.ppid;
	}
	cryo_pids_free(&p);
}

static void read_docker(struct cryo_container *c, const char *data_root)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", data_root, c->id);
	cleanup_free char *text = NULL;
	size_t len;
	struct cryo_error e;
	if (cryo_read_file_at(AT_FDCWD, path, CRYO_STATE_MAX, true, &text, &len, &e) < 0)
		return;
	struct cryo_docker_config d;
	if (cryo_docker_config_parse(text, len, &d) < 0)
		return;
	c->runtime = CRYO_RT_DOCKER;
	snprintf(c->name, sizeof(c->name), "%s", d.name);
	snprintf(c->image, sizeof(c->image), "%s", d.image[0] ? d.image : d.image_id);
	if (d.pod_name[0]) {
		snprintf(c->pod_name, sizeof(c->pod_name), "%s", d.pod_name);
		snprintf(c->pod_namespace, sizeof(c->pod_namespace), "%s", d.pod_namespace);
		snprintf(c->k8s_container, sizeof(c->k8s_container), "%s", d.k8s_container);
	}
}

static void read_bundle(struct cryo_container *c, const char *bundle)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	cleanup_free char *text = NULL;
	size_t len;
	struct cryo_error e;
	if (cryo_read_file_at(AT_FDCWD, path, CRYO_STATE_MAX, true, &text, &len, &e) < 0)
		return;
	struct cryo_bundle_meta b;
	if (cryo_bundle_config_parse(text, len, &b) < 0)
		return;
	if (b.pod_name[0]) {
		snprintf(c->pod_name, sizeof(c->pod_name), "%s", b.pod_name);
		snprintf(c->pod_namespace, sizeof(c->pod_namespace), "%s", b.pod_namespace);
		snprintf(c->k8s_container, sizeof(c->k8s_container), "%s",
			 b.sandbox ? "POD" : b.container_name);
		if (b.pod_uid[0] && !c->pod_uid[0])
			snprintf(c->pod_uid, sizeof(c->pod_uid), "%s", b.pod_uid);
		c->sandbox = b.sandbox;
	}
	if (b.image[0] && !c->image[0])
		snprintf(c->image, sizeof(c->image), "%s", b.image);
}

static void read_storage(struct cryo_container *c)
{
	static const char *const files[] = {
		"/var/lib/containers/storage/overlay-containers/containers.json",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(files); i++) {
		cleanup_free char *text = NULL;
		size_t len;
		struct cryo_error e;
		if (cryo_read_file_at(AT_FDCWD, files[i], 64u << 20, true, &text, &len, &e) < 0)
			continue;
		struct cryo_storage_entry se;
		if (cryo_storage_containers_find(text, len, c->id, &se) == 1) {
			if (!c->name[0])
				snprintf(c->name, sizeof(c->name), "%s", se.name);
			if (!c->image[0])
				snprintf(c->image, sizeof(c->image), "%s", se.image);
		}
	}
}

static int cmp_container(const void *a, const void *b)
{
	const struct cryo_container *x = a, *y = b;
	int r = strcmp(x->name[0] ? x->name : x->id, y->name[0] ? y->name : y->id);
	return r ? r : strcmp(x->id, y->id);
}

int cryo_discover(struct cryo_containers *out, struct cryo_error *err)
{
	memset(out, 0, sizeof(*out));
	if (cryo_cgroup_roots(&out->roots, err) < 0)
		return -1;
	const struct cryo_cgroup_roots *roots = &out->roots;
	if (walk_root(out, roots->v2, true) < 0 || walk_root(out, roots->freezer, false) < 0) {
		cryo_containers_free(out);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "walking cgroups");
	}
	struct cryo_runtime_states states;
	if (cryo_runtime_states_scan("", &states, err) < 0) {
		cryo_containers_free(out);
		return -1;
	}
	for (size_t i = 0; i < states.n; i++) {
		const struct cryo_runtime_state *s = &states.v[i];
		/* A state whose init is gone (or is another process now) is a
		 * stopped container: not one we can act on. */
		struct cryo_proc_stat st;
		struct cryo_error e;
		if (cryo_proc_stat_read(s->st.init_pid, &st, &e) < 0 ||
		    (s->st.init_start && st.start_time != s->st.init_start))
			continue;
		/* An init that exited but was not reaped yet (runc -d leaves it to
		 * whatever adopts it) has already left its cgroup. */
		if (st.state == 'Z' || st.state == 'X')
			continue;
		struct cryo_container *c = find_id(out, s->st.id);
		if (!c && !(c = add(out, s->st.id))) {
			cryo_runtime_states_free(&states);
			cryo_containers_free(out);
			return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "discovery");
		}
		if (!c->runtime)
			c->runtime = s->runtime;
		c->init_pid = s->st.init_pid;
		c->init_start = st.start_time;
		snprintf(c->bundle, sizeof(c->bundle), "%s", s->st.bundle);
		snprintf(c->state_dir, sizeof(c->state_dir), "%s", s->state_dir);
		snprintf(c->created, sizeof(c->created), "%s", s->st.created);
		/* the runtime's own record wins over names seen in the tree walk,
		 * which a container with a writable cgroup could forge */
		if (s->st.cgroup_v2[0])
			strip_root(c->cgroup_v2, sizeof(c->cgroup_v2), s->st.cgroup_v2, roots->v2);
		if (s->st.freezer[0])
			strip_root(c->freezer, sizeof(c->freezer), s->st.freezer, roots->freezer);
		if (s->runtime == CRYO_RT_DOCKER || strcmp(s->ns, "moby") == 0) {
			/* .../docker/overlay2/<layer>/merged -> the data root */
			char data_root[PATH_MAX];
			snprintf(data_root, sizeof(data_root), "%s", s->st.rootfs);
			for (int up = 0; up < 3; up++) {
				char *sl = strrchr(data_root, '/');
				if (sl)
					*sl = '\0';
			}
			if (!data_root[0] || !strstr(s->st.rootfs, "/overlay2/"))
				snprintf(data_root, sizeof(data_root), "/var/lib/docker");
			read_docker(c, data_root);
		}
		if (c->bundle[0])
			read_bundle(c, c->bundle);
	}
	cryo_runtime_states_free(&states);

	for (size_t i = 0; i < out->n; i++) {
		struct cryo_container *c = &out->v[i];
		if (!c->init_pid)
			find_init(roots, c);
		if (c->init_pid) {
			/* The init's own /proc/PID/cgroup is the truth for both trees. */
			struct cryo_proc_cgroup pc;
			struct cryo_error e;
			if (cryo_proc_cgroup_read(c->init_pid, &pc, &e) == 0) {
				if (pc.v2[0] && roots->v2[0] && !c->cgroup_v2[0])
					container_cgroup(c->cgroup_v2, sizeof(c->cgroup_v2), pc.v2);
				if (pc.freezer[0] && roots->freezer[0] && !c->freezer[0])
					container_cgroup(c->freezer, sizeof(c->freezer), pc.freezer);
			}
		}
		if (c->runtime == CRYO_RT_DOCKER && !c->name[0])
			read_docker(c, "/var/lib/docker");
		if (c->runtime == CRYO_RT_PODMAN || c->runtime == CRYO_RT_CRIO)
			read_storage(c);
		if (!c->name[0] && (c->runtime == CRYO_RT_RUNC || c->runtime == CRYO_RT_CRUN))
			snprintf(c->name, sizeof(c->name), "%s", c->id); /* runc ids are names */
		if (!c->name[0]) {
			if (c->pod_name[0] && c->k8s_container[0])
				snprintf(c->name, sizeof(c->name), "%.80s/%.80s/%.80s", c->pod_namespace,
					 c->pod_name, c->k8s_container);
		}
	}
	/* Drop candidates with no process at all (an empty cgroup left behind). */
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].init_pid)
			out->v[w++] = out->v[i];
	out->n = w;
	qsort(out->v, out->n, sizeof(*out->v), cmp_container);
	return 0;
}

void cryo_container_v2_dir(const struct cryo_cgroup_roots *roots, const struct cryo_container *c,
			   char *buf, size_t size)
{
	if (roots->v2[0] && c->cgroup_v2[0])
		snprintf(buf, size, "%s%s", roots->v2, strcmp(c->cgroup_v2, "/") ? c->cgroup_v2 : "");
	else if (size)
		buf[0] = '\0';
}

void cryo_container_freezer_dir(const struct cryo_cgroup_roots *roots,
				const struct cryo_container *c, char *buf, size_t size)
{
	if (roots->freezer[0] && c->freezer[0])
		snprintf(buf, size, "%s%s", roots->freezer, strcmp(c->freezer, "/") ? c->freezer : "");
	else if (size)
		buf[0] = '\0';
}

static bool read_frozen(const struct cryo_cgroup_roots *roots, const struct cryo_container *c)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	cleanup_free char *text = NULL;
	struct cryo_error e;
	cryo_container_v2_dir(roots, c, dir, sizeof(dir));
	if (dir[0]) {
		snprintf(path, sizeof(path), "%s/cgroup.events", dir);
		if (cryo_read_file_at(AT_FDCWD, path, 4096, false, &text, NULL, &e) == 0 &&
		    strstr(text, "frozen 1"))
			return true;
	}
	free(text);
	text = NULL;
	cryo_container_freezer_dir(roots, c, dir, sizeof(dir));
	if (dir[0]) {
		snprintf(path, sizeof(path), "%s/freezer.state", dir);
		if (cryo_read_file_at(AT_FDCWD, path, 4096, false, &text, NULL, &e) == 0 &&
		    cryo_has_prefix(text, "FROZEN"))
			return true;
	}
	return false;
}

int cryo_container_inspect(const struct cryo_cgroup_roots *roots, struct cryo_container *c,
			   struct cryo_error *err)
{
	char dir[PATH_MAX], path[64];
	cryo_pids_free(&c->pids);
	cryo_overlay_free(&c->rootfs);
	cryo_container_v2_dir(roots, c, dir, sizeof(dir));
	if (!dir[0])
		cryo_container_freezer_dir(roots, c, dir, sizeof(dir));
	if (dir[0] && cryo_cgroup_pids(dir, false, &c->pids, err) < 0)
		return -1;
	c->frozen = read_frozen(roots, c);

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)c->init_pid);
	cleanup_free char *mi = NULL;
	if (cryo_read_file_at(AT_FDCWD, path, 16u << 20, false, &mi, NULL, err) < 0)
		return cryo_error_wrap(err, "container %s", c->name[0] ? c->name : c->id);
	int ov = cryo_mountinfo_root_overlay(mi, &c->rootfs, c->rootfs_type, sizeof(c->rootfs_type), err);
	if (ov < 0)
		return cryo_error_wrap(err, "container %s root filesystem", c->name[0] ? c->name : c->id);
	if (ov == 1) {
		const char *bases[] = { "/var/lib/docker/overlay2",
					"/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots",
					"/var/lib/containers/storage/overlay" };
		if (cryo_overlay_resolve(&c->rootfs, bases, CRYO_ARRAY_SIZE(bases), err) < 0)
			return cryo_error_wrap(err, "container %s root filesystem", c->name[0] ? c->name : c->id);
	}
	static const char *const nsnames[] = { "cgroup", "ipc", "mnt", "net", "pid", "user", "uts", "time" };
	c->nns = 0;
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(nsnames); i++) {
		char p[96];
		struct stat st;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)c->init_pid, nsnames[i]);
		if (stat(p, &st) == 0) {
			c->ns[c->nns].name = nsnames[i];
			c->ns[c->nns++].ino = st.st_ino;
		}
	}
	c->inspected = true;
	return 0;
}

const char *cryo_container_short_id(const struct cryo_container *c, char buf[130])
{
	size_t n = strlen(c->id);
	snprintf(buf, 130, "%.*s", (n == 64 && cryo_is_hex(c->id, n)) ? 12 : 129, c->id);
	return buf;
}

void cryo_container_json_identity(cJSON *obj, const struct cryo_container *c)
{
	char shortid[130];
	cryo_json_str(obj, "id", c->id);
	cryo_json_str(obj, "short_id", cryo_container_short_id(c, shortid));
	cryo_json_str(obj, "name", c->name);
}

cJSON *cryo_container_to_json(const struct cryo_container *c)
{
	cJSON *o = cJSON_CreateObject();
	cryo_container_json_identity(o, c);
	cryo_json_str(o, "runtime", cryo_runtime_name(c->runtime));
	cryo_json_str(o, "image", c->image);
	cryo_json_num(o, "init_pid", c->init_pid);
	cryo_json_num(o, "init_start_ticks", (double)c->init_start);
	cryo_json_str(o, "created", c->created);
	cJSON *cg = cJSON_AddObjectToObject(o, "cgroup");
	cryo_json_str(cg, "v2", c->cgroup_v2);
	cryo_json_str(cg, "freezer", c->freezer);
	if (c->pod_uid[0] || c->pod_name[0]) {
		cJSON *pod = cJSON_AddObjectToObject(o, "pod");
		cryo_json_str(pod, "uid", c->pod_uid);
		cryo_json_str(pod, "name", c->pod_name);
		cryo_json_str(pod, "namespace", c->pod_namespace);
		cryo_json_str(pod, "container", c->k8s_container);
		cryo_json_str(pod, "qos", c->qos);
		cryo_json_bool(pod, "sandbox", c->sandbox);
	} else {
		cJSON_AddNullToObject(o, "pod");
	}
	cryo_json_str(o, "bundle", c->bundle);
	cryo_json_str(o, "state_dir", c->state_dir);
	if (c->inspected) {
		cryo_json_str(o, "state", c->frozen ? "frozen" : "running");
		cryo_json_num(o, "processes", (double)c->pids.n);
		cJSON *pids = cJSON_AddArrayToObject(o, "pids");
		for (size_t i = 0; i < c->pids.n; i++)
			cJSON_AddItemToArray(pids, cJSON_CreateNumber(c->pids.v[i]));
		cJSON *rf = cJSON_AddObjectToObject(o, "rootfs");
		cryo_json_str(rf, "type", c->rootfs_type);
		cryo_json_str(rf, "upperdir", c->rootfs.upperdir);
		cryo_json_str(rf, "workdir", c->rootfs.workdir);
		cJSON *low = cJSON_AddArrayToObject(rf, "lowerdir");
		for (size_t i = 0; i < c->rootfs.nlower; i++)
			cJSON_AddItemToArray(low, cJSON_CreateString(c->rootfs.lowerdir[i]));
		cJSON *ns = cJSON_AddObjectToObject(o, "namespaces");
		for (size_t i = 0; i < c->nns; i++)
			cryo_json_num(ns, c->ns[i].name, (double)c->ns[i].ino);
	}
	return o;
}
