#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cryo/spawn.h"

void cryo_self_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

int cryo_tool_path(const char *verb, char *path, size_t size, struct cryo_error *err)
{
	char dir[PATH_MAX];
	cryo_self_dir(dir, sizeof(dir));
	if (!dir[0] || snprintf(path, size, "%s/cryo-%s", dir, verb) >= (int)size)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, 0, "cannot tell where cryo-%s is installed", verb);
	if (access(path, X_OK) < 0)
		return cryo_error_set(err, CRYO_EXIT_UNAVAILABLE, errno, "cryo-%s is not installed beside this tool (%s)",
				      verb, path);
	return 0;
}

int cryo_spawn_start(struct cryo_spawn *s, struct cryo_error *err)
{
	int p[2] = { -1, -1 };
	s->pid = -1;
	s->out_fd = -1;
	if (s->capture_stdout && pipe2(p, O_CLOEXEC) < 0)
		return cryo_error_sys(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		if (p[0] >= 0) {
			close(p[0]);
			close(p[1]);
		}
		errno = e;
		return cryo_error_sys(err, "fork for %s", s->argv[0]);
	}
	if (pid == 0) {
		/* the child: only async-signal-safe calls until exec */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (s->new_pgrp)
			setpgid(0, 0);
		int null = open("/dev/null", O_RDWR);
		if (null < 0)
			_exit(127);
		if (dup2(s->stdin_fd >= 0 ? s->stdin_fd : null, 0) < 0 ||
		    dup2(s->capture_stdout ? p[1] : null, 1) < 0 || (s->quiet_stderr && dup2(null, 2) < 0))
			_exit(127);
		close_range(3, ~0u, 0); /* nothing of ours leaks into the tool */
		/* (unsetenv is not async-signal-safe; the callers are single-threaded) */
		for (size_t i = 0; s->unset_env && s->unset_env[i]; i++)
			unsetenv(s->unset_env[i]);
		execv(s->argv[0], s->argv);
		_exit(127);
	}
	s->pid = pid;
	if (s->capture_stdout) {
		close(p[1]);
		s->out_fd = p[0];
		fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	}
	return 0;
}

int cryo_wait_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return CRYO_EXIT_SOFTWARE;
}

int cryo_spawn_run(struct cryo_spawn *s, size_t max, char **out, size_t *len, bool *truncated, int *status,
		   int extra_fd, void (*on_extra)(int fd, void *arg), void *arg, struct cryo_error *err)
{
	if (out) {
		*out = NULL;
		*len = 0;
	}
	if (truncated)
		*truncated = false;
	if (cryo_spawn_start(s, err) < 0)
		return -1;
	size_t cap = 0, n = 0;
	char *buf = NULL;
	while (s->out_fd >= 0 || extra_fd >= 0) {
		struct pollfd pf[2] = { { s->out_fd, POLLIN, 0 }, { extra_fd, POLLIN, 0 } };
		if (s->out_fd < 0 && extra_fd >= 0) {
			/* stdout is closed (or never captured): poll the extra fd
			 * until the child is gone */
			int st;
			pid_t w = waitpid(s->pid, &st, WNOHANG);
			if (w == s->pid) {
				*status = st;
				s->pid = -1;
				break;
			}
			pf[0].fd = -1;
			if (poll(pf, 2, 50) > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
				on_extra(extra_fd, arg);
			if (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL))
				extra_fd = -1;
			continue;
		}
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (extra_fd >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			on_extra(extra_fd, arg);
			if (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL))
				extra_fd = -1;
		}
		if (pf[0].revents) {
			char chunk[65536];
			ssize_t r = read(s->out_fd, chunk, sizeof(chunk));
			if (r > 0) {
				size_t keep = n < max ? (max - n < (size_t)r ? max - n : (size_t)r) : 0;
				if (keep < (size_t)r && truncated)
					*truncated = true;
				if (keep && out) {
					if (n + keep + 1 > cap) {
						size_t nc = cap ? cap * 2 : 65536;
						while (nc < n + keep + 1)
							nc *= 2;
						char *nb = realloc(buf, nc);
						if (!nb) {
							keep = 0;
							if (truncated)
								*truncated = true;
						} else {
							buf = nb;
							cap = nc;
						}
					}
					if (keep) {
						memcpy(buf + n, chunk, keep);
						n += keep;
					}
				}
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(s->out_fd);
				s->out_fd = -1;
			}
		}
	}
	while (s->pid > 0) {
		if (waitpid(s->pid, status, 0) == s->pid)
			break;
		if (errno != EINTR) {
			free(buf);
			return cryo_error_sys(err, "wait for %s", s->argv[0]);
		}
	}
	s->pid = -1;
	if (out) {
		if (buf)
			buf[n] = '\0';
		*out = buf;
		*len = n;
	} else {
		free(buf);
	}
	return 0;
}
