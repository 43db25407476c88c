#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "cryo/cleanup.h"
#include "cryo/minisign.h"
#include "cryo/util.h"

#define COMMENT_PREFIX "untrusted comment: "
#define SECKEY_BYTES 158
#define PUBKEY_BYTES 42

struct seckey_file {
	uint8_t sig_alg[2], kdf_alg[2], chk_alg[2];
	uint8_t salt[crypto_pwhash_scryptsalsa208sha256_SALTBYTES];
	uint8_t opslimit_le[8], memlimit_le[8];
	uint8_t keynum[CRYO_KEYNUM_BYTES], sk[64], chk[crypto_generichash_BYTES];
} __attribute__((packed));
_Static_assert(sizeof(struct seckey_file) == SECKEY_BYTES, "minisign secret key layout");

int cryo_sodium_init(struct cryo_error *err)
{
	if (sodium_init() < 0)
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "libsodium failed to initialise");
	return 0;
}

static void le64_store(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le64_load(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | in[i];
	return v;
}

void cryo_keyid(const uint8_t keynum[CRYO_KEYNUM_BYTES], char out[CRYO_KEYID_HEX])
{
	snprintf(out, CRYO_KEYID_HEX, "%016" PRIX64, le64_load(keynum));
}

void cryo_seckey_free(struct cryo_seckey *sk)
{
	if (sk)
		sodium_free(sk); /* wipes before release */
}

void cryo_seckey_public(const struct cryo_seckey *sk, struct cryo_pubkey *pk)
{
	memcpy(pk->keynum, sk->keynum, sizeof(pk->keynum));
	crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

int cryo_key_generate(struct cryo_pubkey *pk, struct cryo_seckey **out, struct cryo_error *err)
{
	if (cryo_sodium_init(err) < 0)
		return -1;
	struct cryo_seckey *sk = sodium_malloc(sizeof(*sk));
	if (!sk)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory for a secret key");
	randombytes_buf(sk->keynum, sizeof(sk->keynum));
	crypto_sign_keypair(pk->pk, sk->sk);
	memcpy(pk->keynum, sk->keynum, sizeof(pk->keynum));
	*out = sk;
	return 0;
}

static char *b64(const void *bin, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);
	if (s)
		sodium_bin2base64(s, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

char *cryo_pubkey_encode(const struct cryo_pubkey *pk, const char *comment)
{
	uint8_t raw[PUBKEY_BYTES];
	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, pk->keynum, 8);
	memcpy(raw + 10, pk->pk, 32);
	cleanup_free char *enc = b64(raw, sizeof(raw));
	char id[CRYO_KEYID_HEX];
	cryo_keyid(pk->keynum, id);
	if (!enc)
		return NULL;
	if (comment)
		return cryo_strdup_printf(COMMENT_PREFIX "%s\n%s\n", comment, enc);
	return cryo_strdup_printf(COMMENT_PREFIX "minisign public key %s\n%s\n", id, enc);
}

static void checksum(const struct seckey_file *f, uint8_t chk[crypto_generichash_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	crypto_generichash_update(&st, f->sig_alg, sizeof(f->sig_alg));
	crypto_generichash_update(&st, f->keynum, sizeof(f->keynum));
	crypto_generichash_update(&st, f->sk, sizeof(f->sk));
	crypto_generichash_final(&st, chk, crypto_generichash_BYTES);
}

/* XOR keynum || sk || chk with the scrypt stream of the password. */
static int xor_stream(struct seckey_file *f, const char *password, struct cryo_error *err)
{
	size_t n = sizeof(f->keynum) + sizeof(f->sk) + sizeof(f->chk);
	uint8_t *stream = sodium_malloc(n);
	if (!stream)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
	uint64_t ops = le64_load(f->opslimit_le), mem = le64_load(f->memlimit_le);
	/* bounded: a file asking for more than minisign's own "sensitive"
	 * limits is refused rather than allowed to eat the machine */
	if (ops > crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE ||
	    mem > crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE) {
		sodium_free(stream);
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "secret key asks for excessive scrypt limits");
	}
	if (crypto_pwhash_scryptsalsa208sha256(stream, n, password, strlen(password), f->salt, ops,
					       (size_t)mem) != 0) {
		sodium_free(stream);
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "scrypt (needs %llu MiB)",
				      (unsigned long long)(mem >> 20));
	}
	uint8_t *p = f->keynum;
	for (size_t i = 0; i < n; i++)
		p[i] ^= stream[i];
	sodium_free(stream);
	return 0;
}

char *cryo_seckey_encode(const struct cryo_seckey *sk, const char *password, const char *comment,
			 struct cryo_error *err)
{
	if (cryo_sodium_init(err) < 0)
		return NULL;
	struct seckey_file *f = sodium_malloc(sizeof(*f));
	if (!f) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
		return NULL;
	}
	memcpy(f->sig_alg, "Ed", 2);
	memcpy(f->kdf_alg, password ? "Sc" : "\0\0", 2);
	memcpy(f->chk_alg, "B2", 2);
	randombytes_buf(f->salt, sizeof(f->salt));
	le64_store(f->opslimit_le, crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE);
	le64_store(f->memlimit_le, crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
	memcpy(f->keynum, sk->keynum, sizeof(f->keynum));
	memcpy(f->sk, sk->sk, sizeof(f->sk));
	checksum(f, f->chk);
	char *text = NULL;
	if (!password || xor_stream(f, password, err) == 0) {
		cleanup_free char *enc = b64(f, sizeof(*f));
		if (enc)
			text = cryo_strdup_printf(COMMENT_PREFIX "%s\n%s\n",
						  comment ? comment
							  : password ? "minisign encrypted secret key"
								     : "minisign secret key",
						  enc);
	}
	sodium_free(f);
	return text;
}

/* The base64 line after the comment line, decoded into out (exact size). */
static int decode_file(const char *text, size_t len, void *out, size_t want, const char *what,
		       struct cryo_error *err)
{
	if (len > 8192)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: file too large", what);
	const char *nl = memchr(text, '\n', len);
	if (!nl || (size_t)(nl - text) < strlen(COMMENT_PREFIX) - 1 ||
	    strncmp(text, COMMENT_PREFIX, strlen(COMMENT_PREFIX)) != 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: no \"untrusted comment:\" line", what);
	const char *b = nl + 1, *end = text + len;
	const char *e = memchr(b, '\n', (size_t)(end - b));
	if (!e)
		e = end;
	while (e > b && (e[-1] == '\r' || e[-1] == ' '))
		e--;
	size_t got = 0;
	if (sodium_base642bin(out, want, b, (size_t)(e - b), NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got != want)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "%s: not a minisign key (bad base64 or size)", what);
	return 0;
}

int cryo_pubkey_parse(const char *text, size_t len, struct cryo_pubkey *pk, struct cryo_error *err)
{
	uint8_t raw[PUBKEY_BYTES];
	if (decode_file(text, len, raw, sizeof(raw), "public key", err) < 0)
		return -1;
	if (memcmp(raw, "Ed", 2) != 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "public key: unsupported algorithm");
	memcpy(pk->keynum, raw + 2, 8);
	memcpy(pk->pk, raw + 10, 32);
	return 0;
}

int cryo_seckey_is_encrypted(const char *text, size_t len, struct cryo_error *err)
{
	if (cryo_sodium_init(err) < 0)
		return -1;
	struct seckey_file *f = sodium_malloc(sizeof(*f));
	if (!f)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
	int rc = decode_file(text, len, f, sizeof(*f), "secret key", err);
	if (rc == 0)
		rc = memcmp(f->kdf_alg, "Sc", 2) == 0 ? 1 : memcmp(f->kdf_alg, "\0\0", 2) == 0 ? 0
			: cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "secret key: unknown key derivation");
	sodium_free(f);
	return rc;
}

