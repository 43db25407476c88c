/* target.c: the target syntax every tool shares, and resolving a target
 * against a set of containers built by hand (no discovery). */
#include "check.h"
#include "cryo/cgroup.h"
#include "cryo/cleanup.h"
#include "cryo/target.h"
#include "cryo/util.h"

#define ID_A "abcdef0123454f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192"
#define ID_B "abcdef0123990123456789abcdef0123456789abcdef0123456789abcdef0123"
#define ID_C "77e1c0ffee00deadbeef00112233445566778899aabbccddeeff001122334455"

TEST(parse_id_and_name)
{
	struct cryo_target t;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_target_parse(ID_A, &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_ID_OR_NAME);
	CHECK_STR_EQ(t.value, ID_A);
	CHECK_STR_EQ(t.text, ID_A);

	CHECK_INT_EQ(cryo_target_parse("abcdef012345", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_ID_OR_NAME);
	CHECK_STR_EQ(t.value, "abcdef012345");

	CHECK_INT_EQ(cryo_target_parse("web-1.prod_x", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_ID_OR_NAME);
	CHECK_STR_EQ(t.value, "web-1.prod_x");
	CHECK_INT_EQ(t.pid, 0);
	CHECK(!t.start_given);
}

TEST(parse_pod_forms)
{
	struct cryo_target t;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_target_parse("prod/web-0", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_POD);
	CHECK_STR_EQ(t.ns, "prod");
	CHECK_STR_EQ(t.pod, "web-0");
	CHECK_STR_EQ(t.container, "");
	CHECK_STR_EQ(t.value, "prod/web-0");

	CHECK_INT_EQ(cryo_target_parse("prod/web-0/nginx", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_POD_CONTAINER);
	CHECK_STR_EQ(t.ns, "prod");
	CHECK_STR_EQ(t.pod, "web-0");
	CHECK_STR_EQ(t.container, "nginx");
}

TEST(parse_pid_forms)
{
	struct cryo_target t;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_target_parse("pid:123", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_PID);
	CHECK_INT_EQ(t.pid, 123);
	CHECK(!t.start_given);
	CHECK_U64_EQ(t.start, 0);

	CHECK_INT_EQ(cryo_target_parse("pid:123@456", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_PID);
	CHECK_INT_EQ(t.pid, 123);
	CHECK(t.start_given);
	CHECK_U64_EQ(t.start, 456);

	CHECK_INT_EQ(cryo_target_parse("pid:4194304@18446744073709551615", &t, &err), 0);
	CHECK_INT_EQ(t.pid, 4194304);
	CHECK_U64_EQ(t.start, 18446744073709551615ull);
	CHECK_INT_EQ(cryo_target_parse("pid:1@0", &t, &err), 0);
	CHECK(t.start_given);
}

TEST(parse_cgroup_forms)
{
	struct cryo_target t;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_target_parse("cgroup:/a/b", &t, &err), 0);
	CHECK_INT_EQ(t.kind, CRYO_TARGET_CGROUP);
	CHECK_STR_EQ(t.value, "/a/b");
	CHECK_INT_EQ(cryo_target_parse("cgroup:/a/b/", &t, &err), 0);
	CHECK_STR_EQ(t.value, "/a/b");
	CHECK_STR_EQ(t.text, "cgroup:/a/b/");
	CHECK_INT_EQ(cryo_target_parse("cgroup:/", &t, &err), 0);
	CHECK_STR_EQ(t.value, "/");
	CHECK_INT_EQ(cryo_target_parse("cgroup:/system.slice/docker-" ID_A ".scope", &t, &err), 0);
	CHECK_STR_EQ(t.value, "/system.slice/docker-" ID_A ".scope");
	/* ".." inside a name is a name */
	CHECK_INT_EQ(cryo_target_parse("cgroup:/a/..b/c..", &t, &err), 0);
	CHECK_STR_EQ(t.value, "/a/..b/c..");
}

TEST(parse_rejections)
{
	char longest_ok[512], too_long[513];
	memset(longest_ok, 'a', sizeof(longest_ok) - 1);
	longest_ok[sizeof(longest_ok) - 1] = '\0';
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';

	static const char *bad[] = {
		"",
		"pid:",
		"pid:abc",
		"pid:0",
		"pid:-1",
		"pid:1x",
		"pid:4194305",
		"pid:99999999999999999999999",
		"pid:1@x",
		"pid:1@",
		"pid:1@-5",
		"pid:1@5x",
		"pid:@5",
		"pid:1@99999999999999999999999",
		"cgroup:",
		"cgroup:relative",
		"cgroup:relative/path",
		"cgroup:/a/../b",
		"cgroup:/..",
		"cgroup:/a/..",
		"cgroup:/../a",
		"cgroup:/a//b",
		"a//b",
		"/pod",
		"/",
		"ns/",
		"ns/pod/",
		"ns//c",
		"a/b/c/d",
		"a/b/c/",
		"foo:bar",
		"docker:abc",
		"web 1",
		" web",
		"web\t",
		"web\n",
		"we\x01b",
		"we\x1b[2Jb",
		"web\x7f",
		"pid: 5",
		"cgroup:/a b",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		struct cryo_target t;
		struct cryo_error err = { 0 };
		CHECK_MSG(cryo_target_parse(bad[i], &t, &err) == -1, "accepted [%s]", bad[i]);
		CHECK_MSG(err.exit == CRYO_EXIT_USAGE, "[%s]: exit %d, not usage", bad[i], err.exit);
		CHECK_MSG(err.msg[0] != '\0', "[%s]: no message", bad[i]);
	}
	struct cryo_target t;
	struct cryo_error err = { 0 };
	CHECK_INT_EQ(cryo_target_parse(NULL, &t, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_USAGE);
	CHECK_INT_EQ(cryo_target_parse(too_long, &t, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_USAGE);
	CHECK_INT_EQ(cryo_target_parse(longest_ok, &t, &err), 0);
	CHECK_STR_EQ(t.value, longest_ok);
}

/* A hand-built container set, room for FIXTURE_MAX. */
#define FIXTURE_MAX 16
static struct cryo_container *ctr(struct cryo_containers *all, const char *id, const char *name,
				  enum cryo_runtime rt, const char *cgroup_v2)
{
	CHECK(all->n < FIXTURE_MAX);
	struct cryo_container *c = &all->v[all->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->runtime = rt;
	snprintf(c->cgroup_v2, sizeof(c->cgroup_v2), "%s", cgroup_v2);
	return c;
}

static void pod(struct cryo_container *c, const char *ns, const char *podname, const char *k8s,
		const char *uid)
{
	snprintf(c->pod_namespace, sizeof(c->pod_namespace), "%s", ns);
	snprintf(c->pod_name, sizeof(c->pod_name), "%s", podname);
	snprintf(c->k8s_container, sizeof(c->k8s_container), "%s", k8s);
	snprintf(c->pod_uid, sizeof(c->pod_uid), "%s", uid);
}

/* #0 web (ID_A) and #1 db (ID_B) share the prefix "abcdef0123"; #2 is a
 * runc container whose short id "abcdef012345" is also a prefix of ID_A;
 * #3..#5 are the pod prod/web-0 (sandbox, nginx, sidecar), #6 the pod
 * prod/api-0, #7 a container with only a v1 freezer cgroup. */
static void fixture(struct cryo_containers *all)
{
	memset(all, 0, sizeof(*all));
	all->v = calloc(FIXTURE_MAX, sizeof(*all->v));
	CHECK(all->v != NULL);
	ctr(all, ID_A, "web", CRYO_RT_DOCKER, "/system.slice/docker-" ID_A ".scope");
	ctr(all, ID_B, "db", CRYO_RT_PODMAN, "/machine.slice/libpod-" ID_B ".scope");
	ctr(all, "abcdef012345", "short", CRYO_RT_RUNC, "/runc/abcdef012345");
	struct cryo_container *c;
	c = ctr(all, ID_C, "k8s_POD_web-0", CRYO_RT_CONTAINERD, "/kubepods/pod1/" ID_C);
	pod(c, "prod", "web-0", "", "uid-1");
	c->sandbox = true;
	c = ctr(all, "11aa00000000000000000000000000000000000000000000000000000000aaaa", "",
		CRYO_RT_CONTAINERD, "/kubepods/pod1/11aa");
	pod(c, "prod", "web-0", "nginx", "uid-1");
	c = ctr(all, "22bb00000000000000000000000000000000000000000000000000000000bbbb", "",
		CRYO_RT_CONTAINERD, "/kubepods/pod1/22bb");
	pod(c, "prod", "web-0", "sidecar", "uid-1");
	c = ctr(all, "33cc00000000000000000000000000000000000000000000000000000000cccc", "",
		CRYO_RT_CRIO, "/kubepods/pod2/33cc");
	pod(c, "prod", "api-0", "nginx", "uid-2");
	c = ctr(all, "44dd00000000000000000000000000000000000000000000000000000000dddd", "legacy",
		CRYO_RT_DOCKER, "");
	snprintf(c->freezer, sizeof(c->freezer), "/docker/44dd");
}

static int resolve(const char *text, const struct cryo_containers *all, size_t *out, size_t max,
		   struct cryo_error *err)
{
	struct cryo_target t;
	CHECK_MSG(cryo_target_parse(text, &t, err) == 0, "parse %s: %s", text, err->msg);
	cryo_error_clear(err);
	return cryo_target_resolve(&t, all, out, max, err);
}

static void expect_one(const struct cryo_containers *all, const char *text, size_t want)
{
	size_t out[8];
	struct cryo_error err;
	int n = resolve(text, all, out, 8, &err);
	CHECK_MSG(n == 1, "%s: resolved to %d containers (%s)", text, n, err.msg);
	CHECK_MSG(out[0] == want, "%s: resolved to #%zu (%s), want #%zu (%s)", text, out[0],
		  all->v[out[0]].id, want, all->v[want].id);
}

static void expect_error(const struct cryo_containers *all, const char *text, enum cryo_exit ex,
			 struct cryo_error *err)
{
	size_t out[8];
	int n = resolve(text, all, out, 8, err);
	CHECK_MSG(n == -1, "%s: resolved to %d containers, want an error", text, n);
	CHECK_MSG(err->exit == ex, "%s: exit %d, want %d (%s)", text, err->exit, ex, err->msg);
}

TEST(resolve_id_prefix_name)
{
	struct cryo_containers all;
	fixture(&all);
	expect_one(&all, ID_A, 0);
	expect_one(&all, ID_B, 1);
	expect_one(&all, "abcdef012399", 1); /* unique prefix */
	expect_one(&all, "77e1", 3);
	expect_one(&all, "web", 0);          /* name */
	expect_one(&all, "legacy", 7);
	/* an exact id wins over being a prefix of other ids */
	expect_one(&all, "abcdef012345", 2);
	cryo_containers_free(&all);
}

TEST(resolve_ambiguous_prefix)
{
	struct cryo_containers all;
	fixture(&all);
	struct cryo_error err;
	expect_error(&all, "abcdef0123", CRYO_EXIT_AMBIGUOUS, &err);
	CHECK_STR_CONTAINS(err.msg, "abcdef0123");
	/* every candidate listed by its short id (12 characters) */
	CHECK_STR_CONTAINS(err.msg, "abcdef012345  web");
	CHECK_STR_CONTAINS(err.msg, "abcdef012399  db");
	CHECK_STR_CONTAINS(err.msg, "abcdef012345  short");
	CHECK(strstr(err.msg, ID_A) == NULL); /* short ids, not whole ones */
	cryo_containers_free(&all);
}

TEST(resolve_name_beats_prefix_and_duplicate_names)
{
	struct cryo_containers all;
	fixture(&all);
	/* a container named like the prefix of another's id */
	ctr(&all, "99ff00000000000000000000000000000000000000000000000000000000ffff", "77e1",
	    CRYO_RT_DOCKER, "/docker/99ff");
	expect_one(&all, "77e1", 8);
	/* two containers with one name (docker and podman side by side) */
	ctr(&all, "88ee00000000000000000000000000000000000000000000000000000000eeee", "web",
	    CRYO_RT_PODMAN, "/machine.slice/libpod-88ee.scope");
	struct cryo_error err;
	expect_error(&all, "web", CRYO_EXIT_AMBIGUOUS, &err);
	CHECK_STR_CONTAINS(err.msg, "abcdef012345  web (docker)");
	CHECK_STR_CONTAINS(err.msg, "88ee00000000  web (podman)");
	cryo_containers_free(&all);
}

TEST(resolve_not_found)
{
	struct cryo_containers all;
	fixture(&all);
	struct cryo_error err;
	expect_error(&all, "nothing", CRYO_EXIT_NOTFOUND, &err);
	CHECK_STR_CONTAINS(err.msg, "nothing");
	expect_error(&all, "ffff", CRYO_EXIT_NOTFOUND, &err);
	expect_error(&all, "cgroup:/docker/none", CRYO_EXIT_NOTFOUND, &err);
	expect_error(&all, "prod/none", CRYO_EXIT_NOTFOUND, &err);
	expect_error(&all, "prod/web-0/none", CRYO_EXIT_NOTFOUND, &err);
	expect_error(&all, "other/web-0", CRYO_EXIT_NOTFOUND, &err);
	/* an empty set */
	struct cryo_containers none = { 0 };
	size_t out[4];
	struct cryo_target t;
	CHECK_INT_EQ(cryo_target_parse("web", &t, &err), 0);
	CHECK_INT_EQ(cryo_target_resolve(&t, &none, out, 4, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	cryo_containers_free(&all);
}

TEST(resolve_cgroup)
{
	struct cryo_containers all;
	fixture(&all);
	expect_one(&all, "cgroup:/system.slice/docker-" ID_A ".scope", 0);
	expect_one(&all, "cgroup:/system.slice/docker-" ID_A ".scope/", 0);
	expect_one(&all, "cgroup:/docker/44dd", 7); /* v1 freezer path */
	struct cryo_error err;
	/* a sub-cgroup or a parent is not the container's cgroup */
	expect_error(&all, "cgroup:/system.slice", CRYO_EXIT_NOTFOUND, &err);
	expect_error(&all, "cgroup:/system.slice/docker-" ID_A ".scope/sub", CRYO_EXIT_NOTFOUND, &err);
	cryo_containers_free(&all);
}

TEST(resolve_pod_and_pod_container)
{
	struct cryo_containers all;
	fixture(&all);
	size_t out[8];
	struct cryo_error err;
	int n = resolve("prod/web-0", &all, out, 8, &err);
	CHECK_INT_EQ(n, 3);
	CHECK_INT_EQ(out[0], 3);
	CHECK_INT_EQ(out[1], 4);
	CHECK_INT_EQ(out[2], 5);
	expect_one(&all, "prod/web-0/nginx", 4);
	expect_one(&all, "prod/web-0/sidecar", 5);
	expect_one(&all, "prod/api-0/nginx", 6);
	expect_one(&all, "prod/api-0", 6);

	/* more than the caller has room for is an error, not a short list:
	 * ambiguous for a tool that acts on fewer, with the candidates */
	CHECK_INT_EQ(resolve("prod/web-0", &all, out, 2, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_AMBIGUOUS);
	CHECK_STR_CONTAINS(err.msg, "names 3 containers");

	/* a restarted container whose old instance is still there */
	struct cryo_container *c = ctr(&all, "55ee00000000000000000000000000000000000000000000000000000000eeee",
				       "", CRYO_RT_CONTAINERD, "/kubepods/pod1/55ee");
	pod(c, "prod", "web-0", "nginx", "uid-1");
	expect_error(&all, "prod/web-0/nginx", CRYO_EXIT_AMBIGUOUS, &err);
	CHECK_STR_CONTAINS(err.msg, "11aa00000000");
	CHECK_STR_CONTAINS(err.msg, "55ee00000000");
	cryo_containers_free(&all);
}

TEST(resolve_pid_self)
{
	struct cryo_proc_cgroup pc;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_proc_cgroup_read(getpid(), &pc, &err), 0);
	struct cryo_proc_stat st;
	CHECK_INT_EQ(cryo_proc_stat_read(getpid(), &st, &err), 0);

	struct cryo_containers all;
	fixture(&all);
	char text[64];
	size_t out[4];
	struct cryo_target t;

	/* not in any of them */
	snprintf(text, sizeof(text), "pid:%d", (int)getpid());
	CHECK_INT_EQ(cryo_target_parse(text, &t, &err), 0);
	CHECK_INT_EQ(cryo_target_resolve(&t, &all, out, 4, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	CHECK_STR_CONTAINS(err.msg, "not in a container");

	/* a container whose cgroup is ours */
	struct cryo_container *c = ctr(&all, "66ff00000000000000000000000000000000000000000000000000000000ffff",
				       "self", CRYO_RT_RUNC, pc.v2);
	snprintf(c->freezer, sizeof(c->freezer), "%s", pc.freezer);
	size_t self_idx = all.n - 1;
	CHECK_INT_EQ(cryo_target_parse(text, &t, &err), 0);
	CHECK_INT_EQ(cryo_target_resolve(&t, &all, out, 4, &err), 1);
	CHECK_INT_EQ(out[0], self_idx);
	CHECK_U64_EQ(t.start, st.start_time); /* recorded for the recheck */
	CHECK_INT_EQ(cryo_target_recheck(&t, &err), 0);

	/* the right start time */
	snprintf(text, sizeof(text), "pid:%d@%llu", (int)getpid(), (unsigned long long)st.start_time);
	CHECK_INT_EQ(cryo_target_parse(text, &t, &err), 0);
	CHECK_INT_EQ(cryo_target_resolve(&t, &all, out, 4, &err), 1);

	/* a reused pid: the start time differs */
	snprintf(text, sizeof(text), "pid:%d@%llu", (int)getpid(),
		 (unsigned long long)st.start_time + 1);
	CHECK_INT_EQ(cryo_target_parse(text, &t, &err), 0);
	CHECK_INT_EQ(cryo_target_resolve(&t, &all, out, 4, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	CHECK_STR_CONTAINS(err.msg, "reused");

	/* recheck refuses a replaced process */
	struct cryo_target moved = t;
	moved.start = st.start_time + 1;
	CHECK_INT_EQ(cryo_target_recheck(&moved, &err), -1);
	CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	/* a pid that does not exist */
	CHECK_INT_EQ(cryo_target_parse("pid:4194304", &t, &err), 0);
	if (kill(4194304, 0) < 0 && errno == ESRCH) {
		CHECK_INT_EQ(cryo_target_resolve(&t, &all, out, 4, &err), -1);
		CHECK_INT_EQ(err.exit, CRYO_EXIT_NOTFOUND);
	}
	/* non-pid targets need no recheck */
	CHECK_INT_EQ(cryo_target_parse("web", &t, &err), 0);
	CHECK_INT_EQ(cryo_target_recheck(&t, &err), 0);
	cryo_containers_free(&all);
}

/* The deepest container cgroup holding the process wins. */
TEST(resolve_pid_nested_container)
{
	struct cryo_proc_cgroup pc;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_proc_cgroup_read(getpid(), &pc, &err), 0);
	if (!pc.v2[0] || strcmp(pc.v2, "/") == 0) {
		fprintf(stderr, "resolve_pid_nested_container: in the root cgroup, nothing to nest\n");
		return;
	}
	char parent[1024];
	snprintf(parent, sizeof(parent), "%s", pc.v2);
	*strrchr(parent, '/') = '\0';
	if (!parent[0])
		snprintf(parent, sizeof(parent), "/");
	struct cryo_containers all;
	fixture(&all);
	ctr(&all, "a1", "outer", CRYO_RT_RUNC, parent);
	ctr(&all, "b2", "inner", CRYO_RT_RUNC, pc.v2);
	size_t out[4];
	char text[64];
	snprintf(text, sizeof(text), "pid:%d", (int)getpid());
	CHECK_INT_EQ(resolve(text, &all, out, 4, &err), 1);
	CHECK_STR_EQ(all.v[out[0]].name, "inner");
	cryo_containers_free(&all);
}

static void expect_members(const struct cryo_containers *all, size_t idx, const size_t *want,
			   size_t nwant)
{
	size_t out[16];
	size_t n = cryo_pod_members(all, idx, out, 16);
	CHECK_MSG(n == nwant, "members of #%zu: %zu, want %zu", idx, n, nwant);
	for (size_t i = 0; i < n; i++)
		CHECK_MSG(out[i] == want[i], "members of #%zu: [%zu] is #%zu, want #%zu", idx, i, out[i],
			  want[i]);
}

TEST(pod_members)
{
	struct cryo_containers all;
	fixture(&all);
	const size_t web0[] = { 3, 4, 5 };
	expect_members(&all, 3, web0, 3);
	expect_members(&all, 5, web0, 3);
	const size_t api0[] = { 6 };
	expect_members(&all, 6, api0, 1);
	/* not in a pod: itself only */
	const size_t self0[] = { 0 };
	expect_members(&all, 0, self0, 1);
	const size_t self7[] = { 7 };
	expect_members(&all, 7, self7, 1);

	/* a pod recreated under the same name has a new uid: not a member */
	struct cryo_container *c = ctr(&all, "77aa00000000000000000000000000000000000000000000000000000000aaaa",
				       "", CRYO_RT_CONTAINERD, "/kubepods/pod9/77aa");
	pod(c, "prod", "web-0", "nginx", "uid-9");
	expect_members(&all, 3, web0, 3);

	/* dockershim-era containers: no uid, matched by namespace and name */
	c = ctr(&all, "d1", "k8s_a", CRYO_RT_DOCKER, "/docker/d1");
	pod(c, "legacy", "old-0", "a", "");
	c = ctr(&all, "d2", "k8s_b", CRYO_RT_DOCKER, "/docker/d2");
	pod(c, "legacy", "old-0", "b", "");
	c = ctr(&all, "d3", "k8s_c", CRYO_RT_DOCKER, "/docker/d3");
	pod(c, "other", "old-0", "c", "");
	const size_t old0[] = { 9, 10 };
	expect_members(&all, 9, old0, 2);

	/* bounded by max */
	size_t out[2];
	CHECK_INT_EQ(cryo_pod_members(&all, 3, out, 2), 2);
	CHECK_INT_EQ(out[1], 4);
	cryo_containers_free(&all);
}

static const struct check_test tests[] = {
	CHECK_TEST(parse_id_and_name),
	CHECK_TEST(parse_pod_forms),
	CHECK_TEST(parse_pid_forms),
	CHECK_TEST(parse_cgroup_forms),
	CHECK_TEST(parse_rejections),
	CHECK_TEST(resolve_id_prefix_name),
	CHECK_TEST(resolve_ambiguous_prefix),
	CHECK_TEST(resolve_name_beats_prefix_and_duplicate_names),
	CHECK_TEST(resolve_not_found),
	CHECK_TEST(resolve_cgroup),
	CHECK_TEST(resolve_pod_and_pod_container),
	CHECK_TEST(resolve_pid_self),
	CHECK_TEST(resolve_pid_nested_container),
	CHECK_TEST(pod_members),
};

CHECK_MAIN(tests)
