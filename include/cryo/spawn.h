/* Running the other cryo tools (and a policy's notify command) as child
 * processes: the tool beside this one, never one found through $PATH;
 * descriptors other than the three standard ones closed in the child;
 * standard output read back, bounded. */
#ifndef CRYO_SPAWN_H
#define CRYO_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cryo/error.h"

/* The directory of the running executable ("" when unknown). */
void cryo_self_dir(char *buf, size_t size);
/* DIR/cryo-VERB beside the running executable, when it is executable. */
int cryo_tool_path(const char *verb, char *path, size_t size, struct cryo_error *err);

struct cryo_spawn {
	char *const *argv;   /* argv[0] is the path executed */
	int stdin_fd;        /* -1: /dev/null */
	bool capture_stdout; /* else the child's stdout is /dev/null */
	bool new_pgrp;       /* its own process group (signals aimed at ours miss it) */
	bool quiet_stderr;   /* stderr to /dev/null */
	const char *const *unset_env; /* names removed from the child's
					 environment (NULL-terminated) */
	/* filled by cryo_spawn_start */
	pid_t pid;
	int out_fd;          /* read end of the child's stdout, O_CLOEXEC|O_NONBLOCK */
};
int cryo_spawn_start(struct cryo_spawn *s, struct cryo_error *err);

/* Run to the end: stdout gathered (at most max bytes are kept, the rest is
 * read and dropped, *truncated set), *status from waitpid.  While waiting,
 * extra_fd (when >= 0) is polled too and on_extra called when readable: a
 * caller keeps draining a pipe of its own.  Returns 0, or -1 when the
 * child could not be started or waited for. */
int cryo_spawn_run(struct cryo_spawn *s, size_t max, char **out, size_t *len, bool *truncated, int *status,
		   int extra_fd, void (*on_extra)(int fd, void *arg), void *arg, struct cryo_error *err);

/* The exit code a wait status stands for: the child's code, or 128+signal. */
int cryo_wait_code(int status);

#endif
