#!/bin/bash
# An image with enough layers that Docker's overlay mount options would pass
# a page: Docker then mounts with paths relative to overlay2/ ("l/ABC..."),
# and the container's mountinfo shows them relative.  cryo-ls must still
# report absolute, existing layer directories, in stacking order.
. "$(dirname "$0")/lib.sh"
need_root
need_docker || finish

img=cryo-test:layers
stamp=$(cat "$ROOTFS/.cryo-stamp")
if [ "$(docker image inspect -f '{{index .Config.Labels "cryo.stamp"}}' "$img" 2>/dev/null)" != "$stamp" ]; then
	d=$SCRATCH/ctx
	mkdir -p "$d"
	{
		echo "FROM $IMAGE"
		for i in $(seq 1 85); do echo "COPY f$i /layers/f$i"; echo "$i" >"$d/f$i"; done
		echo "LABEL cryo.stamp=$stamp"
	} >"$d/Dockerfile"
	DOCKER_BUILDKIT=0 docker build -q -t "$img" "$d" >/dev/null 2>&1 || { fail build "docker build"; finish; }
fi
name=cryo-layers-$$
docker rm -f "$name" >/dev/null 2>&1
docker run -d --name "$name" --network none "$img" /bin/sleep 600 >/dev/null || { fail start "docker run"; finish; }
undo "docker rm -f '$name'"
pid=$(docker_pid "$name")

expect_match mount-is-relative "$(awk '$5 == "/"' /proc/"$pid"/mountinfo)" "lowerdir=l/"
c=$(cryo-ls --json "$name" | jq -c '.containers[0].rootfs')
expect_eq upperdir "$(jq -r .upperdir <<<"$c")" "$(docker inspect -f '{{.GraphDriver.Data.UpperDir}}' "$name")"
want=$(docker inspect -f '{{.GraphDriver.Data.LowerDir}}' "$name" | tr ':' '\n' | xargs -n1 readlink -f | paste -sd' ')
got=$(jq -r '.lowerdir[]' <<<"$c" | xargs -n1 readlink -f | paste -sd' ')
expect_eq lowerdirs-resolved "$got" "$want"
missing=$(jq -r '.lowerdir[]' <<<"$c" | while read -r l; do [ -d "$l" ] || echo "$l"; done)
expect_eq lowerdirs-exist "$missing" ""
expect_eq layer-count "$(jq -r '.lowerdir | length' <<<"$c")" "$(wc -w <<<"$want")"
finish
