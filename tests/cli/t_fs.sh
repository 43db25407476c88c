#!/bin/bash
# cryo-fs on a runc container whose "attacker" did everything a filesystem
# snapshot must survive: new, modified and deleted files, a directory
# removed and recreated (opaque), hard links, symlinks out of the container
# at a host file holding a marker, a FIFO, a device node, a UNIX socket, a
# 10 GiB sparse file, setuid, a file capability, user xattrs, hostile names
# (newline, <script>, invalid UTF-8, a 4,000-byte path) and a 10,000-deep
# tree.  The layer must be exactly right (GNU tar and bsdtar agree), applied
# onto the lower layer it must give the container's view back byte for
# byte, mactime must read the body file, and nothing of the host may leak
# in.  Traffic: none.
. "$(dirname "$0")/lib.sh"
need_root

id=cryofs-$$
runc_start "$id" /bin/sleep 600 || { fail start "runc"; finish; }
upper=$(runc_upper "$id")
pid=$(runc_pid "$id")
marker="cryo-host-secret-$$-$RANDOM"
echo "$marker" >"$SCRATCH/host-secret"
undo "rm -f /tmp/cryo-host-secret-$$"
cp "$SCRATCH/host-secret" "/tmp/cryo-host-secret-$$"

# the attacker, inside
runc exec --cap CAP_MKNOD "$id" /bin/sh -c "
	echo payload >/tmp/new.txt
	echo modified >>/etc/hostname
	rm /bin/vi
	rm -rf /cryo && mkdir /cryo && echo fresh >/cryo/only-this
	ln /tmp/new.txt /tmp/hard
	ln -s /etc/shadow /tmp/to-shadow
	ln -s ../../../../../../tmp/cryo-host-secret-$$ /tmp/to-host
	ln -s /tmp/cryo-host-secret-$$ /tmp/to-host-abs
	mkfifo /tmp/fifo
	mknod /tmp/nulldev c 1 3
	echo '#!/bin/sh' >/tmp/suid && chmod 4755 /tmp/suid
	truncate -s 10G /tmp/sparse && echo tail | dd of=/tmp/sparse bs=1 seek=5000000000 conv=notrunc 2>/dev/null
	mkdir -p /var/tmp/stage && echo staged >/dev/shm/payload
	chmod 777 /root
