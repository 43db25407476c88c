/* The /proc files a process shapes: smaps (mapping paths name its files and
 * memfds), status, NUL lists (argv, environment), limits, id maps, fdinfo. */
#include "cryo/output.h"
#include "cryo/procfs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *copy = fuzz_cstr(data, size);
	struct cryo_vmas v;
	if (cryo_vmas_parse(copy, &v) == 0) {
		FUZZ_CHECK(v.n <= v.cap && v.n <= CRYO_VMAS_MAX);
		for (size_t i = 0; i < v.n; i++) {
			FUZZ_CHECK(v.v[i].start <= v.v[i].end);
			FUZZ_CHECK_STR(v.v[i].perms);
			FUZZ_CHECK_STR(v.v[i].dev);
			FUZZ_CHECK(!v.v[i].path || (v.v[i].path >= copy && v.v[i].path < copy + size + 1));
			(void)cryo_vma_kind(&v.v[i]);
		}
		cryo_vmas_free(&v);
	}
	char buf[64];
	const char *f = cryo_status_field(text, "NSpid", buf, sizeof(buf));
	FUZZ_CHECK(!f || strlen(f) < sizeof(buf));
	cJSON *a = cryo_nul_list_json((const char *)data, size, 1000);
	FUZZ_CHECK(a && cJSON_GetArraySize(a) <= 1000);
	char *printed = cJSON_PrintUnformatted(a);
	FUZZ_CHECK(printed);
	free(printed);
	cJSON_Delete(a);
	cJSON_Delete(cryo_limits_json(text));
	cJSON_Delete(cryo_idmap_json(text));
	struct cryo_fdinfo fi;
	cryo_fdinfo_parse(text, &fi);
	char flags[128];
	cryo_open_flags_text(fi.flags, flags, sizeof(flags));
	FUZZ_CHECK(memchr(flags, '\0', sizeof(flags)));
	free(copy);
	free(text);
	return 0;
}