int cryo_seckey_parse(const char *text, size_t len, const char *password, struct cryo_seckey **out,
		      struct cryo_error *err)
{
	if (cryo_sodium_init(err) < 0)
		return -1;
	struct seckey_file *f = sodium_malloc(sizeof(*f));
	if (!f)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
	int rc = -1;
	if (decode_file(text, len, f, sizeof(*f), "secret key", err) < 0)
		goto out;
	if (memcmp(f->sig_alg, "Ed", 2) != 0 || memcmp(f->chk_alg, "B2", 2) != 0) {
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "secret key: unsupported algorithm");
		goto out;
	}
	bool enc = memcmp(f->kdf_alg, "Sc", 2) == 0;
	if (!enc && memcmp(f->kdf_alg, "\0\0", 2) != 0) {
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "secret key: unknown key derivation");
		goto out;
	}
	if (enc) {
		if (!password) {
			cryo_error_set(err, CRYO_EXIT_USAGE, 0, "secret key is encrypted: a password is needed");
			goto out;
		}
		if (xor_stream(f, password, err) < 0)
			goto out;
	}
	uint8_t chk[crypto_generichash_BYTES];
	checksum(f, chk);
	/* minisign -W (0.11) writes an unencrypted key with a zero checksum
	 * and never checks it: the key's own consistency (the public half is
	 * the one its seed gives) stands in for it */
	static const uint8_t zero[crypto_generichash_BYTES];
	bool no_chk = !enc && sodium_memcmp(f->chk, zero, sizeof(zero)) == 0;
	if (no_chk) {
		uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
		crypto_sign_seed_keypair(pk, sk2, f->sk);
		no_chk = sodium_memcmp(pk, f->sk + 32, sizeof(pk)) == 0;
		sodium_memzero(sk2, sizeof(sk2));
		if (!no_chk) {
			cryo_error_set(err, CRYO_EXIT_NO, 0, "secret key is corrupt (its halves do not match)");
			goto out;
		}
	}
	if (!no_chk && sodium_memcmp(chk, f->chk, sizeof(chk)) != 0) {
		cryo_error_set(err, CRYO_EXIT_NO, 0,
			       enc ? "wrong password for this secret key" : "secret key is corrupt (checksum)");
		goto out;
	}
	struct cryo_seckey *sk = sodium_malloc(sizeof(*sk));
	if (!sk) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
		goto out;
	}
	memcpy(sk->keynum, f->keynum, sizeof(sk->keynum));
	memcpy(sk->sk, f->sk, sizeof(sk->sk));
	*out = sk;
	rc = 0;
