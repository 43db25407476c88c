#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/freeze.h"
#include "cryo/output.h"

const char *cryo_freeze_mech_name(enum cryo_freeze_mech m)
{
	return m == CRYO_FREEZE_V2 ? "cgroup2" : m == CRYO_FREEZE_V1 ? "freezer-v1" : "none";
}

const char *cryo_freeze_state_name(enum cryo_freeze_state s)
{
	switch (s) {
	case CRYO_THAWED: return "thawed";
	case CRYO_FREEZING: return "freezing";
	case CRYO_FROZEN: return "frozen";
	default: return "gone";
	}
}

/* The v1 freezer is frozen or freezing while nothing asked v2 to freeze. */
static bool v1_holds(const char *v1, const char *v2)
{
	char p[PATH_MAX + 32], buf[64] = "";
	snprintf(p, sizeof(p), "%s/freezer.state", v1);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || cryo_has_prefix(buf, "THAWED"))
		return false;
	snprintf(p, sizeof(p), "%s/cgroup.freeze", v2);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && buf[0] == '0';
}

int cryo_freezer_init(struct cryo_freezer *f, const struct cryo_cgroup_roots *roots,
		      const struct cryo_container *c, enum cryo_freeze_mech force,
		      struct cryo_error *err)
{
	memset(f, 0, sizeof(*f));
	f->events_fd = f->ctl_fd = -1;
	char v2[PATH_MAX], v1[PATH_MAX], probe[PATH_MAX + 32];
	cryo_container_v2_dir(roots, c, v2, sizeof(v2));
	cryo_container_freezer_dir(roots, c, v1, sizeof(v1));
	/* Never the root of a hierarchy: that would stop the whole host. */
	if (strcmp(v2, roots->v2) == 0)
		v2[0] = '\0';
	if (strcmp(v1, roots->freezer) == 0)
		v1[0] = '\0';
	bool have_v2 = false, have_v1 = false;
	if (v2[0]) {
		snprintf(probe, sizeof(probe), "%s/cgroup.freeze", v2);
		have_v2 = access(probe, W_OK) == 0;
	}
	if (v1[0]) {
		snprintf(probe, sizeof(probe), "%s/freezer.state", v1);
		have_v1 = access(probe, W_OK) == 0;
	}
	if (force == CRYO_FREEZE_V2 && !have_v2)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				      "container %s has no cgroup v2 freezer (%s)", c->name[0] ? c->name : c->id,
				      v2[0] ? v2 : "no unified cgroup");
	if (force == CRYO_FREEZE_V1 && !have_v1)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				      "container %s has no v1 freezer cgroup", c->name[0] ? c->name : c->id);
	if (force == CRYO_FREEZE_NONE && have_v2 && have_v1 && v1_holds(v1, v2)) {
		/* On a hybrid host someone else (docker pause, runc pause) froze
		 * through v1: that is the freeze to report and to thaw, and a v2
		 * freeze could never complete under it. */
		force = CRYO_FREEZE_V1;
	}
	if ((force == CRYO_FREEZE_NONE && have_v2) || force == CRYO_FREEZE_V2) {
		f->mech = CRYO_FREEZE_V2;
		snprintf(f->dir, sizeof(f->dir), "%s", v2);
		snprintf(probe, sizeof(probe), "%s/cgroup.events", v2);
		f->events_fd = open(probe, O_RDONLY | O_CLOEXEC);
		if (f->events_fd < 0)
			return cryo_error_sys(err, "open %s", probe);
		snprintf(probe, sizeof(probe), "%s/cgroup.freeze", v2);
		f->ctl_fd = open(probe, O_WRONLY | O_CLOEXEC);
	} else if (have_v1) {
		f->mech = CRYO_FREEZE_V1;
		snprintf(f->dir, sizeof(f->dir), "%s", v1);
		snprintf(probe, sizeof(probe), "%s/freezer.state", v1);
		f->ctl_fd = open(probe, O_WRONLY | O_CLOEXEC);
	} else {
		bool gone = (v2[0] && access(v2, F_OK) < 0) || (v1[0] && access(v1, F_OK) < 0);
		const char *who = c->name[0] ? c->name : c->id;
		if (gone)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0,
					      "container %s exited (its cgroup is gone)", who);
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0,
				      "container %s: no freezer (neither cgroup.freeze nor v1 freezer.state)", who);
	}
	return 0;
}

void cryo_freezer_close(struct cryo_freezer *f)
{
	if (f->events_fd >= 0)
		close(f->events_fd);
	if (f->ctl_fd >= 0)
		close(f->ctl_fd);
	f->events_fd = f->ctl_fd = -1;
}

