/* minisign files: keys and signatures arrive with archives from wherever an
 * analyst got them, so every byte of them may be forged.  The input is
 * tried as a public key, an unencrypted secret key and a signature; a
 * signature that parses is checked against the input itself under a
 * fixed key, which must refuse it (it was not made with that key). */
#include <sodium.h>
#include "cryo/minisign.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct cryo_error err;
	struct cryo_pubkey pk;
	if (cryo_pubkey_parse(text, size, &pk, &err) < 0)
		FUZZ_CHECK_STR(err.msg);
	/* no password: an encrypted key is refused before scrypt runs */
	struct cryo_seckey *sk = NULL;
	if (cryo_seckey_parse(text, size, NULL, &sk, &err) == 0) {
		FUZZ_CHECK(sk != NULL);
		cryo_seckey_free(sk);
	} else {
		FUZZ_CHECK(err.exit != 0);
	}
	struct cryo_minisig s;
	if (cryo_minisig_parse(text, size, &s, &err) == 0) {
		FUZZ_CHECK_STR(s.trusted);
		static const struct cryo_pubkey fixed = { .keynum = { 1, 2, 3, 4, 5, 6, 7, 8 } };
		uint8_t h[CRYO_BLAKE2B_BYTES] = { 0 };
		FUZZ_CHECK(cryo_minisig_verify(&fixed, &s, h, text, size, &err) < 0);
		FUZZ_CHECK(err.exit == CRYO_EXIT_NO);
	} else {
		FUZZ_CHECK(err.exit == CRYO_EXIT_DATAERR);
	}
	free(text);
	return 0;
}
