#!/bin/bash
# cryo-replay on real captures: a runc container changed by an "attacker",
# captured by cryo-respond (--merged) and sealed, then replayed: nothing
# runs before the archive verifies; the rebuilt root is the container's
# view (files, contents, modes, owners, deletions), from the merged view
# and from the diff on the image's layer; writes go to a throwaway layer;
# inside, a payload cannot reach a listener on host loopback or in another
# namespace, see host pids, write host files, mount, ptrace, load BPF, make
# namespaces, add keys or modules, use io_uring or push into the terminal,
# and its attempts are in the trace; limits (time, processes, memory)
# hold; --as-captured runs the captured command with its environment and
# directory; hostile archives (traversal, absolute paths, symlink then
# write, hard links out, devices, setuid shells, 100,000 entries, a
# compression bomb) are refused or neutralised with nothing written outside;
# the same works without root.  Traffic: loopback inside the sandbox, and
# connection attempts to the test's own listeners (host loopback, the
# container's peer namespace), which must receive nothing.
. "$(dirname "$0")/lib.sh"
need_root

cryo-key generate -W -p "$SCRATCH/k.pub" -s "$SCRATCH/k.sec" >/dev/null 2>&1 || { fail key "no key"; finish; }
cryo-key generate -W -p "$SCRATCH/other.pub" -s "$SCRATCH/other.sec" >/dev/null 2>&1
# every replay works in here; it must be empty after each
export TMPDIR=$SCRATCH/tmp
mkdir -p "$TMPDIR"
leftovers() { find "$TMPDIR" -mindepth 1 -maxdepth 1 | wc -l; }
replay() { cryo-replay -p "$SCRATCH/k.pub" "$@"; }

# ---- a capture ------------------------------------------------------------------
id=cryorpl-$$
runc_start "$id" /bin/sh -c 'echo secret-notes >/root/notes.txt; chmod 640 /root/notes.txt; rm -f /bin/vi; mkdir -p /opt/app; printf "%s\n" "#!/bin/sh" "echo as-captured cwd=\$(pwd) key=\$APPKEY uid=\$(id -u) args=\$*" "sleep 600" >/opt/app/run.sh; chmod 750 /opt/app/run.sh; ln -s /opt/app/run.sh /usr-run; mkdir /tmp/.x; cp /bin/busybox /tmp/.x/sh; /tmp/.x/sh -c "echo restored-payload-ran; sleep 601; true" & sleep 0.3; rm -rf /tmp/.x; cd /opt/app; export APPKEY=k-123; exec /opt/app/run.sh one two' ||
	{ fail start runc; finish; }
# ready when run.sh runs (sleeping) and the dropped payload deleted itself
wait_for 10 pgrep -f "^sleep 600" && wait_for 10 pgrep -f "^/bin/sh /opt/app/run.sh one two" &&
	wait_for 10 sh -c "! test -e '$(runc_upper "$id")/tmp/.x'" || fail ready "the container did not get ready"
expect_rc respond 0 cryo-respond --case-root "$SCRATCH/cases" -k "$SCRATCH/k.sec" --merged --then thaw --json "$id"
A=$(jq -r '.responses[0].archive' <<<"$OUT")
[ -f "$A" ] && pass archive || { fail archive "no archive: ${OUT:0:300}"; finish; }
CPID=$(runc_pid "$id")
GONE=$(pgrep -f "^/tmp/.x/sh -c echo restored-payload-ran")
INNER=$(awk '/^NSpid/ { print $NF }' "/proc/$CPID/status")

