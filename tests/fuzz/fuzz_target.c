/* The target syntax every tool takes on its command line, and its
 * resolution against a fixed set of containers.  pid: targets are parsed
 * only: resolving them reads /proc, which would make runs depend on the
 * host. */
#include "cryo/cleanup.h"
#include "cryo/target.h"
#include "fuzz.h"

#define T1_ID "6586cbd63eaabeac8e7276e04c9d4223e2a046715c5a27ec68bf6b65b152ccc0"
#define NGINX_ID "3f2a9c1e7b5d4f8a0c6e2b9d1f7a3c5e8b0d4f6a2c9e1b7d5f3a8c0e6b2d4f9a"
#define PROXY_ID "3f2b8d0c6a4e2f1b9d7c5a3e1f0b8d6c4a2e0f9b7d5c3a1e8f6b4d2c0a9e7f5b"
#define PAUSE_ID "9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d"
#define POD_UID "0b6c2e1a-7f3d-4c9b-8e5a-1d2f3a4b5c6d"
#define POD_SLICE                                                   \
	"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" \
	"pod0b6c2e1a_7f3d_4c9b_8e5a_1d2f3a4b5c6d.slice"

/* A Docker container and a Kubernetes pod (pause, nginx and a sidecar whose
 * ids share the prefix "3f2"), as discovery would have filled them in. */
static struct cryo_container fixture[] = {
	{
		.id = T1_ID,
		.name = "t1",
		.runtime = CRYO_RT_DOCKER,
		.image = "cryo-test:busybox",
		.init_pid = 2776,
		.cgroup_v2 = "/docker/" T1_ID,
		.freezer = "/docker/" T1_ID,
	},
	{
		.id = PAUSE_ID,
		.runtime = CRYO_RT_CONTAINERD,
		.image = "registry.k8s.io/pause:3.9",
		.init_pid = 3100,
		.cgroup_v2 = POD_SLICE "/cri-containerd-" PAUSE_ID ".scope",
		.pod_uid = POD_UID,
		.pod_name = "web-7d4b9c",
		.pod_namespace = "default",
		.qos = "burstable",
		.sandbox = true,
	},
	{
		.id = NGINX_ID,
		.name = "nginx",
		.runtime = CRYO_RT_CONTAINERD,
		.image = "docker.io/library/nginx:1.25",
		.init_pid = 3150,
		.cgroup_v2 = POD_SLICE "/cri-containerd-" NGINX_ID ".scope",
		.pod_uid = POD_UID,
		.pod_name = "web-7d4b9c",
		.pod_namespace = "default",
		.k8s_container = "nginx",
		.qos = "burstable",
	},
	{
		.id = PROXY_ID,
		.name = "istio-proxy",
		.runtime = CRYO_RT_CONTAINERD,
		.image = "docker.io/istio/proxyv2:1.20.0",
		.init_pid = 3170,
		.cgroup_v2 = POD_SLICE "/cri-containerd-" PROXY_ID ".scope",
		.pod_uid = POD_UID,
		.pod_name = "web-7d4b9c",
		.pod_namespace = "default",
		.k8s_container = "istio-proxy",
		.qos = "burstable",
	},
};

static const struct cryo_containers all = {
	.v = fixture,
	.n = CRYO_ARRAY_SIZE(fixture),
	.roots = { .v2 = "/sys/fs/cgroup/unified", .freezer = "/sys/fs/cgroup/freezer",
		   .hybrid = true },
};

static void check_parsed(const struct cryo_target *t)
{
	FUZZ_CHECK_STR(t->text);
	FUZZ_CHECK_STR(t->value);
	FUZZ_CHECK_STR(t->ns);
	FUZZ_CHECK_STR(t->pod);
	FUZZ_CHECK_STR(t->container);
	bool known = true;
	switch (t->kind) {
	case CRYO_TARGET_PID:
		FUZZ_CHECK(t->pid >= 1);
		break;
	case CRYO_TARGET_CGROUP:
		FUZZ_CHECK(t->value[0] == '/');
		break;
	case CRYO_TARGET_POD_CONTAINER:
		FUZZ_CHECK(t->container[0] != '\0');
		/* fall through */
	case CRYO_TARGET_POD:
		FUZZ_CHECK(t->ns[0] != '\0' && t->pod[0] != '\0');
		break;
	case CRYO_TARGET_ID_OR_NAME:
		FUZZ_CHECK(t->value[0] != '\0');
		break;
	default:
		known = false;
	}
	FUZZ_CHECK(known);
}

static void resolve(struct cryo_target *t, size_t max)
{
	size_t out[8];
	struct cryo_error err;
	int n = cryo_target_resolve(t, &all, out, max, &err);
	if (n < 0) {
		FUZZ_CHECK(n == -1);
		FUZZ_CHECK_STR(err.msg);
		FUZZ_CHECK(err.exit == CRYO_EXIT_NOTFOUND || err.exit == CRYO_EXIT_AMBIGUOUS ||
			   err.exit == CRYO_EXIT_SOFTWARE);
		return;
	}
	FUZZ_CHECK(n >= 1 && (size_t)n <= max);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(out[i] < all.n);
		size_t members[8];
		size_t m = cryo_pod_members(&all, out[i], members, CRYO_ARRAY_SIZE(members));
		FUZZ_CHECK(m >= 1 && m <= CRYO_ARRAY_SIZE(members));
		for (size_t k = 0; k < m; k++)
			FUZZ_CHECK(members[k] < all.n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One command-line argument: a C string, so it ends at the first NUL. */
	char *text = fuzz_cstr(data, size);
	struct cryo_target t;
	struct cryo_error err;
	if (cryo_target_parse(text, &t, &err) < 0) {
		FUZZ_CHECK(err.exit == CRYO_EXIT_USAGE);
		FUZZ_CHECK_STR(err.msg);
	} else {
		check_parsed(&t);
		if (t.kind != CRYO_TARGET_PID) {
			struct cryo_target t2 = t;
			resolve(&t, 8);
			/* and with room for one: a pod has more members than that */
			resolve(&t2, 1);
		}
	}
	free(text);
	return 0;
}
