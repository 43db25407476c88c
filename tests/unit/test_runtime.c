/* runtime.c: runtime state on disk (runc state.json, crun status, Docker
 * config.v2.json, OCI bundle annotations, containers.json).  All of it is
 * attacker-influenced, so besides the real formats: garbage, wrong types,
 * absurd numbers. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "check.h"
#include "cryo/cleanup.h"
#include "cryo/runtime.h"

#define ID_A "4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define IMG "sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6"

static int parse_state(const char *json, struct cryo_oci_state *s)
{
	return cryo_oci_state_parse(json, strlen(json), s);
}

/* Trimmed from a real runc 1.1 state.json (Docker on a hybrid host). */
static const char runc_state[] =
	"{\"id\":\"" ID_A "\",\"init_process_pid\":4242,\"init_process_start\":123456789,"
	"\"created\":\"2024-05-01T10:00:00.123456789Z\",\"config\":{\"no_pivot_root\":false,"
	"\"parent_death_signal\":0,\"rootfs\":\"/var/lib/docker/overlay2/" ID_B "/merged\","
	"\"umask\":null,\"readonlyfs\":false,\"rootPropagation\":0,\"mounts\":[{\"source\":\"proc\","
	"\"destination\":\"/proc\",\"device\":\"proc\",\"flags\":14}],\"devices\":[],"
	"\"cgroups\":{\"path\":\"/docker/" ID_A "\",\"scope_prefix\":\"\",\"Resources\":{}},"
	"\"namespaces\":[{\"type\":\"NEWNS\",\"path\":\"\"},{\"type\":\"NEWPID\",\"path\":\"\"}],"
	"\"labels\":[\"io.kubernetes.x=y\",\"bundle=/run/containerd/io.containerd.runtime.v2.task/moby/" ID_A
	"\"],\"version\":\"1.0.2-dev\"},\"rootless\":false,"
	"\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/unified/docker/" ID_A "\","
	"\"freezer\":\"/sys/fs/cgroup/freezer/docker/" ID_A "\","
	"\"memory\":\"/sys/fs/cgroup/memory/docker/" ID_A "\"},"
	"\"namespace_paths\":{\"NEWNS\":\"/proc/4242/ns/mnt\",\"NEWPID\":\"/proc/4242/ns/pid\"},"
	"\"external_descriptors\":[\"/dev/null\",\"pipe:[81234]\",\"pipe:[81235]\"],"
	"\"intel_rdt_path\":\"\"}";

TEST(oci_state_runc)
{
	struct cryo_oci_state s;
	CHECK_INT_EQ(parse_state(runc_state, &s), 0);
	CHECK_STR_EQ(s.id, ID_A);
	CHECK_INT_EQ(s.init_pid, 4242);
	CHECK_U64_EQ(s.init_start, 123456789);
	CHECK_STR_EQ(s.created, "2024-05-01T10:00:00.123456789Z");
	CHECK_STR_EQ(s.rootfs, "/var/lib/docker/overlay2/" ID_B "/merged");
	CHECK_STR_EQ(s.bundle, "/run/containerd/io.containerd.runtime.v2.task/moby/" ID_A);
	CHECK_STR_EQ(s.cgroup_v2, "/sys/fs/cgroup/unified/docker/" ID_A);
	CHECK_STR_EQ(s.freezer, "/sys/fs/cgroup/freezer/docker/" ID_A);
}

TEST(oci_state_runc_pure_v2)
{
	const char *j = "{\"id\":\"web\",\"init_process_pid\":7,\"init_process_start\":99,"
			"\"created\":\"2024-01-01T00:00:00Z\",\"config\":{\"rootfs\":\"/b/rootfs\","
			"\"labels\":[\"bundle=/b\"]},"
			"\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/system.slice/runc-web.scope\"}}";
	struct cryo_oci_state s;
	CHECK_INT_EQ(parse_state(j, &s), 0);
	CHECK_STR_EQ(s.id, "web");
	CHECK_STR_EQ(s.bundle, "/b");
	CHECK_STR_EQ(s.cgroup_v2, "/sys/fs/cgroup/system.slice/runc-web.scope");
	CHECK_STR_EQ(s.freezer, "");
}