# ---- verified first -----------------------------------------------------------------
expect_rc no-key 64 cryo-replay "$A" -- /bin/true
expect_match no-key-says "$OUT" "no public key"
expect_rc wrong-key 1 cryo-replay -p "$SCRATCH/other.pub" "$A" -- /bin/true
cp "$A" "$SCRATCH/tampered.tar.zst"
cp "$A.minisig" "$SCRATCH/tampered.tar.zst.minisig"
size=$(stat -c %s "$A")
printf '\xff' | dd of="$SCRATCH/tampered.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_rc tampered 1 replay "$SCRATCH/tampered.tar.zst" -- /bin/sh -c 'echo RAN'
[[ $OUT != *RAN* ]] && pass tampered-nothing-ran || fail tampered-nothing-ran "$OUT"
expect_eq tampered-nothing-left "$(leftovers)" 0
expect_rc no-verify 0 cryo-replay --no-verify "$A" -- /bin/true
expect_match no-verify-loud "$OUT" "NOT VERIFIED"
expect_rc exit-code 7 replay "$A" -- /bin/sh -c 'exit 7'

# ---- the rebuilt root is the container's view ------------------------------------------
LIST='find / -xdev \( -path /proc -o -path /sys -o -path /dev \) -prune -o -print | sort | while read f; do [ "$f" = / ] && continue; if [ -L "$f" ]; then echo "$f L $(readlink "$f") $(stat -c %u:%g "$f")"; elif [ -f "$f" ]; then echo "$f F $(stat -c %a:%u:%g:%s "$f") $(sha256sum <"$f" | cut -c1-16)"; else echo "$f $(stat -c %F:%a:%u:%g "$f")"; fi; done'
runc exec "$id" /bin/sh -c "$LIST" >"$SCRATCH/view.container" 2>&1
expect_rc merged-view 0 replay -q "$A" -- /bin/sh -c "$LIST"
printf '%s\n' "$OUT" >"$SCRATCH/view.merged"
if [ "$(wc -l <"$SCRATCH/view.container")" -gt 250 ] && diff "$SCRATCH/view.container" "$SCRATCH/view.merged" >"$SCRATCH/view.diff"; then
	pass merged-matches-container
else
	fail merged-matches-container "$(wc -l <"$SCRATCH/view.container") lines; $(head -c 600 "$SCRATCH/view.diff")"
fi
grep -q '^/root/notes.txt F 640:0:0:13 ' "$SCRATCH/view.merged" && pass merged-mode-content || fail merged-mode-content "$(grep notes "$SCRATCH/view.merged")"
grep -q '^/bin/vi ' "$SCRATCH/view.merged" && fail merged-deletion "/bin/vi is there" || pass merged-deletion
expect_rc lower-view 0 replay -q --lower "$ROOTFS" "$A" -- /bin/sh -c "$LIST"
printf '%s\n' "$OUT" >"$SCRATCH/view.lower"
diff "$SCRATCH/view.container" "$SCRATCH/view.lower" >"$SCRATCH/view.diff2" && pass lower-matches-container ||
	fail lower-matches-container "$(head -c 600 "$SCRATCH/view.diff2")"
# the image as a tar layer too
tar -C "$ROOTFS" -cf "$SCRATCH/layer.tar" .
expect_rc lower-tar 0 replay -q --lower "$SCRATCH/layer.tar" "$A" -- /bin/sh -c "$LIST"
[ "$OUT" = "$(cat "$SCRATCH/view.lower")" ] && pass lower-tar-matches || fail lower-tar-matches "differs"
expect_rc lower-missing 3 replay --lower "$SCRATCH/nope" "$A" -- /bin/true
ln -s "$ROOTFS" "$SCRATCH/lower-link"
expect_rc lower-symlink 0 replay -q --lower "$SCRATCH/lower-link" "$A" -- /bin/sh -c "$LIST"
[ "$OUT" = "$(cat "$SCRATCH/view.lower")" ] && pass lower-symlink-followed || fail lower-symlink-followed "differs"
mkdir -p "$SCRATCH/exists"
expect_rc scratch-exists 64 replay --scratch "$SCRATCH/exists" "$A" -- /bin/true
rmdir "$SCRATCH/exists"

# writes go to a throwaway layer over a read-only root
expect_rc throwaway 0 replay -q --keep --scratch "$SCRATCH/keep" "$A" -- /bin/sh -c 'echo new >/etc/replay-wrote; rm /root/notes.txt'
[ -f "$SCRATCH/keep/upper/etc/replay-wrote" ] && [ ! -e "$SCRATCH/keep/root/etc/replay-wrote" ] && [ -f "$SCRATCH/keep/root/root/notes.txt" ] &&
	pass throwaway-layer || fail throwaway-layer "$(ls -la "$SCRATCH/keep" "$SCRATCH/keep/upper/etc" 2>&1 | head -20)"
