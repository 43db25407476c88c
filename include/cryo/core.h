/* A process's memory and registers as an ELF core file that gdb opens
 * (`gdb EXE CORE`), written from outside the process: the threads are
 * stopped with PTRACE_SEIZE + PTRACE_INTERRUPT (which works on tasks frozen
 * by the cgroup v2 freezer; PTRACE_ATTACH's SIGSTOP does not), their
 * registers read, the memory read with process_vm_readv (falling back to
 * /proc/PID/mem), and the threads detached, left as they were (frozen).
 *
 * Only resident pages are read (present or swapped, from
 * /proc/PID/pagemap): a page that was never touched is not faulted in, so
 * a 100 GiB reservation costs what is resident, a userfaultfd or FUSE
 * mapping cannot make the reader wait forever, and the segments of what
 * was not read have p_filesz 0 (gdb reads zeros from anonymous ones and
 * the file's content from mapped files).  Layout: docs/evidence-format.md. */
#ifndef CRYO_CORE_H
#define CRYO_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "cryo/case.h"
#include "cryo/error.h"

struct cryo_core_request {
	struct cryo_case *kase;
	struct cryo_custody_entry *entry;
	const char *relpath;       /* "proc/<pid>/core" (".zst" is added when compressed) */
	pid_t pid;
	uint64_t start_time;       /* its start (clock ticks): checked before the core is kept; 0: not */
	int procfd;                /* /proc/<pid>, opened by the caller */
	int mm_dirfd;              /* where the memory is read: /proc/<pid>/task/<tid> of a live
				    * thread when the main one has exited; -1: procfd */
	pid_t mm_pid;              /* that thread (0: pid) */
	bool stop_threads;         /* false: registers are not read (why in no_stop_reason) */
	const char *no_stop_reason;
	bool skip_file_backed;     /* omit pages of mapped files that the process did not change */
	bool compress;             /* zstd */
	uint64_t max_bytes;        /* memory bytes at most (0: no limit) */
};

/* Write the core.  record (an object) gets: path, compressed, size of the
 * file, segments, bytes (memory written), bytes_not_read (not resident,
 * excluded, or over the limit), bytes_over_limit, truncated,
 * mappings_not_dumped, pagemap, hole_bytes, holes_count, holes [{start,
 * end, reason}] (pages that could not be read: written as zeros),
 * excluded [{start, end, path, reason}], threads [{tid, registers, xstate,
 * reason}], threads_with_registers.  Returns 0 even when parts were unreadable
 * (they are in record); -1 when no core could be written. */
int cryo_core_write(const struct cryo_core_request *req, cJSON *record, struct cryo_error *err);

#endif