static int read_small(int dirfd_or_fd, bool pread_fd, const char *path, char *buf, size_t size)
{
	ssize_t n;
	if (pread_fd) {
		n = pread(dirfd_or_fd, buf, size - 1, 0);
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = read(fd, buf, size - 1);
		int e = errno;
		close(fd);
		errno = e;
	}
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int cryo_freezer_state(struct cryo_freezer *f, enum cryo_freeze_state *st, struct cryo_error *err)
{
	char buf[256], path[PATH_MAX + 32];
	if (f->mech == CRYO_FREEZE_V2) {
		if (read_small(f->events_fd, true, NULL, buf, sizeof(buf)) < 0) {
			if (errno == ENODEV || errno == ENOENT) {
				*st = CRYO_GONE;
				return 0;
			}
			return cryo_error_sys(err, "read %s/cgroup.events", f->dir);
		}
		if (strstr(buf, "frozen 1")) {
			*st = CRYO_FROZEN;
		} else {
			/* cgroup.freeze says what was asked; events says what is. */
			snprintf(path, sizeof(path), "%s/cgroup.freeze", f->dir);
			char want[16] = "";
			read_small(-1, false, path, want, sizeof(want));
			*st = want[0] == '1' ? CRYO_FREEZING : CRYO_THAWED;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s/freezer.state", f->dir);
	if (read_small(-1, false, path, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT || errno == ENODEV) {
			*st = CRYO_GONE;
			return 0;
		}
		return cryo_error_sys(err, "read %s", path);
	}
	/* Reading freezer.state is also what moves v1 from FREEZING to FROZEN. */
	*st = cryo_has_prefix(buf, "FROZEN") ? CRYO_FROZEN
	      : cryo_has_prefix(buf, "FREEZING") ? CRYO_FREEZING : CRYO_THAWED;
	return 0;
}

int cryo_freezer_request(struct cryo_freezer *f, bool frozen, struct cryo_error *err)
{
	char path[PATH_MAX + 32];
	const char *val;
	if (f->mech == CRYO_FREEZE_V2) {
		snprintf(path, sizeof(path), "%s/cgroup.freeze", f->dir);
		val = frozen ? "1" : "0";
	} else {
		snprintf(path, sizeof(path), "%s/freezer.state", f->dir);
		val = frozen ? "FROZEN" : "THAWED";
	}
	f->want_frozen = frozen;
	f->t_start_ns = cryo_now_monotonic_ns();
	if (f->ctl_fd >= 0) {
		if (pwrite(f->ctl_fd, val, strlen(val), 0) >= 0)
			return 0;
		if (errno == ENODEV || errno == ENOENT)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "%s: container exited", f->dir);
		/* anything else: try the path, as a fresh open would */
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return cryo_error_set(err, CRYO_EXIT_NOTFOUND, 0, "%s: container exited", f->dir);
		return cryo_error_sys(err, "open %s", path);
	}
	ssize_t w = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	if (w < 0) {
		errno = e;
		return cryo_error_sys(err, "write %s to %s", val, path);
	}
	return 0;
}

static bool reached(struct cryo_freezer *f)
{
	enum cryo_freeze_state st;
	if (cryo_freezer_state(f, &st, &f->err) < 0) {
		f->result = -1;
		return true;
	}
	f->state = st;
	if (st == CRYO_GONE) {
		cryo_error_set(&f->err, CRYO_EXIT_NOTFOUND, 0, "container exited while %s",
			       f->want_frozen ? "freezing" : "thawing");
		f->result = -1;
		return true;
	}
	if ((f->want_frozen && st == CRYO_FROZEN) || (!f->want_frozen && st == CRYO_THAWED)) {
		f->t_done_ns = cryo_now_monotonic_ns();
		f->result = 0;
		return true;
	}
	return false;
}

size_t cryo_freezers_wait(struct cryo_freezer *f, size_t n, int timeout_ms)
{
	bool *done = calloc(n ? n : 1, sizeof(*done));
	struct pollfd *pfd = calloc(n ? n : 1, sizeof(*pfd));
	size_t left = 0;
	if (!done || !pfd) {
		free(done);
		free(pfd);
		for (size_t i = 0; i < n; i++) {
			cryo_error_set(&f[i].err, CRYO_EXIT_OSERR, ENOMEM, "wait");
			f[i].result = -1;
		}
		return n;
	}
	uint64_t deadline = cryo_now_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
	long v1_sleep_us = 50; /* v1 has no notification: poll with backoff */
	long v2_wait_ns = 20000;
	for (;;) {
		left = 0;
		size_t np = 0;
		bool any_v1 = false;
		for (size_t i = 0; i < n; i++) {
			if (!done[i])
				done[i] = reached(&f[i]);
			if (done[i])
				continue;
			left++;
			if (f[i].mech == CRYO_FREEZE_V2) {
				pfd[np].fd = f[i].events_fd;
				pfd[np].events = POLLPRI;
				np++;
			} else {
				any_v1 = true;
			}
		}
		if (left == 0)
			break;
		uint64_t now = cryo_now_monotonic_ns();
		if (now >= deadline)
			break;
		long ms = (long)((deadline - now + 999999) / 1000000);
		if (any_v1) {
			struct timespec ts = { 0, v1_sleep_us * 1000 };
			if (np)
				poll(pfd, np, (int)(v1_sleep_us / 1000));
			else
				nanosleep(&ts, NULL);
			if (v1_sleep_us < 10000)
				v1_sleep_us *= 2;
		} else {
			/* kernfs wakes POLLPRI|POLLERR when cgroup.events changes, but
			 * at most once per 10 ms per file (the kernel rate-limits
			 * cgroup file notifications): a freeze right after a thaw
			 * would be seen up to 10 ms late.  So the state is read again
			 * after a short wait that grows, as for v1. */
			long cap_ns = (long)(ms > 100 ? 100 : ms) * 1000000l;
			struct timespec ts = { 0, v2_wait_ns < cap_ns ? v2_wait_ns : cap_ns };
			ppoll(pfd, np, &ts, NULL);
			if (v2_wait_ns < 10000000l)
				v2_wait_ns *= 2;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!done[i]) {
			char *stuck = cryo_freeze_stuck_tasks(f[i].dir);
			cryo_error_set(&f[i].err, CRYO_EXIT_TIMEOUT, 0,
				       "%s did not complete within %d ms (request left in force)%s%s",
				       f[i].want_frozen ? "freeze" : "thaw", timeout_ms,
				       stuck && *stuck ? "; tasks not stopped: " : "", stuck ? stuck : "");
			free(stuck);
			f[i].result = -1;
		}
	free(done);
	free(pfd);
	return left;
}

char *cryo_freeze_stuck_tasks(const char *dir)
{
	struct cryo_pids tids = { 0 };
	struct cryo_error e;
	size_t cap = 1024, len = 0;
	char *out = calloc(1, cap);
	if (!out)
		return NULL;
	if (cryo_cgroup_pids(dir, true, &tids, &e) < 0) {
		cryo_pids_free(&tids);
		return out;
	}
	for (size_t i = 0; i < tids.n && len + 128 < cap; i++) {
		struct cryo_proc_stat st;
		if (cryo_proc_stat_read(tids.v[i], &st, &e) < 0)
			continue;
		if (st.state != 'R' && st.state != 'D')
			continue;
		cryo_text_sanitize(st.comm);
		len += (size_t)snprintf(out + len, cap - len, "%s%d %s (%c)", len ? ", " : "",
					(int)st.pid, st.comm, st.state);
	}
	cryo_pids_free(&tids);
	return out;
}

int cryo_freezer_kill(struct cryo_freezer *f, int timeout_ms, size_t *killed, size_t *left, struct cryo_error *err)
{
	*killed = *left = 0;
	struct cryo_pids p = { 0 };
	if (cryo_cgroup_pids(f->dir, false, &p, err) < 0)
		return -1;
	*killed = p.n;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/cgroup.kill", f->dir);
	int fd = f->mech == CRYO_FREEZE_V2 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	bool via_kill = false;
	if (fd >= 0) {
		/* the kernel kills the whole subtree, frozen tasks included, and
		 * no fork can race it */
		via_kill = write(fd, "1", 1) == 1;
		close(fd);
	}
	uint64_t deadline = cryo_now_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		if (!via_kill) {
			for (size_t i = 0; i < p.n; i++)
				kill(p.v[i], SIGKILL);
			/* a task frozen by the v1 freezer dies only once it runs */
			if (f->mech == CRYO_FREEZE_V1)
				cryo_freezer_request(f, false, err);
		}
		cryo_pids_free(&p);
		if (cryo_cgroup_pids(f->dir, false, &p, err) < 0) {
			if (access(f->dir, F_OK) < 0 && errno == ENOENT) {
				/* the cgroup went with its last task (runc removes it) */
				*left = 0;
				return 0;
			}
			if (f->mech == CRYO_FREEZE_V1) {
				struct cryo_error ferr;
				cryo_freezer_request(f, true, &ferr); /* never left thawed */
			}
			return -1;
		}
		*left = p.n;
		if (p.n == 0 || cryo_now_monotonic_ns() > deadline)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	cryo_pids_free(&p);
	if (*left) {
		/* v1 thawed them so that the kill could land: what is left is
		 * frozen again, never left running */
		struct cryo_error ferr;
		if (f->mech == CRYO_FREEZE_V1)
			cryo_freezer_request(f, true, &ferr);
		return cryo_error_set(err, CRYO_EXIT_TIMEOUT, 0, "%zu process(es) still in %s after %d ms%s", *left,
				      f->dir, timeout_ms, f->mech == CRYO_FREEZE_V1 ? " (frozen again)" : "");
	}
	return 0;
}
