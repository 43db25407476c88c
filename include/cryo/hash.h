/* SHA-256 through OpenSSL (uses the CPU's SHA extensions). */
#ifndef CRYO_HASH_H
#define CRYO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CRYO_SHA256_HEX 65

void cryo_sha256_hex(const void *data, size_t len, char out[CRYO_SHA256_HEX]);

struct cryo_sha256;
struct cryo_sha256 *cryo_sha256_new(void);
/* Start over, for the next member: final_hex does not. */
void cryo_sha256_reset(struct cryo_sha256 *h);
void cryo_sha256_update(struct cryo_sha256 *h, const void *data, size_t len);
void cryo_sha256_final_hex(struct cryo_sha256 *h, char out[CRYO_SHA256_HEX]);
void cryo_sha256_free(struct cryo_sha256 *h);

#endif
