#!/bin/bash
# cryo-proc on a frozen runc container running memprobe: a process that
# hides a unique pattern in its heap, its stack, a large mostly untouched
# mapping, a page made PROT_NONE and memfd_secret memory, writes a payload
# file and deletes it while keeping it open, runs a second thread and holds
# a TCP connection to a namespace this test made.  The core must give the
# patterns back to gdb at the addresses memprobe printed, with both threads
# and their registers; the deleted file and the executable must be copied
# byte for byte; the connection must be listed with its owner; the
# capabilities must read as getpcaps reads them; and the container must
# still be frozen afterwards.  Traffic: one TCP connection between the
# container's namespace and its peer namespace.
. "$(dirname "$0")/lib.sh"
need_root

id=cryoproc-$$
tag="cryo-pattern-$$-$RANDOM"
port=$((20000 + RANDOM % 20000))
RUNC_CAPS=CAP_NET_RAW runc_start "$id" /cryo/memprobe "$tag" /tmp 1024 "10.213.0.1:$port" || { fail start "runc"; finish; }
(sleep 60 | timeout 60 ip netns exec "cryo-p-$id" busybox nc -l -p "$port" >/dev/null 2>&1) &
ncpid=$! # the peer end: a listener in the peer namespace runc_start made
undo "pkill -f 'busybox nc -l -p $port'; kill $ncpid"
upper=$(runc_upper "$id")
wait_for 20 test -s "$upper/tmp/addrs" || { fail ready "memprobe did not start: $(ls -la "$upper/tmp" 2>&1)"; finish; }
addr() { sed -n "s/^$1=//p" "$upper/tmp/addrs"; }
pid=$(runc_pid "$id")
case=$SCRATCH/case

check freeze cryo-freeze "$id"
expect_rc capture 0 cryo-proc --case "$case" "$id"
core=$case/proc/$pid/core
check core-written test -s "$core"

# the patterns, read by gdb at the addresses memprobe printed
exe=$BUILD/helpers/memprobe
for what in heap stack big hidden; do
	out=$(gdb -nx -batch -ex "x/s $(addr "$what")" "$exe" "$core" 2>&1)
	expect_match "gdb-reads-$what" "$out" "\"$tag-$what\""
done
out=$(gdb -nx -batch -ex 'info threads' "$exe" "$core" 2>&1)
expect_eq gdb-two-threads "$(grep -cE '^\*? +[0-9]+ +(LWP|Thread)' <<<"$out")" 2
out=$(gdb -nx -batch -ex 'thread apply all bt 3' "$exe" "$core" 2>&1)
expect_match gdb-backtrace-pause "$out" "pause|nanosleep|syscall"
expect_eq readelf-prstatus-per-thread "$(readelf -n "$core" | grep -c NT_PRSTATUS)" 2
notes=$(readelf -n "$core")
for n in NT_PRPSINFO NT_SIGINFO NT_AUXV NT_FILE NT_FPREGSET NT_X86_XSTATE; do
	expect_match "readelf-$n" "$notes" "$n"
done
segs=$(readelf -lW "$core" 2>&1)
expect_match readelf-segments "$segs" "NOTE .* LOAD "
if command -v eu-readelf >/dev/null; then
	check eu-readelf-sane eu-readelf -l -n "$core"
else
	fail eu-readelf "eu-readelf (elfutils) missing: scripts/install-deps installs it"
fi
# the 1 GiB mapping had two pages touched: the core holds what was resident
size=$(stat -c %s "$core")
[ "$size" -lt $((64 << 20)) ] && pass core-only-resident || fail core-only-resident "core is $size bytes"
pj=$case/proc/$pid/process.json
expect_eq registers-all-threads "$(jq '.memory.threads_with_registers' "$pj")" 2
secret=$(addr secret)
if [ "$secret" = "(nil)" ]; then
	skip secret-recorded "memfd_secret is not available on this kernel"
else
	expect_eq secret-recorded "$(jq -r --arg a "$secret" '.memory.excluded[] | select(.start == $a) | .reason' "$pj")" \
		"memfd_secret memory: unreadable by design"
	if strings "$core" | grep -q "$tag-secret"; then fail secret-not-read "in the core"; else pass secret-not-read; fi
fi

# the process, decoded
expect_eq json-nspid "$(jq '.pid_in_container' "$pj")" 1
expect_eq json-cmdline "$(jq -r '.cmdline | join(" ")' "$pj")" "/cryo/memprobe $tag /tmp 1024 10.213.0.1:$port"
expect_match json-environ "$(jq -r '.environ[]' "$pj")" "PATH="
expect_eq json-threads "$(jq -r '[.threads[].name] | sort | join(",")' "$pj")" "memprobe,worker"
expect_eq json-frozen-state "$(jq -r '.state' "$pj")" "S"
expect_eq json-exe "$(jq -r '.exe.path' "$pj")" "/cryo/memprobe"
# the capabilities, as libcap's getpcaps prints them
want=$(getpcaps "$pid" 2>&1 | sed 's/^[0-9]*: *//; s/^Capabilities for .[0-9]*.: *//')
expect_eq caps-getpcaps "$(jq -r '.capabilities.text' "$pj")" "$want"
eff=$(capsh --decode="$(jq -r '.capabilities.effective_hex' "$pj")" | sed 's/^0x[0-9a-f]*=//')
expect_eq caps-names "$(jq -r '.capabilities.effective | join(",")' "$pj")" "$eff"
for f in status stat maps smaps mountinfo limits cgroup environ cmdline uid_map gid_map; do
	[ -s "$case/proc/$pid/$f" ] || fail "raw-$f" "missing"