TEST(oci_state_crun)
{
	/* crun's status file (libcrun/status.c); it has no "id" */
	const char *j = "{\n    \"pid\" : 31337,\n    \"process-start-time\" : 987654,\n"
			"    \"cgroup-path\" : \"/machine.slice/libpod-" ID_A ".scope/container\",\n"
			"    \"scope\" : \"libpod-" ID_A ".scope\",\n"
			"    \"rootfs\" : \"/var/lib/containers/storage/overlay/" ID_B "/merged\",\n"
			"    \"systemd-cgroup\" : true,\n"
			"    \"bundle\" : \"/var/lib/containers/storage/overlay-containers/" ID_A "/userdata\",\n"
			"    \"created\" : \"2024-05-01T10:00:00.000293421Z\",\n"
			"    \"owner\" : \"root\",\n    \"detached\" : true,\n"
			"    \"external_descriptors\" : \"[\\\"/dev/null\\\"]\"\n}\n";
	struct cryo_oci_state s;
	CHECK_INT_EQ(parse_state(j, &s), 0);
	CHECK_INT_EQ(s.init_pid, 31337);
	CHECK_U64_EQ(s.init_start, 987654);
	CHECK_STR_EQ(s.id, "");
	CHECK_STR_EQ(s.created, "2024-05-01T10:00:00.000293421Z");
	CHECK_STR_EQ(s.rootfs, "/var/lib/containers/storage/overlay/" ID_B "/merged");
	CHECK_STR_EQ(s.bundle, "/var/lib/containers/storage/overlay-containers/" ID_A "/userdata");
	/* crun records the path below the cgroup mount, as it was given */
	CHECK_STR_EQ(s.cgroup_v2, "/machine.slice/libpod-" ID_A ".scope/container");
	CHECK_STR_EQ(s.freezer, "");
}

TEST(oci_state_garbage)
{
	static const char *bad[] = {
		"",
		"{",
		"null",
		"[]",
		"[{\"init_process_pid\":5}]",
		"\"init_process_pid\"",
		"42",
		"{}",
		"{\"id\":\"x\"}",
		"{\"init_process_pid\":\"42\"}",
		"{\"init_process_pid\":null}",
		"{\"init_process_pid\":true}",
		"{\"init_process_pid\":[42]}",
		"{\"init_process_pid\":{\"pid\":42}}",
		"{\"init_process_pid\":0}",
		"{\"init_process_pid\":-1}",
		"{\"init_process_pid\":-2147483648}",
		"{\"init_process_pid\":2147483648}",
		"{\"init_process_pid\":1e30}",
		"{\"init_process_pid\":-1e308}",
		"{\"init_process_pid\":0.5}",
		"{\"pid\":\"7\"}",
		"{\"pid\":0}",
		"{\"pid\":-7}",
		"{\"pid\":1e19}",
		"{\"pid\":4242",
		"\xff\xfe{\"pid\":1}",
	};
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		struct cryo_oci_state s;
		int rc = parse_state(bad[i], &s);
		CHECK_MSG(rc == -1 || (rc == 0 && s.init_pid > 0), "[%s]: rc %d pid %d", bad[i], rc,
			  (int)s.init_pid);
		CHECK_MSG(s.init_pid >= 0, "[%s]: negative pid %d", bad[i], (int)s.init_pid);
		CHECK_MSG(rc == -1, "[%s] accepted with pid %d", bad[i], (int)s.init_pid);
	}
}

