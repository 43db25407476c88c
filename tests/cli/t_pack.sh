#!/bin/bash
# cryo-pack seals a real case (a runc container frozen and cut, plus captured
# files) into one archive that minisign, tar, bsdtar, zstd and sha256sum all
# accept, with keys from minisign -G (with and without a password) as well as
# from cryo-key; evidence edited after capture is refused; a full disk leaves
# nothing behind.  Traffic: none.
. "$(dirname "$0")/lib.sh"
need_root

have() { command -v "$1" >/dev/null; }
k=$SCRATCH/keys
mkdir -p "$k"
cryo-key generate -W -p "$k/c.pub" -s "$k/c.sec" >/dev/null

# a case from real tools: a container frozen and cut, then files captured
id=cryopack-$$
runc_start "$id" /bin/sleep 600 || { fail start "runc"; finish; }
case=$SCRATCH/case
expect_rc freeze 0 cryo-freeze -c "$case" "$id"
expect_rc cut 0 cryo-cut -c "$case" "$id"
src=$SCRATCH/src
mkdir -p "$src/etc" "$src/tmp"
head -c 3000000 /dev/urandom >"$src/tmp/payload.bin"
seq 1 50000 >"$src/etc/log.txt"
printf 'x' >"$src/tiny"
: >"$src/empty"
expect_rc capture 0 cryo-test-capture "$case" "$src" fs
cryo-cut --restore -c "$case" "$id" >/dev/null 2>&1
cryo-freeze --thaw -c "$case" "$id" >/dev/null 2>&1

# sealed with cryo's key
out=$SCRATCH/out/case.tar.zst
mkdir -p "$SCRATCH/out"
before=$(wc -l <"$case/custody.jsonl")
expect_rc pack 0 cryo-pack -s "$k/c.sec" -o "$out" "$case"
expect_eq pack-prints-path "$(tail -1 <<<"$OUT")" "$out"
expect_eq archive-mode "$(stat -c %a "$out")" 600
expect_eq sig-mode "$(stat -c %a "$out.minisig")" 600
expect_eq seal-entry "$(tail -1 "$case/custody.jsonl" | jq -r '.tool + " " + .action + " " + .result')" "cryo-pack seal ok"
expect_eq seal-appended "$(wc -l <"$case/custody.jsonl")" $((before + 1))
expect_rc verify 0 cryo-verify -p "$k/c.pub" "$out"
expect_match verify-says "$OUT" "^OK: .*custody chain of $((before + 1)) entries sealed"
# the seal entry's hash is the manifest's custody head, and the archived log
# is the case's log, seal entry included
x=$SCRATCH/x
mkdir "$x"
tar -C "$x" -xf "$out"
expect_eq manifest-head "$(jq -r .custody.head "$x/MANIFEST.json")" "sha256:$(tail -1 "$case/custody.jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)"
expect_eq archived-log "$(sha256sum <"$x/custody.jsonl")" "$(sha256sum <"$case/custody.jsonl")"
expect_eq member-order "$(tar -tf "$out" | head -5 | paste -sd,)" "MANIFEST.json,MANIFEST.json.minisig,SHA256SUMS,custody.jsonl,case.json"
expect_eq artifacts-all "$(tar -tf "$out" | tail -n +6 | sort | paste -sd,)" \
	"$( (cd "$case" && find . -type f ! -name custody.jsonl ! -name case.json ! -name '.*' | sed 's|^\./||') | sort | paste -sd,)"
expect_eq manifest-knows-step "$(jq -r '.members[] | select(.path == "fs/tmp/payload.bin") | .custody.tool' "$x/MANIFEST.json")" cryo-test-capture
expect_eq manifest-net-step "$(jq -r '.members[] | select(.path == "net/state-before-cut.json") | .custody.tool' "$x/MANIFEST.json")" cryo-cut

# the standard tools read it
(cd "$x" && sha256sum -c --quiet SHA256SUMS) && pass sha256sum-c || fail sha256sum-c "sha256sum -c failed"
have zstd && { zstd -tq "$out" && pass zstd-t || fail zstd-t "zstd -t rejected the archive"; }
if have bsdtar; then
	expect_eq bsdtar-lists "$(bsdtar -tf "$out" | paste -sd,)" "$(tar -tf "$out" | paste -sd,)"
else
	skip bsdtar "bsdtar missing (scripts/install-deps installs libarchive-tools)"
fi
if have minisign; then
	expect_rc minisign-V-archive 0 minisign -V -p "$k/c.pub" -m "$out"
	expect_match minisign-trusted "$OUT" "case:$(jq -r .case_id "$case/case.json")"
	expect_rc minisign-V-manifest 0 minisign -V -p "$k/c.pub" -m "$x/MANIFEST.json" -x "$x/MANIFEST.json.minisig"
else
	skip minisign "minisign missing (scripts/install-deps installs it)"
fi
expect_rc verify-dir 0 cryo-verify -p "$k/c.pub" "$x"
j=$(cryo-verify --json -p "$k/c.pub" "$out")
expect_eq verify-json-ok "$(jq -r .ok <<<"$j")" true
expect_eq verify-json-key "$(jq -r .signature.key_id <<<"$j")" "$(cryo-key show "$k/c.pub")"