" || fail attack "the scripted compromise failed"
# what busybox cannot do inside, done on the upper dir from the host: a
# socket, a file capability, user xattrs, hostile names, a deep tree
/usr/bin/python3 - "$upper" <<'PY'
import os, socket, sys
up = sys.argv[1]
s = socket.socket(socket.AF_UNIX); s.bind(os.path.join(up, "tmp/sock")); s.close()
cap = os.path.join(up, "tmp/capped"); open(cap, "w").write("cap\n")
# security.capability v2: cap_net_raw (13) permitted+effective
os.setxattr(cap, "security.capability", bytes([0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
os.setxattr(os.path.join(up, "tmp/new.txt"), "user.note", b"attacker was here")
for n in [b"new\nline", b"<script>alert(1)<script>", b"bad-\xff\xfe-utf8"]:
    open(os.path.join(up.encode(), b"tmp/" + n), "w").write("h\n")
# overlay state forged by the container (user.* on a trusted.* overlay):
# a fake whiteout on a file it added, a fake metacopy on one it changed
forged = os.path.join(up, "tmp/forged-whiteout"); open(forged, "w").close()
os.setxattr(forged, "user.overlay.whiteout", b"y")
os.setxattr(os.path.join(up, "etc/hostname"), "user.overlay.metacopy", b"")
d = os.path.join(up, "tmp/long")
os.makedirs(d)
os.chdir(d)
for i in range(20):
    os.mkdir("x" * 200); os.chdir("x" * 200)
open("deep-file", "w").write("end of a 4000-byte path\n")
os.chdir(os.path.join(up, "tmp"))
os.mkdir("deep"); os.chdir("deep")
for i in range(10000):
    os.mkdir("d"); os.chdir("d")
open("bottom", "w").write("10000 levels down\n")
PY

case=$SCRATCH/case
# (relatime moves an access time only once after a change: measured before
# any snapshot reads the files)
atime_before=$(stat -c %X "$upper/tmp/new.txt" "$upper/etc")
expect_rc not-frozen-warns 0 timeout 120 cryo-fs --max-file-size 1M --exclude /tmp/deep -c "$SCRATCH/warmup" "$id"
expect_match not-frozen-says "$OUT" "not frozen"
cryo-freeze -q -c "$case" "$id" || fail freeze "cryo-freeze"
expect_rc snapshot 0 timeout 300 cryo-fs --exclude '/var/tmp/*' -c "$case" "$id"
diff=$case/fs/rootfs-diff.tar
# reading evidence does not touch it: no access time moved, in the upper
# dir or in the image layer below
expect_eq atime-untouched "$(stat -c %X "$upper/tmp/new.txt" "$upper/etc")" "$atime_before"
# the container's forged overlay xattrs are its files' xattrs, not orders
expect_eq forged-whiteout-is-a-file "$(jq -r '.[] | select(.path == "/tmp/forged-whiteout") | .change + " " + .type' "$case/fs/changes.json")" "added file"
expect_eq forged-metacopy-ignored "$(jq -r '.[] | select(.path == "/etc/hostname") | .sha256' "$case/fs/changes.json")" \
	"$(sha256sum <"$upper/etc/hostname" | cut -d' ' -f1)"
expect_eq forged-xattr-recorded "$(jq -r '.[] | select(.path == "/tmp/forged-whiteout") | .xattrs[0].name' "$case/fs/changes.json")" user.overlay.whiteout
# a second snapshot into the same case is refused before any work
expect_rc second-snapshot-refused 64 cryo-fs -c "$case" "$id"
[ -s "$diff" ] && pass diff-written || fail diff-written "no $diff"

# GNU tar and bsdtar read the same entries, with the right types
gnu=$(tar -tvf "$diff" 2>&1)
expect_match tar-fifo "$gnu" "(^|
)p[-rwx]{9} 0/0 +0 [^
]* tmp/fifo"
expect_match tar-dev "$gnu" "(^|
)c[-rwx]{9} 0/0 +1,3 [^
]* tmp/nulldev"
expect_match tar-symlink-kept "$gnu" "tmp/to-shadow -> /etc/shadow"
expect_match tar-symlink-rel "$gnu" "tmp/to-host -> \.\./\.\./\.\./\.\./\.\./\.\./tmp/cryo-host-secret-$$"
expect_match tar-hardlink "$gnu" "tmp/hard link to tmp/new.txt"
expect_match tar-whiteout "$gnu" "bin/\.wh\.vi"
expect_match tar-opaque "$gnu" "cryo/\.wh\.\.wh\.\.opq"
expect_match tar-setuid "$gnu" "-rwsr-xr-x 0/0 [^
]* tmp/suid"
expect_match tar-sparse-size "$gnu" "10737418240 [^
]* tmp/sparse"
if command -v bsdtar >/dev/null; then
	expect_eq bsdtar-same-names "$(bsdtar -tf "$diff" | LC_ALL=C sort | md5sum)" "$(tar -tf "$diff" | LC_ALL=C sort | md5sum)"
else
	skip bsdtar "bsdtar missing (scripts/install-deps installs libarchive-tools)"
