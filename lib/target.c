#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryo/cgroup.h"
#include "cryo/cleanup.h"
#include "cryo/target.h"
#include "cryo/output.h"
#include "cryo/util.h"

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f)
			return false;
	return true;
}

int cryo_target_parse(const char *text, struct cryo_target *t, struct cryo_error *err)
{
	memset(t, 0, sizeof(*t));
	if (!text || !*text)
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "empty target");
	if (strlen(text) >= sizeof(t->text))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "target too long");
	if (!printable(text))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
				      "target contains spaces or control characters");
	snprintf(t->text, sizeof(t->text), "%s", text);
	if (cryo_has_prefix(text, "pid:")) {
		char num[32];
		const char *at = strchr(text + 4, '@');
		size_t n = at ? (size_t)(at - text - 4) : strlen(text + 4);
		long v;
		if (n == 0 || n >= sizeof(num))
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "bad pid in target '%s'", text);
		memcpy(num, text + 4, n);
		num[n] = '\0';
		if (cryo_parse_long(num, 1, 4194304, &v) < 0)
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "bad pid in target '%s'", text);
		t->kind = CRYO_TARGET_PID;
		t->pid = (pid_t)v;
		if (at) {
			char *end;
			errno = 0;
			unsigned long long s = strtoull(at + 1, &end, 10);
			if (errno || *end || end == at + 1 || at[1] == '-')
				return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
						      "bad start time in target '%s' (pid:N@TICKS)", text);
			t->start = s;
			t->start_given = true;
		}
		return 0;
	}
	if (cryo_has_prefix(text, "cgroup:")) {
		const char *p = text + 7;
		if (p[0] != '/' || strstr(p, "/../") || cryo_has_suffix(p, "/..") || strstr(p, "//"))
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
					      "cgroup target must be an absolute cgroup path without '..': '%s'", text);
		t->kind = CRYO_TARGET_CGROUP;
		snprintf(t->value, sizeof(t->value), "%s", p);
		size_t l = strlen(t->value);
		while (l > 1 && t->value[l - 1] == '/')
			t->value[--l] = '\0';
		return 0;
	}
	const char *s1 = strchr(text, '/');
	if (s1) {
		const char *s2 = strchr(s1 + 1, '/');
		if (s1 == text || s1[1] == '\0' || (s2 && (s2[1] == '\0' || strchr(s2 + 1, '/'))) ||
		    (s2 && s2 == s1 + 1))
			return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
					      "bad target '%s' (expected namespace/pod or namespace/pod/container)", text);
		snprintf(t->ns, sizeof(t->ns), "%.*s", (int)(s1 - text), text);
		if (s2) {
			snprintf(t->pod, sizeof(t->pod), "%.*s", (int)(s2 - s1 - 1), s1 + 1);
			snprintf(t->container, sizeof(t->container), "%s", s2 + 1);
			t->kind = CRYO_TARGET_POD_CONTAINER;
		} else {
			snprintf(t->pod, sizeof(t->pod), "%s", s1 + 1);
			t->kind = CRYO_TARGET_POD;
		}
		snprintf(t->value, sizeof(t->value), "%s", text);
		return 0;
	}
	if (strchr(text, ':'))
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
				      "unknown target type in '%s' (expected pid:N or cgroup:/path)", text);
	t->kind = CRYO_TARGET_ID_OR_NAME;
	snprintf(t->value, sizeof(t->value), "%s", text);
	return 0;
}

static void list_candidates(struct cryo_error *err, const struct cryo_containers *all,
			    const size_t *idx, size_t n)
{
	size_t len = strlen(err->msg);
	for (size_t i = 0; i < n && len + 100 < sizeof(err->msg); i++) {
		const struct cryo_container *c = &all->v[idx[i]];
		char sid[130], name[256];
		cryo_text_safe(c->name[0] ? c->name : "-", name, sizeof(name));
		len += (size_t)snprintf(err->msg + len, sizeof(err->msg) - len, "\n  %s  %s (%s)",
					cryo_container_short_id(c, sid), name,
					cryo_runtime_name(c->runtime));
	}
}

static bool under(const char *path, const char *cg)
{
	size_t n = strlen(cg);
	return cg[0] && strncmp(path, cg, n) == 0 && (path[n] == '\0' || path[n] == '/' ||
						       strcmp(cg, "/") == 0);
}

