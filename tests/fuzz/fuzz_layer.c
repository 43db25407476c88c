/* A hostile tar applied onto a scratch root (lib/layer.c), the way
 * cryo-replay rebuilds a captured container's root: the first byte picks
 * OCI whiteouts on or off, the rest is the tar.  Whatever the bytes, the
 * answer is applied or refused with a reason, never a crash, and nothing
 * is made outside the root: the root sits in a directory of its own, next
 * to a canary directory, and both are checked after every input. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/layer.h"
#include "cryo/util.h"
#include "fuzz.h"

static size_t entries_of(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += !cryo_is_dot(de->d_name);
	if (d)
		closedir(d);
	return n;
}

static char base[64];
static void remove_base(void)
{
	rmdir(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!base[0]) {
		snprintf(base, sizeof(base), "/tmp/fuzz-layer.XXXXXX");
		FUZZ_CHECK(mkdtemp(base) != NULL);
		atexit(remove_base);
	}
	char root[128], canary[128];
	snprintf(root, sizeof(root), "%s/w/root", base);
	snprintf(canary, sizeof(canary), "%s/w/canary", base);
	char w[128];
	snprintf(w, sizeof(w), "%s/w", base);
	FUZZ_CHECK(mkdir(w, 0700) == 0 && mkdir(root, 0700) == 0 && mkdir(canary, 0700) == 0);
	int fd = memfd_create("layer", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(rfd >= 0);
	struct cryo_layer_opts o = { .max_entries = 2000, .max_bytes = 8 << 20, .whiteouts = data[0] & 1 };
	struct cryo_layer L;
	cryo_layer_init(&L, rfd, &o);
	struct cryo_error err = { 0 };
	int rc = cryo_layer_apply_tar(&L, fd, "fuzz", &err);
	if (rc == 0)
		FUZZ_CHECK(cryo_layer_finish(&L, &err) == 0);
	else
		FUZZ_CHECK(err.exit != 0 && err.msg[0]);
	FUZZ_CHECK(L.s.bytes <= o.max_bytes && L.s.entries <= o.max_entries + 1);
	FUZZ_CHECK(cJSON_GetArraySize(L.notes) <= CRYO_LAYER_NOTES_MAX);
	cryo_layer_free(&L);
	close(rfd);
	close(fd);
	/* nothing beside the root, nothing in the canary */
	FUZZ_CHECK(entries_of(w) == 2 && entries_of(canary) == 0);
	FUZZ_CHECK(cryo_remove_tree_at(AT_FDCWD, w) == 0);
	return 0;
}
