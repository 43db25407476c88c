# Shared shell library for cryo's CLI tests (bubblewrap's tests/libtest.sh
# idea).  Each test script sources this, works in its own scratch directory
# and registers an undo for everything it creates; the EXIT trap runs the
# undos in reverse order, also when the test fails or is interrupted.
#
# Output protocol (read by tests/run): one line per check on stdout,
#   PASS: name | FAIL: name: reason | SKIP: name: reason

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BIN=$BUILD/bin
export PATH="$BIN:$BUILD/tests/tools:$PATH"
TEST_NAME=$(basename "$0" .sh)
SCRATCH=$(mktemp -d "/tmp/cryo-$TEST_NAME.XXXXXX")
ROOTFS=$BUILD/rootfs
IMAGE=cryo-test:busybox
_undo=()
_failed=0

undo() { _undo+=("$*"); }
_cleanup() {
	local i
	for ((i = ${#_undo[@]} - 1; i >= 0; i--)); do
		eval "${_undo[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$SCRATCH"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS: $TEST_NAME/$1"; }
fail() { echo "FAIL: $TEST_NAME/$1: ${2:-}"; _failed=1; }
skip() { echo "SKIP: $TEST_NAME/$1: $2"; echo "*** SKIP $TEST_NAME/$1: $2" >&2; }

# check NAME CMD...: pass when CMD succeeds
check() {
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "command failed: $* -> ${out:0:300}"; fi
}
# expect_rc NAME RC CMD...: pass when CMD exits with RC; output kept in $OUT
expect_rc() {
	local name=$1 want=$2
	shift 2
	OUT=$("$@" 2>&1)
	local rc=$?
	if [ "$rc" = "$want" ]; then pass "$name"; else fail "$name" "exit $rc, wanted $want: ${OUT:0:300}"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', wanted '$3'"; fi
}
# expect_match NAME TEXT REGEX
expect_match() {
	if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "'${2:0:300}' does not match /$3/"; fi
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip all "CLI tests need root (containers, cgroups, namespaces)"
		exit 0
	fi
}

ensure_rootfs() {
	"$ROOT/scripts/mkrootfs" "$ROOTFS" "$BUILD/helpers"
}

# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() {
	local t=$1
	shift
	local end=$((SECONDS + t))
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

# --- runc containers -------------------------------------------------------
# runc_start ID CMD...: a runc container on an overlay of the busybox rootfs,
# in cgroup /cryo-test/ID, in its own network namespace joined by a veth pair
# to a peer namespace made for it.  RUNC_CAPS="CAP_A,CAP_B" adds
# capabilities to runc's default few; RUNC_BIND="HOST_PATH:CONTAINER_PATH"
# bind-mounts a host file or directory.
runc_start() {
	local id=$1
	shift
	ensure_rootfs || return 1
	local b=$SCRATCH/runc-$id
	mkdir -p "$b/rootfs" "$b/upper" "$b/work"
	mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$b/upper,workdir=$b/work" "$b/rootfs" || return 1
	undo "umount -l '$b/rootfs'"
	local cns=cryo-c-$id pns=cryo-p-$id
	# names of veth ends are limited to 15 bytes
	local tag
	tag=$(echo -n "$id" | sha256sum | cut -c1-8)
	ip netns add "$cns" && undo "ip netns del '$cns'"
	ip netns add "$pns" && undo "ip netns del '$pns'"
	ip link add "vc$tag" netns "$cns" type veth peer name "vp$tag" netns "$pns" || return 1
	ip -n "$cns" addr add 10.213.0.2/30 dev "vc$tag"
	ip -n "$pns" addr add 10.213.0.1/30 dev "vp$tag"
	ip -n "$cns" link set "vc$tag" up
	ip -n "$pns" link set "vp$tag" up
	ip -n "$cns" link set lo up
	(cd "$b" && runc spec) || return 1
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq --argjson args "$args" --arg id "$id" --arg ns "/var/run/netns/$cns" --arg caps "${RUNC_CAPS:-}" --arg bind "${RUNC_BIND:-}" '
		(if $caps != "" then .process.capabilities |= with_entries(.value += ($caps | split(","))) else . end) |
		(if $bind != "" then .mounts += [{destination: ($bind | split(":")[1]), source: ($bind | split(":")[0]),
			type: "bind", options: ["rbind", "rw"]}] else . end) |
		.process.terminal = false | .process.args = $args | .root.path = "rootfs" |
		.root.readonly = false | .hostname = $id |
		.linux.cgroupsPath = ("/cryo-test/" + $id) |
		.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $ns else . end]
	' "$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
	# the parent cgroups runc makes are left behind by runc delete; the
	# last test to clean up removes them (rmdir fails while others use them)
	local h
	for h in /sys/fs/cgroup/*/ "$CGV2/"; do
		undo "rmdir '$h/cryo-test'"
	done
	runc run -d --bundle "$b" "$id" </dev/null >/dev/null 2>"$b/runc.err" || { cat "$b/runc.err" >&2; return 1; }
	undo "runc delete -f '$id'"
	undo "runc kill '$id' KILL"
	# a v1-frozen task ignores SIGKILL until thawed: thaw before killing
	undo "echo 0 >'$CGV2/cryo-test/$id/cgroup.freeze'; echo THAWED >'/sys/fs/cgroup/freezer/cryo-test/$id/freezer.state'"
}
runc_pid() { runc state "$1" | jq -r .pid; }
runc_upper() { echo "$SCRATCH/runc-$1/upper"; }

# --- Docker containers ---------------------------------------------------------
need_docker() {
	if ! "$ROOT/scripts/start-dockerd" >&2; then
		skip "${1:-docker}" "no Docker engine (dockerd would not start)"
		return 1
	fi
	ensure_rootfs || return 1
	local stamp
	stamp=$(cat "$ROOTFS/.cryo-stamp")
	if [ "$(docker image inspect -f '{{index .Config.Labels "cryo.stamp"}}' "$IMAGE" 2>/dev/null)" != "$stamp" ]; then
		tar -C "$ROOTFS" -c . | docker import -c "LABEL cryo.stamp=$stamp" - "$IMAGE" >/dev/null || return 1
	fi
}
# docker_start NAME ARGS...: sets DOCKER_ID
docker_start() {
	local name=$1
	shift
	docker rm -f "$name" >/dev/null 2>&1
	DOCKER_ID=$(docker run -d --name "$name" --label cryo-test=1 --network none "$IMAGE" "$@") || return 1
	undo "docker rm -f '$name'"
	undo "echo 0 >'$CGV2/docker/$DOCKER_ID/cgroup.freeze'; echo THAWED >'/sys/fs/cgroup/freezer/docker/$DOCKER_ID/freezer.state'"
}
docker_pid() { docker inspect -f '{{.State.Pid}}' "$1"; }

# --- fake runtime cgroups: real cgroups and real processes, named as other
# runtimes (Kubernetes, CRI-O, Podman) name them, for what we cannot run here.
CGV2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
# cg_container PATH: make the v2 cgroup PATH (each new component undone),
# start a sleeper in it; its pid is left in CG_PID.  Not for $(...): the
# undo list and the background process must stay in this shell.
cg_container() {
	local path=$1 cur="" comp
	local IFS=/
	for comp in ${path#/}; do
		cur="$cur/$comp"
		if [ ! -d "$CGV2$cur" ]; then
			mkdir "$CGV2$cur" || return 1
			undo "rmdir '$CGV2$cur'"
		fi
	done
	unset IFS
	sleep 600 </dev/null >/dev/null 2>&1 &
	CG_PID=$!
	undo "kill -9 $CG_PID; wait $CG_PID"
	undo "echo 0 >'$CGV2$path/cgroup.freeze'"
	echo "$CG_PID" >"$CGV2$path/cgroup.procs"
}

finish() { exit $_failed; }
