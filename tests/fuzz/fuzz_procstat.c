/* /proc/PID/stat (comm is chosen by the process: prctl(PR_SET_NAME) takes any
 * 15 bytes, ')' and spaces included) and cgroup.procs-style pid lists. */
#include "cryo/util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);

	struct cryo_proc_stat st;
	if (cryo_proc_stat_parse(text, &st) == 0) {
		FUZZ_CHECK(st.pid >= 1);
		FUZZ_CHECK_STR(st.comm);
	}

	struct cryo_pids pids = { 0 };
	if (cryo_pids_parse(text, &pids) == 0) {
		FUZZ_CHECK(pids.n <= pids.cap);
		for (size_t i = 0; i < pids.n; i++)
			FUZZ_CHECK(pids.v[i] >= 1);
	}
	cryo_pids_free(&pids);

	free(text);
	return 0;
}
