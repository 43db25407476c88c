/* mountinfo.c: /proc/PID/mountinfo lines, overlayfs super options, the
 * relative layer paths Docker and containerd pass, and the root mount of a
 * container. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "check.h"
#include "cryo/cleanup.h"
#include "cryo/mountinfo.h"

#define ID64 "3f9d2c1b0a4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

TEST(parse_line_optional_fields)
{
	char line[] = "1234 567 0:123 / /var/lib/docker/overlay2/" ID64 "/merged "
		      "rw,relatime shared:1 master:2 - overlay overlay "
		      "rw,lowerdir=/var/lib/docker/overlay2/l/AAA,upperdir=/u,workdir=/w";
	struct cryo_mount m;
	CHECK_INT_EQ(cryo_mountinfo_parse_line(line, &m), 0);
	CHECK_INT_EQ(m.id, 1234);
	CHECK_INT_EQ(m.parent_id, 567);
	CHECK_INT_EQ(m.major, 0);
	CHECK_INT_EQ(m.minor, 123);
	CHECK_STR_EQ(m.root, "/");
	CHECK_STR_EQ(m.mountpoint, "/var/lib/docker/overlay2/" ID64 "/merged");
	CHECK_STR_EQ(m.mount_opts, "rw,relatime");
	CHECK_STR_EQ(m.optional, "shared:1 master:2");
	CHECK_STR_EQ(m.fstype, "overlay");
	CHECK_STR_EQ(m.source, "overlay");
	CHECK_STR_EQ(m.super_opts, "rw,lowerdir=/var/lib/docker/overlay2/l/AAA,upperdir=/u,workdir=/w");

	char one[] = "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro";
	CHECK_INT_EQ(cryo_mountinfo_parse_line(one, &m), 0);
	CHECK_INT_EQ(m.major, 259);
	CHECK_INT_EQ(m.minor, 2);
	CHECK_STR_EQ(m.mountpoint, "/");
	CHECK_STR_EQ(m.optional, "shared:1");
	CHECK_STR_EQ(m.fstype, "ext4");
	CHECK_STR_EQ(m.source, "/dev/nvme0n1p2");
	CHECK_STR_EQ(m.super_opts, "rw,errors=remount-ro");

	char three[] = "40 29 0:35 /sub /mnt/b rw shared:7 master:3 propagate_from:2 unbindable "
		       "- btrfs /dev/sda3 rw,subvol=/sub";
	CHECK_INT_EQ(cryo_mountinfo_parse_line(three, &m), 0);
	CHECK_STR_EQ(m.root, "/sub");
	CHECK_STR_EQ(m.optional, "shared:7 master:3 propagate_from:2 unbindable");
	CHECK_STR_EQ(m.fstype, "btrfs");
	CHECK_STR_EQ(m.super_opts, "rw,subvol=/sub");
}

TEST(parse_line_no_optional_fields)
{
	char line[] = "22 26 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw";
	struct cryo_mount m;
	CHECK_INT_EQ(cryo_mountinfo_parse_line(line, &m), 0);
	CHECK_INT_EQ(m.id, 22);
	CHECK_INT_EQ(m.parent_id, 26);
	CHECK_STR_EQ(m.mountpoint, "/sys");
	CHECK_STR_EQ(m.mount_opts, "rw,nosuid,nodev,noexec,relatime");
	CHECK_STR_EQ(m.optional, "");
	CHECK_STR_EQ(m.fstype, "sysfs");
	CHECK_STR_EQ(m.source, "sysfs");
	CHECK_STR_EQ(m.super_opts, "rw");

	/* a source of "none" and no super options at all */
	char bare[] = "50 22 0:40 / /sys/fs/bpf rw - bpf none";
	CHECK_INT_EQ(cryo_mountinfo_parse_line(bare, &m), 0);
	CHECK_STR_EQ(m.source, "none");
	CHECK_STR_EQ(m.super_opts, "");
}

