/* cryo-pack: seal a case directory into one signed archive
 * (docs/evidence-format.md).  One pass over the artifacts: each is read
 * once, checked against the SHA-256 the custody log recorded when it was
 * captured, written into a pax tar that zstd compresses on every core, and
 * the compressed stream is hashed (BLAKE2b-512 for the minisign signature,
 * SHA-256 for the record) as it is written. */
#ifndef CRYO_PACK_H
#define CRYO_PACK_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cryo/error.h"
#include "cryo/minisign.h"

struct cryo_pack_request {
	const char *case_dir;
	const char *out;                 /* the archive; its signature is out + ".minisig" */
	const struct cryo_seckey *sk;    /* NULL: unsigned */
	bool force;                      /* record artifacts changed since capture instead of refusing */
	int level;                       /* zstd level */
	int threads;                     /* zstd workers; 0: one per core */
	int argc;
	char *const *argv;
	/* called as bytes of artifacts are read (done <= total) */
	void (*progress)(uint64_t done, uint64_t total, void *arg);
	void *progress_arg;
};

/* *result (always set): archive, size, sha256, blake2b, signature,
 * key_id, case_id, members, input_bytes, and the lists unrecorded,
 * changed_after_capture, skipped.  An artifact that changed after
 * capture is CRYO_EXIT_NO (without force); a failed write leaves no
 * archive, no signature and no custody entry. */
int cryo_pack(const struct cryo_pack_request *req, cJSON **result, struct cryo_error *err);

/* Remove the temporaries a killed cryo-pack left beside out (the archive's
 * and its signature's); they are never evidence. */
void cryo_pack_remove_temporaries(const char *out);

#endif