TEST(oci_state_wrong_types_elsewhere)
{
	/* a valid pid with everything else the wrong type: parsed, all empty */
	const char *j = "{\"id\":7,\"init_process_pid\":42,\"init_process_start\":-5,"
			"\"created\":[],\"config\":\"rootfs\",\"cgroup_paths\":[\"/a\",\"/b\"]}";
	struct cryo_oci_state s;
	CHECK_INT_EQ(parse_state(j, &s), 0);
	CHECK_INT_EQ(s.init_pid, 42);
	CHECK_U64_EQ(s.init_start, 0);
	CHECK_STR_EQ(s.id, "");
	CHECK_STR_EQ(s.created, "");
	CHECK_STR_EQ(s.rootfs, "");
	CHECK_STR_EQ(s.cgroup_v2, "");

	const char *k = "{\"init_process_pid\":42,\"init_process_start\":1e300,"
			"\"config\":{\"rootfs\":5,\"labels\":[1,null,{\"bundle\":\"/x\"},\"bundle=\"]},"
			"\"cgroup_paths\":{\"\":5,\"freezer\":{}}}";
	CHECK_INT_EQ(parse_state(k, &s), 0);
	CHECK_U64_EQ(s.init_start, 0);
	CHECK_STR_EQ(s.rootfs, "");
	CHECK_STR_EQ(s.bundle, "");
	CHECK_STR_EQ(s.cgroup_v2, "");
	CHECK_STR_EQ(s.freezer, "");

	/* the largest pid_t is still a pid */
	CHECK_INT_EQ(parse_state("{\"pid\":2147483647}", &s), 0);
	CHECK_INT_EQ(s.init_pid, INT_MAX);
}

TEST(oci_state_bounds)
{
	/* only len bytes are parsed: no reliance on a terminating NUL */
	const char text[] = "{\"pid\":5}{\"pid\":6}";
	struct cryo_oci_state s;
	CHECK_INT_EQ(cryo_oci_state_parse(text, 9, &s), 0);
	CHECK_INT_EQ(s.init_pid, 5);
	CHECK_INT_EQ(cryo_oci_state_parse(text, 8, &s), -1);
	CHECK_INT_EQ(cryo_oci_state_parse(text, 0, &s), -1);

	/* over-long strings are cut to the field, never overflow it */
	size_t big = 8192;
	cleanup_free char *j = malloc(big * 3 + 128);
	CHECK(j != NULL);
	char *longs = malloc(big);
	CHECK(longs != NULL);
	memset(longs, 'x', big - 1);
	longs[big - 1] = '\0';
	snprintf(j, big * 3 + 128, "{\"id\":\"%s\",\"pid\":9,\"bundle\":\"/%s\",\"cgroup-path\":\"/%s\"}",
		 longs, longs, longs);
	free(longs);
	CHECK_INT_EQ(parse_state(j, &s), 0);
	CHECK_INT_EQ(strlen(s.id), sizeof(s.id) - 1);
	CHECK_INT_EQ(strlen(s.bundle), sizeof(s.bundle) - 1);
	CHECK_INT_EQ(strlen(s.cgroup_v2), sizeof(s.cgroup_v2) - 1);

	/* deep nesting is refused by the JSON parser, not a stack overflow */
	size_t depth = 100000;
	cleanup_free char *deep = malloc(depth * 2 + 32);
	CHECK(deep != NULL);
	size_t n = (size_t)sprintf(deep, "{\"pid\":1,\"x\":");
	memset(deep + n, '[', depth);
	memset(deep + n + depth, ']', depth);
	strcpy(deep + n + 2 * depth, "}");
	CHECK_INT_EQ(parse_state(deep, &s), -1);
}

/* Trimmed from a real Docker config.v2.json of a dockershim pod container. */
static const char docker_config[] =
	"{\"StreamConfig\":{},\"State\":{\"Running\":true,\"Paused\":false,\"Restarting\":false,"
	"\"OOMKilled\":false,\"RemovalInProgress\":false,\"Dead\":false,\"Pid\":31337,\"ExitCode\":0,"
	"\"Error\":\"\",\"StartedAt\":\"2024-05-01T10:00:00.1Z\",\"FinishedAt\":\"0001-01-01T00:00:00Z\","
	"\"Health\":null},\"ID\":\"" ID_A "\",\"Created\":\"2024-05-01T09:59:59.9Z\",\"Managed\":false,"
	"\"Path\":\"/docker-entrypoint.sh\",\"Args\":[\"nginx\",\"-g\",\"daemon off;\"],"
	"\"Config\":{\"Hostname\":\"web-0\",\"Domainname\":\"\",\"User\":\"\",\"Env\":[\"PATH=/usr/bin\"],"
	"\"Cmd\":[\"nginx\"],\"Image\":\"nginx:1.25\",\"Volumes\":null,\"WorkingDir\":\"\","
	"\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"OnBuild\":null,"
	"\"Labels\":{\"annotation.io.kubernetes.container.hash\":\"5f3c\","
	"\"io.kubernetes.container.name\":\"nginx\",\"io.kubernetes.docker.type\":\"container\","
	"\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.pod.namespace\":\"prod\","
	"\"io.kubernetes.pod.uid\":\"1234-5678\",\"maintainer\":\"NGINX <docker-maint@nginx.com>\"}},"
	"\"Image\":\"" IMG "\",\"NetworkSettings\":{},\"LogPath\":\"/var/lib/docker/containers/" ID_A
	"/" ID_A "-json.log\",\"Name\":\"/k8s_nginx_web-0_prod_1234-5678_0\",\"Driver\":\"overlay2\","
	"\"OS\":\"linux\",\"MountLabel\":\"\",\"ProcessLabel\":\"\",\"RestartCount\":0}";

