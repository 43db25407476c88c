#!/bin/bash
# Runtimes we cannot run here (Kubernetes, CRI-O, Podman, containerd) are
# recognised by how they name cgroups.  These are real cgroups with real
# processes in them, named exactly as those runtimes name them.
. "$(dirname "$0")/lib.sh"
need_root
[ -n "$CGV2" ] || { skip all "no cgroup2 hierarchy mounted"; finish; }

hex() { head -c 32 /dev/urandom | sha256sum | cut -c1-64; }
uid=$(cat /proc/sys/kernel/random/uuid)
ida=$(hex) idb=$(hex) idc=$(hex) idd=$(hex) ide=$(hex) idf=$(hex)

# Kubernetes, cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>
cg_container "/kubepods/besteffort/pod$uid/$ida" && pa=$CG_PID
cg_container "/kubepods/besteffort/pod$uid/$idb" && pb=$CG_PID
# Kubernetes, systemd driver, containerd
uid2=$(cat /proc/sys/kernel/random/uuid)
cg_container "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid2//-/_}.slice/cri-containerd-$idc.scope" && pc=$CG_PID
# CRI-O: the container, and its conmon monitor (not a container)
cg_container "/system.slice/crio-$idd.scope" && pd=$CG_PID
cg_container "/system.slice/crio-conmon-$ide.scope"
# Podman: the process sits in a nested "container" cgroup
cg_container "/machine.slice/libpod-$idf.scope/container" && pf=$CG_PID

json=$(cryo-ls --json)
get() { jq -r --arg id "$1" ".containers[] | select(.id == \$id) | $2" <<<"$json"; }
expect_eq k8s-a-found "$(get "$ida" .init_pid)" "$pa"
expect_eq k8s-b-found "$(get "$idb" .init_pid)" "$pb"
expect_eq k8s-pod-uid "$(get "$ida" .pod.uid)" "$uid"
expect_eq k8s-qos "$(get "$ida" .pod.qos)" besteffort
expect_eq k8s-cgroup "$(get "$ida" .cgroup.v2)" "/kubepods/besteffort/pod$uid/$ida"
expect_eq k8s-systemd-runtime "$(get "$idc" .runtime)" containerd
expect_eq k8s-systemd-pod-uid "$(get "$idc" .pod.uid)" "$uid2"
expect_eq k8s-systemd-qos "$(get "$idc" .pod.qos)" burstable
expect_eq crio-runtime "$(get "$idd" .runtime)" cri-o
expect_eq crio-pid "$(get "$idd" .init_pid)" "$pd"
expect_eq conmon-not-listed "$(get "$ide" .id)" ""
expect_eq podman-runtime "$(get "$idf" .runtime)" podman
expect_eq podman-cgroup "$(get "$idf" .cgroup.v2)" "/machine.slice/libpod-$idf.scope"
expect_eq podman-pid "$(get "$idf" .init_pid)" "$pf"
# none of them may claim the v1 root cgroup their processes sit in
expect_eq no-v1-root "$(get "$ida" .cgroup.freezer)" null

# short ids as Falco sends them
expect_eq short-id "$(cryo-ls --json "${idd:0:12}" | jq -r '.containers[0].id')" "$idd"
expect_eq pid-target "$(cryo-ls --json "pid:$pf" | jq -r '.containers[0].id')" "$idf"

# --pod freezes both containers of the pod, and only them
j=$(cryo-freeze --pod --json "${ida:0:12}")
expect_eq pod-count "$(jq -r '.containers | length' <<<"$j")" 2
expect_eq pod-both "$(jq -r '[.containers[].id] | sort | join(",")' <<<"$j")" "$(printf '%s\n' "$ida" "$idb" | sort | paste -sd,)"
expect_eq pod-a-stopped "$(awk '{print $3}' /proc/$pa/stat)" S
expect_match pod-b-frozen "$(cat "$CGV2/kubepods/besteffort/pod$uid/$idb/cgroup.events")" "frozen 1"
expect_match other-untouched "$(cat "$CGV2/system.slice/crio-$idd.scope/cgroup.events")" "frozen 0"
expect_rc pod-thaw 0 cryo-freeze --pod --thaw "$idb"
expect_match pod-thawed "$(cat "$CGV2/kubepods/besteffort/pod$uid/$ida/cgroup.events")" "frozen 0"
# podman's nested cgroup is frozen through the container's own
expect_rc podman-freeze 0 cryo-freeze "$idf"
expect_match podman-nested-frozen "$(cat "$CGV2/machine.slice/libpod-$idf.scope/container/cgroup.events")" "frozen 1"
cryo-freeze --thaw -q "$idf"
finish
