#!/bin/bash
# cryo-cut against a container that fights back: a decoy veth whose peer
# lives in a namespace nobody can reach, hundreds of links of its own,
# thousands of sockets, an edited cut record, two cuts at once.  The real
# peer is always cut; what cannot be done is said and the exit is 2.
# Traffic: bounded pings between the namespaces this test created.
. "$(dirname "$0")/lib.sh"
need_root

id=cryohost-$$
runc_start "$id" /cryo/sockhog 8000 || { fail start "runc"; finish; }
P=cryo-p-$id C=cryo-c-$id
case=$SCRATCH/case
reach() { ip netns exec "$P" busybox ping -c1 -W1 10.213.0.2 >/dev/null 2>&1; }
socks() { ip netns exec "$C" ss -xa | wc -l; }
enough_socks() { [ "$(socks)" -gt 8000 ]; }
wait_for 10 enough_socks || fail sockets "sockhog did not open 8000 sockets: $(socks)"
reach && pass reach-before || fail reach-before "no traffic before the cut"
hpeer=$(ip -n "$P" -j link show | jq -r '.[] | select(.ifname != "lo") | .ifname')

# a decoy: a veth whose peer is in a namespace held only by a bind mount
# outside /run/netns, so no scan can find it
hid=cryo-hid-$$
ip netns add "$hid"
touch "$SCRATCH/hidden-ns"
mount --bind "/run/netns/$hid" "$SCRATCH/hidden-ns" && undo "umount '$SCRATCH/hidden-ns'"
ip link add dcy$$ netns "$C" type veth peer name dcyp netns "$hid"
ip netns del "$hid"
ip -n "$C" link set "dcy$$" up
# and 300 links of its own (veth pairs with both ends inside), more than
# the 256 a cut handles
for i in $(seq 1 150); do echo "link add dm$i type veth peer name dn$i"; done | ip -n "$C" -batch -
expect_eq links-made "$(ip -n "$C" -o link show | wc -l)" 303

expect_rc cut-partial 2 cryo-cut --case "$case" "$id"
expect_match says-decoy "$OUT" "peer of dcy$$ unreachable"
expect_match says-bound "$OUT" "more than 256 links"
expect_match real-peer-down "$(ip -n "$P" link show "$hpeer")" "state DOWN"
reach && fail cut-stops "still reachable after a partial cut" || pass cut-stops
expect_match decoy-cut-inside "$(ip -n "$C" link show "dcy$$")" "state DOWN"
expect_eq real-first "$(jq -r '.links[0].how' "$case/net/cut-state.json")" peer-down
expect_eq custody-partial "$(jq -r .result "$case/custody.jsonl" | tail -1)" partial
# thousands of sockets, each with its owner, in the snapshot
n_owned=$(jq '[.sockets[] | select(.proto == "unix" and (.owners | length) > 0)] | length' "$case/net/state-before-cut.json")
[ "$n_owned" -ge 8000 ] && pass socket-owners || fail socket-owners "only $n_owned unix sockets with owners"

# the decoy vanishes: restore puts back what it can, says what it cannot
ip -n "$C" link del "dcy$$"
expect_rc restore-partial 2 cryo-cut --restore --case "$case" "$id"
expect_match restore-says "$OUT" "vanished"
wait_for 5 reach && pass reach-after-restore || fail reach-after-restore "the real link was not restored"
expect_eq record-partial "$(jq -r .state "$case/net/cut-state.json")" restore-partial
# a cut on top of a partial restore keeps the original record
expect_rc recut 2 cryo-cut --case "$case" "$id"
expect_eq record-kept "$(jq -r '.links[0].peer.up' "$case/net/cut-state.json")" true
expect_rc restore-2 2 cryo-cut --restore --case "$case" "$id"
for i in $(seq 1 150); do echo "link del dm$i"; done | ip -n "$C" -batch -

# an edited record is not a source of orders
good=$SCRATCH/good.json
cp "$case/net/cut-state.json" "$good"
expect_rc cut-clean 2 cryo-cut --case "$case" "$id"
hostns=$(stat -L -c %i /proc/self/ns/net)
jq --argjson h "$hostns" '.container_netns = $h' "$good" >"$case/net/cut-state.json"
expect_rc tamper-host-ns 65 cryo-cut --restore --case "$case" "$id"
expect_match tamper-host-msg "$OUT" "host's network namespace"
jq '.state = "cut" | .quarantine_netns_name = "default"' "$good" >"$case/net/cut-state.json"
expect_rc tamper-qname 65 cryo-cut --restore --case "$case" "$id"
# a peer entry pointed at a link that is not a veth (the host's lo stands
# in for eth0): left alone
jq --argjson h "$hostns" '.state = "cut" | .links[0].peer = {"name": "lo", "ifindex": 1, "up": true} |
	.links[0].peer_netns = $h | .links[0].peer_netns_ref = "host"' "$good" >"$case/net/cut-state.json"
# (every other entry vanished too: nothing at all can be acted on)
expect_rc tamper-not-veth 65 cryo-cut --restore --case "$case" "$id"
expect_match tamper-not-veth-msg "$OUT" "not a veth peer"
expect_match host-lo-untouched "$(ip link show lo)" "UP"
cp "$good" "$case/net/cut-state.json"

# a second cut waits for the first: while another holds the case, no link
# changes; once it lets go, the cut happens
expect_rc restore-3 2 cryo-cut --restore --case "$case" "$id"
wait_for 5 reach || fail pre-lock "not reachable before the lock test"
flock "$case" sleep 2 &
lockpid=$!
sleep 0.3
cryo-cut --case "$case" "$id" >/dev/null 2>&1 &
cutpid=$!
sleep 1
reach && pass lock-waits || fail lock-waits "cut acted while another held the case"
wait $lockpid
wait $cutpid
# 2: the decoys of the record are gone
expect_eq lock-then-cuts "$?" 2
reach && fail lock-cut "reachable after the waiting cut" || pass lock-cut
cryo-cut --restore --case "$case" "$id" >/dev/null 2>&1
finish