TEST(docker_config)
{
	struct cryo_docker_config d;
	CHECK_INT_EQ(cryo_docker_config_parse(docker_config, strlen(docker_config), &d), 0);
	CHECK_STR_EQ(d.id, ID_A);
	CHECK_STR_EQ(d.name, "k8s_nginx_web-0_prod_1234-5678_0");
	CHECK_STR_EQ(d.image, "nginx:1.25");
	CHECK_STR_EQ(d.image_id, IMG);
	CHECK(d.running);
	CHECK(!d.paused);
	CHECK_INT_EQ(d.pid, 31337);
	CHECK_STR_EQ(d.pod_name, "web-0");
	CHECK_STR_EQ(d.pod_namespace, "prod");
	CHECK_STR_EQ(d.k8s_container, "nginx");
}

TEST(docker_config_plain_and_paused)
{
	const char *j = "{\"ID\":\"" ID_B "\",\"Name\":\"/web\",\"Image\":\"" IMG "\","
			"\"Config\":{\"Image\":\"registry.local:5000/team/web@sha256:abc\",\"Labels\":{}},"
			"\"State\":{\"Running\":true,\"Paused\":true,\"Pid\":77}}";
	struct cryo_docker_config d;
	CHECK_INT_EQ(cryo_docker_config_parse(j, strlen(j), &d), 0);
	CHECK_STR_EQ(d.name, "web");
	CHECK_STR_EQ(d.image, "registry.local:5000/team/web@sha256:abc");
	CHECK(d.running && d.paused);
	CHECK_INT_EQ(d.pid, 77);
	CHECK_STR_EQ(d.pod_name, "");

	/* stopped: pid 0, no labels object at all, a name without the '/' */
	const char *k = "{\"ID\":\"" ID_B "\",\"Name\":\"bare\",\"Config\":{},"
			"\"State\":{\"Running\":false,\"Paused\":false,\"Pid\":0}}";
	CHECK_INT_EQ(cryo_docker_config_parse(k, strlen(k), &d), 0);
	CHECK_STR_EQ(d.name, "bare");
	CHECK(!d.running);
	CHECK_INT_EQ(d.pid, 0);
}

TEST(docker_config_garbage)
{
	static const char *bad[] = { "", "[]", "null", "{}", "{\"ID\":5}", "{\"Name\":\"/x\"}",
				     "{\"ID\":\"\"}", "{\"ID\":\"" ID_A "\"" };
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++) {
		struct cryo_docker_config d;
		CHECK_MSG(cryo_docker_config_parse(bad[i], strlen(bad[i]), &d) == -1, "accepted [%s]",
			  bad[i]);
	}
	/* wrong types everywhere else: parsed, no crash, nothing made up */
	const char *j = "{\"ID\":\"" ID_A "\",\"Name\":[\"/x\"],\"Image\":{},\"Config\":[1],"
			"\"State\":{\"Running\":1,\"Paused\":\"true\",\"Pid\":-5}}";
	struct cryo_docker_config d;
	CHECK_INT_EQ(cryo_docker_config_parse(j, strlen(j), &d), 0);
	CHECK_STR_EQ(d.name, "");
	CHECK_STR_EQ(d.image, "");
	CHECK(!d.running && !d.paused);
	CHECK_INT_EQ(d.pid, 0);
	const char *k = "{\"ID\":\"" ID_A "\",\"Name\":\"/\",\"State\":{\"Pid\":1e40},"
			"\"Config\":{\"Labels\":{\"io.kubernetes.pod.name\":7}}}";
	CHECK_INT_EQ(cryo_docker_config_parse(k, strlen(k), &d), 0);
	CHECK_STR_EQ(d.name, "");
	CHECK_INT_EQ(d.pid, 0);
	CHECK_STR_EQ(d.pod_name, "");
}

