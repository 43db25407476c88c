/* cryo-fs: what happened to a container's filesystem, read from the host
 * side (the overlay's upper and lower directories, and /proc/PID/root for
 * the mounts inside), never trusting the content: symlinks are recorded,
 * never followed; FIFOs, sockets and devices are recorded, never opened;
 * every walk starts from a directory fd and never leaves it.
 *
 * Artifacts (docs/evidence-format.md, fs/):
 *   fs/rootfs-diff.tar   the upper dir as an OCI image layer (pax tar:
 *                        whiteouts as .wh.NAME, opaque dirs as .wh..wh..opq)
 *   fs/changes.json      every added, modified and deleted path
 *   fs/deleted.json      the paths the container removed
 *   fs/bodyfile          The Sleuth Kit 3.x body file, for mactime
 *   fs/mounts.json       the container's mounts
 *   fs/mounts/N.tar      the content of a tmpfs (default) or volume (--volumes)
 *   fs/rootfs-merged.tar the merged view (--merged) */
#ifndef CRYO_FS_H
#define CRYO_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cryo/case.h"
#include "cryo/container.h"
#include "cryo/error.h"

struct cryo_fs_request {
	struct cryo_case *kase;
	const struct cryo_container *c; /* inspected: rootfs and init pid known */
	struct cryo_custody_entry *entry;
	bool merged;                    /* also the merged view */
	bool volumes;                   /* also the content of volumes and bind mounts */
	bool no_tmpfs;                  /* do not capture tmpfs content */
	uint64_t max_file_size;         /* larger files: metadata only; 0: no limit */
	char *const *exclude;           /* fnmatch(3) patterns on /PATH in the container */
	size_t nexclude;
};

/* *result (always set): artifacts, counts (entries, files, bytes, added,
 * modified, deleted, excluded), warnings [strings], problems [{path,
 * problem}].  A file that could not be read
 * or changed while read is a problem and the snapshot goes on: the caller
 * exits 2 when problems is not empty. */
int cryo_fs_snapshot(const struct cryo_fs_request *req, cJSON **result, struct cryo_error *err);

/* "r/rrw-r--r--": The Sleuth Kit's mode string (buf >= 13 bytes). */
void cryo_fs_mode_string(unsigned mode, char *buf);

#endif
