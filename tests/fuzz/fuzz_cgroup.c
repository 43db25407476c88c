/* /proc/PID/cgroup and cgroup path naming: a process inside a container can
 * create and move itself into sub-cgroups with names of its choosing (when
 * delegated), so both the file and the paths in it are untrusted. */
#include "cryo/cgroup.h"
#include "fuzz.h"

static void check_path(const char *s, size_t size)
{
	FUZZ_CHECK(memchr(s, '\0', size) != NULL);
	FUZZ_CHECK(s[0] == '\0' || s[0] == '/');
}

static void classify(const uint8_t *data, size_t size)
{
	char *path = fuzz_cstr(data, size);
	struct cryo_cgroup_class c;
	int rc = cryo_cgroup_classify(path, &c);
	FUZZ_CHECK(rc == 0 || rc == 1);
	FUZZ_CHECK_STR(c.id);
	FUZZ_CHECK_STR(c.pod_uid);
	FUZZ_CHECK_STR(c.qos);
	FUZZ_CHECK_STR(c.cgroup);
	if (rc == 1) {
		FUZZ_CHECK(c.id[0] != '\0');
		/* the container's cgroup is a prefix of the path it was found in */
		size_t cl = strlen(c.cgroup);
		FUZZ_CHECK(cl > 0 && strncmp(c.cgroup, path, cl) == 0);
		FUZZ_CHECK(path[cl] == '\0' || path[cl] == '/');
		FUZZ_CHECK(c.runtime >= CRYO_RT_UNKNOWN && c.runtime <= CRYO_RT_CRUN);
		FUZZ_CHECK(cryo_runtime_name(c.runtime) != NULL);
	}
	free(path);
}

/* A line is a path as is, or a /proc/PID/cgroup line whose path (after the
 * second ':') is what discovery hands to the classifier. */
static void classify_line(const uint8_t *data, size_t size, void *ctx)
{
	(void)ctx;
	classify(data, size);
	const uint8_t *c1 = memchr(data, ':', size);
	const uint8_t *c2 = c1 ? memchr(c1 + 1, ':', size - (size_t)(c1 + 1 - data)) : NULL;
	if (c2)
		classify(c2 + 1, size - (size_t)(c2 + 1 - data));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct cryo_proc_cgroup pc;
	int rc = cryo_proc_cgroup_parse(text, &pc);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		check_path(pc.v2, sizeof(pc.v2));
		check_path(pc.freezer, sizeof(pc.freezer));
		check_path(pc.systemd, sizeof(pc.systemd));
	}
	free(text);

	fuzz_each_line(data, size, classify_line, NULL);
	return 0;
}