TEST(bundle_containerd_cri)
{
	const char *ctr =
		"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"nginx\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
		"\"io.kubernetes.cri.container-name\":\"app\","
		"\"io.kubernetes.cri.container-type\":\"container\","
		"\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.25\","
		"\"io.kubernetes.cri.sandbox-id\":\"" ID_B "\","
		"\"io.kubernetes.cri.sandbox-name\":\"web-0\","
		"\"io.kubernetes.cri.sandbox-namespace\":\"prod\","
		"\"io.kubernetes.cri.sandbox-uid\":\"0f6d3b7c-8a21-4e5b-9c3d-1a2b3c4d5e6f\"}}";
	struct cryo_bundle_meta b;
	CHECK_INT_EQ(cryo_bundle_config_parse(ctr, strlen(ctr), &b), 0);
	CHECK_STR_EQ(b.pod_name, "web-0");
	CHECK_STR_EQ(b.pod_namespace, "prod");
	CHECK_STR_EQ(b.pod_uid, "0f6d3b7c-8a21-4e5b-9c3d-1a2b3c4d5e6f");
	CHECK_STR_EQ(b.container_name, "app");
	CHECK_STR_EQ(b.image, "docker.io/library/nginx:1.25");
	CHECK_STR_EQ(b.sandbox_id, ID_B);
	CHECK(!b.sandbox);

	const char *sb = "{\"ociVersion\":\"1.1.0\",\"annotations\":{"
			 "\"io.kubernetes.cri.container-type\":\"sandbox\","
			 "\"io.kubernetes.cri.sandbox-id\":\"" ID_B "\","
			 "\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/prod_web-0_x\","
			 "\"io.kubernetes.cri.sandbox-name\":\"web-0\","
			 "\"io.kubernetes.cri.sandbox-namespace\":\"prod\","
			 "\"io.kubernetes.cri.sandbox-uid\":\"0f6d3b7c-8a21-4e5b-9c3d-1a2b3c4d5e6f\"}}";
	CHECK_INT_EQ(cryo_bundle_config_parse(sb, strlen(sb), &b), 0);
	CHECK(b.sandbox);
	CHECK_STR_EQ(b.pod_name, "web-0");
	CHECK_STR_EQ(b.container_name, "");
}

TEST(bundle_crio)
{
	const char *ctr = "{\"ociVersion\":\"1.0.2-dev\",\"annotations\":{"
			  "\"io.container.manager\":\"cri-o\","
			  "\"io.kubernetes.container.name\":\"app\","
			  "\"io.kubernetes.cri-o.ContainerType\":\"container\","
			  "\"io.kubernetes.cri-o.ImageName\":\"quay.io/team/app:v2\","
			  "\"io.kubernetes.cri-o.SandboxID\":\"" ID_B "\","
			  "\"io.kubernetes.pod.name\":\"api-7d9f\","
			  "\"io.kubernetes.pod.namespace\":\"staging\","
			  "\"io.kubernetes.pod.uid\":\"aaaa-bbbb\"}}";
	struct cryo_bundle_meta b;
	CHECK_INT_EQ(cryo_bundle_config_parse(ctr, strlen(ctr), &b), 0);
	CHECK_STR_EQ(b.pod_name, "api-7d9f");
	CHECK_STR_EQ(b.pod_namespace, "staging");
	CHECK_STR_EQ(b.pod_uid, "aaaa-bbbb");
	CHECK_STR_EQ(b.container_name, "app");
	CHECK_STR_EQ(b.image, "quay.io/team/app:v2");
	CHECK_STR_EQ(b.sandbox_id, ID_B);
	CHECK(!b.sandbox);

	const char *infra = "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
			    "\"io.kubernetes.container.name\":\"POD\","
			    "\"io.kubernetes.pod.name\":\"api-7d9f\","
			    "\"io.kubernetes.pod.namespace\":\"staging\"}}";
	CHECK_INT_EQ(cryo_bundle_config_parse(infra, strlen(infra), &b), 0);
	CHECK(b.sandbox);
	CHECK_STR_EQ(b.container_name, "POD");
}

