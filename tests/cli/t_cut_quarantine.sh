#!/bin/bash
# Quarantine mode: the host-side peer moves into a namespace cryo makes for
# the case and stays up there, so the container keeps carrier while nothing
# it sends arrives anywhere; a recorder writes what it sends as a pcap that
# tcpdump reads.  Restore brings the peer home with its address.  Traffic:
# bounded pings between the namespaces this test made.
. "$(dirname "$0")/lib.sh"
need_root
command -v tcpdump >/dev/null || { skip all "tcpdump missing (scripts/install-deps installs it)"; finish; }

id=cryoq-$$
runc_start "$id" /bin/sleep 600 || { fail start "runc"; finish; }
P=cryo-p-$id C=cryo-c-$id
case=$SCRATCH/case
pcap=$case/net/after-cut.pcap
reach() { ip netns exec "$P" busybox ping -c1 -W1 10.213.0.2 >/dev/null 2>&1; }
inside=$(ip -n "$C" -j link show | jq -r '.[] | select(.ifname != "lo") | .ifname')

expect_rc pcap-needs-quarantine 64 cryo-cut --pcap "$SCRATCH/x.pcap" --case "$case" "$id"
expect_rc cut 0 cryo-cut --mode quarantine --pcap "$pcap" --pcap-seconds 60 --case "$case" "$id"
qns=$(jq -r .quarantine_netns_name "$case/net/cut-state.json")
undo "ip netns del '$qns'"
expect_match qns-made "$(ip netns list)" "$qns"
peer=$(jq -r '.links[0].peer.name' "$case/net/cut-state.json")
expect_match peer-in-quarantine "$(ip -n "$qns" link show "$peer")" ",UP"
expect_match carrier-kept "$(ip -n "$C" link show "$inside")" "LOWER_UP"
expect_eq qns-no-ipv6 "$(ip netns exec "$qns" cat /proc/sys/net/ipv6/conf/all/disable_ipv6)" 1
expect_eq peer-no-address "$(ip -n "$qns" -j addr show "$peer" | jq '.[0].addr_info | length')" 0
reach && fail cut-stops "the peer namespace still reaches the container" || pass cut-stops
# the container (root with CAP_NET_RAW) tries to talk: bounded
runc exec --cap CAP_NET_RAW "$id" busybox ping -c3 -W1 10.213.0.1 >/dev/null 2>&1 &&
	fail nothing-answers "the container got an answer" || pass nothing-answers
expect_match status "$(cryo-cut --status --case "$case" "$id")" ": cut"
expect_rc mode-change-refused 64 cryo-cut --case "$case" "$id"
[ -f "$pcap" ] && fail pcap-still-recording "the recorder finished before restore" || pass pcap-still-recording

expect_rc restore 0 cryo-cut --restore --case "$case" "$id"
# restore stops the recorder, which finishes the file and logs it
wait_for 10 test -f "$pcap" && pass pcap-written || fail pcap-written "no $pcap after restore"
wait_for 5 sh -c "grep -q '\"action\":\"pcap\"' '$case/custody.jsonl'" || true
# every packet recorded comes from the container (the quarantine side has
# no address and no IPv6, so it says nothing)
cmac=$(ip -n "$C" -j link show "$inside" | jq -r '.[0].address')
expect_eq pcap-only-container "$(tcpdump -e -nr "$pcap" 2>/dev/null | awk '{print $2}' | grep -vc "^$cmac$" || true)" 0
expect_match pcap-has-container-traffic "$(tcpdump -nr "$pcap" 2>/dev/null)" "10\.213\.0\.1"
# and Wireshark's reader agrees, packet for packet
if command -v tshark >/dev/null; then
	expect_eq tshark-reads "$(tshark -r "$pcap" 2>/dev/null | wc -l)" "$(tcpdump -nr "$pcap" 2>/dev/null | wc -l)"
else
	skip tshark-reads "tshark missing (scripts/install-deps installs it)"
fi
expect_eq pcap-custody-hash "$(jq -r 'select(.action == "pcap") | .artifacts[0].sha256' "$case/custody.jsonl")" \
	"$(sha256sum <"$pcap" | cut -d' ' -f1)"
expect_eq pcap-mode "$(stat -c %a "$pcap")" 600
expect_eq pcap-stopped-by-restore "$(jq -r 'select(.action == "pcap") | .details.stopped' "$case/custody.jsonl")" "stopped (links restored)"
expect_match peer-home "$(ip -n "$P" addr show "$peer")" "10\.213\.0\.1/30"
wait_for 5 reach && pass reach-after-restore || fail reach-after-restore "no traffic after restore"
[[ $(ip netns list) == *"$qns"* ]] && fail qns-removed "quarantine namespace left behind" || pass qns-removed
finish
