/* Runtime state files on disk (runc/crun state, Docker config.v2.json, OCI
 * bundle config.json, Podman/CRI-O containers.json).  Their strings come from
 * whoever named the container or wrote its annotations. */
#include "cryo/runtime.h"
#include "fuzz.h"

/* A fixed id, also present in the committed containers.json seed. */
#define STORAGE_ID "8f2e7c4b1a9d6e3f5c0b8a7d4e1f2c3b6a9d8e7f0c1b2a3d4e5f6a7b8c9d0e1f"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* NUL-terminated like the buffers cryo_read_file_at() hands these
	 * parsers; len is the whole input, embedded NULs included. */
	char *json = fuzz_cstr(data, size);

	struct cryo_oci_state st;
	if (cryo_oci_state_parse(json, size, &st) == 0)
		FUZZ_CHECK(st.init_pid > 0);
	FUZZ_CHECK_STR(st.id);
	FUZZ_CHECK_STR(st.created);
	FUZZ_CHECK_STR(st.bundle);
	FUZZ_CHECK_STR(st.rootfs);
	FUZZ_CHECK_STR(st.cgroup_v2);
	FUZZ_CHECK_STR(st.freezer);

	struct cryo_docker_config dc;
	if (cryo_docker_config_parse(json, size, &dc) == 0)
		FUZZ_CHECK(dc.id[0] != '\0');
	FUZZ_CHECK(dc.pid >= 0);
	FUZZ_CHECK_STR(dc.id);
	FUZZ_CHECK_STR(dc.name);
	FUZZ_CHECK_STR(dc.image);
	FUZZ_CHECK_STR(dc.image_id);
	FUZZ_CHECK_STR(dc.pod_name);
	FUZZ_CHECK_STR(dc.pod_namespace);
	FUZZ_CHECK_STR(dc.k8s_container);

	struct cryo_bundle_meta bm;
	int rc = cryo_bundle_config_parse(json, size, &bm);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK_STR(bm.pod_name);
	FUZZ_CHECK_STR(bm.pod_namespace);
	FUZZ_CHECK_STR(bm.pod_uid);
	FUZZ_CHECK_STR(bm.container_name);
	FUZZ_CHECK_STR(bm.image);
	FUZZ_CHECK_STR(bm.sandbox_id);

	struct cryo_storage_entry se;
	rc = cryo_storage_containers_find(json, size, STORAGE_ID, &se);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc == 1)
		FUZZ_CHECK(strcmp(se.id, STORAGE_ID) == 0);
	FUZZ_CHECK_STR(se.id);
	FUZZ_CHECK_STR(se.name);
	FUZZ_CHECK_STR(se.image);

	free(json);
	return 0;
}
