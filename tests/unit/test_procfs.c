/* procfs.c: the parsers of /proc files a process shapes (mapping paths,
 * command lines, limits, fdinfo), checked on text as the kernel writes it
 * and on hostile variants. */
#include <fcntl.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/proc.h"
#include "cryo/procfs.h"

static const char smaps_text[] =
	"00400000-00401000 r--p 00000000 fd:01 1234                               /cryo/memprobe\n"
	"Size:                  4 kB\n"
	"Rss:                   4 kB\n"
	"Anonymous:             0 kB\n"
	"Swap:                  0 kB\n"
	"VmFlags: rd mr mw me sd \n"
	"7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n"
	"Rss:                   8 kB\n"
	"Swap:                 12 kB\n"
	"VmFlags: rd wr mr mw me ac sd um \n"
	"7f0040000000-7f0040001000 rw-s 00000000 00:0e 72825                      /secretmem (deleted)\n"
	"Rss:                   4 kB\n"
	"VmFlags: rd wr sh mr mw me ms dd lo \n"
	"7f0040001000-7f0040002000 rw-p 00000000 00:01 9                          /tmp/a name with  spaces\\012and newline (deleted)\n"
	"VmFlags: rd wr io pf \n"
	"7f0040002000-7f0040004000 r-xp 00000000 00:00 0                          [vdso]\n"
	"7f0040004000-7f0040005000 rw-s 00000000 00:01 3                          [anon_shmem:buf]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_vmas_parse_smaps(void)
{
	char text[sizeof(smaps_text)];
	memcpy(text, smaps_text, sizeof(text));
	struct cryo_vmas v;
	CHECK(cryo_vmas_parse(text, &v) == 0);
	CHECK_U64_EQ(v.n, 7);
	CHECK_U64_EQ(v.v[0].start, 0x400000);
	CHECK_STR_EQ(v.v[0].perms, "r--p");
	CHECK_STR_EQ(v.v[0].dev, "fd:01");
	CHECK_U64_EQ(v.v[0].inode, 1234);
	CHECK_STR_EQ(v.v[0].path, "/cryo/memprobe");
	CHECK(v.v[0].has_sizes && v.v[0].rss_kb == 4);
	CHECK(v.v[1].path == NULL);
	CHECK(v.v[1].uffd && v.v[1].swap_kb == 12 && !v.v[1].dd);
	CHECK(v.v[2].dd);
	CHECK_STR_EQ(v.v[3].path, "/tmp/a name with  spaces\\012and newline (deleted)");
	CHECK(v.v[3].io && v.v[3].pfnmap && !v.v[3].has_sizes);
	CHECK_INT_EQ(cryo_vma_kind(&v.v[0]), CRYO_VMA_FILE);
	CHECK_INT_EQ(cryo_vma_kind(&v.v[1]), CRYO_VMA_ANON);
	CHECK_INT_EQ(cryo_vma_kind(&v.v[2]), CRYO_VMA_SPECIAL);
	CHECK_INT_EQ(cryo_vma_kind(&v.v[4]), CRYO_VMA_ANON);
	CHECK_INT_EQ(cryo_vma_kind(&v.v[5]), CRYO_VMA_SHMEM);
	CHECK_INT_EQ(cryo_vma_kind(&v.v[6]), CRYO_VMA_SPECIAL);
	cryo_vmas_free(&v);
}

static void test_vmas_parse_rejects(void)
{
	static const char *const bad[] = {
		"Rss: 4 kB\n",                                   /* a field before any mapping */
		"00400000-00300000 r--p 00000000 fd:01 1 /x\n",  /* end before start */
		"00400000-00401000 r--p\n",                      /* cut short */
		"11111111111111111-2 r--p 0 0:0 0\n",            /* 17 hex digits */
		"00400000-00401000 r--p 00000000 fd:01 1 /x\nno colon here\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		struct cryo_vmas v;
		CHECK_MSG(cryo_vmas_parse(buf, &v) < 0, "accepted: %s", bad[i]);
		CHECK(v.v == NULL && v.n == 0);
	}
}

