/* Small helpers shared by every module: bounded reads, atomic writes,
 * time, /proc process facts. */
#ifndef CRYO_UTIL_H
#define CRYO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include "cryo/error.h"

#define CRYO_VERSION "0.1.0"

/* Read a whole file, at most max bytes (more is an error: EFBIG), NUL
 * terminated.  O_NOFOLLOW on the last component when nofollow is set. */
int cryo_read_file_at(int dirfd, const char *path, size_t max, bool nofollow,
		      char **out, size_t *len, struct cryo_error *err);
/* The rest of an open file, bounded the same way (path names it in errors). */
int cryo_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, struct cryo_error *err);
/* Write data to dirfd/name through a temporary name, fsync, rename, fsync
 * the directory: the file is there whole or not at all. */
int cryo_write_file_atomic_at(int dirfd, const char *name, const void *data,
			      size_t len, mode_t mode, struct cryo_error *err);
/* Same, refusing to replace an existing file (link(2) instead of rename). */
int cryo_write_file_new_at(int dirfd, const char *name, const void *data,
			   size_t len, mode_t mode, struct cryo_error *err);

/* "." or "..": the only names a directory walk skips (a cgroup named
 * ".hidden" is still a cgroup, with processes in it). */
static inline bool cryo_is_dot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Room for element n of the array *vp (elem bytes each, cap of them): the
 * capacity doubles from first.  -1 when out of memory (the array is kept). */
int cryo_grow(void *vp, size_t *cap, size_t n, size_t elem, size_t first);

/* Open path (relative) under dirfd without following any symlink or
 * leaving dirfd (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS). */
int cryo_open_beneath(int dirfd, const char *path, int flags, struct cryo_error *err);

/* Set by the tools' SIGINT/SIGTERM/SIGHUP handler (cryo_catch_interrupts):
 * long loops check it and fail like any error, so their cleanup (temporary
 * files, partial directories) runs. */
extern volatile sig_atomic_t cryo_interrupted;

uint64_t cryo_now_realtime_ns(void);
uint64_t cryo_now_monotonic_ns(void);
/* "2026-11-29T05:13:55.212402713Z" (buf >= 32 bytes). */
void cryo_format_utc_ns(uint64_t ns, char *buf, size_t size);
/* The same from seconds that may be negative (a file's times). */
void cryo_format_utc_ts(int64_t sec, uint32_t nsec, char *buf, size_t size);

bool cryo_is_hex(const char *s, size_t len);
/* Well-formed UTF-8: no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
bool cryo_utf8_valid(const char *s);
bool cryo_has_prefix(const char *s, const char *prefix);
bool cryo_has_suffix(const char *s, const char *suffix);
/* Parse a decimal integer in [min,max] with nothing after it. */
int cryo_parse_long(const char *s, long min, long max, long *out);
/* A size in bytes, with an optional K, M or G suffix (powers of 1024);
 * more than zero, at most 1 PiB. */
int cryo_parse_size(const char *s, long *out);
char *cryo_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* mkdir -p: each missing directory made with mode (existing ones kept). */
int cryo_mkdir_p(const char *path, mode_t mode, struct cryo_error *err);
/* rm -r of parent/name, never following a symlink (a link is removed,
 * not what it names).  0, or -1 with errno from the last removal. */
int cryo_remove_tree_at(int parent, const char *name);
/* Join argv with spaces (for logs); caller frees. */
char *cryo_join_argv(int argc, char *const argv[]);

/* Facts about a process from /proc/PID/stat.  The start time is field 22
 * (clock ticks since boot): together with the pid it names one process. */
struct cryo_proc_stat {
	pid_t pid;
	char comm[64];
	char state;
	pid_t ppid;
	uint64_t start_time;
};
/* Parse the text of /proc/PID/stat (comm may hold spaces and ')'). */
int cryo_proc_stat_parse(const char *buf, struct cryo_proc_stat *st);
int cryo_proc_stat_read(pid_t pid, struct cryo_proc_stat *st, struct cryo_error *err);

/* Bounded, growable array of pids. */
struct cryo_pids {
	pid_t *v;
	size_t n, cap;
};
int cryo_pids_push(struct cryo_pids *p, pid_t pid);
void cryo_pids_free(struct cryo_pids *p);
/* Parse "cgroup.procs"/"cgroup.threads"/"tasks" content. */
int cryo_pids_parse(const char *buf, struct cryo_pids *p);

#endif