TEST(parse_line_octal_escapes)
{
	/* the kernel escapes space, tab, newline and backslash (mangle_path) */
	char line[] = "41 29 8:17 /data\\134dir /mnt/my\\040disk\\011x\\012y rw,relatime shared:20 "
		      "- ext4 /dev/disk\\040one rw";
	struct cryo_mount m;
	CHECK_INT_EQ(cryo_mountinfo_parse_line(line, &m), 0);
	CHECK_STR_EQ(m.root, "/data\\dir");
	CHECK_STR_EQ(m.mountpoint, "/mnt/my disk\tx\ny");
	CHECK_STR_EQ(m.source, "/dev/disk one");
	CHECK_STR_EQ(m.optional, "shared:20");

	/* backslashes that are not an escape stay */
	char odd[] = "42 29 8:17 / /mnt/a\\9b\\04 rw - ext4 /dev/sdb rw";
	CHECK_INT_EQ(cryo_mountinfo_parse_line(odd, &m), 0);
	CHECK_STR_EQ(m.mountpoint, "/mnt/a\\9b\\04");

	/* super options are left escaped for cryo_overlay_parse */
	char ov[] = "43 29 0:50 / /m rw - overlay overlay rw,lowerdir=/a\\054b,upperdir=/u\\040x";
	CHECK_INT_EQ(cryo_mountinfo_parse_line(ov, &m), 0);
	CHECK_STR_EQ(m.super_opts, "rw,lowerdir=/a\\054b,upperdir=/u\\040x");
}

TEST(parse_line_malformed)
{
	static const char *bad[] = {
		"",
		"garbage",
		"22",
		"22 26",
		"22 26 0:21",
		"22 26 0:21 /",
		"22 26 0:21 / /sys",
		"22 26 0:21 / /sys rw",
		"22 26 0:21 / /sys rw shared:1",
		"22 26 0:21 / /sys rw - sysfs",
		"22 26 0:21 / /sys rw shared:1 -",
		"22 26 021 / /sys rw - sysfs sysfs rw",
		"x 26 0:21 / /sys rw - sysfs sysfs rw",
		"22 y 0:21 / /sys rw - sysfs sysfs rw",
		"22 26 a:b / /sys rw - sysfs sysfs rw",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		struct cryo_mount m;
		CHECK_MSG(cryo_mountinfo_parse_line(buf, &m) == -1, "accepted [%s]", bad[i]);
	}
}

/* The lower layers, in order; failures name the caller's line. */
#define CHECK_LOWERS(o, want) check_lowers(__LINE__, (o), (want), CRYO_ARRAY_SIZE(want))
static void check_lowers(int line, const struct cryo_overlay *o, const char *const *want, size_t n)
{
	CHECK_MSG(o->nlower == n, "line %d: %zu lower layers, want %zu", line, o->nlower, n);
	for (size_t i = 0; i < n; i++)
		CHECK_MSG(strcmp(o->lowerdir[i], want[i]) == 0, "line %d: lowerdir[%zu] is \"%s\", want \"%s\"",
			  line, i, o->lowerdir[i], want[i]);
}

TEST(overlay_parse_docker)
{
	struct cryo_overlay o;
	struct cryo_error err;
	const char *opts = "rw,lowerdir=/var/lib/docker/overlay2/l/TOP:/var/lib/docker/overlay2/l/MID:"
			   "/var/lib/docker/overlay2/l/BASE,upperdir=/var/lib/docker/overlay2/" ID64
			   "/diff,workdir=/var/lib/docker/overlay2/" ID64 "/work,index=off";
	CHECK_INT_EQ(cryo_overlay_parse(opts, &o, &err), 0);
	const char *want[] = { "/var/lib/docker/overlay2/l/TOP", "/var/lib/docker/overlay2/l/MID",
			       "/var/lib/docker/overlay2/l/BASE" };
	CHECK_LOWERS(&o, want);
	CHECK_STR_EQ(o.upperdir, "/var/lib/docker/overlay2/" ID64 "/diff");
	CHECK_STR_EQ(o.workdir, "/var/lib/docker/overlay2/" ID64 "/work");
	cryo_overlay_free(&o);
	CHECK(o.lowerdir == NULL && o.nlower == 0 && o.upperdir == NULL);

	/* read-only overlay: no upper, no work */
	CHECK_INT_EQ(cryo_overlay_parse("ro,lowerdir=/a:/b", &o, &err), 0);
	CHECK(o.upperdir == NULL && o.workdir == NULL);
	CHECK_INT_EQ(o.nlower, 2);
	cryo_overlay_free(&o);

	/* relative entries are kept as they are until cryo_overlay_resolve */
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=l/AAA:l/BBB,upperdir=/x/overlay2/id/diff", &o, &err), 0);
	const char *rel[] = { "l/AAA", "l/BBB" };
	CHECK_LOWERS(&o, rel);
	cryo_overlay_free(&o);
}

