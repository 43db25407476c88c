#!/bin/bash
# cryo-respond, the whole response, on real runc containers (Docker too):
# the archive verifies and holds every step's artifacts; the container is
# left frozen and cut; --then thaw restores both; --then kill leaves no
# process; --resume after a SIGKILL of the whole response at each step
# completes the case; failures injected at each step (upper dir gone, a
# full disk for the case root, a process killed, no key) give the right
# exit code, a true custody log, and a container still contained; several
# targets and a pod are frozen first, together.  Traffic: pings between
# the container's namespace and a peer namespace the test made.
. "$(dirname "$0")/lib.sh"
need_root

cryo-key generate -W -p "$SCRATCH/k.pub" -s "$SCRATCH/k.sec" >/dev/null 2>&1 || { fail key "no key"; finish; }
K=$SCRATCH/k.sec
frozen() { [ "$(cat "$CGV2/cryo-test/$1/cgroup.freeze" 2>/dev/null)" = 1 ] && grep -qx 'frozen 1' "$CGV2/cryo-test/$1/cgroup.events"; }
reachable() { ip netns exec "cryo-p-$1" busybox ping -c1 -W1 10.213.0.2 >/dev/null 2>&1; }
# the custody chain of a case directory, checked line by line
chain_ok() {
	local prev line ok=0
	prev="case:$(jq -r .case_id "$1/case.json")"
	while IFS= read -r line; do
		[ "$(jq -r .prev <<<"$line")" = "$prev" ] || return 1
		prev="sha256:$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)"
		ok=1
	done <"$1/custody.jsonl"
	[ $ok = 1 ]
}
# has_entry FILE FILTER: some custody entry of FILE satisfies FILTER (jq
# 1.6's -e looks at the last input only, so slurp)
has_entry() { jq -s -e "any(.[]; $2)" "$1" >/dev/null; }
only_case() { find "$1" -mindepth 1 -maxdepth 1 -type d | head -1; }

# ---- the whole response, default: kept frozen and cut --------------------
id=cryorsp-$$
runc_start "$id" /bin/sh -c 'echo "#!/bin/sh" >/tmp/.payload; echo "while :; do sleep 1; done" >>/tmp/.payload; chmod +x /tmp/.payload; rm -f /bin/vi; exec /tmp/.payload' ||
	{ fail start runc; finish; }
wait_for 10 test -e "$(runc_upper "$id")/tmp/.payload"
reachable "$id" && pass reachable-before || fail reachable-before "the peer namespace cannot ping the container"

expect_rc no-key 64 cryo-respond --case-root "$SCRATCH/none" "$id"
expect_match no-key-says "$OUT" "no key"
expect_rc unknown-target 3 cryo-respond --case-root "$SCRATCH/none" -k "$K" no-such-container-$$
[ ! -e "$SCRATCH/none" ] && pass nothing-made-on-error || fail nothing-made-on-error "a case root was made"
expect_rc resume-no-case 3 cryo-respond --resume "$SCRATCH/nope"
[ ! -e "$SCRATCH/nope" ] && pass resume-makes-nothing || fail resume-makes-nothing "a directory was made"
mkdir "$SCRATCH/notacase"
expect_rc resume-not-a-response 65 cryo-respond --resume "$SCRATCH/notacase"
expect_eq resume-not-a-response-untouched "$(ls -A "$SCRATCH/notacase")" ""
expect_rc dry-run 0 cryo-respond --dry-run --case-root "$SCRATCH/none" -k "$K" "$id"
expect_match dry-run-says "$OUT" "freeze -> cut -> proc -> fs -> seal \\(signed\\) -> keep"
{ [ ! -e "$SCRATCH/none" ] && ! frozen "$id"; } && pass dry-run-changes-nothing || fail dry-run-changes-nothing "frozen or case made"

