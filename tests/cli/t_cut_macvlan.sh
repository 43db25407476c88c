#!/bin/bash
# A macvlan link has no host-side peer to set down: cryo-cut sets it down
# inside the container's namespace, warns that root inside could undo it,
# and restore brings it back.  The macvlan's parent is a veth end in a
# namespace this test made; no traffic is sent.
. "$(dirname "$0")/lib.sh"
need_root

id=cryomv-$$
runc_start "$id" /bin/sleep 600 || { fail start "runc"; finish; }
P=cryo-p-$id C=cryo-c-$id
# no dummy driver on every kernel: a veth end serves as the parent
ip -n "$P" link add cryod0 type veth peer name cryod1 && ip -n "$P" link set cryod0 up
ip -n "$P" link add cryomv0 link cryod0 type macvlan mode bridge
ip -n "$P" link set cryomv0 netns "$C" && ip -n "$C" link set cryomv0 up
ip -n "$C" addr add 10.77.0.2/24 dev cryomv0
ip -n "$C" route add 10.78.0.0/24 via 10.77.0.1
ip -n "$C" route add 10.79.0.0/24 via 10.80.0.1 dev cryomv0 onlink mtu 1400
case=$SCRATCH/case
expect_rc cut 0 cryo-cut --case "$case" "$id"
expect_match warns "$OUT" "cryomv0 \(macvlan\) has no host-side peer.*could undo it"
expect_eq how "$(jq -r '.links[] | select(.inside.name == "cryomv0") | .how' "$case/net/cut-state.json")" inside-down
expect_match inside-down "$(ip -n "$C" link show cryomv0)" "state DOWN"
expect_eq custody-warning "$(jq -r '.details.result.warnings | length' "$case/custody.jsonl" | head -1)" 1
expect_rc restore 0 cryo-cut --restore --case "$case" "$id"
expect_match inside-up "$(ip -n "$C" link show cryomv0)" ",UP"
expect_match route-back "$(ip -n "$C" route show)" "10.78.0.0/24 via 10.77.0.1 dev cryomv0"
expect_match onlink-route-back "$(ip -n "$C" route show)" "10.79.0.0/24 via 10.80.0.1 dev cryomv0 onlink.*mtu 1400"
finish
