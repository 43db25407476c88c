#!/bin/bash
# Several containers frozen in one call (requested together, waited on
# together); a container of 200 processes; a container that forks without
# pause; an exited container; a reused pid.
. "$(dirname "$0")/lib.sh"
need_root

a=cryomany-a-$$ b=cryomany-b-$$ f=cryomany-f-$$ k=cryomany-k-$$
runc_start "$a" /cryo/forker -n 200 || fail start-a "runc"
runc_start "$b" /cryo/counter /tmp/count || fail start-b "runc"
runc_start "$f" /cryo/forker -c || fail start-f "runc"
procs() { cryo-ls --json "$1" | jq -r '.containers[0].processes'; }
wait_for 10 sh -c "[ \$(cryo-ls --json $a | jq -r '.containers[0].processes') -ge 201 ]" ||
	fail procs-200 "forker did not reach 201 processes: $(procs "$a")"

j=$(cryo-freeze --json "$a" "$b" "$f")
expect_eq all-frozen "$(jq -r '[.containers[].state] | join(",")' <<<"$j")" "frozen,frozen,frozen"
expect_eq all-ok "$(jq -r '.failed' <<<"$j")" 0
for c in "$a" "$b" "$f"; do
	expect_match "kernel-frozen[$c]" "$(cat "$CGV2/cryo-test/$c/cgroup.events")" "frozen 1"
done
# every one of the 201 tasks is stopped: their state is not R
running=$(for p in $(cat "$CGV2/cryo-test/$a/cgroup.procs"); do awk '{print $3}' /proc/$p/stat 2>/dev/null; done | grep -c R)
expect_eq none-running "$running" 0
# the forking container does not change while frozen
n1=$(procs "$f"); sleep 0.3; n2=$(procs "$f")
expect_eq fork-race-stable "$n1" "$n2"
l1=$(cat "$CGV2/cryo-test/$f/cgroup.procs" | tr '\n' ' '); sleep 0.2
l2=$(cat "$CGV2/cryo-test/$f/cgroup.procs" | tr '\n' ' ')
expect_eq fork-no-new-pids "$l1" "$l2"
expect_rc thaw-all 0 cryo-freeze --thaw "$a" "$b" "$f"
expect_match thawed "$(cat "$CGV2/cryo-test/$f/cgroup.events")" "frozen 0"

# one bad target among good ones: nothing is frozen, the error names it
expect_rc one-bad 3 cryo-freeze "$a" "nope-$$"
expect_match one-bad-msg "$OUT" "nope-$$"
expect_match one-bad-untouched "$(cat "$CGV2/cryo-test/$a/cgroup.events")" "frozen 0"

# an exited container: runc keeps its state, the process is gone
runc_start "$k" /bin/sh -c 'sleep 0.3' || fail start-k "runc"
wait_for 10 sh -c "[ \"\$(runc state $k | jq -r .status)\" = stopped ]"
expect_rc exited 3 cryo-freeze "$k"
expect_match exited-msg "$OUT" "no running container"

# a reused pid: the start time given does not match the process now there
pid=$(runc_pid "$b")
start=$(sed 's/.*) //' /proc/"$pid"/stat | cut -d' ' -f20)
expect_rc pid-start-ok 0 cryo-freeze --status "pid:$pid@$start"
expect_rc pid-reused 3 cryo-freeze "pid:$pid@$((start + 1))"
expect_match pid-reused-msg "$OUT" "reused"
expect_match pid-reused-untouched "$(cat "$CGV2/cryo-test/$b/cgroup.events")" "frozen 0"
expect_rc pid-gone 3 cryo-freeze "pid:4194000"

# option errors
expect_rc no-target 64 cryo-freeze
expect_rc thaw-and-status 64 cryo-freeze --thaw --status "$a"
expect_rc bad-timeout 64 cryo-freeze --timeout 0 "$a"
expect_rc bad-timeout2 64 cryo-freeze --timeout 10x "$a"
expect_rc bad-mech 64 cryo-freeze --mechanism v3 "$a"
expect_rc garbage-target 64 cryo-freeze $'evil\x1b[31m'
finish
