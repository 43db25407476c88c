/* cryo-verify: check sealed evidence offline (docs/evidence-format.md).
 *
 * An archive is checked in one streaming pass, in bounded memory: its
 * BLAKE2b-512 for the detached signature is computed from the bytes as
 * they are read, the manifest's own signature is checked as soon as the
 * manifest is in (so sizes and hashes are trusted before any member is),
 * then each member is hashed against the manifest, in order.  An extracted
 * directory is checked the same way through MANIFEST.json.minisig. */
#ifndef CRYO_VERIFY_H
#define CRYO_VERIFY_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"
#include "cryo/minisign.h"

struct cryo_verify_request {
	const struct cryo_pubkey *pk;
	const char *path;        /* archive, directory or (file mode) any file */
	const char *sig;         /* detached signature; NULL: path + ".minisig" */
	const char *extract;     /* archive mode: extract into this new directory */
	/* With extract: only the members it says yes to are written (the
	 * manifest, its signature and SHA256SUMS always are); NULL: all.
	 * size is the manifest's, checked as the member is read. */
	bool (*extract_member)(const char *member, uint64_t size, void *arg);
	void *extract_arg;
	bool unsigned_ok;        /* accept an archive sealed with --unsigned (no pk) */
	/* Readers of the evidence (cryo-report) get members in the same pass
	 * that verifies them, so what they use is what was checked: keep()
	 * says which members (bounded by their manifest size) to hold, and
	 * kept() receives each one whole, NUL-terminated and owned by the
	 * callee, once its SHA-256 matched the signed manifest.  Archive mode
	 * only; custody.jsonl and case.json can be asked for too. */
	bool (*keep)(const char *member, uint64_t size, void *arg);
	void (*kept)(const char *member, char *data, size_t len, void *arg);
	void *keep_arg;
};

/* *result (always set): ok, signature {ok, key_id, trusted_comment},
 * case_id, members, bytes, custody {entries, ok}, bad [{member, why}].
 * 0: everything holds.  CRYO_EXIT_NO: something does not; err names the
 * first bad member and why. */
int cryo_verify_archive(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err);
int cryo_verify_dir(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err);
/* Any file against its minisign signature (prehashed or legacy). */
int cryo_verify_file(const struct cryo_verify_request *req, cJSON **result, struct cryo_error *err);

#endif