fi
# names and xattrs, byte for byte (python's tarfile reads the pax headers)
/usr/bin/python3 - "$diff" >"$SCRATCH/tarcheck" 2>&1 <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape")
names = {m.name: m for m in t.getmembers()}
def has(n): print(("ok " if n in names else "MISSING ") + repr(n))
has("tmp/new\nline"); has("tmp/<script>alert(1)<script>"); has("tmp/bad-\udcff\udcfe-utf8")
long = [n for n in names if n.endswith("/deep-file")]
print("long", len(long[0]) if long else 0)
deep = [n for n in names if n.endswith("/bottom")]
print("deep", deep[0].count("/") if deep else 0)
cap = names["tmp/capped"].pax_headers.get("SCHILY.xattr.security.capability", "")
print("cap", len(cap.encode("utf-8", "surrogateescape")))
print("note", names["tmp/new.txt"].pax_headers.get("SCHILY.xattr.user.note", ""))
print("sock", "tmp/sock" in names)
print("ovl", any(k.startswith("SCHILY.xattr.trusted.overlay") for m in names.values() for k in m.pax_headers))
PY
tc=$(cat "$SCRATCH/tarcheck")
expect_eq names-hostile "$(grep -c '^ok ' <<<"$tc")" 3
expect_match names-long "$tc" "long 4[0-9]{3}"
expect_match depth-10000 "$tc" "deep 1000[0-9]"
expect_match xattr-capability "$tc" "cap 20"
expect_match xattr-user "$tc" "note attacker was here"
expect_match socket-not-in-tar "$tc" "sock False"
expect_match overlay-xattrs-interpreted "$tc" "ovl False"
expect_eq socket-in-changes "$(jq -r '.[] | select(.path == "/tmp/sock") | .type' "$case/fs/changes.json")" socket

# the sparse file costs kilobytes (its data is 5 bytes; the layer stores
# extents), the FIFO never blocked (the run ended)
stored=$(/usr/bin/python3 - "$diff" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape")
m = t.getmember("tmp/sparse")
f = t.extractfile(m)
f.seek(5000000000)
tail = f.read(5)
f.seek(4999999995)
print(sum(l for _, l in m.sparse) if m.sparse is not None else m.size, m.size, tail == b"tail\n", f.read(5) == bytes(5))
PY
)
expect_eq sparse-stored-small "$(awk '$1 < 1048576 {print "small"}' <<<"$stored") ${stored#* }" "small 10737418240 True True"
expect_match sparse-hashed "$(jq -r '.[] | select(.path == "/tmp/sparse") | .sha256' "$case/fs/changes.json")" "^[0-9a-f]{64}$"

# the host file behind the container's symlinks never enters the evidence
grep -rqa "$marker" "$case" && fail no-host-leak "the host marker is in the case" || pass no-host-leak

# changes.json and deleted.json
ch=$case/fs/changes.json
expect_eq change-added "$(jq -r '.[] | select(.path == "/tmp/new.txt") | .change' "$ch")" added
expect_eq change-sha "$(jq -r '.[] | select(.path == "/tmp/new.txt") | .sha256' "$ch")" "$(sha256sum <"$upper/tmp/new.txt" | cut -d' ' -f1)"
expect_eq change-modified "$(jq -r '.[] | select(.path == "/etc/hostname") | .change + " " + (.lower.size|tostring)' "$ch")" \
	"modified $(stat -c %s "$ROOTFS/etc/hostname")"
expect_eq change-dir-mode "$(jq -r '.[] | select(.path == "/root") | .change + " " + .mode + " " + .lower.mode' "$ch")" \
	"modified 0777 $(stat -c %04a "$ROOTFS/root")"
expect_eq change-opaque "$(jq -r '.[] | select(.path == "/cryo") | .opaque' "$ch")" true
expect_eq change-symlink "$(jq -r '.[] | select(.path == "/tmp/to-shadow") | .link_target' "$ch")" /etc/shadow
expect_eq deleted-list "$(jq -r '.[]' "$case/fs/deleted.json" | paste -sd,)" /bin/vi
expect_eq excluded "$(jq -r '[.[] | select(.path | startswith("/var/tmp/"))] | length' "$ch")" 0
jq -e . "$ch" >/dev/null && pass changes-valid-json || fail changes-valid-json "jq cannot parse changes.json"
# strict UTF-8 JSON everywhere, and the exact bytes of a name that is not
# UTF-8 beside its escaped form
strict=$(/usr/bin/python3 - "$case/fs" <<'PY'
import base64, json, sys
d = sys.argv[1]
for f in ("changes.json", "deleted.json", "mounts.json"):
    json.loads(open(f"{d}/{f}", "rb").read().decode("utf-8"))
ch = json.loads(open(f"{d}/changes.json", encoding="utf-8").read())
bad = [c for c in ch if "path_b64" in c]
print("strict", len(bad), base64.b64decode(bad[0]["path_b64"]) == b"/tmp/bad-\xff\xfe-utf8", bad[0]["path"])
PY
)
expect_eq json-strict-utf8 "$strict" 'strict 1 True /tmp/bad-\xff\xfe-utf8'