R=$SCRATCH/cases1
cryo-respond --case-root "$R" -k "$K" "$id" >"$SCRATCH/out1" 2>"$SCRATCH/err1"
rc=$?
expect_eq respond-exit "$rc" 0
case1=$(only_case "$R")
archive=$(head -1 "$SCRATCH/out1")
expect_eq archive-printed "$archive" "$case1.tar.zst"
[[ $(basename "$case1") =~ ^[0-9]{8}T[0-9]{6}Z-cryorsp-$$$ ]] && pass case-named || fail case-named "$case1"
expect_eq case-mode "$(stat -c %a "$case1")" 700
grep -q 'seal    ok' "$SCRATCH/err1" && grep -q 'proc    ok' "$SCRATCH/err1" && pass terminal-steps || fail terminal-steps "$(cat "$SCRATCH/err1")"
check verifies cryo-verify -p "$SCRATCH/k.pub" "$archive"
check minisign-verifies minisign -Vm "$archive" -p "$SCRATCH/k.pub"
members=$(tar --zstd -tf "$archive")
for m in respond.json custody.jsonl net/cut-state.json net/state-before-cut.json proc/index.json proc/sockets.json fs/changes.json fs/rootfs-diff.tar fs/bodyfile; do
	grep -qx "$m" <<<"$members" && pass "member-$m" || fail "member-$m" "not in the archive"
done
grep -q '^proc/[0-9]*/core$' <<<"$members" && pass member-core || fail member-core "no core"
tar --zstd -xOf "$archive" fs/changes.json | jq -e '.[] | select(.path == "/tmp/.payload")' >/dev/null && pass payload-captured || fail payload-captured "no /tmp/.payload"
tar --zstd -xOf "$archive" fs/changes.json | jq -e '.[] | select(.path == "/bin/vi" and .change == "deleted")' >/dev/null && pass deletion-captured || fail deletion-captured "no /bin/vi deletion"
expect_eq custody-steps "$(jq -r '[.tool, .action, .result] | join(":")' "$case1/custody.jsonl" | tr '\n' ' ')" \
	"cryo-respond:plan:ok cryo-respond:freeze:ok cryo-cut:cut:ok cryo-proc:snapshot:ok cryo-fs:snapshot:ok cryo-pack:seal:ok cryo-respond:respond:ok "
chain_ok "$case1" && pass custody-chain || fail custody-chain "broken"
frozen "$id" && pass left-frozen || fail left-frozen "not frozen"
reachable "$id" && fail left-cut "still reachable" || pass left-cut
expect_rc resume-finished 0 cryo-respond --resume "$case1"
expect_match resume-finished-says "$OUT" "already completed"

# --json, --then thaw: first put the container back as case 1 recorded it
# (a new case records the state it finds: cut links would stay cut)
cryo-cut -q --restore --case "$case1" "$id" >/dev/null && cryo-freeze -q --thaw "$id" >/dev/null
R=$SCRATCH/cases2
cryo-respond --json --then thaw --no-memory --case-root "$R" -k "$K" "$id" >"$SCRATCH/j2" 2>/dev/null
expect_eq thaw-exit "$?" 0
expect_eq json-exit "$(jq -r .exit "$SCRATCH/j2")" 0
expect_eq json-steps "$(jq -r '.responses[0].steps | map(.step + "=" + .result) | join(" ")' "$SCRATCH/j2")" \
	"freeze=ok cut=ok proc=ok fs=ok seal=ok then=ok"
expect_eq json-state "$(jq -c '.responses[0] | [.frozen, .cut, .result]' "$SCRATCH/j2")" '[false,false,"complete"]'
jq -e '.responses[0].steps[] | select(.step == "seal") | .bytes > 0' "$SCRATCH/j2" >/dev/null && pass json-sizes || fail json-sizes "no size"
frozen "$id" && fail thawed "still frozen" || pass thawed
reachable "$id" && pass network-restored || fail network-restored "not reachable after --then thaw"
tar --zstd -tf "$(jq -r '.responses[0].archive' "$SCRATCH/j2")" | grep -q '/core$' && fail no-memory "a core with --no-memory" || pass no-memory