expect_rc throwaway-gone 0 replay -q "$A" -- /bin/sh -c 'test ! -e /etc/replay-wrote && cat /root/notes.txt'
rm -rf "$SCRATCH/keep"

# ---- the sandbox ---------------------------------------------------------------------
expect_rc sandbox-view 0 replay -q "$A" -- /bin/sh -c "hostname; ls /proc | grep -c '^[0-9]'; test -e /proc/$$ && echo HOSTPID; grep -c : /proc/net/dev; id -u; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status"
mapfile -t v <<<"$OUT"
expect_eq hostname "${v[0]}" cryo-replay
[ "${v[1]}" -le 4 ] && pass no-host-pids || fail no-host-pids "${v[1]} pids in /proc"
[[ $OUT != *HOSTPID* ]] && pass host-pid-unseen || fail host-pid-unseen "$OUT"
expect_eq loopback-only "${v[2]}" 1
expect_eq root-inside "${v[3]}" 0
expect_match no-capabilities "${v[4]}" "CapEff:[[:space:]]+0000000000000000"
expect_match no-new-privs "${v[5]}" "NoNewPrivs:[[:space:]]+1"
expect_match seccomp-filter "${v[6]}" "Seccomp:[[:space:]]+2"
# no descriptor of the host's left to walk out through: not in the command,
# and pid 1 (which made the sandbox) is out of its reach
expect_rc no-host-fds 0 replay -q "$A" -- /bin/sh -c 'ls /proc/self/fd | tr "\n" " "; echo; ls /proc/1/fd 2>&1; cat /proc/1/environ 2>&1; ls /proc/1/root/ 2>&1 | head -1'
expect_match own-fds-only "$OUT" "^0 1 2 3 
"
expect_match pid1-fds-unreadable "$OUT" "ls: can't open '/proc/1/fd': Permission denied"
expect_match pid1-environ-unreadable "$OUT" "cat: can't open '/proc/1/environ': Permission denied"

# listeners the payload must not reach: host loopback, the container's peer
# namespace; each writes what it is sent, and "connected" if anything connects
listen() { # IP PORT FILE
	python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(4)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3] + ".ready", "w").close()
import select
while True:
    r, _, _ = select.select([s, u], [], [], 120)
    if not r: break
    with open(sys.argv[3], "ab") as f:
        if s in r:
            c, _ = s.accept(); f.write(b"connected\n" + c.recv(100))
        if u in r:
            f.write(b"datagram\n" + u.recv(100))' "$@" &
}
port=$((20000 + $$ % 10000))
: >"$SCRATCH/host-listener"
: >"$SCRATCH/ns-listener"
listen 127.0.0.1 "$port" "$SCRATCH/host-listener"
undo "kill $!"
ip netns exec "cryo-p-$id" bash -c "$(declare -f listen); listen 10.213.0.1 8099 '$SCRATCH/ns-listener'; wait" &
undo "kill $!; pkill -f 'ns-listener'"
wait_for 10 test -e "$SCRATCH/host-listener.ready" -a -e "$SCRATCH/ns-listener.ready" || fail listeners "not ready"
ESC=/cryo/escape
tries="$ESC connect 127.0.0.1 $port; $ESC connect 10.213.0.1 8099; $ESC udp 10.213.0.1 8099; $ESC write /tmp/cryo-replay-canary-$$; $ESC mount; $ESC ptrace 1; $ESC bpf; $ESC userns; $ESC netns; $ESC keyctl; $ESC module; $ESC uring; $ESC vsock; $ESC tiocsti"
expect_rc attempts-untraced 0 replay -q "$A" -- /bin/sh -c "$tries; true"
untraced=$OUT
expect_match untraced-net "$untraced" "connect: ECONNREFUSED.*connect: ENETUNREACH.*udp: ENETUNREACH"
expect_rc attempts 0 replay -q --trace "$SCRATCH/trace.jsonl" --json "$A" -- /bin/sh -c "$tries; true"
for a in mount ptrace bpf userns netns keyctl module uring vsock tiocsti; do
	grep -q "^$a: EPERM" <<<"$OUT" && pass "refused-$a" || fail "refused-$a" "$(grep "^$a:" <<<"$OUT")"