# mounts: listed, the tmpfs /dev/shm captured with the staged payload
expect_eq mounts-shm "$(jq -r '.[] | select(.mountpoint == "/dev/shm") | .kind' "$case/fs/mounts.json")" tmpfs
shm=$(jq -r '.[] | select(.mountpoint == "/dev/shm") | .captured' "$case/fs/mounts.json")
expect_match shm-payload "$(tar -xOf "$case/$shm" payload 2>/dev/null)" "staged"

# every artifact is in the custody log with its hash
for a in fs/rootfs-diff.tar fs/changes.json fs/deleted.json fs/bodyfile fs/mounts.json; do
	expect_eq "custody[$a]" "$(jq -r --arg p "$a" '.artifacts[]? | select(.path == $p) | .sha256' "$case/custody.jsonl" | tail -1)" \
		"$(sha256sum <"$case/$a" | cut -d' ' -f1)"
done

# The Sleuth Kit's mactime reads the body file
if command -v mactime >/dev/null; then
	mt=$(mactime -b "$case/fs/bodyfile" -d 2>&1)
	expect_match mactime-reads "$mt" "/tmp/new\.txt"
else
	skip mactime "mactime missing (scripts/install-deps installs sleuthkit)"
fi

# the layer applied onto the lower layer gives the container's view back
/usr/bin/python3 - "$ROOTFS" "$diff" "$SCRATCH/applied" <<'PY'
import os, shutil, sys, tarfile
lower, layer, out = sys.argv[1:]
shutil.copytree(lower, out, symlinks=True)
t = tarfile.open(layer, encoding="utf-8", errors="surrogateescape")
members = t.getmembers()
for m in members:                      # opaque dirs first: the lower's content goes
    base = os.path.basename(m.name)
    if base == ".wh..wh..opq":
        d = os.path.join(out, os.path.dirname(m.name))
        for e in os.listdir(d):
            p = os.path.join(d, e)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
for m in members:
    base, dirn = os.path.basename(m.name), os.path.dirname(m.name)
    # the deep tree and the 4,000-byte path do not fit a path name here
    # (and the 10 GiB sparse file, checked on its own above)
    if base == ".wh..wh..opq" or m.name.startswith(("tmp/deep", "tmp/long", "tmp/sparse")):
        continue
    if base.startswith(".wh."):
        p = os.path.join(out, dirn, base[4:])
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        continue
    p = os.path.join(out, m.name)
    if m.isdir():
        os.makedirs(p, exist_ok=True); continue
    if os.path.lexists(p) and not os.path.isdir(p):
        os.unlink(p)
    if m.issym():
        os.symlink(m.linkname, p)
    elif m.islnk():
        os.link(os.path.join(out, m.linkname), p)
    elif m.isfile():
        with open(p, "wb") as f:
            shutil.copyfileobj(t.extractfile(m), f)
    elif m.isfifo():
        os.mkfifo(p)
    elif m.ischr():
        os.mknod(p, 0o600 | 0o20000, os.makedev(m.devmajor, m.devminor))
PY
# compare with the live view: every path, its type, link target and
# content hash (mounts, the deep tree, what was excluded and the socket,
# which no tar can hold, aside)
view() {
	(cd "$1" && find . -xdev \( -path ./tmp/deep -o -path ./proc -o -path ./sys -o -path ./dev -o -path ./var/tmp/stage -o -path ./tmp/sock -o -path ./tmp/long -o -path ./tmp/sparse \) -prune -o -print0 |
		LC_ALL=C sort -z | while IFS= read -r -d '' p; do
			if [ -L "$p" ]; then t="l $(readlink "$p")";
			elif [ -f "$p" ]; then t="f $(sha256sum <"$p" | cut -c1-16)";
			elif [ -d "$p" ]; then t=d; else t="o $(stat -c %F "$p")"; fi
			printf '%q %s\n' "$p" "$t"
		done)
}
live=$(view "/proc/$pid/root")
applied=$(view "$SCRATCH/applied")
if [ "$live" = "$applied" ]; then pass layer-reproduces-view; else
	fail layer-reproduces-view "$(diff <(echo "$live") <(echo "$applied") | head -c 1200 | tr '\n' ' ')"
