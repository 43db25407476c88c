#!/bin/bash
# cryo-proc under pressure: a process killed while its memory is being
# written (recorded as exited, no half-written core, the rest captured), a
# process with 200 threads (one NT_PRSTATUS each, gdb lists them all), a
# container of 2,000 processes captured within bounded memory, a process
# its parent already traces (the anti-debugging trick), a container frozen
# by the cgroup v1 freezer, a process whose main thread exited, and the
# same memprobe checks on a Docker container.  Traffic: none.
. "$(dirname "$0")/lib.sh"
need_root
# in_ct ID COMM: the pid of the process named COMM in runc container ID
in_ct() {
	local p
	for p in $(cat "$CGV2/cryo-test/$1/cgroup.procs"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return 0; }
	done
	return 1
}

# --- a process that dies mid-capture ----------------------------------------
id=cryoprocx-$$
runc_start "$id" /bin/sh -c '/bin/env MEMPROBE_TOUCH=1 /cryo/memprobe big /tmp 768 - & exec /cryo/memprobe small /var/tmp 8 -' ||
	{ fail start "runc"; finish; }
upper=$(runc_upper "$id")
wait_for 60 test -s "$upper/tmp/addrs" || { fail ready "memprobe big"; finish; }
wait_for 20 test -s "$upper/var/tmp/addrs" || { fail ready "memprobe small"; finish; }
big=$(for p in $(cat "$CGV2/cryo-test/$id/cgroup.procs"); do tr '\0' ' ' <"/proc/$p/cmdline" | grep -q 'memprobe big' && echo "$p"; done)
[ -n "$big" ] && pass found-big || fail found-big "no memprobe big in the container"
check freeze cryo-freeze "$id"
case=$SCRATCH/cx
cryo-proc --json --case "$case" "$id" >"$SCRATCH/cx.json" 2>"$SCRATCH/cx.err" &
cp=$!
# kill it once its core is being written
if wait_for 30 sh -c "ls -a '$case/proc/$big/' 2>/dev/null | grep -q '^\.core\.tmp-'"; then
	kill -9 "$big"
	pass killed-mid-capture
else
	fail killed-mid-capture "no core being written for $big: $(ls -a "$case/proc/$big" 2>&1)"
fi
wait $cp
expect_eq exit-after-death "$?" 0
expect_eq recorded-exited "$(jq -r --argjson p "$big" '.processes[] | select(.pid == $p) | .captured' "$case/proc/index.json")" exited
expect_match warned-exited "$(cat "$SCRATCH/cx.err")" "process $big .* exited during its memory capture"
[ ! -e "$case/proc/$big/core" ] && pass no-core-of-dead || fail no-core-of-dead "a core was kept"
if find "$case" -name '*.tmp-*' | grep -q .; then fail no-temporaries "$(find "$case" -name '*.tmp-*')"; else pass no-temporaries; fi
expect_eq others-captured "$(jq '[.processes[] | select(.captured == "yes")] | length' "$case/proc/index.json")" 1
cryo-freeze -q --thaw "$id"

# --- 200 threads --------------------------------------------------------------
id2=cryoproct-$$
runc_start "$id2" /bin/env MEMPROBE_THREADS=199 /cryo/memprobe threads /tmp 8 - || { fail start2 "runc"; finish; }
wait_for 30 test -s "$(runc_upper "$id2")/tmp/addrs" || { fail ready2 "memprobe threads"; finish; }
pid2=$(runc_pid "$id2")
check freeze-threads cryo-freeze "$id2"
expect_rc capture-threads 0 cryo-proc --case "$SCRATCH/ct" "$id2"
core=$SCRATCH/ct/proc/$pid2/core
expect_eq prstatus-200 "$(readelf -n "$core" | grep -c NT_PRSTATUS)" 200
expect_eq gdb-200-threads "$(gdb -nx -batch -ex 'info threads' "$BUILD/helpers/memprobe" "$core" 2>/dev/null | grep -cE '^\*? +[0-9]+ +(LWP|Thread)')" 200
expect_eq registers-200 "$(jq .memory.threads_with_registers "$SCRATCH/ct/proc/$pid2/process.json")" 200
expect_eq still-frozen-threads "$(grep -c '^frozen 1' "$CGV2/cryo-test/$id2/cgroup.events")" 1
cryo-freeze -q --thaw "$id2"

