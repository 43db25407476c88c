/* /proc/PID/mountinfo: a container's mount table is written by whoever
 * controls its mounts (mount points, overlay layer paths), and cryo reads it
 * to find the rootfs layers and the cgroup hierarchies. */
#include <stdbool.h>
#include "cryo/cgroup.h"
#include "cryo/mountinfo.h"
#include "fuzz.h"

/* p points into [buf, buf + n]; the fields of a parsed line live in the
 * caller's line buffer. */
static bool in_buf(const char *p, const char *buf, size_t n)
{
	return p && p >= buf && p <= buf + n;
}

static void check_overlay(const struct cryo_overlay *o)
{
	FUZZ_CHECK(o->nlower >= 1 && o->nlower <= CRYO_OVERLAY_MAX_LOWER);
	FUZZ_CHECK(o->lowerdir != NULL);
	for (size_t i = 0; i < o->nlower; i++)
		FUZZ_CHECK(o->lowerdir[i] != NULL && o->lowerdir[i][0] != '\0');
	if (o->upperdir)
		(void)strlen(o->upperdir);
	if (o->workdir)
		(void)strlen(o->workdir);
}

static void one_line(const uint8_t *data, size_t size, void *ctx)
{
	(void)ctx;
	char *line = fuzz_cstr(data, size);
	size_t n = strlen(line);
	struct cryo_mount m;
	if (cryo_mountinfo_parse_line(line, &m) == 0) {
		FUZZ_CHECK(in_buf(m.root, line, n) && in_buf(m.mountpoint, line, n));
		FUZZ_CHECK(in_buf(m.mount_opts, line, n) && in_buf(m.fstype, line, n));
		FUZZ_CHECK(in_buf(m.source, line, n) && in_buf(m.super_opts, line, n));
		FUZZ_CHECK(m.optional != NULL);
		FUZZ_CHECK(m.optional[0] == '\0' || in_buf(m.optional, line, n));
		if (strcmp(m.fstype, "overlay") == 0) {
			struct cryo_overlay o;
			struct cryo_error err;
			if (cryo_overlay_parse(m.super_opts, &o, &err) == 0)
				check_overlay(&o);
			else
				FUZZ_CHECK_STR(err.msg);
			/* After a failure too: parse leaves o empty, not dangling. */
			cryo_overlay_free(&o);
		}
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, one_line, NULL);

	char *text = fuzz_cstr(data, size);
	struct cryo_overlay o;
	struct cryo_error err;
	char fstype[32];
	int rc = cryo_mountinfo_root_overlay(text, &o, fstype, sizeof(fstype), &err);
	if (rc == 1) {
		check_overlay(&o);
		FUZZ_CHECK(strcmp(fstype, "overlay") == 0);
	} else if (rc == 0) {
		FUZZ_CHECK_STR(fstype);
		FUZZ_CHECK(strcmp(fstype, "overlay") != 0);
	} else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK_STR(err.msg);
	}
	cryo_overlay_free(&o);
	free(text);

	text = fuzz_cstr(data, size);
	struct cryo_cgroup_roots roots;
	rc = cryo_cgroup_roots_parse(text, &roots);
	FUZZ_CHECK_STR(roots.v2);
	FUZZ_CHECK_STR(roots.freezer);
	FUZZ_CHECK(rc == ((roots.v2[0] || roots.freezer[0]) ? 0 : -1));
	FUZZ_CHECK(!roots.hybrid || roots.v2[0]);
	free(text);
	return 0;
}
