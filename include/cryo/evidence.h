/* The sealed evidence format (docs/evidence-format.md): one POSIX pax tar
 * compressed with zstd, members in a fixed order
 *
 *   MANIFEST.json, MANIFEST.json.minisig, SHA256SUMS, custody.jsonl,
 *   case.json, then the artifacts
 *
 * plus a detached ARCHIVE.minisig beside it.  The manifest lists every
 * member after SHA256SUMS with its size and SHA-256, in archive order;
 * SHA256SUMS is derived from it (sha256sum -c format, MANIFEST.json
 * first), so an extracted directory verifies with coreutils too. */
#ifndef CRYO_EVIDENCE_H
#define CRYO_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <locale.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"
#include "cryo/hash.h"

#define CRYO_EVIDENCE_FORMAT "cryo-evidence"
#define CRYO_EVIDENCE_VERSION 1
#define CRYO_MANIFEST "MANIFEST.json"
#define CRYO_MANIFEST_SIG "MANIFEST.json.minisig"
#define CRYO_SUMS "SHA256SUMS"
#define CRYO_CUSTODY_MEMBER "custody.jsonl"
#define CRYO_CASE_MEMBER "case.json"

#define CRYO_MANIFEST_MAX (64u << 20)
#define CRYO_MEMBERS_MAX 1000000
#define CRYO_MEMBER_PATH_MAX 1024
#define CRYO_CUSTODY_MAX (256u << 20)

struct cryo_member {
	char *path;
	uint64_t size;
	char sha256[CRYO_SHA256_HEX];
};

struct cryo_manifest {
	cJSON *json;
	const char *case_id;     /* inside json */
	const char *custody_head; /* "sha256:<hex>" of the seal entry, inside json */
	struct cryo_member *v;
	size_t n;
};

/* A member name cryo writes and accepts: relative, '/'-separated, no empty,
 * "." or ".." component, well-formed UTF-8 with no control character or
 * backslash, bounded. */
bool cryo_member_path_ok(const char *path);
/* Parse and check a manifest (format, version, members, paths, no
 * duplicates); a bad one is CRYO_EXIT_NO: it was signed, so it is not
 * damage but a forgery or a bug. */
int cryo_manifest_parse(const char *text, size_t len, struct cryo_manifest *m, struct cryo_error *err);
void cryo_manifest_free(struct cryo_manifest *m);
/* The SHA256SUMS text a manifest implies (malloc'd). */
char *cryo_sums_text(const struct cryo_manifest *m, const char manifest_sha256[CRYO_SHA256_HEX]);

/* libarchive converts names through the calling thread's locale, and in
 * the C locale a name beyond ASCII cannot be converted (3.6.2 then crashes
 * in the pax writer).  Names are UTF-8 by our own rule: archive work runs
 * with this thread in C.UTF-8.  enter returns what leave restores. */
locale_t cryo_utf8_locale_enter(void);
void cryo_utf8_locale_leave(locale_t prev);

#endif