int cryo_target_resolve(struct cryo_target *t, const struct cryo_containers *all, size_t *out,
			size_t max, struct cryo_error *err)
{
	size_t n = 0;
	size_t cand[1024];
	switch (t->kind) {
	case CRYO_TARGET_PID: {
		struct cryo_proc_stat st;
		struct cryo_proc_cgroup pc;
		if (cryo_proc_stat_read(t->pid, &st, err) < 0)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "target %s: no such process",
					      t->text);
		if (t->start_given && st.start_time != t->start)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
					      "target %s: pid %d was reused (start time %llu, expected %llu)",
					      t->text, (int)t->pid, (unsigned long long)st.start_time,
					      (unsigned long long)t->start);
		t->start = st.start_time;
		if (cryo_proc_cgroup_read(t->pid, &pc, err) < 0)
			return cryo_error_wrap(err, "target %s", t->text);
		for (size_t i = 0; i < all->n; i++)
			if ((pc.v2[0] && under(pc.v2, all->v[i].cgroup_v2)) ||
			    (pc.freezer[0] && under(pc.freezer, all->v[i].freezer)))
				if (n < CRYO_ARRAY_SIZE(cand))
					cand[n++] = i;
		/* The deepest match wins (a container nested in another's cgroup). */
		if (n > 1) {
			size_t best = cand[0];
			for (size_t i = 1; i < n; i++)
				if (strlen(all->v[cand[i]].cgroup_v2) + strlen(all->v[cand[i]].freezer) >
				    strlen(all->v[best].cgroup_v2) + strlen(all->v[best].freezer))
					best = cand[i];
			cand[0] = best;
			n = 1;
		}
		if (n == 0) {
			cryo_text_sanitize(st.comm); /* the process names itself */
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
					      "target %s: process %d (%s) is not in a container", t->text,
					      (int)t->pid, st.comm);
		}
		break;
	}
	case CRYO_TARGET_CGROUP:
		for (size_t i = 0; i < all->n && n < CRYO_ARRAY_SIZE(cand); i++)
			if (strcmp(all->v[i].cgroup_v2, t->value) == 0 ||
			    strcmp(all->v[i].freezer, t->value) == 0)
				cand[n++] = i;
		if (n == 0)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
					      "target %s: no container has that cgroup", t->text);
		break;
	case CRYO_TARGET_POD:
	case CRYO_TARGET_POD_CONTAINER:
		for (size_t i = 0; i < all->n && n < CRYO_ARRAY_SIZE(cand); i++) {
			const struct cryo_container *c = &all->v[i];
			if (strcmp(c->pod_namespace, t->ns) || strcmp(c->pod_name, t->pod))
				continue;
			if (t->kind == CRYO_TARGET_POD_CONTAINER && strcmp(c->k8s_container, t->container))
				continue;
			cand[n++] = i;
		}
		if (n == 0)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "target %s: no such pod%s",
					      t->text, t->kind == CRYO_TARGET_POD ? "" : " container");
		if (t->kind == CRYO_TARGET_POD_CONTAINER && n > 1) {
			cryo_error_set(err, CRYO_EXIT_AMBIGUOUS, 0, "target %s is ambiguous:", t->text);
			list_candidates(err, all, cand, n);
			return -1;
		}
		break;
	case CRYO_TARGET_ID_OR_NAME: {
		/* An exact id or an exact name wins over prefixes. */
		for (size_t i = 0; i < all->n && n < CRYO_ARRAY_SIZE(cand); i++)
			if (strcmp(all->v[i].id, t->value) == 0)
				cand[n++] = i;
		bool by_name = n == 0;
		if (n == 0)
			for (size_t i = 0; i < all->n && n < CRYO_ARRAY_SIZE(cand); i++)
				if (strcmp(all->v[i].name, t->value) == 0)
					cand[n++] = i;
		/* a name that looks like a short id must not capture the target
		 * (a decoy named after the real container's id): both are listed */
		if (by_name && n == 1 && strlen(t->value) >= 12 && cryo_is_hex(t->value, strlen(t->value)))
			for (size_t i = 0; i < all->n && n < CRYO_ARRAY_SIZE(cand); i++)
				if (i != cand[0] && cryo_has_prefix(all->v[i].id, t->value))
					cand[n++] = i;
		if (n == 0)
			for (size_t i = 0; i < all->n && n < CRYO_ARRAY_SIZE(cand); i++)
				if (cryo_has_prefix(all->v[i].id, t->value))
					cand[n++] = i;
		if (n == 0)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
					      "target %s: no running container with that id or name",
					      t->text);
		if (n > 1) {
			cryo_error_set(err, CRYO_EXIT_AMBIGUOUS, 0,
				       "target %s is ambiguous; it matches %zu containers:", t->text, n);
			list_candidates(err, all, cand, n);
			return -1;
		}
		break;
	}
	}
	if (n > max) {
		/* e.g. a whole pod given to a tool that acts on one container */
		cryo_error_set(err, CRYO_EXIT_AMBIGUOUS, 0, "target %s names %zu containers; name one:",
			       t->text, n);
		list_candidates(err, all, cand, n);
		return -1;
	}
	memcpy(out, cand, n * sizeof(*out));
	return (int)n;
}

int cryo_target_recheck(const struct cryo_target *t, struct cryo_error *err)
{
	if (t->kind != CRYO_TARGET_PID)
		return 0;
	struct cryo_proc_stat st;
	if (cryo_proc_stat_read(t->pid, &st, err) < 0 || st.start_time != t->start)
		return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
				      "target %s: process %d exited or was replaced; not acting",
				      t->text, (int)t->pid);
	return 0;
}

size_t cryo_pod_members(const struct cryo_containers *all, size_t idx, size_t *out, size_t max)
{
	const struct cryo_container *c = &all->v[idx];
	size_t n = 0;
	for (size_t i = 0; i < all->n && n < max; i++) {
		const struct cryo_container *o = &all->v[i];
		bool same = i == idx ||
			    (c->pod_uid[0] && strcmp(o->pod_uid, c->pod_uid) == 0) ||
			    (!c->pod_uid[0] && c->pod_name[0] && strcmp(o->pod_name, c->pod_name) == 0 &&
			     strcmp(o->pod_namespace, c->pod_namespace) == 0);
		if (same)
			out[n++] = i;
	}
	return n;
}
