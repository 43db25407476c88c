/* cryo-test-capture CASE_DIR SRC_DIR PREFIX: stand in for a capture tool
 * (cryo-fs, cryo-proc) in tests and benchmarks of sealing: every regular
 * file under SRC_DIR is streamed into CASE_DIR/PREFIX/ through the
 * library's artifact writer, and one custody entry records them all with
 * their SHA-256, exactly as a capture tool does. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/util.h"

static char buf[1 << 20];

static int copy_tree(struct cryo_case *k, struct cryo_custody_entry *e, int dirfd, const char *rel,
		     struct cryo_error *err)
{
	int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	cleanup_closedir DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d)
		return cryo_error_sys(err, "open %s", rel);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (cryo_is_dot(de->d_name))
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", rel, de->d_name);
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return cryo_error_sys(err, "stat %s", path);
		if (S_ISDIR(st.st_mode)) {
			cleanup_close int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub < 0 || copy_tree(k, e, sub, path, err) < 0)
				return -1;
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		cleanup_close int in = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW);
		struct cryo_artifact w;
		if (in < 0 || cryo_artifact_begin(k, path, &w, err) < 0)
			return -1;
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (cryo_artifact_write(&w, buf, (size_t)n, err) < 0) {
				cryo_artifact_abort(&w);
				return -1;
			}
		if (cryo_artifact_commit(&w, e, err) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	if (argc != 4) {
		fprintf(stderr, "usage: cryo-test-capture CASE_DIR SRC_DIR PREFIX\n");
		return 64;
	}
	struct cryo_error err = { 0 };
	struct cryo_case k;
	if (cryo_case_open(argv[1], "cryo-test-capture", NULL, &k, &err) < 0)
		return cryo_report_error(&err);
	cleanup_close int src = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (src < 0) {
		perror(argv[2]);
		return 66;
	}
	struct cryo_custody_entry e;
	cryo_custody_begin(&e, "cryo-test-capture", "capture", argv[2], argc, argv);
	int rc = copy_tree(&k, &e, src, argv[3], &err) < 0 ? cryo_report_error(&err) : 0;
	if (cryo_custody_commit(&k, &e, rc ? "error" : "ok", rc ? err.msg : "captured", &err) < 0)
		rc = cryo_report_error(&err);
	cryo_case_close(&k);
	return rc;
}
