/* cgroup.c: /proc/PID/cgroup text, how each runtime and Kubernetes names a
 * container's cgroup, and where the hierarchies are mounted. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "check.h"
#include "cryo/cgroup.h"
#include "cryo/cleanup.h"

#define ID_A "4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID "0f6d3b7c-8a21-4e5b-9c3d-1a2b3c4d5e6f"
#define POD_UID_ "0f6d3b7c_8a21_4e5b_9c3d_1a2b3c4d5e6f"

TEST(proc_cgroup_hybrid)
{
	const char *text = "13:misc:/\n"
			   "12:rdma:/\n"
			   "11:pids:/system.slice/docker-" ID_A ".scope\n"
			   "9:net_cls,net_prio:/system.slice/docker-" ID_A ".scope\n"
			   "6:freezer:/docker/" ID_A "\n"
			   "4:memory:/system.slice/docker-" ID_A ".scope\n"
			   "3:cpu,cpuacct:/x\n"
			   "1:name=systemd:/system.slice/docker-" ID_A ".scope\n"
			   "0::/system.slice/docker-" ID_A ".scope\n";
	struct cryo_proc_cgroup pc;
	CHECK_INT_EQ(cryo_proc_cgroup_parse(text, &pc), 0);
	CHECK_STR_EQ(pc.freezer, "/docker/" ID_A);
	CHECK_STR_EQ(pc.systemd, "/system.slice/docker-" ID_A ".scope");
	CHECK_STR_EQ(pc.v2, "/system.slice/docker-" ID_A ".scope");
}

TEST(proc_cgroup_pure_v2)
{
	struct cryo_proc_cgroup pc;
	CHECK_INT_EQ(cryo_proc_cgroup_parse("0::/system.slice/docker-" ID_A ".scope\n", &pc), 0);
	CHECK_STR_EQ(pc.v2, "/system.slice/docker-" ID_A ".scope");
	CHECK_STR_EQ(pc.freezer, "");
	CHECK_STR_EQ(pc.systemd, "");

	/* no trailing newline; the root cgroup */
	CHECK_INT_EQ(cryo_proc_cgroup_parse("0::/", &pc), 0);
	CHECK_STR_EQ(pc.v2, "/");

	/* nothing at all: parses, nothing found */
	CHECK_INT_EQ(cryo_proc_cgroup_parse("", &pc), 0);
	CHECK_STR_EQ(pc.v2, "");
}

TEST(proc_cgroup_joint_controllers)
{
	struct cryo_proc_cgroup pc;
	CHECK_INT_EQ(cryo_proc_cgroup_parse("3:cpu,cpuacct:/x\n2:devices:/y\n", &pc), 0);
	CHECK_STR_EQ(pc.freezer, "");
	CHECK_STR_EQ(pc.v2, "");
	/* freezer co-mounted with other controllers, first or last in the list */
	CHECK_INT_EQ(cryo_proc_cgroup_parse("7:net_cls,freezer:/f1\n", &pc), 0);
	CHECK_STR_EQ(pc.freezer, "/f1");
	CHECK_INT_EQ(cryo_proc_cgroup_parse("7:freezer,devices:/f2\n", &pc), 0);
	CHECK_STR_EQ(pc.freezer, "/f2");
	/* a named hierarchy that merely contains the word is not the freezer */
	CHECK_INT_EQ(cryo_proc_cgroup_parse("8:name=freezerx:/n\n8:freezers:/n\n", &pc), 0);
	CHECK_STR_EQ(pc.freezer, "");
}

TEST(proc_cgroup_path_with_colons)
{
	struct cryo_proc_cgroup pc;
	CHECK_INT_EQ(cryo_proc_cgroup_parse("6:freezer:/a:b:c\n"
					    "1:name=systemd:/user.slice/x:y.scope\n"
					    "0::/system.slice/weird:name.scope\n",
					    &pc), 0);
	CHECK_STR_EQ(pc.freezer, "/a:b:c");
	CHECK_STR_EQ(pc.systemd, "/user.slice/x:y.scope");
	CHECK_STR_EQ(pc.v2, "/system.slice/weird:name.scope");
}