out:
	sodium_free(f);
	return rc;
}

/* --- signatures ------------------------------------------------------------
 *   "untrusted comment: ..."
 *   base64(alg "ED" (prehashed: BLAKE2b-512 of the data) or "Ed" (legacy:
 *          the data itself) || keynum[8] || ed25519 signature[64])
 *   "trusted comment: ..."
 *   base64(ed25519 signature of (signature[64] || trusted comment))
 */
#define TRUSTED_PREFIX "trusted comment: "
#define SIG_BYTES 74

/* One line: a tab is allowed (minisign's own trusted comments use them). */
static bool printable_line(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

char *cryo_minisign_sign(const struct cryo_seckey *sk, const uint8_t hash[CRYO_BLAKE2B_BYTES],
			 const char *trusted, const char *untrusted, struct cryo_error *err)
{
	if (strlen(trusted) >= CRYO_TRUSTED_MAX || !printable_line(trusted) || !printable_line(untrusted)) {
		cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "signature comment too long or not one line");
		return NULL;
	}
	uint8_t raw[SIG_BYTES];
	memcpy(raw, "ED", 2);
	memcpy(raw + 2, sk->keynum, 8);
	crypto_sign_detached(raw + 10, NULL, hash, CRYO_BLAKE2B_BYTES, sk->sk);
	size_t tlen = strlen(trusted);
	cleanup_free uint8_t *g = malloc(64 + tlen);
	if (!g) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "signature");
		return NULL;
	}
	memcpy(g, raw + 10, 64);
	memcpy(g + 64, trusted, tlen);
	uint8_t global[64];
	crypto_sign_detached(global, NULL, g, 64 + tlen, sk->sk);
	cleanup_free char *s1 = b64(raw, sizeof(raw));
	cleanup_free char *s2 = b64(global, sizeof(global));
	if (!s1 || !s2) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "signature");
		return NULL;
	}
	return cryo_strdup_printf(COMMENT_PREFIX "%s\n%s\n" TRUSTED_PREFIX "%s\n%s\n", untrusted, s1, trusted, s2);
}

