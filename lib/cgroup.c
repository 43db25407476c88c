#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cgroup.h"
#include "cryo/cleanup.h"
#include "cryo/mountinfo.h"

const char *cryo_runtime_name(enum cryo_runtime rt)
{
	switch (rt) {
	case CRYO_RT_DOCKER: return "docker";
	case CRYO_RT_CONTAINERD: return "containerd";
	case CRYO_RT_CRIO: return "cri-o";
	case CRYO_RT_PODMAN: return "podman";
	case CRYO_RT_RUNC: return "runc";
	case CRYO_RT_CRUN: return "crun";
	default: return "unknown";
	}
}

static bool has_opt(const char *opts, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = opts; p && *p;) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

int cryo_cgroup_roots_parse(char *mountinfo, struct cryo_cgroup_roots *r)
{
	memset(r, 0, sizeof(*r));
	bool v1 = false;
	char *save = NULL;
	for (char *line = strtok_r(mountinfo, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cryo_mount m;
		if (cryo_mountinfo_parse_line(line, &m) < 0)
			continue;
		/* Only hierarchies mounted at their root: a bind of a sub-cgroup
		 * would give wrong relative paths. */
		if (strcmp(m.root, "/") != 0 || strlen(m.mountpoint) >= sizeof(r->v2))
			continue;
		if (strcmp(m.fstype, "cgroup2") == 0 && !r->v2[0]) {
			snprintf(r->v2, sizeof(r->v2), "%s", m.mountpoint);
		} else if (strcmp(m.fstype, "cgroup") == 0) {
			v1 = true;
			if (has_opt(m.super_opts, "freezer") && !r->freezer[0])
				snprintf(r->freezer, sizeof(r->freezer), "%s", m.mountpoint);
		}
	}
	r->hybrid = v1 && r->v2[0];
	return (r->v2[0] || r->freezer[0]) ? 0 : -1;
}

int cryo_cgroup_roots(struct cryo_cgroup_roots *r, struct cryo_error *err)
{
	static struct cryo_cgroup_roots cache;
	static bool cached;
	if (cached) {
		*r = cache;
		return 0;
	}
	cleanup_free char *text = NULL;
	if (cryo_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16u << 20, false, &text, NULL, err) < 0)
		return cryo_error_wrap(err, "finding cgroup mounts");
	if (cryo_cgroup_roots_parse(text, r) < 0)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				      "no cgroup2 or v1 freezer hierarchy is mounted");
	cache = *r;
	cached = true;
	return 0;
}

int cryo_proc_cgroup_parse(const char *text, struct cryo_proc_cgroup *pc)
{
	memset(pc, 0, sizeof(*pc));
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		/* "hierarchy-ID:controller-list:cgroup-path"; the path may hold ':' */
		const char *c1 = memchr(p, ':', n);
		const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - p)) : NULL;
		if (n && (!c1 || !c2 || c1 == p))
			return -1;
		if (n) {
			for (const char *d = p; d < c1; d++)
				if (*d < '0' || *d > '9')
					return -1;
			size_t clen = (size_t)(c2 - c1 - 1);
			const char *ctrl = c1 + 1, *path = c2 + 1;
			size_t plen = n - (size_t)(path - p);
			char *dst = NULL;
			if (clen == 0 && c1 - p == 1 && p[0] == '0')
				dst = pc->v2;
			else if (clen == 12 && strncmp(ctrl, "name=systemd", 12) == 0)
				dst = pc->systemd;
			else {
				/* controller lists may be joint: "cpu,cpuacct" */
				for (const char *q = ctrl; q < ctrl + clen;) {
					const char *e = memchr(q, ',', (size_t)(ctrl + clen - q));
					size_t l = e ? (size_t)(e - q) : (size_t)(ctrl + clen - q);
					if (l == 7 && strncmp(q, "freezer", 7) == 0)
						dst = pc->freezer;
					q += l + 1;
				}
			}
			if (dst) {
				if (plen >= sizeof(pc->v2) || plen == 0 || path[0] != '/')
					return -1;
				memcpy(dst, path, plen);
				dst[plen] = '\0';
			}
		}
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