TEST(proc_cgroup_malformed)
{
	static const char *bad[] = {
		"garbage\n",
		"0:/x\n",
		":freezer:/x\n",
		"a:freezer:/x\n",
		"-1::/x\n",
		"0::relative\n",
		"0::\n",
		"6:freezer:\n",
		"6:freezer:x\n",
		"1:name=systemd:rel\n",
		"0::/ok\ngarbage\n",
		"0::/ok\n6:freezer:/ok\n1 name=systemd /x\n",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		struct cryo_proc_cgroup pc;
		CHECK_MSG(cryo_proc_cgroup_parse(bad[i], &pc) == -1, "accepted [%s]", bad[i]);
	}

	/* a path longer than the record holds is refused, not cut */
	char longp[1200];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "0::/", 4);
	longp[sizeof(longp) - 1] = '\0';
	struct cryo_proc_cgroup pc;
	CHECK_INT_EQ(cryo_proc_cgroup_parse(longp, &pc), -1);
}

TEST(proc_cgroup_read_self)
{
	struct cryo_proc_cgroup pc;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_proc_cgroup_read(getpid(), &pc, &err), 0);
	CHECK(pc.v2[0] == '/' || pc.freezer[0] == '/' || pc.systemd[0] == '/');
	CHECK_INT_EQ(cryo_proc_cgroup_read(0, &pc, &err), -1);
}

/* classify, and check what it found */
static void expect_container(const char *path, enum cryo_runtime rt, const char *id,
			     const char *cgroup, const char *pod_uid, const char *qos)
{
	struct cryo_cgroup_class c;
	CHECK_MSG(cryo_cgroup_classify(path, &c) == 1, "not recognised as a container: %s", path);
	CHECK_STR_EQ(cryo_runtime_name(c.runtime), cryo_runtime_name(rt));
	CHECK_STR_EQ(c.id, id);
	CHECK_STR_EQ(c.cgroup, cgroup);
	CHECK_STR_EQ(c.pod_uid, pod_uid);
	CHECK_STR_EQ(c.qos, qos);
}

static void expect_not_container(const char *path)
{
	struct cryo_cgroup_class c;
	memset(&c, 'x', sizeof(c));
	CHECK_MSG(cryo_cgroup_classify(path, &c) == 0, "taken for a container: %s", path);
	CHECK_STR_EQ(c.id, "");
	CHECK_STR_EQ(c.cgroup, "");
}

TEST(classify_docker)
{
	expect_container("/docker/" ID_A, CRYO_RT_DOCKER, ID_A, "/docker/" ID_A, "", "");
	expect_container("/system.slice/docker-" ID_A ".scope", CRYO_RT_DOCKER, ID_A,
			 "/system.slice/docker-" ID_A ".scope", "", "");
	/* a process in a sub-cgroup is in the container */
	expect_container("/docker/" ID_A "/app/worker", CRYO_RT_DOCKER, ID_A, "/docker/" ID_A, "", "");
	expect_container("/system.slice/docker-" ID_A ".scope/init", CRYO_RT_DOCKER, ID_A,
			 "/system.slice/docker-" ID_A ".scope", "", "");
}

TEST(classify_containerd)
{
	expect_container("/system.slice/cri-containerd-" ID_B ".scope", CRYO_RT_CONTAINERD, ID_B,
			 "/system.slice/cri-containerd-" ID_B ".scope", "", "");
	/* ctr run: /<namespace>/<id> */
	expect_container("/default/" ID_B, CRYO_RT_CONTAINERD, ID_B, "/default/" ID_B, "", "");
	expect_container("/k8s.io/" ID_B, CRYO_RT_CONTAINERD, ID_B, "/k8s.io/" ID_B, "", "");
}

TEST(classify_crio)
{
	expect_container("/machine.slice/crio-" ID_A ".scope", CRYO_RT_CRIO, ID_A,
			 "/machine.slice/crio-" ID_A ".scope", "", "");
	expect_not_container("/machine.slice/crio-conmon-" ID_A ".scope");
	expect_not_container("/kubepods.slice/kubepods-pod" POD_UID_ ".slice/crio-conmon-" ID_A ".scope");
}

TEST(classify_podman)
{
	expect_container("/machine.slice/libpod-" ID_A ".scope", CRYO_RT_PODMAN, ID_A,
			 "/machine.slice/libpod-" ID_A ".scope", "", "");
	/* crun puts the payload one level down: the container is the scope */
	expect_container("/machine.slice/libpod-" ID_A ".scope/container", CRYO_RT_PODMAN, ID_A,
			 "/machine.slice/libpod-" ID_A ".scope", "", "");
	expect_container("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_A
			 ".scope/container",
			 CRYO_RT_PODMAN, ID_A,
			 "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_A ".scope",
			 "", "");
	expect_not_container("/machine.slice/libpod-conmon-" ID_A ".scope");
	expect_not_container("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" ID_A
			     ".scope");
}