# keys made by the real minisign sign cryo archives, which both verify
if have minisign; then
	minisign -G -W -p "$k/m.pub" -s "$k/m.sec" >/dev/null 2>&1
	o2=$SCRATCH/out/m.tar.zst
	expect_rc pack-minisign-key 0 cryo-pack -s "$k/m.sec" -o "$o2" "$case"
	expect_rc m-minisign-V 0 minisign -V -p "$k/m.pub" -m "$o2"
	expect_rc m-cryo-verify 0 cryo-verify -p "$k/m.pub" "$o2"
	# with a password, given on minisign's prompt through its stdin
	printf 'pw one\npw one\n' | minisign -G -p "$k/n.pub" -s "$k/n.sec" >/dev/null 2>&1
	o3=$SCRATCH/out/n.tar.zst
	expect_rc pack-minisign-pw 0 env PW='pw one' cryo-pack --password-env PW -s "$k/n.sec" -o "$o3" "$case"
	expect_rc n-minisign-V 0 minisign -V -p "$k/n.pub" -m "$o3"
	expect_rc n-cryo-verify 0 cryo-verify -p "$k/n.pub" "$o3"
	expect_rc wrong-password 1 env PW='pw two' cryo-pack --password-env PW -s "$k/n.sec" -o "$SCRATCH/out/w.tar.zst" "$case"
	[ ! -e "$SCRATCH/out/w.tar.zst" ] && pass wrong-password-nothing || fail wrong-password-nothing "archive written"
else
	skip minisign-keys "minisign missing (scripts/install-deps installs it)"
fi

# the output is never replaced, never inside the case
expect_rc exists 64 cryo-pack -s "$k/c.sec" -o "$out" "$case"
expect_rc inside-case 64 cryo-pack -s "$k/c.sec" -o "$case/fs/x.tar.zst" "$case"
expect_rc no-key 64 cryo-pack "$case"
expect_match no-key-says "$OUT" "unsigned"
expect_rc not-a-case 3 cryo-pack -s "$k/c.sec" -o "$SCRATCH/out/nc.tar.zst" "$src"
[ ! -e "$src/case.json" ] && pass not-a-case-untouched || fail not-a-case-untouched "pack made a case"

# unsigned: integrity only, said loudly
o4=$SCRATCH/out/u.tar.zst
expect_rc unsigned 0 cryo-pack --unsigned -o "$o4" "$case"
expect_match unsigned-warns "$OUT" "UNSIGNED"
[ ! -e "$o4.minisig" ] && pass unsigned-no-sig || fail unsigned-no-sig "a signature was written"
expect_rc unsigned-needs-flag 1 cryo-verify -p "$k/c.pub" "$o4"
expect_rc unsigned-verify 0 cryo-verify --unsigned "$o4"
expect_match unsigned-verify-says "$OUT" "UNSIGNED"
# a member turned into a hard link (to the custody log) is not a file of
# ours, even where its size (0) and hash would match
zstd -q -dc "$o4" >"$SCRATCH/u.tar"
python3 - "$SCRATCH/u.tar" "$SCRATCH/l.tar" <<'PY'
import sys, tarfile
src, dst = tarfile.open(sys.argv[1]), tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT)
for m in src.getmembers():
    if m.name == "fs/empty":
        m.type, m.linkname = tarfile.LNKTYPE, "custody.jsonl"
        dst.addfile(m)
    else:
        dst.addfile(m, src.extractfile(m))
dst.close()
PY
zstd -q -f "$SCRATCH/l.tar" -o "$SCRATCH/l.tar.zst"
expect_rc hardlink-member 1 cryo-verify --unsigned "$SCRATCH/l.tar.zst"
expect_match hardlink-named "$OUT" "fs/empty: not a regular file"
expect_rc hardlink-extract 1 cryo-verify --unsigned --extract "$SCRATCH/lx" "$SCRATCH/l.tar.zst"
[ ! -e "$SCRATCH/lx" ] && pass hardlink-nothing-extracted || fail hardlink-nothing-extracted "$SCRATCH/lx exists"

# JSON result
j=$(cryo-pack --json -s "$k/c.sec" -o "$SCRATCH/out/j.tar.zst" "$case")
expect_eq json-sha256 "$(jq -r .sha256 <<<"$j")" "$(sha256sum <"$SCRATCH/out/j.tar.zst" | cut -d' ' -f1)"
expect_eq json-size "$(jq -r .size <<<"$j")" "$(stat -c %s "$SCRATCH/out/j.tar.zst")"
expect_match json-blake2b "$(jq -r .blake2b <<<"$j")" "^[0-9a-f]{128}$"
expect_eq json-exit "$(jq -r .exit <<<"$j")" 0
# a progress bar on a terminal (script(1) gives the tool a pty)
if command -v script >/dev/null; then
	tty_out=$(script -qec "cryo-pack -s '$k/c.sec' -o '$SCRATCH/out/tty.tar.zst' '$case'" /dev/null 2>&1)
	expect_match progress-on-tty "$tty_out" "100\.0%.*MiB/s"