int cryo_proc_cgroup_read(pid_t pid, struct cryo_proc_cgroup *pc, struct cryo_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	cleanup_free char *text = NULL;
	if (cryo_read_file_at(AT_FDCWD, path, 64 * 1024, false, &text, NULL, err) < 0)
		return -1;
	if (cryo_proc_cgroup_parse(text, pc) < 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: cannot parse", path);
	return 0;
}

/* "<prefix><id><suffix>" with the id filling the middle. */
static bool match_wrapped(const char *comp, size_t n, const char *prefix, const char *suffix,
			  char *id, size_t idsize)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	if (n <= pl + sl || strncmp(comp, prefix, pl) != 0 || strncmp(comp + n - sl, suffix, sl) != 0)
		return false;
	size_t il = n - pl - sl;
	if (il >= idsize)
		return false;
	memcpy(id, comp + pl, il);
	id[il] = '\0';
	return true;
}

static bool is_id64(const char *s, size_t n)
{
	return n == 64 && cryo_is_hex(s, n);
}

/* kubepods-besteffort-pod1234_5678.slice -> uid with dashes */
static void pod_uid_from(const char *s, size_t n, char *out, size_t size)
{
	size_t i;
	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = s[i] == '_' ? '-' : s[i];
	out[i] = '\0';
}

int cryo_cgroup_classify(const char *path, struct cryo_cgroup_class *c)
{
	memset(c, 0, sizeof(*c));
	if (!path || path[0] != '/' || strlen(path) >= sizeof(c->cgroup))
		return 0;
	const char *comps[64];
	size_t lens[64], nc = 0;
	for (const char *p = path; *p && nc < 64;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		comps[nc] = p;
		lens[nc++] = l;
		p += l;
	}
	bool kube = false;
	for (size_t i = 0; i < nc; i++) {
		const char *s = comps[i];
		size_t n = lens[i];
		char tmp[160];
		bool hit = false;
		if (n >= 8 && strncmp(s, "kubepods", 8) == 0)
			kube = true;
		if (kube) {
			/* systemd driver: kubepods-<qos>-pod<uid>.slice / kubepods-pod<uid>.slice */
			const char *pod = NULL;
			for (size_t k = 0; k + 3 < n; k++)
				if (strncmp(s + k, "pod", 3) == 0 && (k == 0 || s[k - 1] == '-')) {
					pod = s + k + 3;
					break;
				}
			if (pod) {
				size_t pl = (size_t)(s + n - pod);
				if (pl > 6 && strncmp(s + n - 6, ".slice", 6) == 0)
					pl -= 6;
				pod_uid_from(pod, pl, c->pod_uid, sizeof(c->pod_uid));
			}
			const char *qs[] = { "besteffort", "burstable" };
			for (size_t q = 0; q < 2; q++)
				if (memmem(s, n, qs[q], strlen(qs[q])))
					snprintf(c->qos, sizeof(c->qos), "%s", qs[q]);
		}
		if (match_wrapped(s, n, "crio-conmon-", ".scope", tmp, sizeof(tmp)) ||
		    match_wrapped(s, n, "libpod-conmon-", ".scope", tmp, sizeof(tmp)))
			return 0; /* the monitor process, not the container */
		if (match_wrapped(s, n, "docker-", ".scope", c->id, sizeof(c->id))) {
			c->runtime = CRYO_RT_DOCKER;
			hit = true;
		} else if (match_wrapped(s, n, "cri-containerd-", ".scope", c->id, sizeof(c->id))) {
			c->runtime = CRYO_RT_CONTAINERD;
			hit = true;
		} else if (match_wrapped(s, n, "crio-", ".scope", c->id, sizeof(c->id))) {
			c->runtime = CRYO_RT_CRIO;
			hit = true;
		} else if (match_wrapped(s, n, "libpod-", ".scope", c->id, sizeof(c->id))) {
			c->runtime = CRYO_RT_PODMAN;
			hit = true;
		} else if (n == 5 + 64 && strncmp(s, "crio-", 5) == 0 && is_id64(s + 5, 64)) {
			/* CRI-O with the cgroupfs manager: no ".scope" */
			memcpy(c->id, s + 5, 64);
			c->id[64] = '\0';
			c->runtime = CRYO_RT_CRIO;
			hit = true;
		} else if (n == 7 + 64 && strncmp(s, "libpod-", 7) == 0 && is_id64(s + 7, 64)) {
			/* Podman with the cgroupfs manager: /libpod_parent/libpod-<id> */
			memcpy(c->id, s + 7, 64);
			c->id[64] = '\0';
			c->runtime = CRYO_RT_PODMAN;
			hit = true;
		} else if (is_id64(s, n)) {
			memcpy(c->id, s, 64);
			c->id[64] = '\0';
			if (i > 0 && lens[i - 1] == 6 && strncmp(comps[i - 1], "docker", 6) == 0)
				c->runtime = CRYO_RT_DOCKER;
			else if (!kube && i == 1)
				c->runtime = CRYO_RT_CONTAINERD; /* /<namespace>/<id> */
			else
				c->runtime = CRYO_RT_UNKNOWN;
			hit = true;
		}
		if (hit) {
			/* runtimes name scopes with 64-hex ids; anything else may be a
			 * sub-cgroup a container made to pass for another container */
			if (!is_id64(c->id, strlen(c->id))) {
				memset(c, 0, sizeof(*c));
				return 0;
			}
			if (kube && c->qos[0] == '\0' && c->pod_uid[0])
				snprintf(c->qos, sizeof(c->qos), "guaranteed");
			size_t plen = (size_t)(s + n - path);
			memcpy(c->cgroup, path, plen);
			c->cgroup[plen] = '\0';
			return 1;
		}
	}
	memset(c, 0, sizeof(*c));
	return 0;
}

