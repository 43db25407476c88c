/* MANIFEST.json: signed, but parsed by cryo-verify before anything else in
 * an archive of unknown origin (and with --unsigned, trusted as it is).
 * Whatever it accepts must keep the promises the verifier builds on. */
#include "cryo/evidence.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct cryo_manifest m;
	struct cryo_error err;
	if (cryo_manifest_parse(text, size, &m, &err) == 0) {
		FUZZ_CHECK(m.case_id && m.custody_head && m.n >= 2);
		for (size_t i = 0; i < m.n; i++) {
			FUZZ_CHECK(cryo_member_path_ok(m.v[i].path));
			FUZZ_CHECK(strlen(m.v[i].sha256) == 64);
		}
		char sha[CRYO_SHA256_HEX];
		memset(sha, 'a', 64);
		sha[64] = '\0';
		char *sums = cryo_sums_text(&m, sha);
		FUZZ_CHECK(sums != NULL);
		size_t lines = 0;
		for (const char *p = sums; *p; p++)
			lines += *p == '\n';
		FUZZ_CHECK(lines == m.n + 1);
		free(sums);
		cryo_manifest_free(&m);
	} else {
		FUZZ_CHECK(err.exit == CRYO_EXIT_NO || err.exit == CRYO_EXIT_OSERR);
		FUZZ_CHECK_STR(err.msg);
	}
	free(text);
	return 0;
}