done
pass raw-files

# the deleted payload and the executable, copied
files=$case/proc/files/index.json
dsha=$(jq -r '.[] | select(any(.sources[]; .what | startswith("fd "))) | .sha256' "$files" | head -1)
expect_eq deleted-file-content "$(cat "$case/proc/files/$dsha" 2>&1)" "$tag-deleted-file"
expect_eq deleted-file-in-fds "$(jq -r '[.fds[] | select(.deleted) | .sha256] | first' "$pj")" "$dsha"
msha=$(jq -r '.[] | select(any(.sources[]; .path | startswith("/memfd:payload"))) | .sha256' "$files" | head -1)
expect_eq memfd-content "$(cat "$case/proc/files/$msha" 2>&1)" "$tag-memfd-payload"
expect_eq epoll-listed-not-probed "$(jq -c '[.fds[] | select(.target == "anon_inode:[eventpoll]") | {type, flags}]' "$pj")" '[{"type":"anon_inode","flags":null}]'
esha=$(jq -r '.exe.sha256' "$pj")
expect_eq exe-copy "$(sha256sum <"$case/proc/files/$esha" | cut -d' ' -f1)" "$(sha256sum <"$exe" | cut -d' ' -f1)"

# the connection, with its owner
conn=$(jq -c --arg r "10.213.0.1:$port" '.sockets[] | select(.proto == "tcp" and .remote == $r)' "$case/proc/sockets.json")
expect_match socket-listed "$conn" '"state":"ESTABLISHED"'
expect_match socket-owner "$conn" "\"pid\":$pid,"
for proto in raw packet; do
	expect_eq "socket-$proto" "$(jq --arg p "$proto" --argjson pid "$pid" '[.sockets[] | select(.proto == $p and any(.owners[]; .pid == $pid))] | length' "$case/proc/sockets.json")" 1
done

# still frozen; the custody log holds every artifact with its hash
expect_eq still-frozen "$(cryo-freeze --status --json "$id" | jq -r '.containers[0].state // .state')" frozen
entry=$(grep '"tool":"cryo-proc"' "$case/custody.jsonl" | tail -1)
expect_eq custody-core-hash "$(jq -r --arg p "proc/$pid/core" '.artifacts[] | select(.path == $p) | .sha256' <<<"$entry")" \
	"$(sha256sum <"$core" | cut -d' ' -f1)"
expect_eq custody-result "$(jq -r .result <<<"$entry")" ok
if find "$case" -name '*.tmp-*' | grep -q .; then fail no-temporaries "$(find "$case" -name '*.tmp-*')"; else pass no-temporaries; fi

# again into the same case: refused, nothing replaced
expect_rc second-capture-refused 64 cryo-proc --case "$case" "$id"

# options: --pid, --no-memory, compression, --skip-file-backed
expect_rc pid-not-in-container 3 cryo-proc --case "$SCRATCH/c2" --pid 1 "$id"
expect_rc no-memory 0 cryo-proc --case "$SCRATCH/c3" --no-memory "$id"
[ ! -e "$SCRATCH/c3/proc/$pid/core" ] && [ -s "$SCRATCH/c3/proc/$pid/process.json" ] && pass no-memory-no-core ||
	fail no-memory-no-core "$(ls "$SCRATCH/c3/proc/$pid")"
expect_rc compressed 0 cryo-proc --case "$SCRATCH/c4" -z --skip-file-backed --pid "$pid" "$id"
zstd -q -d -o "$SCRATCH/core4" "$SCRATCH/c4/proc/$pid/core.zst"
out=$(gdb -nx -batch -ex "x/s $(addr heap)" "$exe" "$SCRATCH/core4" 2>&1)
expect_match compressed-gdb-reads-heap "$out" "\"$tag-heap\""
expect_rc max-memory 0 cryo-proc --case "$SCRATCH/c5" --max-memory 64K --pid "$pid" "$id"
expect_eq max-memory-truncated "$(jq '.memory.truncated' "$SCRATCH/c5/proc/$pid/process.json")" true
[ "$(stat -c %s "$SCRATCH/c5/proc/$pid/core")" -lt $((128 << 10)) ] && pass max-memory-bound || fail max-memory-bound "core too big"

check thaw cryo-freeze --thaw "$id"
finish
