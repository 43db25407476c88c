#!/bin/bash
# cryo-cut on a runc container whose veth peer lives in another namespace
# the test made: traffic stops, root inside cannot bring it back, restore
# returns every link exactly as it was; an interrupted cut is explained and
# finished; a stale or corrupt record is refused.  Traffic: bounded pings
# between the two namespaces this test created, nothing else.
. "$(dirname "$0")/lib.sh"
need_root

id=cryocut-$$
# a listener inside, to find in the socket snapshot with its owner
runc_start "$id" /bin/sh -c 'busybox nc -l -p 8080 </dev/null >/dev/null & exec sleep 600' || { fail start "runc"; finish; }
P=cryo-p-$id C=cryo-c-$id
case=$SCRATCH/case
reach() { ip netns exec "$P" busybox ping -c1 -W1 10.213.0.2 >/dev/null 2>&1; }
# the fields restore must bring back, for every link of both namespaces
dump() {
	for ns in "$P" "$C"; do
		# carrier flags (NO-CARRIER, LOWER_UP) are the kernel's operational
		# view, settled by linkwatch up to a second later: left out
		ip -n "$ns" -j -d link show | jq -c '[.[] | {ifname, flags: (.flags - ["NO-CARRIER", "LOWER_UP", "M-DOWN"] | sort), mtu, master, link_netnsid, address}] | sort_by(.ifname)'
		# IPv6 link-local addresses and routes come and go with the
		# kernel's own address configuration timing: left out
		ip -n "$ns" -j addr show | jq -c '[.[] | {ifname, a: [.addr_info[] | select(.local | startswith("fe80") | not) | .local + "/" + (.prefixlen|tostring)]}] | sort_by(.ifname)'
		ip -n "$ns" -j route show table all | jq -c '[.[] | select((.dst | startswith("fe80") or startswith("ff00")) | not)] | sort_by(.dst)'
	done
}

reach && pass reach-before || fail reach-before "no traffic before the cut"
# what going down destroys and restore must bring back: a static route
# through the peer and a global IPv6 address on it
hpeer=$(ip -n "$P" -j link show | jq -r '.[] | select(.ifname != "lo") | .ifname')
ip -n "$P" route add 10.99.0.0/24 dev "$hpeer"
ip -n "$P" addr add fd00:cafe::1/64 dev "$hpeer" nodad
v6_settled() { ip -n "$P" -6 route show table all | grep -q "local fd00:cafe::1" && ip -n "$P" -6 route show | grep -q "fd00:cafe::/64"; }
wait_for 5 v6_settled
before=$(dump)
expect_match status-none "$(cryo-cut --status --case "$case" "$id")" "not cut"
expect_rc restore-nothing 3 cryo-cut --restore --case "$case" "$id"

expect_rc cut 0 cryo-cut --case "$case" "$id"
reach && fail cut-stops "still reachable after the cut" || pass cut-stops
# a bounded TCP attempt to the listener inside fails too
ip netns exec "$P" busybox nc -w 1 10.213.0.2 8080 </dev/null >/dev/null 2>&1 &&
	fail tcp-stops "a TCP connection got through the cut" || pass tcp-stops
peer=$(jq -r '.links[0].peer.name' "$case/net/cut-state.json")
expect_match peer-is-in-P "$(ip -n "$P" link show "$peer")" "state DOWN"
expect_eq evidence-links "$(jq -r '[.links[].name] | sort | join(",")' "$case/net/state-before-cut.json")" \
	"$(ip -n "$C" -j link show | jq -r '[.[].ifname] | sort | join(",")')"
expect_match evidence-addr "$(jq -r '.addresses[].local' "$case/net/state-before-cut.json")" "10.213.0.2"
expect_match status-cut "$(cryo-cut --status --case "$case" "$id")" ": cut"
ncpid=$(pgrep -f 'nc -l -p 8080' | head -1)
expect_eq socket-snapshot "$(jq -c '[.sockets[] | select(.proto == "tcp" and .state == "LISTEN" and (.local | endswith(":8080")))][0].owners[0].pid' "$case/net/state-before-cut.json")" "$ncpid"

# root inside the container, with CAP_NET_ADMIN, sets its link down and up
inside=$(jq -r '.links[0].inside.name' "$case/net/cut-state.json")
runc exec --cap CAP_NET_ADMIN "$id" /bin/ip link set "$inside" down
runc exec --cap CAP_NET_ADMIN "$id" /bin/ip link set "$inside" up
expect_match inside-really-tried "$(ip -n "$C" link show "$inside")" ",UP"

reach && fail inside-cannot-undo "root inside reconnected the container" || pass inside-cannot-undo

expect_rc cut-again 0 cryo-cut --case "$case" "$id"
expect_match cut-again-says "$OUT" "already so"
j=$(cryo-cut --json --case "$case" "$id")
expect_eq json-state "$(jq -r .state <<<"$j")" cut
expect_eq json-exit "$(jq -r .exit <<<"$j")" 0