TEST(bundle_without_annotations_or_garbage)
{
	struct cryo_bundle_meta b;
	const char *plain = "{\"ociVersion\":\"1.0.2\",\"process\":{}}";
	CHECK_INT_EQ(cryo_bundle_config_parse(plain, strlen(plain), &b), 0);
	CHECK_STR_EQ(b.pod_name, "");
	CHECK(!b.sandbox);
	const char *wrong = "{\"annotations\":[\"io.kubernetes.pod.name\"]}";
	CHECK_INT_EQ(cryo_bundle_config_parse(wrong, strlen(wrong), &b), 0);
	CHECK_STR_EQ(b.pod_name, "");
	const char *types = "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":5,"
			    "\"io.kubernetes.pod.name\":\"fallback\","
			    "\"io.kubernetes.cri.container-type\":true}}";
	CHECK_INT_EQ(cryo_bundle_config_parse(types, strlen(types), &b), 0);
	CHECK_STR_EQ(b.pod_name, "fallback");
	CHECK(!b.sandbox);
	CHECK_INT_EQ(cryo_bundle_config_parse("", 0, &b), -1);
	CHECK_INT_EQ(cryo_bundle_config_parse("[]", 2, &b), -1);
	CHECK_INT_EQ(cryo_bundle_config_parse("{\"annotations\":", 15, &b), -1);
}

/* Trimmed from /var/lib/containers/storage/overlay-containers/containers.json */
static const char podman_containers[] =
	"[{\"id\":\"" ID_B "\",\"names\":[\"db\"],\"image\":\"" ID_A "\",\"layer\":\"9f00\","
	"\"metadata\":\"{\\\"image-name\\\":\\\"docker.io/library/postgres:16\\\"}\","
	"\"created\":\"2024-05-01T10:00:00Z\",\"flags\":{\"MountLabel\":\"\"}},"
	"{\"id\":\"" ID_A "\",\"names\":[\"web\",\"web-alias\"],\"image\":"
	"\"a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6\",\"layer\":\"7e11\","
	"\"metadata\":\"{}\",\"created\":\"2024-05-01T10:00:01Z\"}]";

TEST(storage_containers_find)
{
	struct cryo_storage_entry e;
	size_t len = strlen(podman_containers);
	CHECK_INT_EQ(cryo_storage_containers_find(podman_containers, len, ID_A, &e), 1);
	CHECK_STR_EQ(e.id, ID_A);
	CHECK_STR_EQ(e.name, "web");
	CHECK_STR_EQ(e.image, "a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6");
	CHECK_INT_EQ(cryo_storage_containers_find(podman_containers, len, ID_B, &e), 1);
	CHECK_STR_EQ(e.name, "db");
	CHECK_STR_EQ(e.image, ID_A);

	/* an id is matched whole, never by prefix */
	CHECK_INT_EQ(cryo_storage_containers_find(podman_containers, len, "4f1a2b3c4d5e", &e), 0);
	CHECK_STR_EQ(e.id, "");
	CHECK_INT_EQ(cryo_storage_containers_find(podman_containers, len, "", &e), 0);
	CHECK_INT_EQ(cryo_storage_containers_find("[]", 2, ID_A, &e), 0);
}

TEST(storage_containers_garbage)
{
	struct cryo_storage_entry e;
	static const char *bad[] = { "", "{}", "{\"id\":\"" ID_A "\"}", "null", "[" };
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(bad); i++)
		CHECK_MSG(cryo_storage_containers_find(bad[i], strlen(bad[i]), ID_A, &e) == -1,
			  "accepted [%s]", bad[i]);
	/* odd entries are skipped, the good one still found */
	const char *j = "[1,null,\"x\",[],{\"id\":5},{\"id\":\"" ID_A "\",\"names\":\"web\",\"image\":7},"
			"{\"id\":\"" ID_B "\",\"names\":[7]}]";
	CHECK_INT_EQ(cryo_storage_containers_find(j, strlen(j), ID_A, &e), 1);
	CHECK_STR_EQ(e.name, "");
	CHECK_STR_EQ(e.image, "");
	CHECK_INT_EQ(cryo_storage_containers_find(j, strlen(j), ID_B, &e), 1);
	CHECK_STR_EQ(e.name, "");
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			CHECK_MSG(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", path,
				  strerror(errno));
			*p = '/';
		}
	if (!text)
		return;
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK_MSG(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK_INT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static const struct cryo_runtime_state *find_state(const struct cryo_runtime_states *s,
						   const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].st.id, id) == 0)
			return &s->v[i];
	return NULL;
}