# ---- --then kill ------------------------------------------------------------
R=$SCRATCH/cases3
expect_rc kill-exit 0 cryo-respond --then kill --no-capture --unsigned --case-root "$R" "$id"
n=$(cat "$CGV2/cryo-test/$id/cgroup.procs" 2>/dev/null | wc -l)
expect_eq killed-all "$n" 0
has_entry "$(only_case "$R")/custody.jsonl" '.action == "kill" and .result == "ok" and .details.left == 0' &&
	pass kill-recorded || fail kill-recorded "no kill entry"
expect_match unsigned-warned "$OUT" "UNSIGNED"

# ---- several targets: frozen first, together ------------------------------
a=cryorsp-a-$$ b=cryorsp-b-$$
runc_start "$a" /bin/sleep 600 && runc_start "$b" /bin/sleep 600 || { fail start2 runc; finish; }
R=$SCRATCH/cases4
expect_rc two-targets 0 cryo-respond --no-capture --no-cut --unsigned --case-root "$R" "$a" "$b"
expect_eq two-cases "$(find "$R" -mindepth 1 -maxdepth 1 -type d | wc -l)" 2
for c in "$R"/*/; do
	expect_eq "one-freeze-for-both-$(basename "$c")" \
		"$(jq -r 'select(.action == "freeze") | .details.containers | length' "$c/custody.jsonl")" 2
done
frozen "$a" && frozen "$b" && pass both-frozen || fail both-frozen "not both"

# ---- a pod: every container of it (fake Kubernetes cgroups) -----------------
uid=$(cat /proc/sys/kernel/random/uuid)
pa=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64) pb=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
cg_container "/kubepods/besteffort/pod$uid/$pa" && cg_container "/kubepods/besteffort/pod$uid/$pb"
R=$SCRATCH/cases5
expect_rc pod 0 cryo-respond --pod --no-capture --no-cut --unsigned --case-root "$R" "${pa:0:12}"
expect_eq pod-cases "$(find "$R" -mindepth 1 -maxdepth 1 -type d | wc -l)" 2
expect_eq pod-frozen "$(cat "$CGV2/kubepods/besteffort/pod$uid/$pa/cgroup.freeze")$(cat "$CGV2/kubepods/besteffort/pod$uid/$pb/cgroup.freeze")" 11

# ---- SIGKILL of the whole response at each step, then --resume --------------
id2=cryorsp-r-$$
runc_start "$id2" /bin/sh -c 'dd if=/dev/urandom of=/tmp/blob bs=1M count=24 2>/dev/null; /bin/env MEMPROBE_TOUCH=1 /cryo/memprobe r /tmp 96 -' ||
	{ fail start-resume runc; finish; }
wait_for 60 test -s "$(runc_upper "$id2")/tmp/addrs" || fail ready "memprobe"
# kill_at STEP PATH-GLOB: start a response in its own session; SIGKILL its
# process group once the step's output appears
kill_at() {
	local step=$1 glob=$2 R=$SCRATCH/kill-$1
	rm -rf "$R"
	setsid cryo-respond --case-root "$R" -k "$K" "$id2" >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 1 3000); do
		# shellcheck disable=SC2086
		compgen -G "$R/$glob" >/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -9 -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	local c
	c=$(only_case "$R")
	[ -n "$c" ] || { fail "killed-at-$step" "no case was made"; return; }
	frozen "$id2" && pass "contained-after-kill-at-$step" || fail "contained-after-kill-at-$step" "not frozen"
	cryo-respond --resume "$c" >"$SCRATCH/resume.out" 2>"$SCRATCH/resume.err"
	local rc=$?
	expect_eq "resume-after-kill-at-$step" "$rc" 0
	[ $rc = 0 ] || cat "$SCRATCH/resume.err" >&2
	check "resumed-verifies-$step" cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"
	chain_ok "$c" && pass "resumed-chain-$step" || fail "resumed-chain-$step" "broken"
	tar --zstd -tf "$c.tar.zst" | grep -q '^proc/[0-9]*/core$' && tar --zstd -tf "$c.tar.zst" | grep -qx fs/changes.json &&
		pass "resumed-complete-$step" || fail "resumed-complete-$step" "proc or fs missing"
	frozen "$id2" && ! reachable "$id2" && pass "resumed-contained-$step" || fail "resumed-contained-$step" "not frozen and cut"
	cryo-freeze -q --thaw "$id2"
	cryo-cut -q --restore --case "$c" "$id2" >/dev/null 2>&1
}
kill_at freeze "*/respond.json"
kill_at cut "*/net"
kill_at proc "*/proc"
kill_at fs "*/fs"
kill_at seal ".*.tar.zst.tmp-*"