TEST(classify_kubernetes_systemd_driver)
{
	expect_container("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/"
			 "cri-containerd-" ID_B ".scope",
			 CRYO_RT_CONTAINERD, ID_B,
			 "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/"
			 "cri-containerd-" ID_B ".scope",
			 "1234-5678", "besteffort");
	expect_container("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID_
			 ".slice/crio-" ID_A ".scope/sub",
			 CRYO_RT_CRIO, ID_A,
			 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID_
			 ".slice/crio-" ID_A ".scope",
			 POD_UID, "burstable");
	/* guaranteed pods sit right under kubepods.slice */
	expect_container("/kubepods.slice/kubepods-pod" POD_UID_ ".slice/crio-" ID_A ".scope", CRYO_RT_CRIO,
			 ID_A, "/kubepods.slice/kubepods-pod" POD_UID_ ".slice/crio-" ID_A ".scope", POD_UID,
			 "guaranteed");
	expect_container("/kubepods.slice/kubepods-pod" POD_UID_ ".slice/docker-" ID_A ".scope",
			 CRYO_RT_DOCKER, ID_A,
			 "/kubepods.slice/kubepods-pod" POD_UID_ ".slice/docker-" ID_A ".scope", POD_UID,
			 "guaranteed");
}

TEST(classify_kubernetes_cgroupfs_driver)
{
	expect_container("/kubepods/burstable/pod" POD_UID "/" ID_B, CRYO_RT_UNKNOWN, ID_B,
			 "/kubepods/burstable/pod" POD_UID "/" ID_B, POD_UID, "burstable");
	expect_container("/kubepods/besteffort/pod" POD_UID "/" ID_B "/nested", CRYO_RT_UNKNOWN, ID_B,
			 "/kubepods/besteffort/pod" POD_UID "/" ID_B, POD_UID, "besteffort");
	expect_container("/kubepods/pod" POD_UID "/" ID_B, CRYO_RT_UNKNOWN, ID_B,
			 "/kubepods/pod" POD_UID "/" ID_B, POD_UID, "guaranteed");
}

/* cgroup.h: "Recognise the runtimes' naming."  With the cgroupfs cgroup
 * manager CRI-O names a container "crio-<id>" (no ".scope") under the pod,
 * and its monitor "crio-conmon-<id>" (cri-o internal/config/cgmgr). */
TEST(classify_crio_cgroupfs_manager)
{
	expect_not_container("/kubepods/burstable/pod" POD_UID "/crio-conmon-" ID_A);
	expect_container("/kubepods/burstable/pod" POD_UID "/crio-" ID_A, CRYO_RT_CRIO, ID_A,
			 "/kubepods/burstable/pod" POD_UID "/crio-" ID_A, POD_UID, "burstable");
}

/* Podman with cgroup_manager = "cgroupfs" (rootful default on non-systemd
 * hosts): <cgroup parent>/libpod-<id>, the parent being /libpod_parent. */
TEST(classify_podman_cgroupfs_manager)
{
	expect_container("/libpod_parent/libpod-" ID_A, CRYO_RT_PODMAN, ID_A,
			 "/libpod_parent/libpod-" ID_A, "", "");
}

TEST(classify_not_containers)
{
	static const char *paths[] = {
		"/",
		"",
		"relative/docker/" ID_A,
		"/init.scope",
		"/user.slice/user-0.slice",
		"/user.slice/user-0.slice/session-1.scope",
		"/system.slice/docker.service",
		"/system.slice/containerd.service",
		"/system.slice/docker-.scope",
		"/kubepods.slice",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice",
		"/kubepods/burstable/pod" POD_UID,
		"/docker/" "4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f", /* 63 */
		"/docker/" "4F1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8",
		"/docker/" ID_A "0",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(paths); i++)
		expect_not_container(paths[i]);
	struct cryo_cgroup_class c;
	CHECK_INT_EQ(cryo_cgroup_classify(NULL, &c), 0);

	/* longer than the cgroup field: refused rather than cut */
	char longp[1100];
	snprintf(longp, sizeof(longp), "/docker/%s/", ID_A);
	size_t l = strlen(longp);
	memset(longp + l, 'a', sizeof(longp) - l - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_INT_EQ(cryo_cgroup_classify(longp, &c), 0);

	/* very deep paths do not overrun the component table */
	char deep[1000] = "";
	for (int i = 0; i < 120; i++)
		strcat(deep, "/a");
	CHECK_INT_EQ(cryo_cgroup_classify(deep, &c), 0);
}

TEST(runtime_names)
{
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_DOCKER), "docker");
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_CONTAINERD), "containerd");
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_CRIO), "cri-o");
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_PODMAN), "podman");
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_RUNC), "runc");
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_CRUN), "crun");
	CHECK_STR_EQ(cryo_runtime_name(CRYO_RT_UNKNOWN), "unknown");
	CHECK_STR_EQ(cryo_runtime_name((enum cryo_runtime)99), "unknown");
}