/* Deeper than any runtime nests; a container that builds a deeper tree to
 * hide processes gets an error, not a short list. */
#define CGROUP_MAX_DEPTH 256

static int pids_walk(int dirfd, const char *file, int depth, struct cryo_pids *out,
		     struct cryo_error *err)
{
	if (depth > CGROUP_MAX_DEPTH)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0,
				      "cgroup tree deeper than %d levels", CGROUP_MAX_DEPTH);
	cleanup_free char *text = NULL;
	if (cryo_read_file_at(dirfd, file, 64u << 20, false, &text, NULL, err) < 0)
		return -1;
	if (cryo_pids_parse(text, out) < 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: cannot parse", file);
	int dfd = dup(dirfd);
	if (dfd < 0)
		return cryo_error_sys(err, "dup");
	cleanup_closedir DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return cryo_error_sys(err, "opendir");
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || cryo_is_dot(de->d_name))
			continue;
		cleanup_close int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue; /* removed meanwhile */
		if (pids_walk(sub, file, depth + 1, out, err) < 0 && err->errnum != ENOENT)
			return -1; /* a sub-cgroup removed meanwhile is fine */
	}
	return 0;
}

int cryo_cgroup_pids(const char *dir, bool threads, struct cryo_pids *out, struct cryo_error *err)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cryo_error_sys(err, "open %s", dir);
	bool v2 = faccessat(fd, "cgroup.threads", F_OK, 0) == 0;
	const char *file = threads ? (v2 ? "cgroup.threads" : "tasks") : "cgroup.procs";
	if (pids_walk(fd, file, 0, out, err) < 0)
		return cryo_error_wrap(err, "%s", dir);
	return 0;
}
