/* /proc/PID/mountinfo parsing and overlayfs option decoding. */
#ifndef CRYO_MOUNTINFO_H
#define CRYO_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include "cryo/error.h"

/* One mountinfo line, fields pointing into the (modified) line buffer,
 * octal escapes (\040, \011, \012, \134) decoded in place. */
struct cryo_mount {
	unsigned id, parent_id, major, minor;
	char *root, *mountpoint, *mount_opts, *optional, *fstype, *source, *super_opts;
};

/* Parse one line (without '\n'), in place.  -1 on malformed input. */
int cryo_mountinfo_parse_line(char *line, struct cryo_mount *m);

#define CRYO_OVERLAY_MAX_LOWER 500 /* overlayfs's own limit */

struct cryo_overlay {
	char *upperdir, *workdir;
	char **lowerdir; /* top-most first, as overlayfs stacks them */
	size_t nlower;
	bool userxattr;  /* its own state in user.overlay.* (unprivileged mount),
			  * else trusted.overlay.* */
};

/* Decode the overlay super options of a mount ("lowerdir=a:b,upperdir=..").
 * Handles "\:" and "\," escapes.  Relative lowerdir entries (Docker and
 * containerd chdir and pass short relative paths when the option string would
 * exceed a page) are kept as they are: see cryo_overlay_resolve(). */
int cryo_overlay_parse(const char *super_opts, struct cryo_overlay *o, struct cryo_error *err);
void cryo_overlay_free(struct cryo_overlay *o);

/* Make relative layer paths absolute: against the directory two levels
 * above an absolute upperdir, else against the first of bases holding the
 * upper (or first lower) dir.  Touches the filesystem (access(2)). */
int cryo_overlay_resolve(struct cryo_overlay *o, const char *const *bases, size_t nbases,
			 struct cryo_error *err);

/* Find the root ("/") mount in the text of a mountinfo file and decode it
 * when it is overlay.  Returns 1 if overlay, 0 if not (fstype copied into
 * fstype), -1 on error. */
int cryo_mountinfo_root_overlay(char *text, struct cryo_overlay *o, char *fstype,
				size_t fstype_size, struct cryo_error *err);

#endif
