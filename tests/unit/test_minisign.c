/* minisign.c against committed fixtures (tests/data/minisign/): a fixed
 * test key gives a fixed signature (Ed25519 is deterministic), signatures
 * made by the real minisign (prehashed and legacy) verify, and every
 * committed forgery fails with "no" (exit 1), never with a crash or a
 * parse error that a caller could mistake for something else. */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <unistd.h>
#include "check.h"
#include "cryo/cleanup.h"
#include "cryo/evidence.h"
#include "cryo/minisign.h"
#include "cryo/util.h"

/* BUILD/tests/test_minisign finds tests/data/minisign/NAME */
static char *fixture(const char *name, size_t *len)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0);
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../../tests/data/minisign/%s", dirname(exe), name);
	char *text = NULL;
	size_t l;
	struct cryo_error err;
	CHECK_MSG(cryo_read_file_at(AT_FDCWD, path, 1u << 20, true, &text, &l, &err) == 0, "%s", err.msg);
	if (len)
		*len = l;
	return text;
}

static void pubkey(const char *name, struct cryo_pubkey *pk)
{
	size_t len;
	cleanup_free char *t = fixture(name, &len);
	struct cryo_error err;
	CHECK_MSG(cryo_pubkey_parse(t, len, pk, &err) == 0, "%s", err.msg);
}

static void blake2b(const char *data, size_t len, uint8_t h[CRYO_BLAKE2B_BYTES])
{
	CHECK(sodium_init() >= 0);
	crypto_generichash(h, CRYO_BLAKE2B_BYTES, (const uint8_t *)data, len, NULL, 0);
}

/* 0 when sig verifies msg under pub, else the exit class. */
static int verify(const char *pub, const char *sig, const char *msgname)
{
	struct cryo_pubkey pk;
	pubkey(pub, &pk);
	size_t slen, mlen;
	cleanup_free char *st = fixture(sig, &slen), *msg = fixture(msgname, &mlen);
	struct cryo_minisig s;
	struct cryo_error err = { 0 };
	if (cryo_minisig_parse(st, slen, &s, &err) < 0)
		return (int)err.exit;
	uint8_t h[CRYO_BLAKE2B_BYTES];
	blake2b(msg, mlen, h);
	if (cryo_minisig_verify(&pk, &s, h, msg, mlen, &err) < 0) {
		CHECK(err.msg[0]);
		return (int)err.exit;
	}
	return 0;
}

TEST(fixed_key_gives_fixed_signature)
{
	size_t len, mlen, slen;
	cleanup_free char *sec = fixture("test.sec", &len), *msg = fixture("msg.txt", &mlen);
	cleanup_free char *want = fixture("msg.minisig", &slen);
	struct cryo_seckey *sk = NULL;
	struct cryo_error err;
	CHECK_MSG(cryo_seckey_parse(sec, len, NULL, &sk, &err) == 0, "%s", err.msg);
	uint8_t h[CRYO_BLAKE2B_BYTES];
	blake2b(msg, mlen, h);
	/* the same key, data and comments as the committed signature, which
	 * the real minisign made: byte for byte the same file */
	cleanup_free char *sig = cryo_minisign_sign(sk, h, "timestamp:0\tfile:msg.txt\thashed",
						    "signature from minisign secret key", &err);
	cryo_seckey_free(sk);
	CHECK_MSG(sig, "%s", err.msg);
	CHECK_STR_EQ(sig, want);
}

TEST(real_minisign_signatures_verify)
{
	CHECK_INT_EQ(verify("test.pub", "msg.minisig", "msg.txt"), 0);
	/* legacy (-l): the signature covers the message itself */
	CHECK_INT_EQ(verify("test.pub", "msg.legacy.minisig", "msg.txt"), 0);
}

TEST(forgeries_fail)
{
	static const char *const forged[] = {
		"forged-trusted.minisig",   /* trusted comment edited */
		"forged-flip.minisig",      /* one bit of the signature */
		"forged-global.minisig",    /* one bit of the global signature */
		"forged-other-key.minisig", /* another key's signature */
		"forged-keyid.minisig",     /* another key's signature under our key id */
		"forged-alg.minisig",       /* a legacy signature relabelled prehashed */
	};
	for (size_t i = 0; i < CHECK_NTESTS(forged); i++)
		CHECK_MSG(verify("test.pub", forged[i], "msg.txt") == CRYO_EXIT_NO, "%s was accepted", forged[i]);
	CHECK_INT_EQ(verify("test.pub", "msg.minisig", "msg-tampered.txt"), CRYO_EXIT_NO);
	CHECK_INT_EQ(verify("test.pub", "msg.legacy.minisig", "msg-tampered.txt"), CRYO_EXIT_NO);
	CHECK_INT_EQ(verify("other.pub", "msg.minisig", "msg.txt"), CRYO_EXIT_NO);
}

TEST(minisign_unencrypted_key_with_zero_checksum)
{
	size_t len;
	cleanup_free char *sec = fixture("other.sec", &len);
	struct cryo_seckey *sk = NULL;
	struct cryo_error err;
	CHECK_MSG(cryo_seckey_parse(sec, len, NULL, &sk, &err) == 0, "%s", err.msg);
	struct cryo_pubkey derived, pk;
	cryo_seckey_public(sk, &derived);
	cryo_seckey_free(sk);
	pubkey("other.pub", &pk);
	CHECK(memcmp(&derived, &pk, sizeof(pk)) == 0);
}

TEST(signature_parse_rejects_garbage)
{
	static const char *const bad[] = {
		"",
		"untrusted comment: x\n",
		"untrusted comment: x\nnot base64\ntrusted comment: t\nAAAA\n",
		"comment: x\nRURM5jW8rUvjRRG5lxncacl4JBikiY/5bRVY++XhAls6YSfhwvPJZvxfjOs5DaSSCzpgNWpvzkN2GB12Y4x6s78H5IrSCNPrIgk=\n",
	};
	for (size_t i = 0; i < CHECK_NTESTS(bad); i++) {
		struct cryo_minisig s;
		struct cryo_error err;
		CHECK(cryo_minisig_parse(bad[i], strlen(bad[i]), &s, &err) < 0);
		CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	}
}

TEST(member_paths)
{
	static const char *const good[] = { "a", "fs/rootfs-diff.tar", "proc/12/core", "a.b/c..d/.e" };
	static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a/", ".",
					   "..", "a\\b", "a\nb", "a\x7f" };
	for (size_t i = 0; i < CHECK_NTESTS(good); i++)
		CHECK_MSG(cryo_member_path_ok(good[i]), "%s refused", good[i]);
	for (size_t i = 0; i < CHECK_NTESTS(bad); i++)
		CHECK_MSG(!cryo_member_path_ok(bad[i]), "'%s' accepted", bad[i]);
}

static const struct check_test tests[] = {
	CHECK_TEST(fixed_key_gives_fixed_signature),
	CHECK_TEST(real_minisign_signatures_verify),
	CHECK_TEST(forgeries_fail),
	CHECK_TEST(minisign_unencrypted_key_with_zero_checksum),
	CHECK_TEST(signature_parse_rejects_garbage),
	CHECK_TEST(member_paths),
};

CHECK_MAIN(tests)