else
	skip progress-on-tty "script(1) missing (util-linux)"
fi
# no progress bar when stderr is not a terminal
expect_eq no-progress "$(cryo-pack -s "$k/c.sec" -o "$SCRATCH/out/p.tar.zst" "$case" 2>&1 >/dev/null | grep -c '%' || true)" 0

# a file no custody entry recorded is sealed but marked
echo "dropped by hand" >"$case/notes.txt"
expect_rc unrecorded 0 cryo-pack -s "$k/c.sec" -o "$SCRATCH/out/r.tar.zst" "$case"
expect_match unrecorded-warns "$OUT" "notes.txt is in no custody entry"
expect_eq unrecorded-manifest "$(tar -xOf "$SCRATCH/out/r.tar.zst" MANIFEST.json | jq -r '.unrecorded | join(",")')" notes.txt
rm "$case/notes.txt"

# names beyond ASCII are sealed as UTF-8; a name that is not UTF-8 is
# skipped and said (no tool could read it back the same)
u8=$SCRATCH/u8
mkdir -p "$u8"
echo "é" >"$u8/données-é.txt"
expect_rc capture-utf8 0 cryo-test-capture "$case" "$u8" u8
printf 'x' >"$case/bad-$(printf '\xff')-name"
expect_rc utf8-pack 0 cryo-pack -s "$k/c.sec" -o "$SCRATCH/out/u8.tar.zst" "$case"
expect_match utf8-skips-bad "$OUT" "not sealed: bad-.*name not allowed"
expect_match utf8-member "$(tar -tf "$SCRATCH/out/u8.tar.zst")" "u8/données-é.txt"
expect_rc utf8-verify 0 cryo-verify -p "$k/c.pub" "$SCRATCH/out/u8.tar.zst"
rm -f "$case"/bad-*-name

# evidence edited after capture: refused, recorded; --force seals and says
printf 'X' | dd of="$case/fs/tmp/payload.bin" bs=1 seek=1000 conv=notrunc 2>/dev/null
lines=$(wc -l <"$case/custody.jsonl")
expect_rc edited-refused 1 cryo-pack -s "$k/c.sec" -o "$SCRATCH/out/e.tar.zst" "$case"
expect_match edited-names "$OUT" "evidence changed after capture: fs/tmp/payload.bin"
[ ! -e "$SCRATCH/out/e.tar.zst" ] && [ -z "$(ls -A "$SCRATCH/out" | grep '^\.')" ] && pass edited-nothing-left || fail edited-nothing-left "$(ls -A "$SCRATCH/out")"
expect_eq edited-logged "$(tail -1 "$case/custody.jsonl" | jq -r '.action + " " + .result')" "seal error"
expect_eq edited-one-entry "$(wc -l <"$case/custody.jsonl")" $((lines + 1))
expect_rc edited-force 0 cryo-pack --force -s "$k/c.sec" -o "$SCRATCH/out/f.tar.zst" "$case"
expect_match edited-force-warns "$OUT" "payload.bin changed after capture"
expect_eq force-recorded "$(tar -xOf "$SCRATCH/out/f.tar.zst" MANIFEST.json | jq -r '.changed_after_capture[0].path')" fs/tmp/payload.bin
expect_rc force-verifies 0 cryo-verify -p "$k/c.pub" "$SCRATCH/out/f.tar.zst"
# a truncated artifact: the size differs, refused before any byte is written
truncate -s 100 "$case/fs/etc/log.txt"
expect_rc shrunk-refused 1 cryo-pack -s "$k/c.sec" -o "$SCRATCH/out/s.tar.zst" "$case"
expect_match shrunk-names "$OUT" "fs/etc/log.txt is 100 bytes"

# a broken custody chain is not sealed
cp "$case/custody.jsonl" "$SCRATCH/custody.good"
sed -i '1s/"result":"ok"/"result":"OK"/' "$case/custody.jsonl"
expect_rc broken-chain 1 cryo-pack --force -s "$k/c.sec" -o "$SCRATCH/out/b.tar.zst" "$case"
expect_match broken-chain-says "$OUT" "broken chain|chain broken"
cp "$SCRATCH/custody.good" "$case/custody.jsonl"

# a full disk: no archive, no signature, no temporary, no custody entry
fullfs=$SCRATCH/full
mkdir "$fullfs"
mount -t tmpfs -o size=1m tmpfs "$fullfs" && undo "umount '$fullfs'"
lines=$(wc -l <"$case/custody.jsonl")
expect_rc enospc 74 cryo-pack --force -s "$k/c.sec" -o "$fullfs/full.tar.zst" "$case"
expect_match enospc-says "$OUT" "No space left"
expect_eq enospc-nothing-left "$(ls -A "$fullfs" | wc -l)" 0
expect_eq enospc-case-untouched "$(wc -l <"$case/custody.jsonl")" "$lines"
finish