TEST(overlay_parse_escapes)
{
	struct cryo_overlay o;
	struct cryo_error err;
	/* "\:" is a colon inside one path, as the user passed it */
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=/lay\\:er1:/layer2,upperdir=/u,workdir=/w", &o, &err), 0);
	const char *w1[] = { "/lay:er1", "/layer2" };
	CHECK_LOWERS(&o, w1);
	cryo_overlay_free(&o);

	/* the same as mountinfo shows it: the backslash itself is \134 */
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=/lay\\134:er1:/layer2,upperdir=/u", &o, &err), 0);
	CHECK_LOWERS(&o, w1);
	cryo_overlay_free(&o);

	/* ',' inside a value is \054 in mountinfo; space \040 */
	CHECK_INT_EQ(cryo_overlay_parse("rw,lowerdir=/a\\054b:/c\\040d,upperdir=/u\\054x,workdir=/w\\054y",
					&o, &err), 0);
	const char *w2[] = { "/a,b", "/c d" };
	CHECK_LOWERS(&o, w2);
	CHECK_STR_EQ(o.upperdir, "/u,x");
	CHECK_STR_EQ(o.workdir, "/w,y");
	cryo_overlay_free(&o);
}

/* mountinfo.h promises to handle the backslash-comma escape.  A user who
 * needs a ',' in a layer path writes backslash-comma (overlayfs's own option
 * splitter honours it); the kernel keeps that string and mountinfo shows it
 * with both characters octal-escaped, backslash as \134 and comma as \054. */
TEST(overlay_parse_backslash_comma_escape)
{
	struct cryo_overlay o;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_overlay_parse("rw,lowerdir=/lay\\134\\054er:/base,upperdir=/u,workdir=/w", &o,
					&err), 0);
	const char *want[] = { "/lay,er", "/base" };
	CHECK_LOWERS(&o, want);
	cryo_overlay_free(&o);
}

/* Linux 6.5 and 6.6 printed the parsed layers instead of the user's string,
 * escaping ':' inside a path as \072 (seq_escape with ":, \t\n\\"), so the
 * octal escape must be decoded after the split on ':', not before. */
TEST(overlay_parse_octal_colon_in_path)
{
	struct cryo_overlay o;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_overlay_parse("rw,lowerdir=/lay\\072er:/base,upperdir=/u,workdir=/w", &o, &err), 0);
	const char *want[] = { "/lay:er", "/base" };
	CHECK_LOWERS(&o, want);
	cryo_overlay_free(&o);
}

TEST(overlay_parse_new_mount_api_and_data_layers)
{
	struct cryo_overlay o;
	struct cryo_error err;
	/* Linux 6.8+ shows one option per layer */
	CHECK_INT_EQ(cryo_overlay_parse("rw,lowerdir+=/l/top,lowerdir+=/l/mid:colon,datadir+=/d/one,"
					"datadir+=/d/two,upperdir=/u,workdir=/w,redirect_dir=on",
					&o, &err), 0);
	const char *w1[] = { "/l/top", "/l/mid:colon", "/d/one", "/d/two" };
	CHECK_LOWERS(&o, w1);
	CHECK_STR_EQ(o.upperdir, "/u");
	cryo_overlay_free(&o);

	/* "::" separates the data-only layers in the legacy form */
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=/l1:/l2::/data1::/data2,metacopy=on", &o, &err), 0);
	const char *w2[] = { "/l1", "/l2", "/data1", "/data2" };
	CHECK_LOWERS(&o, w2);
	cryo_overlay_free(&o);
}