# ---- failures injected at each step ------------------------------------------
# the upper dir is gone (moved away under the mounted overlay): fs fails,
# the rest is done and sealed, the container stays contained
id3=cryorsp-f-$$
runc_start "$id3" /bin/sleep 600 || { fail start-fail runc; finish; }
up=$(runc_upper "$id3")
mv "$up" "$up.moved" && undo "mv '$up.moved' '$up'"
R=$SCRATCH/cases6
cryo-respond --json --case-root "$R" -k "$K" "$id3" >"$SCRATCH/j6" 2>/dev/null
expect_eq upper-missing-partial "$?" 2
expect_eq upper-missing-fs-error "$(jq -r '.responses[0].steps[] | select(.step == "fs") | .result' "$SCRATCH/j6")" error
expect_eq upper-missing-sealed "$(jq -r '.responses[0].steps[] | select(.step == "seal") | .result' "$SCRATCH/j6")" ok
c=$(only_case "$R")
has_entry "$c/custody.jsonl" '.tool == "cryo-fs" and .result == "error"' && pass upper-missing-recorded || fail upper-missing-recorded "no fs error entry"
has_entry "$c/custody.jsonl" '.action == "respond" and .result == "partial"' && pass partial-recorded || fail partial-recorded "no partial end"
chain_ok "$c" && pass upper-missing-chain || fail upper-missing-chain "broken"
frozen "$id3" && ! reachable "$id3" && pass upper-missing-contained || fail upper-missing-contained "not contained"
mv "$up.moved" "$up"
# resumed once the upper dir is back: fs runs again, and what it captured is
# sealed in an archive of its own (the first seal did not hold it)
expect_rc upper-back-resume 0 cryo-respond --resume "$c"
check upper-back-resealed cryo-verify -p "$SCRATCH/k.pub" "$c.2.tar.zst"
tar --zstd -tf "$c.2.tar.zst" 2>/dev/null | grep -qx fs/changes.json && pass upper-back-fs-sealed || fail upper-back-fs-sealed "no fs/changes.json in the new archive"
# --then thaw after a failed step: NOT thawed
R=$SCRATCH/cases6b
mv "$up" "$up.moved"
cryo-respond --then thaw --case-root "$R" -k "$K" "$id3" >/dev/null 2>"$SCRATCH/e6b"
expect_eq failed-step-no-thaw-exit "$?" 2
frozen "$id3" && pass failed-step-no-thaw || fail failed-step-no-thaw "thawed after a failed step"
grep -q 'thaw NOT done' "$SCRATCH/e6b" && pass failed-step-no-thaw-says || fail failed-step-no-thaw-says "$(cat "$SCRATCH/e6b")"
mv "$up.moved" "$up"

# no key file: captured, not sealed (exit 2), contained; --resume -k seals
R=$SCRATCH/cases7
cryo-respond --case-root "$R" -k "$SCRATCH/missing.sec" "$id3" >/dev/null 2>"$SCRATCH/e7"
expect_eq no-keyfile-partial "$?" 2
c=$(only_case "$R")
grep -q 'cannot be sealed' "$SCRATCH/e7" && pass no-keyfile-warned || fail no-keyfile-warned "$(head -3 "$SCRATCH/e7")"
[ ! -e "$c.tar.zst" ] && [ -s "$c/proc/index.json" ] && pass no-keyfile-captured || fail no-keyfile-captured "archive made or nothing captured"
frozen "$id3" && ! reachable "$id3" && pass no-keyfile-contained || fail no-keyfile-contained "not contained"
expect_rc no-keyfile-resume 0 cryo-respond --resume "$c" -k "$K"
check no-keyfile-resume-verifies cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"