done
expect_match host-loopback-unreached "$OUT" "connect: ECONNREFUSED"
grep -q '^connect: ok' <<<"$OUT" && fail no-connect "a connect succeeded: $OUT" || pass no-connect
sleep 0.5
expect_eq host-listener-got-nothing "$(cat "$SCRATCH/host-listener")" ""
expect_eq ns-listener-got-nothing "$(cat "$SCRATCH/ns-listener")" ""
grep -q '^write: ok' <<<"$OUT" && [ ! -e "/tmp/cryo-replay-canary-$$" ] && pass host-fs-untouched || fail host-fs-untouched "$OUT; $(ls -la "/tmp/cryo-replay-canary-$$" 2>&1)"
sum=$(tail -1 <<<"$OUT")
expect_eq json-refused-mount "$(jq -r '.sandbox.refused_calls.mount' <<<"$sum")" 1
expect_eq json-refused-ptrace "$(jq -r '.sandbox.refused_calls.ptrace' <<<"$sum")" 1
expect_eq json-overlay "$(jq -r '.sandbox.overlay' <<<"$sum")" true
expect_eq json-cgroup "$(jq -r '.sandbox.cgroup' <<<"$sum")" true
T=$SCRATCH/trace.jsonl
has() { jq -s -e "any(.[]; $1)" "$T" >/dev/null; }
has '.syscall == "mount" and .action == "refused" and .errno == "EPERM" and .args.target == "/mnt" and .args.fstype == "tmpfs"' && pass trace-mount || fail trace-mount "$(head -c 300 "$T")"
has '.syscall == "ptrace" and .action == "refused" and .args.pid == 1' && pass trace-ptrace || fail trace-ptrace
has '.syscall == "bpf" and .action == "refused"' && pass trace-bpf || fail trace-bpf
has '.syscall == "unshare" and .action == "refused"' && pass trace-unshare || fail trace-unshare
has ".syscall == \"connect\" and .args.address == \"10.213.0.1:8099\" and .action == \"refused\" and .errno == \"ECONNREFUSED\"" && pass trace-connect-refused || fail trace-connect-refused
has ".syscall == \"connect\" and .args.address == \"127.0.0.1:$port\" and .action == \"allowed\"" && pass trace-connect-loopback || fail trace-connect-loopback
has '.syscall == "sendto" and .args.address == "10.213.0.1:8099" and .action == "refused"' && pass trace-udp || fail trace-udp
has '.syscall == "execve" and .args.path == "/cryo/escape" and .args.argv[1] == "mount" and (.pid | . > 1 and . < 100) and .host_pid > 0' && pass trace-exec || fail trace-exec
has "(.syscall == \"openat\" or .syscall == \"open\") and .args.path == \"/tmp/cryo-replay-canary-$$\" and (.args.flags | test(\"O_CREAT\"))" && pass trace-open || fail trace-open
jq -e . "$T" >/dev/null 2>&1 && pass trace-is-json-lines || fail trace-is-json-lines
expect_rc trace-unwritable 3 replay --trace "$SCRATCH/nodir/trace" "$A" -- /bin/true
expect_match trace-unwritable-says "$OUT" "--trace .*nodir/trace: No such file"

has '.syscall == "socket" and .args.family == 40 and .action == "refused"' && pass trace-vsock || fail trace-vsock

