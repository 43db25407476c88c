/* cryo-proc: the state of every process of a container, read from the
 * host side (/proc, ptrace, process_vm_readv, NETLINK_SOCK_DIAG); nothing
 * runs in the container and nothing is written into it.
 *
 * Artifacts (docs/evidence-format.md, proc/):
 *   proc/index.json          every process: pid, ppid, nspid, name, state,
 *                            exe, what was captured, the tree
 *   proc/<pid>/process.json  one process decoded: ids, credentials and
 *                            capabilities, command line, environment,
 *                            namespaces, limits, descriptors, mappings,
 *                            threads, memory record
 *   proc/<pid>/{status,stat,maps,smaps,mountinfo,limits,cgroup,environ,
 *               cmdline,uid_map,gid_map}   the raw /proc files
 *   proc/<pid>/core[.zst]    memory and registers as an ELF core
 *   proc/files/<sha256>      each distinct executable and deleted-but-open
 *                            file, once
 *   proc/files/index.json    which process held which of them
 *   proc/sockets.json        the sockets of the container's network
 *                            namespace and their owners */
#ifndef CRYO_PROC_H
#define CRYO_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "cryo/case.h"
#include "cryo/container.h"
#include "cryo/error.h"

struct cryo_proc_request {
	struct cryo_case *kase;
	const struct cryo_cgroup_roots *roots;
	const struct cryo_container *c; /* inspected: pids known */
	struct cryo_custody_entry *entry;
	const pid_t *only;              /* --pid: these processes only */
	size_t nonly;
	bool no_memory, skip_file_backed, compress;
	uint64_t max_memory;            /* per process, bytes (0: no limit) */
	uint64_t max_total_memory;      /* all processes together (0: no limit) */
	uint64_t max_file_size;         /* larger files are listed, not copied */
};

/* *result (always set): artifacts, counts (processes, threads, exited,
 * files, memory_bytes), sockets, frozen, warnings [strings], problems
 * [{path, problem}].  Whatever could not be read is a problem and the
 * capture goes on: the caller exits 2 when problems is not empty. */
int cryo_proc_snapshot(const struct cryo_proc_request *req, cJSON **result, struct cryo_error *err);

/* Capability bits as libcap names ("cap_chown", ...), in bit order. */
cJSON *cryo_caps_json(uint64_t mask);

#endif