expect_rc restore 0 cryo-cut --restore --case "$case" "$id"
wait_for 5 reach && pass reach-after-restore || fail reach-after-restore "no traffic after restore"
wait_for 5 v6_settled
after=$(dump)
if [ "$after" = "$before" ]; then pass identical-after-restore; else
	fail identical-after-restore "$(diff <(echo "$before") <(echo "$after") | head -c 1500 | tr '\n' ' ')"
fi
expect_match route-back "$(ip -n "$P" route show)" "10.99.0.0/24 dev $hpeer"
expect_match ipv6-back "$(ip -n "$P" addr show "$hpeer")" "fd00:cafe::1/64"
expect_rc restore-again 0 cryo-cut --restore --case "$case" "$id"
expect_match restore-again-already "$OUT" "already so"

# the custody log: each cut and restore, with the evidence hashed
log=$case/custody.jsonl
# the failed restore (nothing recorded yet) is in the log too
expect_eq custody-actions "$(jq -r .action "$log" | paste -sd,)" "restore,cut,cut,cut,restore,restore"
expect_eq custody-artifact-hash "$(jq -r '.artifacts[] | select(.path == "net/state-before-cut.json") | .sha256' "$log" | tail -1)" \
	"$(sha256sum <"$case/net/state-before-cut.json" | cut -d' ' -f1)"

# a cut killed half way: the record says "cutting", one peer is still up
expect_rc cut-3 0 cryo-cut --case "$case" "$id"
# the first snapshot is evidence: a later cut writes a new one beside it
expect_eq snapshot-kept "$(sha256sum <"$case/net/state-before-cut.json" | cut -d' ' -f1)" \
	"$(jq -r '.artifacts[] | select(.path == "net/state-before-cut.json") | .sha256' "$case/custody.jsonl" | head -1)"
[ -f "$case/net/state-before-cut.2.json" ] && pass snapshot-new || fail snapshot-new "no state-before-cut.2.json"
jq '.state = "cutting"' "$case/net/cut-state.json" >"$case/net/x" && mv "$case/net/x" "$case/net/cut-state.json"
ip -n "$P" link set "$peer" up
expect_match interrupted-status "$(cryo-cut --status --case "$case" "$id")" "interrupted while cutting"
expect_rc interrupted-finish 0 cryo-cut --case "$case" "$id"
expect_match interrupted-finished "$(ip -n "$P" link show "$peer")" "state DOWN"
expect_rc interrupted-restore 0 cryo-cut --restore --case "$case" "$id"
wait_for 5 reach && pass interrupted-reach || fail interrupted-reach "no traffic after restoring an interrupted cut"

# a real SIGKILL after the links went down, before the record confirmed
# it (the second atomic rename is the "cut" record: the snapshot before
# it is created with link(2)): status explains,
# restore works from the record, and the recovery is logged
if command -v strace >/dev/null; then
	kcase=$SCRATCH/kcase
	strace -f -qq -o /dev/null -e trace=renameat -e inject=renameat:signal=SIGKILL:when=2 \
		cryo-cut --case "$kcase" "$id" >/dev/null 2>&1
	expect_eq killed-record "$(jq -r .state "$kcase/net/cut-state.json")" cutting
	expect_match killed-status "$(cryo-cut --status --case "$kcase" "$id")" "interrupted before confirming"
	expect_rc killed-restore 0 cryo-cut --restore --case "$kcase" "$id"
	expect_match killed-restore-warns "$OUT" "interrupted"
	expect_eq killed-logged "$(jq -r '.details.result.interrupted_before' "$kcase/custody.jsonl")" true
	wait_for 5 reach && pass killed-reach || fail killed-reach "no traffic after restoring a killed cut"
else
	skip killed "strace missing (scripts/install-deps installs it)"
fi

# stale record: the recorded peer was renamed
expect_rc cut-4 0 cryo-cut --case "$case" "$id"
ip -n "$P" link set "$peer" name cryorenamed
expect_rc stale-refused 65 cryo-cut --restore --case "$case" "$id"
expect_match stale-msg "$OUT" "renamed"
ip -n "$P" link set cryorenamed name "$peer"
expect_rc stale-fixed 0 cryo-cut --restore --case "$case" "$id"

# corrupt record
cp "$case/net/cut-state.json" "$SCRATCH/good.json"
echo '{"format": 1, "links": 7' >"$case/net/cut-state.json"
expect_rc corrupt 65 cryo-cut --restore --case "$case" "$id"
expect_match corrupt-msg "$OUT" "corrupt"
cp "$SCRATCH/good.json" "$case/net/cut-state.json"

# usage
expect_rc no-case 64 cryo-cut "$id"
expect_rc two-targets 64 cryo-cut --case "$case" "$id" "$id"
expect_rc restore-status 64 cryo-cut --restore --status --case "$case" "$id"
expect_rc not-found 3 cryo-cut --case "$case" "nope-$$"
finish
