/* Rebuilding a root filesystem from captured trees, for cryo-replay.
 *
 * A layer (a tar: fs/rootfs-merged.tar, fs/rootfs-diff.tar, an image
 * layer; or a directory) is applied onto a tree under an open directory.
 * Its content came from a container and is hostile: every name is made
 * relative and checked (no absolute path, no "..", at most
 * CRYO_LAYER_DEPTH_MAX components), every parent is walked one component at
 * a time without following a symlink, a hard link may only name a file
 * already in the tree, a file is always created new (never written through
 * a link that was there), device nodes and sockets are not made, setuid
 * and setgid bits are cleared, and the entries and bytes are bounded.  An
 * entry refused is skipped and noted; a bound passed stops everything. */
#ifndef CRYO_LAYER_H
#define CRYO_LAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"

#define CRYO_LAYER_DEPTH_MAX 256
#define CRYO_LAYER_NOTES_MAX 100
/* bytes of directory names held for cryo_layer_finish */
#define CRYO_LAYER_DIR_BYTES_MAX (64 << 20)
/* uids and gids above this are given to nobody (65534) */
#define CRYO_LAYER_ID_MAX 65535

struct cryo_layer_opts {
	uint64_t max_entries;   /* entries read, over every layer applied */
	uint64_t max_bytes;     /* bytes of file data written, over every layer */
	bool whiteouts;         /* an OCI layer: ".wh.NAME" deletes NAME, ".wh..wh..opq" empties */
	bool compressed_ok;     /* a tar may be gzip- or zstd-compressed (image layers) */
	bool chown;             /* files owned by id_base + their uid and gid */
	uint32_t id_base;
};

struct cryo_layer_stats {
	uint64_t entries, files, dirs, symlinks, hardlinks, fifos, bytes, whiteouts;
	uint64_t refused, not_made, setid_cleared;
};

struct cryo_layer_dir; /* a directory's metadata, set at the end */

struct cryo_layer {
	int root;
	struct cryo_layer_opts o;
	struct cryo_layer_stats s;
	cJSON *notes; /* [{path, what}], the first CRYO_LAYER_NOTES_MAX */
	struct cryo_layer_dir *dirs;
	size_t ndirs, capdirs;
	size_t *hidx, hcap;  /* index of dirs by path (entry + 1) */
	uint64_t dir_bytes;  /* of their paths */
	uint64_t walks;      /* directories opened to find parents */
	char *cache_path; /* the last parent walked, and its descriptor */
	int cache_fd;
};

/* root: an open directory (kept by the caller).  Never fails. */
void cryo_layer_init(struct cryo_layer *L, int root, const struct cryo_layer_opts *o);
/* Apply the tar open on fd (read from its current offset); what names it
 * in messages.  -1 when a bound is passed or the tar is unreadable; the
 * tree then holds part of it. */
int cryo_layer_apply_tar(struct cryo_layer *L, int fd, const char *what, struct cryo_error *err);
/* Apply a directory tree (an image's layer as a directory, an overlay
 * lower), read without following its symlinks. */
int cryo_layer_apply_dir(struct cryo_layer *L, const char *dir, struct cryo_error *err);
/* Set each directory's mode, owner and times (deepest first). */
int cryo_layer_finish(struct cryo_layer *L, struct cryo_error *err);
void cryo_layer_free(struct cryo_layer *L);

/* Put the regular file open on src at the clean relative path rel (its
 * directories made as needed, never through a symlink), mode's permission
 * bits without setuid/setgid, owned by id_base when chown is set.  It must
 * not exist. */
int cryo_layer_put_file(struct cryo_layer *L, const char *rel, int src, mode_t mode, struct cryo_error *err);

/* "./a//b/" -> "a/b" in out; -1 (why set) for an absolute path, a ".."
 * component, too many components or too long.  "" for the root itself. */
int cryo_layer_clean_path(const char *in, char *out, size_t size, const char **why);

#endif
