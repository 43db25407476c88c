/* The case directory (one per incident) and its custody log.
 *
 * custody.jsonl is append-only JSON lines.  Each line carries "prev": the
 * SHA-256 of the previous line's bytes (without its newline) as
 * "sha256:<hex>", or "case:<case id>" for the first line, so removing,
 * reordering or editing a line breaks the chain -- except at the tail: the
 * newest line has no successor, so editing or dropping the last lines is
 * only detected against an anchored head (cryo_custody_head(), recorded in
 * the sealed archive's signed manifest).  Writers take an exclusive
 * flock(2) on the log for the read-last-line + append, so two tools on one
 * case never interleave or fork the chain.  Spec: docs/evidence-format.md. */
#ifndef CRYO_CASE_H
#define CRYO_CASE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"
#include "cryo/hash.h"

#define CRYO_CASE_FORMAT 1
#define CRYO_CUSTODY_LINE_MAX (32u << 20) /* one capture may record 100,000 files */

struct cryo_case {
	int dirfd;
	char path[4096];
	char id[64];
};

/* Open (creating 0700 if missing) a case directory.  case.json is written
 * once, atomically, the first time; target may be NULL. */
int cryo_case_open(const char *path, const char *tool, const char *target,
		   struct cryo_case *c, struct cryo_error *err);
void cryo_case_close(struct cryo_case *c);
/* One tool at a time acts on a case (two cuts, a cut and a pack): an
 * exclusive flock(2) on the case directory, waited for up to a minute
 * (then CRYO_EXIT_TIMEOUT).  Returns the fd holding it; close to release.
 * A child that outlives the tool must close it. */
int cryo_case_lock(struct cryo_case *c, const char *who, struct cryo_error *err);

/* One custody entry being built. */
struct cryo_custody_entry {
	cJSON *obj;
	uint64_t t0_ns; /* monotonic start, for the duration */
};
/* Start an entry: tool, action, target; who/when/argv are added here. */
void cryo_custody_begin(struct cryo_custody_entry *e, const char *tool, const char *action,
			const char *target, int argc, char *const argv[]);
/* Record an artifact (path relative to the case dir). */
void cryo_custody_artifact(struct cryo_custody_entry *e, const char *path, uint64_t size,
			   const char *sha256_hex);
/* Set result ("ok" | "error" | "partial") and message, append, free the entry. */
int cryo_custody_commit(struct cryo_case *c, struct cryo_custody_entry *e, const char *result,
			const char *message, struct cryo_error *err);
void cryo_custody_abandon(struct cryo_custody_entry *e);
/* An entry that must be known before it is appended (the seal: its hash
 * goes into the archive it seals).  prepare returns the line it would be
 * now (malloc'd, no newline; the entry stays owned by e); append adds that
 * line, refusing (CRYO_EXIT_TEMPFAIL) if another entry came in between. */
char *cryo_custody_prepare(struct cryo_case *c, struct cryo_custody_entry *e, const char *result,
			   const char *message, struct cryo_error *err);
int cryo_custody_append_prepared(struct cryo_case *c, const char *line, struct cryo_error *err);

/* Write an artifact (relpath like "net/state.json"; its directory is made
 * 0700 if missing) atomically, mode 0600; its SHA-256 and size go into e
 * (when not NULL) at once, as the custody log requires. */
int cryo_case_write_artifact(struct cryo_case *c, const char *relpath, const void *data,
			     size_t len, struct cryo_custody_entry *e, struct cryo_error *err);
/* Same, for evidence that is never replaced: fails with errnum EEXIST
 * when relpath exists. */
int cryo_case_write_artifact_new(struct cryo_case *c, const char *relpath, const void *data,
				 size_t len, struct cryo_custody_entry *e, struct cryo_error *err);
/* A large artifact, streamed: written under a temporary name and hashed
 * as it goes; commit fsyncs, gives it its name (never replacing one) and
 * records size and SHA-256 in e.  Directories in relpath are made 0700. */
#define CRYO_ARTIFACT_BUF (256u << 10)
struct cryo_artifact_hasher;
struct cryo_artifact {
	int dirfd, fd;
	char relpath[1024], base[256], tmp[300];
	struct cryo_sha256 *sha;
	uint64_t size;
	char *buf;   /* small writes gathered, CRYO_ARTIFACT_BUF bytes */
	size_t blen;
	bool failed; /* a write failed: commit refuses */
	bool direct; /* O_DIRECT, as long as every write is whole aligned pages */
	struct cryo_artifact_hasher *hasher; /* hashes a large write while it is written */
};
int cryo_artifact_begin(struct cryo_case *c, const char *relpath, struct cryo_artifact *w,
			struct cryo_error *err);
/* For gigabytes written in large page-aligned pieces from page-aligned
 * buffers (memory dumps): O_DIRECT, so the data goes to the disk without
 * filling the page cache, hashed meanwhile.  The first write that is not
 * whole aligned pages turns O_DIRECT off for the rest of the file; a file
 * system without O_DIRECT gets ordinary writes. */
int cryo_artifact_begin_direct(struct cryo_case *c, const char *relpath, struct cryo_artifact *w,
			       struct cryo_error *err);
int cryo_artifact_write(struct cryo_artifact *w, const void *data, size_t len, struct cryo_error *err);
int cryo_artifact_commit(struct cryo_artifact *w, struct cryo_custody_entry *e, struct cryo_error *err);
/* Content-addressed: the file is named by its SHA-256 (the last component
 * of the relpath given to begin is replaced by it).  A file already there
 * under that name holds the same bytes, so this one is dropped and
 * *existed set.  hex gets the hash either way. */
int cryo_artifact_commit_by_hash(struct cryo_artifact *w, struct cryo_custody_entry *e,
				 char hex[CRYO_SHA256_HEX], bool *existed, struct cryo_error *err);
void cryo_artifact_abort(struct cryo_artifact *w);

/* Read a small artifact back (bounded, no symlinks followed). */
int cryo_case_read_artifact(struct cryo_case *c, const char *relpath, size_t max, char **out,
			    size_t *len, struct cryo_error *err);

/* Verify the chain of a custody log (case_id NULL: take it from line 1,
 * used where case.json is not at hand).  On success returns the number of
 * entries; on a break returns -1 with the line number in the message and
 * *bad_line set (1-based). */
long cryo_custody_verify_text(const char *text, size_t len, const char *case_id,
			      long *bad_line, struct cryo_error *err);
long cryo_custody_verify(int case_dirfd, long *bad_line, struct cryo_error *err);

/* The head of the chain: "sha256:<hex>" of the last line, or "case:<id>"
 * style empty marker "" when the log is empty.  Anchoring it (in a signed
 * manifest) is what protects the tail. */
#define CRYO_CUSTODY_HEAD_MAX 72
void cryo_custody_head_text(const char *text, size_t len, char out[CRYO_CUSTODY_HEAD_MAX]);

#endif