TEST(roots_hybrid)
{
	char text[] =
		"25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
		"26 25 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
		"27 26 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - "
		"cgroup2 cgroup2 rw,nsdelegate\n"
		"28 26 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - "
		"cgroup cgroup rw,xattr,name=systemd\n"
		"29 26 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - "
		"cgroup cgroup rw,cpu,cpuacct\n"
		"31 26 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:15 - "
		"cgroup cgroup rw,freezer\n"
		"32 26 0:29 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - "
		"cgroup cgroup rw,net_cls,net_prio\n";
	struct cryo_cgroup_roots r;
	CHECK_INT_EQ(cryo_cgroup_roots_parse(text, &r), 0);
	CHECK_STR_EQ(r.v2, "/sys/fs/cgroup/unified");
	CHECK_STR_EQ(r.freezer, "/sys/fs/cgroup/freezer");
	CHECK(r.hybrid);
}

TEST(roots_pure_v2)
{
	char text[] = "22 26 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
		      "35 22 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
		      "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
	struct cryo_cgroup_roots r;
	CHECK_INT_EQ(cryo_cgroup_roots_parse(text, &r), 0);
	CHECK_STR_EQ(r.v2, "/sys/fs/cgroup");
	CHECK_STR_EQ(r.freezer, "");
	CHECK(!r.hybrid);
}

TEST(roots_legacy_and_edge_cases)
{
	/* v1 only, freezer co-mounted with devices */
	char legacy[] = "30 25 0:27 / /sys/fs/cgroup/freezer,devices rw - cgroup cgroup rw,devices,freezer\n"
			"31 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
	struct cryo_cgroup_roots r;
	CHECK_INT_EQ(cryo_cgroup_roots_parse(legacy, &r), 0);
	CHECK_STR_EQ(r.freezer, "/sys/fs/cgroup/freezer,devices");
	CHECK_STR_EQ(r.v2, "");
	CHECK(!r.hybrid);

	/* inside a container: hierarchies bound from a sub-cgroup are no root */
	char inner[] = "1505 1504 0:28 /docker/" ID_A " /sys/fs/cgroup ro - cgroup2 cgroup rw\n"
		       "1506 1504 0:29 /docker/" ID_A " /sys/fs/cgroup/freezer ro - cgroup cgroup rw,freezer\n";
	CHECK_INT_EQ(cryo_cgroup_roots_parse(inner, &r), -1);
	CHECK_STR_EQ(r.v2, "");

	/* a named hierarchy is not the freezer */
	char named[] = "28 26 0:25 / /sys/fs/cgroup/x rw - cgroup cgroup rw,name=freezer2\n";
	CHECK_INT_EQ(cryo_cgroup_roots_parse(named, &r), -1);

	/* the first cgroup2 mount wins; garbage lines are skipped */
	char two[] = "garbage line\n"
		     "35 22 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
		     "36 22 0:30 / /mnt/cg rw - cgroup2 cgroup2 rw\n";
	CHECK_INT_EQ(cryo_cgroup_roots_parse(two, &r), 0);
	CHECK_STR_EQ(r.v2, "/sys/fs/cgroup");

	char none[] = "22 26 0:21 / /sys rw - sysfs sysfs rw\n";
	CHECK_INT_EQ(cryo_cgroup_roots_parse(none, &r), -1);
	char empty[] = "";
	CHECK_INT_EQ(cryo_cgroup_roots_parse(empty, &r), -1);
}

