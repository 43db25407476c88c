#!/bin/bash
# cryo-cut on a Docker container on the default bridge: the host-side peer
# lives in the host namespace, enslaved to docker0.  It goes down and stays
# a bridge port; restore brings traffic back.  A container on the host's
# network namespace is refused.  Traffic: one bounded ping from the host to
# the container this test started.
. "$(dirname "$0")/lib.sh"
need_root
need_docker || finish

name=cryo-cutdk-$$
docker rm -f "$name" >/dev/null 2>&1
DOCKER_ID=$(docker run -d --name "$name" --label cryo-test=1 "$IMAGE" /bin/sleep 600) || { fail start "docker run"; finish; }
undo "docker rm -f '$name'"
ip4=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$name")
reach() { busybox ping -c1 -W1 "$ip4" >/dev/null 2>&1; }
case=$SCRATCH/case

wait_for 5 reach && pass reach-before || fail reach-before "no traffic to $ip4 before the cut"
expect_rc cut 0 cryo-cut --case "$case" "$name"
peer=$(jq -r '.links[0].peer.name' "$case/net/cut-state.json")
expect_eq peer-ns-host "$(jq -r '.links[0].peer_netns_ref' "$case/net/cut-state.json")" host
expect_eq peer-master "$(jq -r '.links[0].peer.master_name' "$case/net/cut-state.json")" docker0
expect_match peer-down "$(ip link show "$peer")" "state DOWN"
expect_match still-bridge-port "$(ip link show "$peer")" "master docker0"
reach && fail cut-stops "still reachable" || pass cut-stops
expect_rc restore 0 cryo-cut --restore --case "$case" "$name"
expect_match peer-up "$(ip link show "$peer")" ",UP"
wait_for 5 reach && pass reach-after || fail reach-after "no traffic after restore"

# quarantine: the peer leaves docker0 for the quarantine namespace, and
# comes back enslaved to docker0 again
expect_rc q-cut 0 cryo-cut --mode quarantine --case "$SCRATCH/qcase" "$name"
qns=$(jq -r .quarantine_netns_name "$SCRATCH/qcase/net/cut-state.json")
undo "ip netns del '$qns'"
expect_match q-peer-moved "$(ip -n "$qns" link show "$peer")" ",UP"
reach && fail q-cut-stops "still reachable in quarantine" || pass q-cut-stops
expect_rc q-restore 0 cryo-cut --restore --case "$SCRATCH/qcase" "$name"
expect_match q-master-back "$(ip link show "$peer")" "master docker0"
wait_for 5 reach && pass q-reach-after || fail q-reach-after "no traffic after restoring the quarantine"

# host network: refused, nothing touched
hname=cryo-cuthost-$$
docker rm -f "$hname" >/dev/null 2>&1
docker run -d --name "$hname" --network host --label cryo-test=1 "$IMAGE" /bin/sleep 600 >/dev/null &&
	undo "docker rm -f '$hname'"
expect_rc host-net-refused 69 cryo-cut --case "$SCRATCH/case2" "$hname"
expect_match host-net-msg "$OUT" "host's network namespace"
expect_eq host-net-logged "$(jq -r .result "$SCRATCH/case2/custody.jsonl")" error
finish