TEST(runtime_states_scan_prefix)
{
	char root[256];
	check_tmpdir(root, sizeof(root));
	put(root, "run/runc/plain/state.json",
	    "{\"id\":\"plain\",\"init_process_pid\":11,\"init_process_start\":1}");
	put(root, "run/crun/podc/status", "{\"pid\":12,\"process-start-time\":2}");
	put(root, "run/docker/runtime-runc/moby/" ID_A "/state.json", runc_state);
	put(root, "run/containerd/runc/k8s.io/" ID_B "/state.json",
	    "{\"id\":\"" ID_B "\",\"init_process_pid\":14}");
	/* being created (no state yet), a corrupt one, a symlinked one: skipped */
	put(root, "run/runc/creating/", NULL);
	put(root, "run/runc/corrupt/state.json", "{\"init_process_pid\":");
	put(root, "run/runc/linked/", NULL);
	char target[PATH_MAX], link[PATH_MAX];
	snprintf(target, sizeof(target), "%s/run/runc/plain/state.json", root);
	snprintf(link, sizeof(link), "%s/run/runc/linked/state.json", root);
	CHECK_INT_EQ(symlink(target, link), 0);

	struct cryo_runtime_states s;
	struct cryo_error err;
	CHECK_INT_EQ(cryo_runtime_states_scan(root, &s, &err), 0);
	CHECK_INT_EQ(s.n, 4);
	const struct cryo_runtime_state *r = find_state(&s, "plain");
	CHECK(r != NULL);
	CHECK_INT_EQ(r->runtime, CRYO_RT_RUNC);
	CHECK_INT_EQ(r->st.init_pid, 11);
	/* crun's status has no id: the directory name is it */
	r = find_state(&s, "podc");
	CHECK(r != NULL);
	CHECK_INT_EQ(r->runtime, CRYO_RT_CRUN);
	r = find_state(&s, ID_A);
	CHECK(r != NULL);
	CHECK_INT_EQ(r->runtime, CRYO_RT_DOCKER);
	CHECK_STR_EQ(r->ns, "moby");
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "%s/run/docker/runtime-runc/moby/%s", root, ID_A);
	CHECK_STR_EQ(r->state_dir, want);
	r = find_state(&s, ID_B);
	CHECK(r != NULL);
	CHECK_INT_EQ(r->runtime, CRYO_RT_CONTAINERD);
	CHECK_STR_EQ(r->ns, "k8s.io");
	cryo_runtime_states_free(&s);
	CHECK(s.v == NULL && s.n == 0);

	/* nothing there at all is not an error */
	char empty[PATH_MAX];
	snprintf(empty, sizeof(empty), "%s/nothing", root);
	CHECK_INT_EQ(cryo_runtime_states_scan(empty, &s, &err), 0);
	CHECK_INT_EQ(s.n, 0);
	cryo_runtime_states_free(&s);
	check_rm_rf(root);
}

static const struct check_test tests[] = {
	CHECK_TEST(oci_state_runc),
	CHECK_TEST(oci_state_runc_pure_v2),
	CHECK_TEST(oci_state_crun),
	CHECK_TEST(oci_state_garbage),
	CHECK_TEST(oci_state_wrong_types_elsewhere),
	CHECK_TEST(oci_state_bounds),
	CHECK_TEST(docker_config),
	CHECK_TEST(docker_config_plain_and_paused),
	CHECK_TEST(docker_config_garbage),
	CHECK_TEST(bundle_containerd_cri),
	CHECK_TEST(bundle_crio),
	CHECK_TEST(bundle_without_annotations_or_garbage),
	CHECK_TEST(storage_containers_find),
	CHECK_TEST(storage_containers_garbage),
	CHECK_TEST(runtime_states_scan_prefix),
};

CHECK_MAIN(tests)