static void test_status_field(void)
{
	const char *st = "Name:\tmem probe\nUmask:\t0022\nNSpid:\t4242\t1\nCapEff:\t00000000a80425fb\n";
	char buf[64];
	CHECK_STR_EQ(cryo_status_field(st, "Name", buf, sizeof(buf)), "mem probe");
	CHECK_STR_EQ(cryo_status_field(st, "NSpid", buf, sizeof(buf)), "4242\t1");
	CHECK(cryo_status_field(st, "Cap", buf, sizeof(buf)) == NULL); /* a prefix is not a key */
	char small[4];
	CHECK_STR_EQ(cryo_status_field(st, "CapEff", small, sizeof(small)), "000");
}

static void test_nul_list(void)
{
	static const char cmd[] = "/bin/sh\0-c\0echo \xff\xfe\0tail-without-nul";
	cleanup_cjson cJSON *a = cryo_nul_list_json(cmd, sizeof(cmd) - 1, 100);
	CHECK_INT_EQ(cJSON_GetArraySize(a), 4);
	CHECK_STR_EQ(cJSON_GetArrayItem(a, 0)->valuestring, "/bin/sh");
	CHECK_STR_EQ(cJSON_GetArrayItem(a, 2)->valuestring, "echo \\xff\\xfe");
	CHECK_STR_EQ(cJSON_GetArrayItem(a, 3)->valuestring, "tail-without-nul");
	cleanup_cjson cJSON *b = cryo_nul_list_json(cmd, sizeof(cmd) - 1, 2);
	CHECK_INT_EQ(cJSON_GetArraySize(b), 2);
}

static void test_limits_idmap_fdinfo(void)
{
	const char *limits = "Limit                     Soft Limit           Hard Limit           Units     \n"
			     "Max cpu time              unlimited            unlimited            seconds   \n"
			     "Max open files            1024                 1048576              files     \n";
	cleanup_cjson cJSON *l = cryo_limits_json(limits);
	CHECK_INT_EQ(cJSON_GetArraySize(l), 2);
	CHECK_STR_EQ(cryo_json_get_str(cJSON_GetArrayItem(l, 1), "name"), "Max open files");
	CHECK_STR_EQ(cryo_json_get_str(cJSON_GetArrayItem(l, 1), "hard"), "1048576");
	cleanup_cjson cJSON *m = cryo_idmap_json("         0     100000      65536\n");
	CHECK_INT_EQ(cJSON_GetArraySize(m), 1);
	CHECK(cJSON_GetArrayItem(cJSON_GetArrayItem(m, 0), 1)->valuedouble == 100000);
	struct cryo_fdinfo fi;
	CHECK(cryo_fdinfo_parse("pos:\t17\nflags:\t0102002\nmnt_id:\t31\nino:\t99\n", &fi) == 0);
	CHECK_U64_EQ(fi.pos, 17);
	CHECK_U64_EQ(fi.flags, 0102002);
	CHECK_U64_EQ(fi.mnt_id, 31);
	char flags[128];
	cryo_open_flags_text(fi.flags, flags, sizeof(flags));
	CHECK_STR_EQ(flags, "O_RDWR|O_APPEND|O_LARGEFILE");
	cryo_open_flags_text(O_WRONLY | O_CLOEXEC, flags, sizeof(flags));
	CHECK_STR_EQ(flags, "O_WRONLY|O_CLOEXEC");
	CHECK(cryo_fdinfo_parse("pos: 1\n", &fi) < 0);
}

static void test_caps_names(void)
{
	cleanup_cjson cJSON *c = cryo_caps_json((1ull << 0) | (1ull << 21) | (1ull << 63));
	CHECK_INT_EQ(cJSON_GetArraySize(c), 3);
	CHECK_STR_EQ(cJSON_GetArrayItem(c, 0)->valuestring, "cap_chown");
	CHECK_STR_EQ(cJSON_GetArrayItem(c, 1)->valuestring, "cap_sys_admin");
	CHECK_STR_EQ(cJSON_GetArrayItem(c, 2)->valuestring, "63"); /* unknown to libcap: its number */
}

static const struct check_test tests[] = {
	CHECK_TEST(vmas_parse_smaps),
	CHECK_TEST(vmas_parse_rejects),
	CHECK_TEST(status_field),
	CHECK_TEST(nul_list),
	CHECK_TEST(limits_idmap_fdinfo),
	CHECK_TEST(caps_names),
};

CHECK_MAIN(tests)
