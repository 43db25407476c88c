/* minisign's key formats (https://jedisct1.github.io/minisign/), so keys
 * made by `minisign -G` work with cryo and cryo's keys work with minisign.
 *
 *   public key:  "untrusted comment: ..." line, then
 *                base64("Ed" || keynum[8] || ed25519 pk[32])
 *   secret key:  "untrusted comment: ..." line, then base64 of
 *                "Ed" || kdf "Sc" (scrypt) or "\0\0" (none) || "B2" ||
 *                salt[32] || opslimit le64 || memlimit le64 ||
 *                (keynum[8] || sk[64] || chk[32]) XOR scrypt stream
 *                where chk = BLAKE2b-256("Ed" || keynum || sk).
 * Secret keys live in libsodium guarded memory and are wiped on free. */
#ifndef CRYO_MINISIGN_H
#define CRYO_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cryo/error.h"

#define CRYO_KEYNUM_BYTES 8
#define CRYO_KEYID_HEX 17

struct cryo_pubkey {
	uint8_t keynum[CRYO_KEYNUM_BYTES];
	uint8_t pk[32];
};

struct cryo_seckey {
	uint8_t keynum[CRYO_KEYNUM_BYTES];
	uint8_t sk[64];
};

/* libsodium must be initialised first (idempotent). */
int cryo_sodium_init(struct cryo_error *err);

/* A new keypair; *sk is guarded memory (cryo_seckey_free). */
int cryo_key_generate(struct cryo_pubkey *pk, struct cryo_seckey **sk, struct cryo_error *err);
void cryo_seckey_free(struct cryo_seckey *sk);
/* The public half of a secret key (ed25519 sk holds it in its last 32 bytes). */
void cryo_seckey_public(const struct cryo_seckey *sk, struct cryo_pubkey *pk);

/* Key id as minisign prints it: 16 upper-case hex digits of keynum read
 * as a little-endian 64-bit number. */
void cryo_keyid(const uint8_t keynum[CRYO_KEYNUM_BYTES], char out[CRYO_KEYID_HEX]);

/* File texts (malloc'd).  comment NULL: minisign's default comment. */
char *cryo_pubkey_encode(const struct cryo_pubkey *pk, const char *comment);
/* password NULL: unencrypted (minisign -W). */
char *cryo_seckey_encode(const struct cryo_seckey *sk, const char *password, const char *comment,
			 struct cryo_error *err);

int cryo_pubkey_parse(const char *text, size_t len, struct cryo_pubkey *pk, struct cryo_error *err);
int cryo_pubkey_load(const char *path, struct cryo_pubkey *pk, struct cryo_error *err);
/* 1 when the secret key file is password-protected, 0 when not, -1 bad. */
int cryo_seckey_is_encrypted(const char *text, size_t len, struct cryo_error *err);
/* Decode (and decrypt) a secret key; a wrong password is CRYO_EXIT_NO. */
int cryo_seckey_parse(const char *text, size_t len, const char *password, struct cryo_seckey **sk,
		      struct cryo_error *err);

/* Signatures.  cryo writes prehashed ones ("ED": the signature covers
 * BLAKE2b-512 of the data, so any size streams), as minisign 0.11 does by
 * default, and reads legacy ones ("Ed") too. */
#define CRYO_BLAKE2B_BYTES 64
#define CRYO_TRUSTED_MAX 8192

struct cryo_minisig {
	bool prehashed;
	uint8_t keynum[CRYO_KEYNUM_BYTES];
	uint8_t sig[64];
	char trusted[CRYO_TRUSTED_MAX];
	uint8_t global[64];
};

/* The text of a signature file (malloc'd) over data whose BLAKE2b-512 is
 * hash; comments are single lines. */
char *cryo_minisign_sign(const struct cryo_seckey *sk, const uint8_t hash[CRYO_BLAKE2B_BYTES],
			 const char *trusted, const char *untrusted, struct cryo_error *err);
int cryo_minisig_parse(const char *text, size_t len, struct cryo_minisig *s, struct cryo_error *err);
/* Checks the key id, the signature (hash for "ED"; msg for "Ed", NULL
 * refuses) and the global signature over the trusted comment.  A mismatch
 * is CRYO_EXIT_NO. */
int cryo_minisig_verify(const struct cryo_pubkey *pk, const struct cryo_minisig *s,
			const uint8_t hash[CRYO_BLAKE2B_BYTES], const void *msg, size_t msg_len,
			struct cryo_error *err);

#endif