# --- 2,000 processes, bounded memory -------------------------------------------
id3=cryoprocn-$$
runc_start "$id3" /cryo/forker -n 1999 || { fail start3 "runc"; finish; }
wait_for 60 sh -c "[ \$(wc -l <'$CGV2/cryo-test/$id3/cgroup.procs') -ge 2000 ]" || fail many-started "$(wc -l <"$CGV2/cryo-test/$id3/cgroup.procs")"
check freeze-many cryo-freeze "$id3"
/usr/bin/time -f %M -o "$SCRATCH/rss" cryo-proc -q --case "$SCRATCH/cn" --max-memory 64K "$id3" >/dev/null 2>"$SCRATCH/cn.err"
expect_eq capture-many "$?" 0
expect_eq many-processes "$(jq '[.processes[] | select(.captured == "yes")] | length' "$SCRATCH/cn/proc/index.json")" 2000
expect_eq many-one-exe "$(jq '[.[] | select(any(.sources[]; .what == "exe"))] | length' "$SCRATCH/cn/proc/files/index.json")" 1
rss=$(cat "$SCRATCH/rss")
[ "$rss" -lt 262144 ] && pass "many-bounded-memory" || fail many-bounded-memory "max RSS ${rss} KiB"
cryo-freeze -q --thaw "$id3"

# --- anti-debugging: a process its parent already traces (PTRACE_TRACEME) ----
id4=cryoproca-$$
runc_start "$id4" /bin/sh -c 'MEMPROBE_TRACEME=1 /cryo/memprobe traced /tmp 8 - & wait' || { fail start4 "runc"; finish; }
up4=$(runc_upper "$id4")
wait_for 30 test -s "$up4/tmp/addrs" || { fail ready4 "memprobe traced"; finish; }
tp=$(in_ct "$id4" memprobe)
check freeze-traced cryo-freeze "$id4"
expect_rc capture-traced 2 cryo-proc --case "$SCRATCH/ca" "$id4"
expect_match traced-explained "$OUT" "registers of 1 of 2 thread\(s\) of process $tp not read: ptrace refused: already traced by process [0-9]+"
out=$(gdb -nx -batch -ex "x/s $(sed -n 's/^heap=//p' "$up4/tmp/addrs")" "$BUILD/helpers/memprobe" "$SCRATCH/ca/proc/$tp/core" 2>&1)
expect_match traced-memory-still-read "$out" '"traced-heap"'
expect_eq traced-still-frozen "$(grep -c '^frozen 1' "$CGV2/cryo-test/$id4/cgroup.events")" 1
cryo-freeze -q --thaw "$id4"

# --- frozen by the v1 freezer: memory yes, registers cannot be ----------------
id5=cryoprocv-$$
if [ -d /sys/fs/cgroup/freezer ]; then
	runc_start "$id5" /cryo/memprobe v1 /tmp 8 - || { fail start5 "runc"; finish; }
	up5=$(runc_upper "$id5")
	wait_for 30 test -s "$up5/tmp/addrs" || { fail ready5 "memprobe v1"; finish; }
	p5=$(runc_pid "$id5")
	check freeze-v1 cryo-freeze -m v1 "$id5"
	expect_rc capture-v1 0 cryo-proc --case "$SCRATCH/cv" "$id5"
	expect_match v1-explained "$OUT" "cgroup v1 freezer: registers are not read"
	expect_eq v1-no-registers "$(jq .memory.threads_with_registers "$SCRATCH/cv/proc/$p5/process.json")" 0
	out=$(gdb -nx -batch -ex "x/s $(sed -n 's/^heap=//p' "$up5/tmp/addrs")" "$BUILD/helpers/memprobe" "$SCRATCH/cv/proc/$p5/core" 2>&1)
	expect_match v1-memory-read "$out" '"v1-heap"'
	expect_eq v1-still-frozen "$(cat "/sys/fs/cgroup/freezer/cryo-test/$id5/freezer.state")" FROZEN
	cryo-freeze -q --thaw "$id5"