# the trace is bounded: a loop of opens fills it up to --trace-max, then one line says so
expect_rc trace-max 0 replay -q --trace "$SCRATCH/t2.jsonl" --trace-max 64K --json "$A" -- /bin/sh -c 'i=0; while [ $i -lt 3000 ]; do : </etc/passwd; i=$((i + 1)); done'
[ "$(stat -c %s "$SCRATCH/t2.jsonl")" -le $((64 * 1024 + 100)) ] && pass trace-max-held || fail trace-max-held "$(stat -c %s "$SCRATCH/t2.jsonl")"
expect_eq trace-max-line "$(tail -1 "$SCRATCH/t2.jsonl" | jq -r .event)" trace-limit
expect_eq trace-max-json "$(tail -1 <<<"$OUT" | jq -r .sandbox.trace_truncated)" true

# the command cannot signal cryo-replay (a session of its own), has no
# /dev/tty, and a deep tree it leaves is still removed
expect_rc killpg 137 replay -q --json "$A" -- /bin/sh -c "test -e /dev/tty || echo no-tty; $ESC killpg"
expect_match killpg-survived "$OUT" "no-tty.killpg: now.*\"exit\":137"
expect_rc deep-tree 0 replay -q "$A" -- /bin/sh -c 'cd /tmp; i=0; while [ $i -lt 1100 ]; do mkdir d; cd d; i=$((i + 1)); done; chmod 555 /tmp/d'
expect_eq deep-tree-removed "$(leftovers)" 0

# limits
t0=$SECONDS
expect_rc timeout 124 replay -q --timeout 2 "$A" -- /bin/sh -c 'sleep 47 & sleep 48'
[ $((SECONDS - t0)) -lt 20 ] && pass timeout-prompt || fail timeout-prompt "$((SECONDS - t0)) s"
pgrep -f '^sleep 4[78]' >/dev/null && fail timeout-killed-all "$(pgrep -af '^sleep 4[78]')" || pass timeout-killed-all
# 40 sleeps asked for, at most 16 processes (the count is done by builtins:
# no fork left)
expect_rc pids-limit 0 replay -q --pids 16 "$A" -- /bin/sh -c '( i=0; while [ $i -lt 40 ]; do sleep 3 & i=$((i + 1)); done ) 2>/dev/null; n=0; for p in /proc/[0-9]*; do n=$((n + 1)); done; echo $n'
n=$(tail -1 <<<"$OUT")
[ "$n" -ge 8 ] 2>/dev/null && [ "$n" -le 16 ] && pass pids-held || fail pids-held "$OUT"
expect_rc memory-ok 0 replay -q "$A" -- /bin/sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=2 2>/dev/null'
r=0
replay -q --memory 32M "$A" -- /bin/sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=2 2>/dev/null' >/dev/null 2>&1 || r=$?
[ $r -ne 0 ] && pass memory-held || fail memory-held "64 MiB buffer allowed under --memory 32M"
expect_eq cgroups-removed "$(find /sys/fs/cgroup -maxdepth 3 -name 'cryo-replay*' -mindepth 1 -type d 2>/dev/null | grep -v '^/sys/fs/cgroup/cryo-replay$' | wc -l)" 0

# SIGTERM: the sandbox goes, the scratch directory too
cryo-replay -p "$SCRATCH/k.pub" -q "$A" -- /bin/sh -c 'sleep 46' >/dev/null 2>&1 &
rp=$!
wait_for 10 pgrep -f '^sleep 46'
kill -TERM $rp
wait $rp
rc=$?
[ $rc -eq 143 ] && ! pgrep -f '^sleep 46' >/dev/null && pass sigterm-kills || fail sigterm-kills "rc $rc; $(pgrep -af 'sleep 46')"
wait_for 5 test "$(leftovers)" = 0 && pass sigterm-cleans || fail sigterm-cleans "$(ls "$TMPDIR")"
# cryo-replay killed outright: the sandbox dies with it (its scratch
# directory stays: removed here)
cryo-replay -p "$SCRATCH/k.pub" -q "$A" -- /bin/sh -c 'sleep 44; sleep 44' >/dev/null 2>&1 &
rp=$!
wait_for 10 pgrep -f '^sleep 44'
kill -KILL $rp
wait $rp 2>/dev/null
wait_for 5 sh -c "! pgrep -f '^sleep 44'" && pass sigkill-sandbox-dies || fail sigkill-sandbox-dies "$(pgrep -af 'sleep 44')"
rm -rf "${TMPDIR:?}"/cryo-replay.*
# a command that ignores SIGTERM is killed 5 s later
cryo-replay -p "$SCRATCH/k.pub" -q "$A" -- /bin/sh -c 'trap "" TERM HUP; sleep 45; sleep 45' >/dev/null 2>&1 &
rp=$!
wait_for 10 pgrep -f '^sleep 45'
t0=$SECONDS
kill -TERM $rp
wait $rp
rc=$?
[ $rc -eq 137 ] && [ $((SECONDS - t0)) -le 12 ] && ! pgrep -f '^sleep 45' >/dev/null && pass sigterm-escalates ||
	fail sigterm-escalates "rc $rc after $((SECONDS - t0)) s; $(pgrep -af 'sleep 45')"

