/* A whole archive through cryo-verify, integrity only (--unsigned: no key,
 * so the fuzzer can reach the members): libarchive's zstd and tar readers,
 * then the manifest, SHA256SUMS, member order, sizes, hashes and the
 * custody chain.  Whatever the bytes, the answer is yes or no, with a
 * reason, never a crash; extraction is not fuzzed here (it writes files). */
#include <sys/mman.h>
#include <unistd.h>
#include "cryo/verify.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("archive", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct cryo_verify_request req = { .path = path, .unsigned_ok = true };
	cJSON *result = NULL;
	struct cryo_error err = { 0 };
	int rc = cryo_verify_archive(&req, &result, &err);
	FUZZ_CHECK(result != NULL);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(result, "ok");
	FUZZ_CHECK(cJSON_IsBool(ok));
	if (rc == 0) {
		FUZZ_CHECK(cJSON_IsTrue(ok));
	} else {
		FUZZ_CHECK(cJSON_IsFalse(ok));
		FUZZ_CHECK(err.exit != 0 && err.msg[0]);
	}
	cJSON_Delete(result);
	close(fd);
	return 0;
}