TEST(overlay_parse_errors)
{
	struct cryo_overlay o;
	struct cryo_error err;
	static const char *bad[] = {
		"rw,upperdir=/u,workdir=/w",
		"",
		"lowerdir=",
		"lowerdir=:",
		"lowerdir=::",
		"rw,lowerdir=,upperdir=/u",
		"lowerdirx=/a",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		cryo_error_clear(&err);
		CHECK_MSG(cryo_overlay_parse(bad[i], &o, &err) == -1, "accepted [%s]", bad[i]);
		CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
		CHECK(o.lowerdir == NULL && o.nlower == 0 && o.upperdir == NULL && o.workdir == NULL);
	}
	CHECK_STR_CONTAINS(err.msg, "lowerdir");
	/* freeing a failed parse is harmless */
	cryo_overlay_free(&o);

	/* overlayfs stacks at most 500 lower layers */
	size_t cap = 16 + 501 * 8;
	cleanup_free char *many = malloc(cap);
	CHECK(many != NULL);
	size_t n = (size_t)snprintf(many, cap, "lowerdir=");
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(many + n, cap - n, "%s/l%d", i ? ":" : "", i);
	CHECK_INT_EQ(cryo_overlay_parse(many, &o, &err), 0);
	CHECK_INT_EQ(o.nlower, 500);
	CHECK_STR_EQ(o.lowerdir[499], "/l499");
	cryo_overlay_free(&o);
	snprintf(many + n, cap - n, ":/l500");
	CHECK_INT_EQ(cryo_overlay_parse(many, &o, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	CHECK(o.lowerdir == NULL && o.nlower == 0);
}

static void mkdirs(const char *base, const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	for (char *p = path + strlen(base) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			CHECK_MSG(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path,
				  strerror(errno));
			*p = '/';
		}
	CHECK_MSG(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* base/overlay2/{l/ABC,l/DEF,<id>/diff,<id>/work} as Docker lays it out */
static void docker_tree(char *base, size_t size)
{
	check_tmpdir(base, size);
	mkdirs(base, "overlay2/l/ABC");
	mkdirs(base, "overlay2/l/DEF");
	mkdirs(base, "overlay2/" ID64 "/diff");
	mkdirs(base, "overlay2/" ID64 "/work");
}

static void check_abs(const char *got, const char *base, const char *rel)
{
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "%s/%s", base, rel);
	CHECK_STR_EQ(got, want);
	CHECK_MSG(got[0] == '/', "not absolute: %s", got);
	CHECK_MSG(access(got, F_OK) == 0, "resolved path does not exist: %s", got);
}

TEST(overlay_resolve_docker_relative_lowers)
{
	char base[256], opts[1024];
	docker_tree(base, sizeof(base));
	snprintf(opts, sizeof(opts),
		 "rw,lowerdir=l/ABC:l/DEF,upperdir=%s/overlay2/" ID64 "/diff,workdir=%s/overlay2/" ID64
		 "/work",
		 base, base);
	struct cryo_overlay o;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_overlay_parse(opts, &o, &err), 0);
	CHECK_INT_EQ(cryo_overlay_resolve(&o, NULL, 0, &err), 0);
	CHECK_INT_EQ(o.nlower, 2);
	char ob[PATH_MAX];
	snprintf(ob, sizeof(ob), "%s/overlay2", base);
	check_abs(o.lowerdir[0], ob, "l/ABC");
	check_abs(o.lowerdir[1], ob, "l/DEF");
	check_abs(o.upperdir, ob, ID64 "/diff");
	check_abs(o.workdir, ob, ID64 "/work");
	cryo_overlay_free(&o);
	check_rm_rf(base);
}

TEST(overlay_resolve_relative_upper_uses_bases)
{
	char base[256], ob[PATH_MAX], missing[PATH_MAX];
	docker_tree(base, sizeof(base));
	snprintf(ob, sizeof(ob), "%s/overlay2", base);
	snprintf(missing, sizeof(missing), "%s/not-here", base);
	const char *bases[] = { missing, ob, base };
	struct cryo_overlay o;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=l/ABC:l/DEF,upperdir=" ID64 "/diff,workdir=" ID64 "/work",
					&o, &err), 0);
	CHECK_INT_EQ(cryo_overlay_resolve(&o, bases, 3, &err), 0);
	check_abs(o.lowerdir[0], ob, "l/ABC");
	check_abs(o.lowerdir[1], ob, "l/DEF");
	check_abs(o.upperdir, ob, ID64 "/diff");
	check_abs(o.workdir, ob, ID64 "/work");
	cryo_overlay_free(&o);

	/* no upper: the first lower is what is looked for */
	CHECK_INT_EQ(cryo_overlay_parse("ro,lowerdir=l/DEF:l/ABC", &o, &err), 0);
	CHECK_INT_EQ(cryo_overlay_resolve(&o, bases, 3, &err), 0);
	check_abs(o.lowerdir[0], ob, "l/DEF");
	check_abs(o.lowerdir[1], ob, "l/ABC");
	cryo_overlay_free(&o);

	/* no base holds it: an error, not a guess */
	const char *wrong[] = { missing };
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=l/ABC,upperdir=" ID64 "/diff", &o, &err), 0);
	cryo_error_clear(&err);
	CHECK_INT_EQ(cryo_overlay_resolve(&o, wrong, 1, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	CHECK_INT_EQ(cryo_overlay_resolve(&o, NULL, 0, &err), -1);
	cryo_overlay_free(&o);
	check_rm_rf(base);
}

TEST(overlay_resolve_absolute_is_untouched)
{
	struct cryo_overlay o;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_overlay_parse("lowerdir=/a/l1:/a/l2,upperdir=/a/x/diff,workdir=/a/x/work", &o, &err), 0);
	CHECK_INT_EQ(cryo_overlay_resolve(&o, NULL, 0, &err), 0);
	CHECK_STR_EQ(o.lowerdir[0], "/a/l1");
	CHECK_STR_EQ(o.lowerdir[1], "/a/l2");
	CHECK_STR_EQ(o.upperdir, "/a/x/diff");
	cryo_overlay_free(&o);
}

#define CONTAINER_MOUNTINFO                                                                        \
	"1500 1200 0:150 / / rw,relatime master:500 - overlay overlay "                            \
	"rw,lowerdir=/var/lib/docker/overlay2/l/TOP:/var/lib/docker/overlay2/l/BASE,"              \
	"upperdir=/var/lib/docker/overlay2/" ID64 "/diff,workdir=/var/lib/docker/overlay2/" ID64 \
	"/work,nouserxattr\n"                                                                       \
	"1501 1500 0:153 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"                 \
	"1502 1500 0:154 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755,inode64\n"         \
	"1503 1502 0:155 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts "                    \
	"rw,gid=5,mode=620,ptmxmode=666\n"                                                          \
	"1504 1500 0:156 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"                \
	"1505 1504 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup "        \
	"rw,nsdelegate,memory_recursiveprot\n"                                                      \
	"1506 1500 259:2 /var/lib/docker/containers/" ID64 "/resolv.conf /etc/resolv.conf "       \
	"rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"

TEST(root_overlay_container)
{
	char text[] = CONTAINER_MOUNTINFO;
	struct cryo_overlay o;
	struct cryo_error err;
	char fstype[32] = "junk";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(text, &o, fstype, sizeof(fstype), &err), 1);
	CHECK_STR_EQ(fstype, "overlay");
	const char *want[] = { "/var/lib/docker/overlay2/l/TOP", "/var/lib/docker/overlay2/l/BASE" };
	CHECK_LOWERS(&o, want);
	CHECK_STR_EQ(o.upperdir, "/var/lib/docker/overlay2/" ID64 "/diff");
	CHECK_STR_EQ(o.workdir, "/var/lib/docker/overlay2/" ID64 "/work");
	cryo_overlay_free(&o);
}

