#!/bin/bash
# A Docker engine container (started by this test, image from docker import
# of the busybox rootfs): found with the right id, name, pid, upper dir and
# image; frozen and thawed by id, short id (as Falco sends it) and name.
. "$(dirname "$0")/lib.sh"
need_root
need_docker || finish

name=cryo-dk-$$
docker_start "$name" /cryo/counter /tmp/count || { fail start "docker run failed"; finish; }
pid=$(docker_pid "$name")
upper=$(docker inspect -f '{{.GraphDriver.Data.UpperDir}}' "$name")
short=${DOCKER_ID:0:12}

c=$(cryo-ls --json "$name" | jq -c '.containers[0]')
expect_eq id "$(jq -r .id <<<"$c")" "$DOCKER_ID"
expect_eq short-id "$(jq -r .short_id <<<"$c")" "$short"
expect_eq name "$(jq -r .name <<<"$c")" "$name"
expect_eq runtime "$(jq -r .runtime <<<"$c")" docker
expect_eq image "$(jq -r .image <<<"$c")" "$IMAGE"
expect_eq init-pid "$(jq -r .init_pid <<<"$c")" "$pid"
expect_eq upperdir "$(jq -r .rootfs.upperdir <<<"$c")" "$upper"
expect_eq lowerdirs "$(jq -r '.rootfs.lowerdir | length' <<<"$c")" \
	"$(docker inspect -f '{{.GraphDriver.Data.LowerDir}}' "$name" | tr ':' '\n' | wc -l)"
expect_match cgroup "$(jq -r .cgroup.v2 <<<"$c")" "$DOCKER_ID"
for t in "$DOCKER_ID" "$short" "$name" "pid:$pid"; do
	expect_eq "target[${t:0:20}]" "$(cryo-ls --json "$t" | jq -r '.containers[0].id')" "$DOCKER_ID"
done

count_file=$upper/tmp/count
wait_for 5 test -s "$count_file" || fail counter-starts "no count written"
count() { tr -d '\n' <"$count_file"; }
advances() { local a b; a=$(count); sleep 0.3; b=$(count); [ "$a" != "$b" ]; }

expect_rc freeze 0 cryo-freeze "$short"
advances && fail stopped "counter moved while frozen" || pass stopped
# documented: Docker does not know about a cgroup v2 freeze
expect_eq docker-still-running "$(docker inspect -f '{{.State.Status}}' "$name")" running
expect_eq status "$(cryo-freeze --status --json "$name" | jq -r '.containers[0].state')" frozen
expect_rc thaw 0 cryo-freeze --thaw "$name"
advances && pass runs-after || fail runs-after "counter did not resume"

# docker pause uses the v1 freezer on this hybrid host: cryo reports that
# freeze, treats freezing again as done, and its thaw releases it
docker pause "$name" >/dev/null
expect_eq sees-docker-pause "$(cryo-ls --json "$name" | jq -r '.containers[0].state')" frozen
st=$(cryo-freeze --status --json "$name")
expect_eq pause-status "$(jq -r '.containers[0].state' <<<"$st")" frozen
expect_eq pause-status-mech "$(jq -r '.containers[0].mechanism' <<<"$st")" freezer-v1
expect_rc pause-freeze-again 0 cryo-freeze --timeout 1000 "$name"
expect_rc pause-thaw 0 cryo-freeze --thaw "$name"
advances && pass pause-thawed-runs || fail pause-thawed-runs "counter did not resume after thawing docker's pause"
docker unpause "$name" >/dev/null 2>&1

# an exited container: a clear "not running" answer
docker_start "$name-x" /bin/true || fail start-exiting "docker run"
wait_for 10 sh -c "[ \"\$(docker inspect -f '{{.State.Status}}' '$name-x')\" = exited ]"
expect_rc exited 3 cryo-freeze "$name-x"
expect_match exited-msg "$OUT" "no running container"
finish
