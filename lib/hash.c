/* SHA-256 from OpenSSL's libcrypto, loaded on first use.
 *
 * Why dlopen: mapping and relocating libcrypto costs about 3 ms per process
 * start on the reference machine, more than the freeze itself; cryo-freeze
 * without --case never hashes and must start in well under a millisecond of
 * its own time.  Tools that hash pay the cost once, when they first hash. */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "cryo/hash.h"

static struct {
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	const EVP_MD *(*sha256)(void);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} ossl;
static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

static void ossl_load(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		/* Without SHA-256 no evidence can be hashed: nothing sensible
		 * to continue with, and silently skipping hashes would be worse. */
		fprintf(stderr, "cryo: cannot load libcrypto.so.3: %s\n", dlerror());
		abort();
	}
	*(void **)&ossl.ctx_new = dlsym(h, "EVP_MD_CTX_new");
	*(void **)&ossl.ctx_free = dlsym(h, "EVP_MD_CTX_free");
	*(void **)&ossl.sha256 = dlsym(h, "EVP_sha256");
	*(void **)&ossl.init = dlsym(h, "EVP_DigestInit_ex");
	*(void **)&ossl.update = dlsym(h, "EVP_DigestUpdate");
	*(void **)&ossl.final = dlsym(h, "EVP_DigestFinal_ex");
	if (!ossl.ctx_new || !ossl.ctx_free || !ossl.sha256 || !ossl.init || !ossl.update ||
	    !ossl.final) {
		fprintf(stderr, "cryo: libcrypto.so.3 lacks the EVP digest API\n");
		abort();
	}
}

static void to_hex(const unsigned char *d, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

struct cryo_sha256 {
	EVP_MD_CTX *ctx;
};

struct cryo_sha256 *cryo_sha256_new(void)
{
	pthread_once(&ossl_once, ossl_load);
	struct cryo_sha256 *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ctx = ossl.ctx_new();
	if (!h->ctx || ossl.init(h->ctx, ossl.sha256(), NULL) != 1) {
		ossl.ctx_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

void cryo_sha256_reset(struct cryo_sha256 *h)
{
	ossl.init(h->ctx, ossl.sha256(), NULL);
}

void cryo_sha256_update(struct cryo_sha256 *h, const void *data, size_t len)
{
	ossl.update(h->ctx, data, len);
}

void cryo_sha256_final_hex(struct cryo_sha256 *h, char out[CRYO_SHA256_HEX])
{
	unsigned char md[32];
	unsigned n = 0;
	ossl.final(h->ctx, md, &n);
	to_hex(md, 32, out);
}

void cryo_sha256_free(struct cryo_sha256 *h)
{
	if (h) {
		ossl.ctx_free(h->ctx);
		free(h);
	}
}

void cryo_sha256_hex(const void *data, size_t len, char out[CRYO_SHA256_HEX])
{
	struct cryo_sha256 *h = cryo_sha256_new();
	if (!h)
		abort(); /* out of memory for a 100-byte context */
	cryo_sha256_update(h, data, len);
	cryo_sha256_final_hex(h, out);
	cryo_sha256_free(h);
}