# a full disk for the case root: a 2 MiB tmpfs, a process with 64 MiB resident
id4=cryorsp-d-$$
runc_start "$id4" /bin/env MEMPROBE_TOUCH=1 /cryo/memprobe d /tmp 64 - || { fail start-disk runc; finish; }
wait_for 30 test -s "$(runc_upper "$id4")/tmp/addrs"
mkdir -p "$SCRATCH/small" && mount -t tmpfs -o size=2m tmpfs "$SCRATCH/small" && undo "umount -l '$SCRATCH/small'"
cryo-respond --json --case-root "$SCRATCH/small" -k "$K" "$id4" >"$SCRATCH/j8" 2>/dev/null
rc=$?
[ $rc = 2 ] && pass enospc-partial || fail enospc-partial "exit $rc"
c=$(only_case "$SCRATCH/small")
expect_eq enospc-proc-error "$(jq -r '.responses[0].steps[] | select(.step == "proc") | .result' "$SCRATCH/j8")" partial
has_entry "$c/custody.jsonl" '.tool == "cryo-proc" and .result != "ok"' && pass enospc-recorded || fail enospc-recorded "no proc problem entry: $(jq -c "{tool,result,message}" "$c/custody.jsonl" | tr "\n" " ")"
chain_ok "$c" && pass enospc-chain || fail enospc-chain "broken"
frozen "$id4" && ! reachable "$id4" && pass enospc-contained || fail enospc-contained "not contained"

# a process killed while the response runs: recorded, the rest goes on
id5=cryorsp-k-$$
runc_start "$id5" /bin/sh -c 'sleep 600 & exec /bin/env MEMPROBE_TOUCH=1 /cryo/memprobe k /tmp 64 -' || { fail start-gone runc; finish; }
wait_for 30 test -s "$(runc_upper "$id5")/tmp/addrs"
victim=$(for p in $(cat "$CGV2/cryo-test/$id5/cgroup.procs"); do [ "$(cat /proc/$p/comm)" = sleep ] && echo "$p"; done)
R=$SCRATCH/cases9
setsid cryo-respond --json --case-root "$R" -k "$K" "$id5" >"$SCRATCH/j9" 2>/dev/null &
rpid=$!
wait_for 30 sh -c "ls -d $R/*/net >/dev/null 2>&1"
kill -9 "$victim"
wait "$rpid"
rc=$?
[ $rc = 0 ] || [ $rc = 2 ] && pass process-gone-exit || fail process-gone-exit "exit $rc"
c=$(only_case "$R")
check process-gone-verifies cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"
chain_ok "$c" && pass process-gone-chain || fail process-gone-chain "broken"
frozen "$id5" && pass process-gone-contained || fail process-gone-contained "not frozen"

# ---- Docker ----------------------------------------------------------------
if need_docker respond-docker; then
	docker_start cryorsp-dk-$$ /bin/sh -c 'echo evil >/tmp/dropped; exec sleep 600' || fail docker-start "docker run"
	sleep 0.5
	R=$SCRATCH/cases10
	expect_rc docker-respond 0 cryo-respond --no-cut --case-root "$R" -k "$K" "${DOCKER_ID:0:12}"
	c=$(only_case "$R")
	check docker-verifies cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"
	tar --zstd -xOf "$c.tar.zst" fs/changes.json | jq -e '.[] | select(.path == "/tmp/dropped")' >/dev/null &&
		pass docker-captured || fail docker-captured "no /tmp/dropped"
	expect_eq docker-frozen "$(cat "$CGV2/docker/$DOCKER_ID/cgroup.freeze")" 1
	[[ $(basename "$c") == *cryorsp-dk-$$ ]] && pass docker-case-named || fail docker-case-named "$c"
fi
finish