# ---- --as-captured ------------------------------------------------------------------------
expect_rc as-captured 124 replay --as-captured "$CPID" --timeout 3 "$A"
expect_match as-captured-env "$OUT" "as-captured cwd=/opt/app key=k-123 uid=0 args=one two"
expect_match as-captured-says "$OUT" "as captured: /bin/sh /opt/app/run.sh one two"
expect_rc as-captured-inner-pid 124 replay -q --as-captured "$INNER" --timeout 3 "$A"
expect_match as-captured-inner "$OUT" "key=k-123"
# a payload that deleted itself runs again from the copy cryo-proc kept,
# put back in the throwaway layer only
expect_rc as-captured-deleted 124 replay --as-captured "$GONE" --timeout 2 --json "$A"
expect_match as-captured-deleted-ran "$OUT" "restored-payload-ran"
expect_match as-captured-deleted-says "$OUT" "restored /tmp/.x/sh \(deleted before the capture\) from proc/files/[0-9a-f]{16}"
expect_eq as-captured-deleted-json "$(tail -1 <<<"$OUT" | jq -r .restored_executable)" "/tmp/.x/sh (deleted)"
expect_rc as-captured-unknown 3 replay --as-captured 999999 "$A"
expect_rc as-captured-not-a-pid 64 replay --as-captured 12x "$A"
expect_rc as-captured-and-command 64 replay --as-captured 1 "$A" -- /bin/true

# ---- without root ---------------------------------------------------------------------------
chmod 755 "$SCRATCH"
chmod 1777 "$TMPDIR"
mkdir -p "$SCRATCH/pub"
cp "$A" "$A.minisig" "$SCRATCH/k.pub" "$SCRATCH/pub/"
chmod -R a+rX "$SCRATCH/pub"
PA=$SCRATCH/pub/$(basename "$A")
nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups env TMPDIR="$TMPDIR" "$@"; }
if nobody unshare -r -n true 2>/dev/null; then
	expect_rc unprivileged 0 nobody "$BIN/cryo-replay" -q -p "$SCRATCH/pub/k.pub" --json "$PA" -- /bin/sh -c "id -u; cat /root/notes.txt; $ESC mount; $ESC write /tmp/cryo-replay-canary2-$$; $ESC connect 127.0.0.1 $port; ls /proc/1/fd 2>&1; true"
	expect_match unprivileged-runs "$OUT" "^0.secret-notes.mount: EPERM.write: ok.connect: ECONNREFUSED.ls: can't open '/proc/1/fd': Permission denied"
	[ ! -e "/tmp/cryo-replay-canary2-$$" ] && pass unprivileged-host-fs || fail unprivileged-host-fs
	expect_eq unprivileged-no-cgroup "$(tail -1 <<<"$OUT" | jq -r .sandbox.cgroup)" false
	expect_eq unprivileged-overlay "$(tail -1 <<<"$OUT" | jq -r .sandbox.overlay)" true
else
	skip unprivileged "this kernel refuses user namespaces to unprivileged users"
fi
expect_eq host-listener-still-nothing "$(cat "$SCRATCH/host-listener")" ""

