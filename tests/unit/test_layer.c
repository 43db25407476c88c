/* layer.c: the names a hostile tar may give, and a layer applied onto a
 * root with whiteouts, replacements, links and bounds (the tars are built
 * here with libarchive, as an image layer or cryo-fs would write them). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "cryo/layer.h"
#include "cryo/util.h"

TEST(clean_path)
{
	char out[PATH_MAX];
	const char *why = NULL;
	CHECK(cryo_layer_clean_path("./a//b/./c/", out, sizeof(out), &why) == 0);
	CHECK_STR_EQ(out, "a/b/c");
	CHECK(cryo_layer_clean_path("./", out, sizeof(out), &why) == 0);
	CHECK_STR_EQ(out, "");
	CHECK(cryo_layer_clean_path("..a/b..", out, sizeof(out), &why) == 0);
	CHECK_STR_EQ(out, "..a/b..");
	CHECK(cryo_layer_clean_path("/etc/passwd", out, sizeof(out), &why) < 0);
	CHECK(strstr(why, "absolute"));
	CHECK(cryo_layer_clean_path("a/../../etc", out, sizeof(out), &why) < 0);
	CHECK(strstr(why, ".."));
	CHECK(cryo_layer_clean_path("..", out, sizeof(out), &why) < 0);
	char deep[2048] = "";
	for (int i = 0; i < 257; i++)
		strcat(deep, "d/");
	CHECK(cryo_layer_clean_path(deep, out, sizeof(out), &why) < 0);
	CHECK(strstr(why, "deep"));
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(cryo_layer_clean_path(longname, out, sizeof(out), &why) < 0);
}

struct tarb {
	struct archive *a;
	int fd;
};

static void tar_begin(struct tarb *t)
{
	t->fd = memfd_create("layer", MFD_CLOEXEC);
	CHECK(t->fd >= 0);
	t->a = archive_write_new();
	archive_write_set_format_pax_restricted(t->a);
	CHECK(archive_write_open_fd(t->a, t->fd) == ARCHIVE_OK);
}

static void tar_add(struct tarb *t, const char *name, mode_t type, mode_t perm, const char *data, const char *link)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (link && type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	else if (link)
		archive_entry_set_hardlink(e, link);
	archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
	CHECK(archive_write_header(t->a, e) == ARCHIVE_OK);
	if (data)
		CHECK(archive_write_data(t->a, data, strlen(data)) == (la_ssize_t)strlen(data));
	archive_entry_free(e);
}

static int tar_apply(struct tarb *t, struct cryo_layer *L, struct cryo_error *err)
{
	archive_write_close(t->a);
	archive_write_free(t->a);
	CHECK(lseek(t->fd, 0, SEEK_SET) == 0);
	int rc = cryo_layer_apply_tar(L, t->fd, "test", err);
	close(t->fd);
	return rc;
}

static char *slurp(int dir, const char *name)
{
	static char buf[256];
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* A fresh, empty directory to apply layers onto, open. */
static int fresh_root(void)
{
	char dir[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(root >= 0);
	return root;
}

TEST(layers_with_whiteouts)
{
	int root = fresh_root();
	struct cryo_layer_opts o = { .max_entries = 1000, .max_bytes = 1 << 20 };
	struct cryo_layer L;
	cryo_layer_init(&L, root, &o);
	struct cryo_error err = { 0 };
	struct tarb t;
	/* the image */
	tar_begin(&t);
	tar_add(&t, "etc", AE_IFDIR, 0755, NULL, NULL);
	tar_add(&t, "etc/passwd", AE_IFREG, 0644, "root\n", NULL);
	tar_add(&t, "etc/gone", AE_IFREG, 0644, "x", NULL);
	tar_add(&t, "opq", AE_IFDIR, 0755, NULL, NULL);
	tar_add(&t, "opq/old", AE_IFREG, 0644, "old", NULL);
	tar_add(&t, "ro", AE_IFDIR, 0555, NULL, NULL);
	tar_add(&t, "ro/f", AE_IFREG, 0600, "in a read-only dir", NULL);
	tar_add(&t, "was-dir", AE_IFDIR, 0755, NULL, NULL);
	tar_add(&t, "was-dir/f", AE_IFREG, 0644, "f", NULL);
	CHECK(tar_apply(&t, &L, &err) == 0);
	/* the diff: a whiteout, an opaque directory, a directory replaced by a file */
	L.o.whiteouts = true;
	tar_begin(&t);
	tar_add(&t, "etc/.wh.gone", AE_IFREG, 0, NULL, NULL);
	tar_add(&t, "nodir/deeper/.wh.x", AE_IFREG, 0, NULL, NULL); /* makes no directory */
	tar_add(&t, "opq", AE_IFDIR, 0755, NULL, NULL);
	tar_add(&t, "opq/.wh..wh..opq", AE_IFREG, 0, NULL, NULL);
	tar_add(&t, "opq/new", AE_IFREG, 0644, "new", NULL);
	tar_add(&t, "was-dir", AE_IFREG, 04755, "now a file", NULL);
	tar_add(&t, "link", AE_IFREG, 0644, NULL, "etc/passwd");
	tar_add(&t, "link", AE_IFREG, 0644, "written anew", NULL);
	CHECK(tar_apply(&t, &L, &err) == 0);
	CHECK(cryo_layer_finish(&L, &err) == 0);
	struct stat st;
	CHECK(fstatat(root, "etc/gone", &st, AT_SYMLINK_NOFOLLOW) < 0);
	CHECK(fstatat(root, "etc/.wh.gone", &st, AT_SYMLINK_NOFOLLOW) < 0);
	CHECK(fstatat(root, "nodir", &st, AT_SYMLINK_NOFOLLOW) < 0);
	CHECK(fstatat(root, "opq/old", &st, AT_SYMLINK_NOFOLLOW) < 0);
	CHECK_STR_EQ(slurp(root, "opq/new"), "new");
	CHECK_STR_EQ(slurp(root, "ro/f"), "in a read-only dir");
	CHECK(fstatat(root, "ro", &st, 0) == 0 && (st.st_mode & 07777) == 0555);
	CHECK(fstatat(root, "was-dir", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 07777) == 0755);
	CHECK_STR_EQ(slurp(root, "etc/passwd"), "root\n");
	CHECK_STR_EQ(slurp(root, "link"), "written anew");
	CHECK(L.s.whiteouts == 3 && L.s.setid_cleared == 1 && L.s.refused == 0);
	cryo_layer_free(&L);
	close(root);
}

TEST(layer_bounds)
{
	int root = fresh_root();
	struct cryo_layer_opts o = { .max_entries = 3, .max_bytes = 10 };
	struct cryo_layer L;
	struct cryo_error err = { 0 };
	struct tarb t;
	cryo_layer_init(&L, root, &o);
	tar_begin(&t);
	tar_add(&t, "a", AE_IFREG, 0644, "0123456789abc", NULL);
	CHECK(tar_apply(&t, &L, &err) < 0);
	CHECK(strstr(err.msg, "more than 10 bytes"));
	cryo_layer_free(&L);
	cryo_layer_init(&L, root, &o);
	memset(&err, 0, sizeof(err));
	tar_begin(&t);
	for (int i = 0; i < 5; i++) {
		char n[16];
		snprintf(n, sizeof(n), "f%d", i);
		tar_add(&t, n, AE_IFREG, 0644, NULL, NULL);
	}
	CHECK(tar_apply(&t, &L, &err) < 0);
	CHECK(strstr(err.msg, "more than 3 entries"));
	cryo_layer_free(&L);
	close(root);
}

/* A small tar can ask for much work: the same deep directory listed again
 * and again is held once; entries jumping between two deep directories
 * are refused instead of walking 200 levels each time. */
TEST(layer_pathological_layouts)
{
	int root = fresh_root();
	struct cryo_layer_opts o = { .max_entries = 100000, .max_bytes = 1 << 20 };
	struct cryo_layer L;
	struct cryo_error err = { 0 };
	struct tarb t;
	char a[1024] = "a", b[1024] = "b";
	for (int i = 0; i < 200; i++) {
		strcat(a, "/a");
		strcat(b, "/b");
	}
	cryo_layer_init(&L, root, &o);
	tar_begin(&t);
	for (int i = 0; i < 3000; i++)
		tar_add(&t, a, AE_IFDIR, 0755, NULL, NULL);
	CHECK(tar_apply(&t, &L, &err) == 0);
	CHECK_INT_EQ((int)L.ndirs, 1);
	cryo_layer_free(&L);
	cryo_layer_init(&L, root, &o);
	tar_begin(&t);
	for (int i = 0; i < 3000; i++) {
		char p[1100];
		snprintf(p, sizeof(p), "%s/f%d", i % 2 ? a : b, i);
		tar_add(&t, p, AE_IFREG, 0644, NULL, NULL);
	}
	CHECK(tar_apply(&t, &L, &err) < 0);
	CHECK_STR_CONTAINS(err.msg, "jump between deep directories");
	cryo_layer_free(&L);
	close(root);
}

static const struct check_test tests[] = {
	CHECK_TEST(layer_pathological_layouts),
	CHECK_TEST(clean_path),
	CHECK_TEST(layers_with_whiteouts),
	CHECK_TEST(layer_bounds),
};

CHECK_MAIN(tests)