static void write_text(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK_MSG(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK_INT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void mkdir_in(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	CHECK_MSG(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

/* A directory tree shaped like a cgroup: the files are plain files here. */
TEST(cgroup_pids_walks_descendants)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	write_text(dir, "cgroup.procs", "10\n11\n");
	mkdir_in(dir, "a");
	write_text(dir, "a/cgroup.procs", "20\n");
	mkdir_in(dir, "a/b");
	write_text(dir, "a/b/cgroup.procs", "30\n31\n");
	mkdir_in(dir, "gone"); /* no list: a cgroup removed meanwhile, skipped */
	write_text(dir, "tasks", "10\n12\n11\n");
	write_text(dir, "a/tasks", "20\n21\n");
	write_text(dir, "a/b/tasks", "30\n31\n32\n");

	struct cryo_pids p = { 0 };
	struct cryo_error err;
	CHECK_INT_EQ(cryo_cgroup_pids(dir, false, &p, &err), 0);
	CHECK_INT_EQ(p.n, 5);
	qsort(p.v, p.n, sizeof(*p.v), cmp_pid);
	CHECK_INT_EQ(p.v[0], 10);
	CHECK_INT_EQ(p.v[4], 31);
	cryo_pids_free(&p);

	/* threads on v1 (no cgroup.threads): the "tasks" files */
	CHECK_INT_EQ(cryo_cgroup_pids(dir, true, &p, &err), 0);
	CHECK_INT_EQ(p.n, 8);
	cryo_pids_free(&p);

	/* threads on v2 */
	write_text(dir, "cgroup.threads", "10\n");
	write_text(dir, "a/cgroup.threads", "20\n");
	write_text(dir, "a/b/cgroup.threads", "30\n");
	CHECK_INT_EQ(cryo_cgroup_pids(dir, true, &p, &err), 0);
	CHECK_INT_EQ(p.n, 3);
	cryo_pids_free(&p);

	char missing[300];
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	CHECK_INT_EQ(cryo_cgroup_pids(missing, false, &p, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	cryo_pids_free(&p);
	check_rm_rf(dir);
}

/* A list that cannot be parsed is an error, wherever it is in the tree.
 * (No cgroup.threads at the top, as on a v1 hierarchy.) */
TEST(cgroup_pids_corrupt_subgroup_is_error)
{
	char dir[256];
	check_tmpdir(dir, sizeof(dir));
	write_text(dir, "cgroup.procs", "10\n");
	mkdir_in(dir, "a");
	write_text(dir, "a/cgroup.procs", "20\nxx\n");
	struct cryo_pids p = { 0 };
	struct cryo_error err = { 0 };
	int rc = cryo_cgroup_pids(dir, false, &p, &err);
	size_t n = p.n;
	cryo_pids_free(&p);
	check_rm_rf(dir);
	CHECK_MSG(rc == -1, "corrupt a/cgroup.procs ignored: rc %d, %zu pids", rc, n);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
}

/* cgroup.h: "All pids in a cgroup directory and its descendants".  Inside a
 * container with a delegated cgroup tree, nesting is up to the container. */
TEST(cgroup_pids_deep_nesting)
{
	char dir[256], path[PATH_MAX];
	check_tmpdir(dir, sizeof(dir));
	write_text(dir, "cgroup.procs", "1\n");
	snprintf(path, sizeof(path), "%s", dir);
	for (int depth = 1; depth <= 40; depth++) {
		strcat(path, "/d");
		CHECK_MSG(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
		char file[PATH_MAX + 16];
		snprintf(file, sizeof(file), "%s/cgroup.procs", path + strlen(dir) + 1);
		char pid[16];
		snprintf(pid, sizeof(pid), "%d\n", 100 + depth);
		write_text(dir, file, pid);
	}
	struct cryo_pids p = { 0 };
	struct cryo_error err = { 0 };
	int rc = cryo_cgroup_pids(dir, false, &p, &err);
	size_t n = p.n;
	cryo_pids_free(&p);
	check_rm_rf(dir);
	CHECK_INT_EQ(rc, 0);
	CHECK_MSG(n == 41, "found %zu of the 41 pids in a 40-deep tree", n);
}

static const struct check_test tests[] = {
	CHECK_TEST(proc_cgroup_hybrid),
	CHECK_TEST(proc_cgroup_pure_v2),
	CHECK_TEST(proc_cgroup_joint_controllers),
	CHECK_TEST(proc_cgroup_path_with_colons),
	CHECK_TEST(proc_cgroup_malformed),
	CHECK_TEST(proc_cgroup_read_self),
	CHECK_TEST(classify_docker),
	CHECK_TEST(classify_containerd),
	CHECK_TEST(classify_crio),
	CHECK_TEST(classify_podman),
	CHECK_TEST(classify_kubernetes_systemd_driver),
	CHECK_TEST(classify_kubernetes_cgroupfs_driver),
	CHECK_TEST(classify_crio_cgroupfs_manager),
	CHECK_TEST(classify_podman_cgroupfs_manager),
	CHECK_TEST(classify_not_containers),
	CHECK_TEST(runtime_names),
	CHECK_TEST(roots_hybrid),
	CHECK_TEST(roots_pure_v2),
	CHECK_TEST(roots_legacy_and_edge_cases),
	CHECK_TEST(cgroup_pids_walks_descendants),
	CHECK_TEST(cgroup_pids_corrupt_subgroup_is_error),
	CHECK_TEST(cgroup_pids_deep_nesting),
};

CHECK_MAIN(tests)