fi

# --merged and --max-file-size, on the same frozen container
expect_rc merged 0 timeout 300 cryo-fs --merged --no-tmpfs --max-file-size 1M --exclude '/tmp/deep' -c "$SCRATCH/m" "$id"
expect_match merged-has-busybox "$(tar -tf "$SCRATCH/m/fs/rootfs-merged.tar")" "(^|
)bin/busybox"
expect_eq max-size-metadata "$(jq -r '.[] | select(.path == "/tmp/sparse") | .content' "$SCRATCH/m/fs/changes.json")" \
	"not captured (larger than --max-file-size)"
expect_eq no-tmpfs "$(jq -r '[.[] | select(.captured != null)] | length' "$SCRATCH/m/fs/mounts.json")" 0

cryo-freeze -q --thaw -c "$case" "$id"

# a container that attacks the snapshot itself: names of the OCI whiteout
# form (applied, they would delete /etc/passwd and the whole lower root)
# and a sparse file of 100 TiB in a tmpfs (hashing it would take centuries)
h=cryofsh-$$
runc_start "$h" /bin/sleep 600 || fail start-h "runc"
runc exec "$h" /bin/sh -c 'echo x >/etc/.wh.passwd; touch /.wh..wh..opq; truncate -s 109951162777600 /dev/shm/huge' ||
	fail attack-h "runc exec"
# a file that changes while it is read (this container is not frozen yet):
# every read is held 0.3 s (strace) while a writer inside appends
if command -v strace >/dev/null; then
	runc exec -d "$h" /bin/sh -c 'while :; do echo x >>/tmp/growing; usleep 10000; done'
	wait_for 5 test -s "$(runc_upper "$h")/tmp/growing"
	strace -f -qq -o /dev/null -e trace=pread64 -e inject=pread64:delay_enter=300000 \
		cryo-fs -c "$SCRATCH/g" "$h" >/dev/null 2>&1
	expect_eq changed-while-read "$(jq -r '.[] | select(.path == "/tmp/growing") | .changed_while_read' "$SCRATCH/g/fs/changes.json")" true
	expect_match changed-while-read-said "$(jq -r '.details.result.problems[].problem' "$SCRATCH/g/custody.jsonl")" "changed while it was read"
else
	skip changed-while-read "strace missing (scripts/install-deps installs it)"
fi
cryo-freeze -q -c "$SCRATCH/h" "$h"
expect_rc hostile-partial 2 timeout 60 cryo-fs -c "$SCRATCH/h" "$h"
expect_match hostile-wh-said "$OUT" "named like an OCI whiteout"
expect_match hostile-sparse-said "$OUT" "a sparse file of 109951162777600 bytes"
ht=$(tar -tf "$SCRATCH/h/fs/rootfs-diff.tar")
[[ $ht != *".wh.passwd"* && $ht != *".wh..wh..opq"* ]] && pass hostile-wh-not-in-layer || fail hostile-wh-not-in-layer "$ht"
expect_eq hostile-wh-recorded "$(jq -r '.[] | select(.path == "/etc/.wh.passwd") | .change' "$SCRATCH/h/fs/changes.json")" added
cryo-freeze -q --thaw -c "$SCRATCH/h" "$h"

# usage
expect_rc no-case 64 cryo-fs "$id"
expect_rc bad-size 64 cryo-fs --max-file-size 12Q -c "$case" "$id"
expect_rc not-found 3 cryo-fs -c "$SCRATCH/nf" "nope-$$"
finish
