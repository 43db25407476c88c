/* fs.c's pure pieces: The Sleuth Kit's mode strings (mactime shows them,
 * so they must be exactly what TSK writes). */
#include <sys/stat.h>
#include "check.h"
#include "cryo/fs.h"

TEST(mode_strings)
{
	static const struct {
		unsigned mode;
		const char *want;
	} cases[] = {
		{ S_IFREG | 0644, "r/rrw-r--r--" },  { S_IFDIR | 0755, "d/drwxr-xr-x" },
		{ S_IFLNK | 0777, "l/lrwxrwxrwx" },  { S_IFIFO | 0600, "p/prw-------" },
		{ S_IFCHR | 0666, "c/crw-rw-rw-" },  { S_IFBLK | 0660, "b/brw-rw----" },
		{ S_IFSOCK | 0755, "s/srwxr-xr-x" }, { S_IFREG | 04755, "r/rrwsr-xr-x" },
		{ S_IFREG | 02644, "r/rrw-r-Sr--" }, { S_IFDIR | 01777, "d/drwxrwxrwt" },
		{ S_IFDIR | 01770, "d/drwxrwx--T" },
	};
	for (size_t i = 0; i < CHECK_NTESTS(cases); i++) {
		char buf[13];
		cryo_fs_mode_string(cases[i].mode, buf);
		CHECK_STR_EQ(buf, cases[i].want);
	}
}

static const struct check_test tests[] = {
	CHECK_TEST(mode_strings),
};

CHECK_MAIN(tests)