TEST(root_overlay_host_ext4)
{
	char text[] = "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
		      "21 29 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
		      "44 29 0:45 / /var/lib/docker/overlay2/x/merged rw shared:30 - overlay overlay "
		      "rw,lowerdir=/l,upperdir=/u,workdir=/w\n";
	struct cryo_overlay o;
	struct cryo_error err;
	char fstype[32];
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(text, &o, fstype, sizeof(fstype), &err), 0);
	CHECK_STR_EQ(fstype, "ext4");
	CHECK(o.nlower == 0 && o.lowerdir == NULL);
	cryo_overlay_free(&o);

	/* mounts stack: the last one on "/" is what the process sees */
	char stacked[] = "29 1 259:2 / / rw - ext4 /dev/sda1 rw\n"
			 "21 29 0:20 / /proc rw - proc proc rw\n"
			 "90 29 0:60 / / rw - overlay overlay rw,lowerdir=/lo,upperdir=/up,workdir=/wk\n";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(stacked, &o, fstype, sizeof(fstype), &err), 1);
	CHECK_STR_EQ(fstype, "overlay");
	CHECK_STR_EQ(o.lowerdir[0], "/lo");
	cryo_overlay_free(&o);

	char rev[] = "90 29 0:60 / / rw - overlay overlay rw,lowerdir=/lo\n"
		     "91 90 0:61 / / rw - tmpfs tmpfs rw\n";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(rev, &o, fstype, sizeof(fstype), &err), 0);
	CHECK_STR_EQ(fstype, "tmpfs");
}

