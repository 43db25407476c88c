/* Verifying a custody log: the log is the one file in a case that is meant
 * to be checked after it left our hands, so any byte of it may be forged. */
#include "cryo/case.h"
#include "fuzz.h"

/* The case id of the committed seed chains (corpus/custody/). */
#define CASE_ID "20261129T051355Z-5eed0001"

static void verify(const char *text, size_t size, const char *case_id)
{
	long bad_line = -42;
	struct cryo_error err;
	long n = cryo_custody_verify_text(text, size, case_id, &bad_line, &err);
	if (n >= 0) {
		FUZZ_CHECK(bad_line == 0);
		/* every entry ends in a newline, so the count is the newlines' */
		long lines = 0;
		for (const char *p = text; p < text + size; p++)
			lines += *p == '\n';
		FUZZ_CHECK(n == lines);
		FUZZ_CHECK(size == 0 || text[size - 1] == '\n');
	} else {
		FUZZ_CHECK(n == -1);
		FUZZ_CHECK(bad_line >= 1);
		FUZZ_CHECK(err.exit == CRYO_EXIT_NO);
		FUZZ_CHECK_STR(err.msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* (text, len) with no terminator: the verifier must stay within len. */
	char *text = fuzz_dup(data, size);
	verify(text, size, CASE_ID);
	/* without a case id the first entry's prev must be "case:" */
	verify(text, size, NULL);
	free(text);
	return 0;
}