/* One line of text: [*p, end), advancing *p past its newline. */
static int next_line(const char **p, const char *end, const char **line, size_t *len)
{
	if (*p >= end)
		return -1;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *e = nl ? nl : end;
	*line = *p;
	*len = (size_t)(e - *p);
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	*p = nl ? nl + 1 : end;
	return 0;
}

int cryo_minisig_parse(const char *text, size_t len, struct cryo_minisig *s, struct cryo_error *err)
{
	const char *p = text, *end = text + len, *l;
	size_t n, got;
	uint8_t raw[SIG_BYTES];
	memset(s, 0, sizeof(*s));
	if (len > 2 * CRYO_TRUSTED_MAX)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: file too large");
	if (next_line(&p, end, &l, &n) < 0 || n < strlen(COMMENT_PREFIX) ||
	    strncmp(l, COMMENT_PREFIX, strlen(COMMENT_PREFIX)) != 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: no \"untrusted comment:\" line");
	if (next_line(&p, end, &l, &n) < 0 ||
	    sodium_base642bin(raw, sizeof(raw), l, n, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != sizeof(raw))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: not a minisign signature (bad base64 or size)");
	if (memcmp(raw, "ED", 2) != 0 && memcmp(raw, "Ed", 2) != 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: unsupported algorithm");
	s->prehashed = raw[1] == 'D';
	memcpy(s->keynum, raw + 2, 8);
	memcpy(s->sig, raw + 10, 64);
	if (next_line(&p, end, &l, &n) < 0 || n < strlen(TRUSTED_PREFIX) ||
	    strncmp(l, TRUSTED_PREFIX, strlen(TRUSTED_PREFIX)) != 0)
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: no \"trusted comment:\" line");
	n -= strlen(TRUSTED_PREFIX);
	if (n >= sizeof(s->trusted) || memchr(l + strlen(TRUSTED_PREFIX), '\0', n))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: trusted comment too long");
	memcpy(s->trusted, l + strlen(TRUSTED_PREFIX), n);
	s->trusted[n] = '\0';
	if (next_line(&p, end, &l, &n) < 0 ||
	    sodium_base642bin(s->global, sizeof(s->global), l, n, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != sizeof(s->global))
		return cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "signature: bad global signature line");
	return 0;
}

int cryo_minisig_verify(const struct cryo_pubkey *pk, const struct cryo_minisig *s,
			const uint8_t hash[CRYO_BLAKE2B_BYTES], const void *msg, size_t msg_len,
			struct cryo_error *err)
{
	if (cryo_sodium_init(err) < 0)
		return -1;
	if (memcmp(s->keynum, pk->keynum, sizeof(pk->keynum)) != 0) {
		char a[CRYO_KEYID_HEX], b[CRYO_KEYID_HEX];
		cryo_keyid(s->keynum, a);
		cryo_keyid(pk->keynum, b);
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "signed with key %s, not with key %s", a, b);
	}
	int bad = s->prehashed ? crypto_sign_verify_detached(s->sig, hash, CRYO_BLAKE2B_BYTES, pk->pk)
			       : (msg ? crypto_sign_verify_detached(s->sig, msg, msg_len, pk->pk) : -1);
	if (bad)
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "signature does not match the data");
	size_t tlen = strlen(s->trusted);
	cleanup_free uint8_t *g = malloc(64 + tlen);
	if (!g)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "signature");
	memcpy(g, s->sig, 64);
	memcpy(g + 64, s->trusted, tlen);
	if (crypto_sign_verify_detached(s->global, g, 64 + tlen, pk->pk) != 0)
		return cryo_error_set(err, CRYO_EXIT_NO, 0, "the trusted comment is not the signed one");
	return 0;
}

int cryo_pubkey_load(const char *path, struct cryo_pubkey *pk, struct cryo_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_read_file_at(AT_FDCWD, path, 8192, false, &text, &len, err) < 0)
		return -1;
	if (cryo_pubkey_parse(text, len, pk, err) < 0)
		return cryo_error_wrap(err, "%s", path);
	return 0;
}