# ---- hostile archives -------------------------------------------------------------------------
CAN=$SCRATCH/canary
mkdir -p "$CAN"
echo host >"$CAN/host-file"
before_passwd=$(sha256sum /etc/passwd)
hostile() { # KIND: a signed archive whose merged view is the hostile tar
	local d=$SCRATCH/h-$1
	mkdir -p "$d/src"
	python3 "$ROOT/tests/cli/hostile-tar.py" "$1" "$d/src/rootfs-merged.tar" "$CAN" /bin/busybox &&
		cryo-test-capture "$d/case" "$d/src" fs >/dev/null &&
		cryo-pack -s "$SCRATCH/k.sec" -o "$d/a.tar.zst" "$d/case" >/dev/null 2>&1 && rm -rf "$d/src" "$d/case"
}
hostile escape && pass hostile-made || fail hostile-made
H=$SCRATCH/h-escape/a.tar.zst
expect_rc hostile-escape 0 replay -q --json "$H" -- /bin/sh -c 'cd /; stat -c "%n %a %h" bin/suid-sh bin/sgid-file etc/passwd pw-in ok-file; cat etc/passwd pw-in; ls -A / | sort | tr "\n" " "; echo'
sum=$(tail -1 <<<"$OUT")
expect_eq canary-untouched "$(cd "$CAN" && find . | sort | tr '\n' ' ')" ". ./host-file "
expect_eq canary-content "$(cat "$CAN/host-file")" host
expect_eq host-passwd-untouched "$(sha256sum /etc/passwd)" "$before_passwd"
expect_match setuid-cleared "$OUT" "bin/suid-sh 755 1"
expect_match setgid-cleared "$OUT" "bin/sgid-file 755 1"
expect_match hardlink-inside-then-write "$OUT" "etc/passwd 644 1.pw-in 644 1.ok-file 600 1.root:x:0:0:root:/root:/bin/sh.rewritten through a hard link"
expect_match devices-not-made "$OUT" "
bin dev etc evil evil-dir evil2 fifo ok-file proc pw-in root tmp 
"
expect_eq refused-count "$(jq -r .root.refused <<<"$sum")" 8
expect_eq not-made-count "$(jq -r .root.not_made <<<"$sum")" 3
expect_eq setid-count "$(jq -r .root.setid_cleared <<<"$sum")" 2
why=$(jq -r '[.root.notes[] | .what] | unique | .[]' <<<"$sum")
for w in '".." in the path refused' 'absolute path refused' 'a parent is a symbolic link or not a directory: refused' \
	'hard link target: absolute path refused' 'hard link target: ".." in the path refused' \
	'hard link to a path that is not a file already extracted: refused' 'device node not made' \
	'setuid bit cleared' 'setgid bit cleared'; do
	grep -qxF "$w" <<<"$why" && pass "noted: $w" || fail "noted: $w" "$why"
done

hostile many && pass many-made || fail many-made
expect_rc many-refused 65 replay --max-entries 50000 "$SCRATCH/h-many/a.tar.zst" -- /bin/true
expect_match many-says "$OUT" "more than 50000 entries: refused"
expect_eq many-nothing-left "$(leftovers)" 0
expect_rc many-bounded 0 replay -q "$SCRATCH/h-many/a.tar.zst" -- /bin/sh -c 'ls /m07 | wc -l'
expect_eq many-extracted "$(tail -1 <<<"$OUT")" 1000

hostile bomb && pass bomb-made || fail bomb-made
ls -l "$SCRATCH/h-bomb/a.tar.zst" | awk '{ exit !($5 < 2000000) }' && pass bomb-is-small || fail bomb-is-small
expect_rc bomb-not-extracted 65 replay --max-bytes 64M "$SCRATCH/h-bomb/a.tar.zst" -- /bin/true
expect_match bomb-says "$OUT" "more than --max-bytes .* allows: refused"
expect_rc bomb-stopped 65 replay --max-bytes 150M "$SCRATCH/h-bomb/a.tar.zst" -- /bin/true
expect_match bomb-stopped-says "$OUT" "more than 157286400 bytes of files: refused"
expect_eq bomb-nothing-left "$(leftovers)" 0

expect_eq nothing-left "$(leftovers)" 0
finish