TEST(root_overlay_errors)
{
	struct cryo_overlay o;
	struct cryo_error err;
	char fstype[32];
	char none[] = "21 29 0:20 / /proc rw - proc proc rw\n22 29 0:21 / /sys rw - sysfs sysfs rw\n";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(none, &o, fstype, sizeof(fstype), &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
	char empty[] = "";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(empty, &o, fstype, sizeof(fstype), &err), -1);
	/* garbage lines are skipped, a root overlay without lowerdir is an error */
	char broken[] = "nonsense\n\n90 29 0:60 / / rw - overlay overlay rw,upperdir=/up\n";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(broken, &o, fstype, sizeof(fstype), &err), -1);
	CHECK(o.nlower == 0 && o.lowerdir == NULL);
	/* a small fstype buffer is not overrun */
	char text[] = "29 1 259:2 / / rw - ext4 /dev/sda1 rw\n";
	char tiny[3] = "";
	CHECK_INT_EQ(cryo_mountinfo_root_overlay(text, &o, tiny, sizeof(tiny), &err), 0);
	CHECK_STR_EQ(tiny, "ex");
}

static const struct check_test tests[] = {
	CHECK_TEST(parse_line_optional_fields),
	CHECK_TEST(parse_line_no_optional_fields),
	CHECK_TEST(parse_line_octal_escapes),
	CHECK_TEST(parse_line_malformed),
	CHECK_TEST(overlay_parse_docker),
	CHECK_TEST(overlay_parse_escapes),
	CHECK_TEST(overlay_parse_backslash_comma_escape),
	CHECK_TEST(overlay_parse_octal_colon_in_path),
	CHECK_TEST(overlay_parse_new_mount_api_and_data_layers),
	CHECK_TEST(overlay_parse_errors),
	CHECK_TEST(overlay_resolve_docker_relative_lowers),
	CHECK_TEST(overlay_resolve_relative_upper_uses_bases),
	CHECK_TEST(overlay_resolve_absolute_is_untouched),
	CHECK_TEST(root_overlay_container),
	CHECK_TEST(root_overlay_host_ext4),
	CHECK_TEST(root_overlay_errors),
};

CHECK_MAIN(tests)