else
	skip v1 "no cgroup v1 freezer hierarchy on this host"
fi

# --- a main thread that exited while its other thread runs on -----------------
id6=cryoprocz-$$
runc_start "$id6" /bin/sh -c 'MEMPROBE_EXIT_MAIN=1 /cryo/memprobe zombie /tmp 8 - & wait' || { fail start6 "runc"; finish; }
up6=$(runc_upper "$id6")
wait_for 30 test -s "$up6/tmp/addrs" || { fail ready6 "memprobe zombie"; finish; }
zp=$(in_ct "$id6" memprobe)
wait_for 10 sh -c "grep -q '^State:.*Z' /proc/$zp/status" || fail zombie-leader "the main thread did not exit"
check freeze-zombie cryo-freeze "$id6"
cryo-proc --case "$SCRATCH/cz" "$id6" >/dev/null 2>"$SCRATCH/cz.err"
expect_eq zombie-exit "$?" 0
expect_eq zombie-thread-exited "$(jq --argjson p "$zp" '[.memory.threads[] | select(.tid == $p) | .exited] | first' "$SCRATCH/cz/proc/$zp/process.json")" true
expect_match zombie-explained "$(cat "$SCRATCH/cz.err")" "process $zp: its main thread has exited; memory and mappings read through thread"
out=$(gdb -nx -batch -ex "x/s $(sed -n 's/^heap=//p' "$up6/tmp/addrs")" "$BUILD/helpers/memprobe" "$SCRATCH/cz/proc/$zp/core" 2>&1)
expect_match zombie-memory-read "$out" '"zombie-heap"'
expect_eq zombie-cmdline "$(jq -r '.cmdline | join(" ")' "$SCRATCH/cz/proc/$zp/process.json")" "/cryo/memprobe zombie /tmp 8 -"
cryo-freeze -q --thaw "$id6"

# --- Docker -----------------------------------------------------------------------
if need_docker docker-proc; then
	tag="cryo-docker-$$"
	docker_start "cryoproc-dk-$$" /cryo/memprobe "$tag" /tmp 64 - || { fail docker-start "docker run"; finish; }
	dpid=$(docker_pid "cryoproc-dk-$$")
	wait_for 30 sh -c "docker exec '$DOCKER_ID' cat /tmp/addrs | grep -q ready" || fail docker-ready "memprobe"
	docker exec "$DOCKER_ID" cat /tmp/addrs >"$SCRATCH/daddrs"
	check docker-freeze cryo-freeze "${DOCKER_ID:0:12}"
	expect_rc docker-capture 0 cryo-proc --case "$SCRATCH/cd" "${DOCKER_ID:0:12}"
	dcore=$SCRATCH/cd/proc/$dpid/core
	out=$(gdb -nx -batch -ex "x/s $(sed -n 's/^heap=//p' "$SCRATCH/daddrs")" "$BUILD/helpers/memprobe" "$dcore" 2>&1)
	expect_match docker-gdb-heap "$out" "\"$tag-heap\""
	expect_eq docker-threads "$(readelf -n "$dcore" | grep -c NT_PRSTATUS)" 2
	expect_eq docker-raw-socket "$(jq --argjson pid "$dpid" '[.sockets[] | select(.proto == "raw" and any(.owners[]; .pid == $pid))] | length' "$SCRATCH/cd/proc/sockets.json")" 1
	want=$(getpcaps "$dpid" 2>&1 | sed 's/^[0-9]*: *//')
	expect_eq docker-caps-getpcaps "$(jq -r .capabilities.text "$SCRATCH/cd/proc/$dpid/process.json")" "$want"
	expect_eq docker-id "$(jq -r .id "$SCRATCH/cd/proc/index.json")" "$DOCKER_ID"
	cryo-freeze -q --thaw "${DOCKER_ID:0:12}"
fi
finish
