#!/bin/bash
# cryo-verify against tampering: a sealed archive (and the directory it
# extracts to) must be rejected, exit 1, for any changed byte, member,
# order, manifest, key or signature, naming the first bad member; nothing
# may be left behind by --extract of a tampered archive; -m checks plain
# minisign signatures, prehashed and legacy.
#
# Tampering inside the tar cannot be re-signed without the key, so the
# detached signature fails for all of it; what each such check also asks is
# that the streaming member checks caught it on their own ("first bad
# member: ..."), which a recompressed but otherwise untouched tar must not
# trigger (recompress-control).
. "$(dirname "$0")/lib.sh"

for t in cryo-key cryo-pack cryo-verify cryo-test-capture; do
	if ! command -v "$t" >/dev/null; then
		fail setup "$t is not built (make it first)"
		finish
	fi
done
for t in python3 zstd jq; do
	if ! command -v "$t" >/dev/null; then
		fail setup "$t missing (scripts/install-deps installs it)"
		finish
	fi
done

K=$SCRATCH/keys T=$SCRATCH/t
mkdir -p "$K" "$T" "$SCRATCH/src/sub"
PY=$SCRATCH/tarkit.py
cat >"$PY" <<'EOF'
# Tar surgery for t_verify_tamper: list members, flip bytes (optionally
# fixing the header checksum, as a forger would), rebuild in another order,
# replace members from another tar, append a member, edit manifest fields.
import random, re, shutil, subprocess, sys, tarfile, io

def members(path):
    with tarfile.open(path) as t:
        return t.getmembers()

def fixsum(b, h):
    b[h + 148:h + 156] = b' ' * 8
    b[h + 148:h + 156] = b'%06o\0 ' % sum(b[h:h + 512])

def rebuild(src, out, names, pick=None):
    # names: the members of out, in order, each read from src (or pick[name])
    with tarfile.open(src) as s, tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as o:
        by = {m.name: (s, m) for m in s.getmembers()}
        for name in names:
            t, m = (pick or {}).get(name) or by[name]
            o.addfile(m, t.extractfile(m))

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == 'list':                       # list TAR: name offset offset_data size; END offset
    ms = members(a[0])
    for m in ms:
        print(m.name, m.offset, m.offset_data, m.size)
    last = ms[-1]
    print('END', last.offset_data + (last.size + 511) // 512 * 512, 0)
elif cmd == 'flip':                     # flip FILE OFFSET [fix]
    b = bytearray(open(a[0], 'rb').read())
    off = int(a[1])
    b[off] ^= 0x01
    if len(a) > 2:
        fixsum(b, off - off % 512)
    open(a[0], 'wb').write(b)
elif cmd == 'set':                      # set FILE OFFSET CHAR: one header byte, checksum fixed
    b = bytearray(open(a[0], 'rb').read())
    off = int(a[1])
    b[off] = ord(a[2])
    fixsum(b, off - off % 512)
    open(a[0], 'wb').write(b)
elif cmd == 'order':                    # order IN OUT NAME...
    rebuild(a[0], a[1], a[2:])
elif cmd == 'replace':                  # replace IN OTHER OUT NAME...: NAMEs taken from OTHER
    with tarfile.open(a[1]) as other:
        pick = {m.name: (other, m) for m in other.getmembers() if m.name in a[3:]}
        rebuild(a[0], a[2], [m.name for m in members(a[0])], pick)
elif cmd == 'append':                   # append TAR NAME TEXT: a member before the end blocks
    with tarfile.open(a[0], 'a', format=tarfile.PAX_FORMAT) as t:
        data = a[2].encode()
        ti = tarfile.TarInfo(a[1])
        ti.size, ti.mode = len(data), 0o600
        t.addfile(ti, io.BytesIO(data))
elif cmd == 'field':                    # field TAR REGEX: change the char of REGEX's group 1 in MANIFEST.json
    b = bytearray(open(a[0], 'rb').read())
    m0 = [m for m in members(a[0]) if m.name == 'MANIFEST.json'][0]
    text = bytes(b[m0.offset_data:m0.offset_data + m0.size]).decode()
    m = re.search(a[1], text, re.S)
    if not m:
        sys.exit('field: no match for ' + a[1])
    c = text[m.start(1)]
    n = (str((int(c) + 1) % 10) if c.isdigit() else 'bcdefa'['abcdef'.index(c)] if c in 'abcdef'
         else chr(ord(c) ^ 1))
    b[m0.offset_data + m.start(1)] = ord(n)
    open(a[0], 'wb').write(b)
elif cmd == 'randbytes':                # randbytes SEED N OUT
    open(a[2], 'wb').write(random.Random(int(a[0])).randbytes(int(a[1])))
elif cmd == 'flips':                    # flips ARCHIVE PUB COUNT SEED WORK: verify COUNT one-byte flips
    arch, pub, count, seed, work = a[0], a[1], int(a[2]), int(a[3]), a[4]
    data = open(arch, 'rb').read()
    rng = random.Random(seed)
    accepted, other = [], []
    shutil.copyfile(arch + '.minisig', work + '.minisig')
    for _ in range(count):
        off, x = rng.randrange(len(data)), rng.randrange(1, 256)
        b = bytearray(data)
        b[off] ^= x
        open(work, 'wb').write(b)
        rc = subprocess.run(['cryo-verify', '-p', pub, work], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
        if rc == 0:
            accepted.append(off)
        elif rc != 1:
            other.append('%d(exit %d)' % (off, rc))
    print(' '.join(map(str, accepted)) + '|' + ' '.join(other))
EOF

# v ARGS...: cryo-verify with the real key; sets RC and OUT
v() {
	OUT=$(cryo-verify -p "$K/k.pub" "$@" 2>&1)
	RC=$?
}
# zst TAR NAME: compress a tampered tar beside the original signature
# (re-signing would need the key); prints the archive's path
zst() {
	zstd -q -f "$1" -o "$T/$2.tar.zst" && cp "$A.minisig" "$T/$2.tar.zst.minisig" && echo "$T/$2.tar.zst"
}
# try LABEL ARCHIVE [GLOB]: verify must exit 1 and its output match GLOB;
# what does not is collected in BAD for report
BAD=
try() {
	local label=$1 arch=$2 want=${3:-*} flat
	if [ -z "$arch" ]; then
		BAD+="[$label: no tampered archive (zstd failed)] "
		return
	fi
	v "$arch"
	flat=${OUT//$'\n'/ | }
	if [ "$RC" != 1 ]; then
		BAD+="[$label: exit $RC: ${flat:0:200}] "
	elif [[ $OUT != $want ]]; then
		BAD+="[$label: no '$want' in: ${flat:0:200}] "
	fi
}
report() {
	if [ -z "$BAD" ]; then pass "$1"; else fail "$1" "$BAD"; fi
	BAD=
}
# tamper OP ARGS...: $W becomes a copy of the tar changed by tarkit's OP
tamper() {
	local op=$1
	shift
	cp "$TAR" "$W" && python3 "$PY" "$op" "$W" "$@" || BAD+="[tamper $op $* failed] "
}
# names MEMBER: the glob of a message naming MEMBER as bad
names() { echo "* $1: *"; }
# the first bad member is named, not empty ("first bad member: X: why")
NAMED='*first bad member: [!:[:space:]]*: *'

# --- 1. setup: a case of three files, sealed -----------------------------------
python3 "$PY" randbytes 1234 2000000 "$SCRATCH/src/big.bin"
printf 'notes taken on scene\n' >"$SCRATCH/src/notes.txt"
printf 'nested evidence\n' >"$SCRATCH/src/sub/inner.txt"
expect_rc keygen 0 cryo-key generate -W -p "$K/k.pub" -s "$K/k.sec"
KID=$(cryo-key show "$K/k.pub")
cryo-key generate -W -p "$K/o.pub" -s "$K/o.sec" >/dev/null
OID=$(cryo-key show "$K/o.pub")
expect_rc capture 0 cryo-test-capture "$SCRATCH/case" "$SCRATCH/src" host
A=$SCRATCH/a.tar.zst
expect_rc pack 0 cryo-pack -q -s "$K/k.sec" -o "$A" "$SCRATCH/case"
if [ ! -s "$A" ] || [ ! -s "$A.minisig" ]; then
	fail setup "no archive to tamper with"
	finish
fi
expect_rc verify-ok 0 cryo-verify -p "$K/k.pub" "$A"
expect_match verify-ok-msg "$OUT" "^OK: .*5 members.*signed by key $KID"
J=$(cryo-verify -p "$K/k.pub" --json "$A")
expect_eq json-ok "$(jq -c '[.ok, .signature.ok, .signature.key_id, (.bad | length), .exit]' <<<"$J")" "[true,true,\"$KID\",0,0]"
# each name once per object: with "ok" twice a reader keeping the first
# value sees a good archive as unsigned
DUPS=$(python3 -c '
import json, sys
d = []
def hook(p):
    k = [x for x, _ in p]
    d.extend(sorted({x for x in k if k.count(x) > 1}))
    return dict(p)
json.loads(sys.stdin.read(), object_pairs_hook=hook)
print(" ".join(d))' <<<"$J")
expect_eq json-unique-keys "$DUPS" ""
# --unsigned on a signed archive: integrity only, or a refusal; not a crash
cryo-verify --unsigned "$A" >/dev/null 2>&1
rc=$?
if [ $rc -le 1 ]; then pass unsigned-no-crash; else fail unsigned-no-crash "cryo-verify --unsigned SIGNED_ARCHIVE exited $rc"; fi
expect_rc minisign-format 0 cryo-verify -p "$K/k.pub" -m "$A"

# --- 2. one byte flipped anywhere in the archive --------------------------------
r=$(python3 "$PY" flips "$A" "$K/k.pub" 200 1234 "$T/flip.tar.zst")
if [ "$r" = "|" ]; then
	pass flip-200
else
	fail flip-200 "accepted at offsets: ${r%%|*}; wrong exit at: ${r#*|}"
fi

# --- 3. inside the tar: headers, data, end blocks, manifest fields -------------
TAR=$SCRATCH/a.tar
zstd -q -d "$A" -o "$TAR"
mapfile -t LIST < <(python3 "$PY" list "$TAR")
[ ${#LIST[@]} = 9 ] && pass tar-layout || fail tar-layout "wanted 8 members and END: ${LIST[*]}"
W=$T/w.tar
# the control: untouched, recompressed: only the signature is wrong
cp "$TAR" "$W"
try control "$(zst "$W" control)" "*signature does not match the data*"
[[ $OUT != *"first bad member"* ]] || BAD+="[a member blamed: ${OUT:0:240}]"
report recompress-control
# collect VAR: move what try found into VAR
collect() {
	eval "$1+=\$BAD"
	BAD=
}
B_RAW= B_NAME= B_SIZE= B_TYPE= B_MTIME= B_DATA=
for line in "${LIST[@]}"; do
	read -r name off doff size <<<"$line"
	[ "$name" = END ] && break
	# a damaged header (checksum left wrong): some member must be named
	tamper flip "$off"
	try "$name" "$(zst "$W" hraw)" "$NAMED"
	collect B_RAW
	# forged name, size, type (checksum fixed): the member is named
	tamper flip "$off" fix
	try "$name" "$(zst "$W" hname)" "$(names "$name")"
	collect B_NAME
	tamper flip $((off + 124)) fix
	try "$name" "$(zst "$W" hsize)" "$(names "$name")"
	collect B_SIZE
	tamper set $((off + 156)) 5
	try "$name" "$(zst "$W" htype)" "$(names "$name")"
	collect B_TYPE
	# metadata the manifest does not cover (mtime): the signature catches it
	tamper flip $((off + 136)) fix
	try "$name" "$(zst "$W" hmtime)" "*signature does not match the data*"
	collect B_MTIME
	# the first data byte; a broken manifest signature is blamed on the manifest
	tamper flip "$doff"
	want=$name
	[ "$name" = MANIFEST.json.minisig ] && want=MANIFEST.json
	try "$name" "$(zst "$W" data)" "$(names "$want")"
	collect B_DATA
done
for r in hdr-raw:B_RAW hdr-name:B_NAME hdr-size:B_SIZE hdr-type:B_TYPE hdr-mtime:B_MTIME data:B_DATA; do
	var=${r#*:}
	BAD=${!var}
	report "tar-${r%%:*}"
done
END=$(sed -n 's/^END \([0-9]*\).*/\1/p' <<<"${LIST[8]}")
TSIZE=$(stat -c %s "$TAR")
for o in "$END" $((END + 511)) $((END + 512)) $((TSIZE - 1)); do
	tamper flip "$o"
	try "end+$((o - END))" "$(zst "$W" end)"
done
report tar-end-blocks
for f in 'case_id:"case_id":\s*"(.)' \
	'head:"head":\s*"sha256:(.)' \
	'version:"version":\s*(\d)' \
	'size:"path":\s*"host/big.bin",\s*"size":\s*(\d)' \
	'sha256:"path":\s*"host/notes.txt",\s*"size":\s*\d+,\s*"sha256":\s*"(.)' \
	'path:"path":\s*"host/(s)ub' \
	'custody-sha:"path":\s*"custody.jsonl",.*?"sha256":\s*"(.)'; do
	cp "$TAR" "$W"
	if ! python3 "$PY" field "$W" "${f#*:}"; then
		fail "manifest-${f%%:*}" "no such field in the manifest"
		continue
	fi
	try "${f%%:*}" "$(zst "$W" field)" "*MANIFEST.json: its signature does not hold*"
	report "manifest-${f%%:*}"
done

# --- 4. truncation, keys, signatures, order, replay, extra members --------------
ASIZE=$(stat -c %s "$A")
for n in 0 1 100 4096 $((ASIZE / 2)) $((ASIZE - 1)); do
	head -c "$n" "$A" >"$T/trunc.tar.zst" && cp "$A.minisig" "$T/trunc.tar.zst.minisig"
	try "$n bytes" "$T/trunc.tar.zst"
done
report truncated
# the tar cut after case.json: the artifacts are missing, by name
head -c "$(read -r _ off _ <<<"${LIST[5]}"; echo "$off")" "$TAR" >"$W"
try cut "$(zst "$W" cut)" "$(names host/big.bin)"
[[ $OUT == *"host/big.bin: missing from the archive"* ]] || BAD+="[cut: big.bin not said missing: ${OUT:0:240}]"
report tar-cut-members
# the tar cut after the last member, no end blocks
head -c "$END" "$TAR" >"$W"
try cut-end "$(zst "$W" cutend)"
report tar-cut-end
# wrong public key: says which key signed
expect_rc wrong-key 1 cryo-verify -p "$K/o.pub" "$A"
expect_match wrong-key-msg "$OUT" "signed with key $KID, not with key $OID"
# the signature of another archive (another case, same key)
mkdir -p "$SCRATCH/src2"
printf 'other case\n' >"$SCRATCH/src2/x.txt"
cryo-test-capture "$SCRATCH/case2" "$SCRATCH/src2" host >/dev/null 2>&1
B=$SCRATCH/b.tar.zst
if cryo-pack -q -s "$K/k.sec" -o "$B" "$SCRATCH/case2" >/dev/null 2>&1; then
	cp "$A" "$T/swap-a.tar.zst" && cp "$B.minisig" "$T/swap-a.tar.zst.minisig"
	cp "$B" "$T/swap-b.tar.zst" && cp "$A.minisig" "$T/swap-b.tar.zst.minisig"
	try a-with-b-sig "$T/swap-a.tar.zst" "*signature does not match the data*"
	try b-with-a-sig "$T/swap-b.tar.zst" "*signature does not match the data*"
	report other-signature
	# the two are good on their own
	expect_rc other-archive-ok 0 cryo-verify -p "$K/k.pub" "$B"
else
	fail other-signature "cryo-pack of a second case failed"
fi
# members in another order (rebuilt tar, so not re-signable either)
ALL=(MANIFEST.json MANIFEST.json.minisig SHA256SUMS custody.jsonl case.json host/big.bin host/notes.txt host/sub/inner.txt)
python3 "$PY" order "$TAR" "$W" "${ALL[@]}"
try rebuilt "$(zst "$W" rebuilt)" "*signature does not match the data*"
[[ $OUT != *"first bad member"* ]] || BAD+="[rebuilt in the same order, a member blamed: ${OUT:0:240}]"
report rebuilt-control
python3 "$PY" order "$TAR" "$W" "${ALL[@]:0:5}" host/notes.txt host/big.bin host/sub/inner.txt
try artifacts "$(zst "$W" order1)" "*host/big.bin: missing or out of order*"
python3 "$PY" order "$TAR" "$W" "${ALL[@]:0:3}" case.json custody.jsonl "${ALL[@]:5}"
try custody-case "$(zst "$W" order2)" "*custody.jsonl: missing or out of order*"
python3 "$PY" order "$TAR" "$W" "${ALL[@]:0:5}" host/sub/inner.txt host/big.bin host/notes.txt
try last-first "$(zst "$W" order3)" "*host/big.bin: missing or out of order*"
report swapped-members
# a member missing from the middle
python3 "$PY" order "$TAR" "$W" "${ALL[@]:0:5}" host/big.bin host/sub/inner.txt
try dropped "$(zst "$W" drop)" "*host/notes.txt: missing or out of order*"
report dropped-member
# an old manifest replayed: the case sealed again after one more capture,
# with the first seal's manifest and its signature
mkdir -p "$SCRATCH/src3"
printf 'captured later\n' >"$SCRATCH/src3/late.txt"
A2=$SCRATCH/a2.tar.zst
if cryo-test-capture "$SCRATCH/case" "$SCRATCH/src3" later >/dev/null 2>&1 &&
	cryo-pack -q -s "$K/k.sec" -o "$A2" "$SCRATCH/case" >/dev/null 2>&1; then
	expect_rc resealed-ok 0 cryo-verify -p "$K/k.pub" "$A2"
	zstd -q -d "$A2" -o "$T/a2.tar"
	python3 "$PY" replace "$T/a2.tar" "$TAR" "$W" MANIFEST.json MANIFEST.json.minisig
	zstd -q -f "$W" -o "$T/replay.tar.zst" && cp "$A2.minisig" "$T/replay.tar.zst.minisig"
	try replay "$T/replay.tar.zst" "$NAMED"
	[[ $OUT == *"later/late.txt: not in the manifest"* ]] || BAD+="[the later capture not named: ${OUT:0:240}]"
	report old-manifest
	# and the replay with the first seal's SHA256SUMS, custody log and case too
	python3 "$PY" replace "$T/a2.tar" "$TAR" "$W" MANIFEST.json MANIFEST.json.minisig SHA256SUMS custody.jsonl case.json
	zstd -q -f "$W" -o "$T/replay2.tar.zst" && cp "$A2.minisig" "$T/replay2.tar.zst.minisig"
	try replay-all "$T/replay2.tar.zst" "$(names later/late.txt)"
	report old-manifest-whole
else
	fail old-manifest "second capture or seal of the case failed"
fi
# a member appended (before the end blocks): new, or a second copy
tamper append host/planted.txt "planted"
try extra "$(zst "$W" extra)" "*host/planted.txt: not in the manifest*"
report extra-member
tamper append host/notes.txt "notes taken on scene"
try dup "$(zst "$W" dup)" "*host/notes.txt: appears twice*"
report duplicate-member
# the detached signature missing
cp "$A" "$T/nosig.tar.zst"
expect_rc sig-missing 1 cryo-verify -p "$K/k.pub" "$T/nosig.tar.zst"
# its trusted comment edited (the case id is what cryo-verify reads there)
cp "$A" "$T/tc.tar.zst"
sed '3s/timestamp:[0-9]/timestamp:9/' "$A.minisig" >"$T/tc.tar.zst.minisig"
if cmp -s "$A.minisig" "$T/tc.tar.zst.minisig"; then
	fail trusted-comment "sed changed nothing: $(sed -n 3p "$A.minisig")"
else
	expect_rc trusted-comment 1 cryo-verify -p "$K/k.pub" "$T/tc.tar.zst"
	expect_match trusted-comment-msg "$OUT" "trusted comment"
fi
# a tampered archive in --json: ok false, the member named, exit 1
tamper flip "$(read -r _ _ doff _ <<<"${LIST[6]}"; echo "$doff")"
JT=$(cryo-verify -p "$K/k.pub" --json "$(zst "$W" json)" 2>/dev/null)
expect_eq json-tampered "$(jq -c '[.ok, .bad[0].member, .exit]' <<<"$JT" 2>&1)" '[false,"host/notes.txt",1]'
BAD=

# --- 5. an extracted directory ------------------------------------------------
X=$SCRATCH/x
expect_rc extract 0 cryo-verify -p "$K/k.pub" --extract "$X" "$A"
expect_eq extract-files "$(cd "$X" 2>/dev/null && find . -type f | sort | tr '\n' ' ')" \
	"./MANIFEST.json ./MANIFEST.json.minisig ./SHA256SUMS ./case.json ./custody.jsonl ./host/big.bin ./host/notes.txt ./host/sub/inner.txt "
expect_rc dir-ok 0 cryo-verify -p "$K/k.pub" "$X"
expect_rc dir-sha256sum 0 sh -c "cd '$X' && sha256sum --quiet -c SHA256SUMS"
# dirtry NAME GLOB CMD...: CMD (run in a fresh copy of the directory) must
# make verification fail, naming what GLOB names
dirtry() {
	local name=$1 want=$2
	shift 2
	if rm -rf "$T/d" && cp -a "$X" "$T/d" && (cd "$T/d" && "$@"); then
		try "$name" "$T/d" "$want"
	else
		BAD="could not tamper: $*"
	fi
	report "$name"
}
dirtry dir-edited "$(names host/big.bin)" python3 "$PY" flip host/big.bin 1000000
dirtry dir-deleted "$(names host/notes.txt)" rm host/notes.txt
dirtry dir-extra "$(names host/sub/extra.txt)" sh -c 'echo x >host/sub/extra.txt'
dirtry dir-manifest "$(names MANIFEST.json)" sed -i 's/"host":/"host" :/' MANIFEST.json
dirtry dir-truncated "$(names host/big.bin)" truncate -s 1999999 host/big.bin
dirtry dir-custody "$(names custody.jsonl)" sed -i '1s/"seq":1/"seq":7/' custody.jsonl
dirtry dir-sums "$(names SHA256SUMS)" python3 -c '
l = open("SHA256SUMS").read().split("\n")
l[1] = ("1" if l[1][0] == "0" else "0") + l[1][1:]
open("SHA256SUMS", "w").write("\n".join(l))'
dirtry dir-no-sig "$(names MANIFEST.json.minisig)" rm MANIFEST.json.minisig
dirtry dir-symlink "$(names host/notes.txt)" sh -c 'cp host/notes.txt ../notes.txt && ln -sf ../../notes.txt host/notes.txt'

# --- 6. --extract of a tampered archive leaves nothing ------------------------
tamper flip "$(read -r _ _ doff _ <<<"${LIST[7]}"; echo "$doff")"
E1=$(zst "$W" ex-lastdata)
tamper flip "$(read -r _ off _ <<<"${LIST[7]}"; echo $((off + 136)))" fix
E2=$(zst "$W" ex-mtime)
head -c $((ASIZE / 2)) "$A" >"$T/ex-trunc.tar.zst" && cp "$A.minisig" "$T/ex-trunc.tar.zst.minisig"
cp "$A" "$T/ex-key.tar.zst" && cp "$A.minisig" "$T/ex-key.tar.zst.minisig"
mkdir -p "$SCRATCH/ex"
n=0
for arch in "$E1" "$E2" "$T/ex-trunc.tar.zst" "$T/ex-key.tar.zst"; do
	n=$((n + 1))
	key=$K/k.pub
	[ "$arch" = "$T/ex-key.tar.zst" ] && key=$K/o.pub
	OUT=$(cryo-verify -p "$key" --extract "$SCRATCH/ex/out$n" "$arch" 2>&1)
	rc=$?
	[ $rc = 1 ] || BAD+="[$(basename "$arch"): exit $rc: ${OUT:0:200}] "
done
left=$(ls -A "$SCRATCH/ex")
[ -z "$left" ] || BAD+="[left behind: $(tr '\n' ' ' <<<"$left")]"
report extract-tampered
# relative paths, from another directory
OUT=$(cd "$SCRATCH/ex" && cryo-verify -p "$K/k.pub" --extract rel "$E1" 2>&1)
rc=$?
left=$(ls -A "$SCRATCH/ex")
if [ $rc = 1 ] && [ -z "$left" ]; then pass extract-tampered-relative; else fail extract-tampered-relative "exit $rc, left: $left"; fi

# --- 7. -m: any file with a minisign signature --------------------------------
if command -v minisign >/dev/null; then
	M=$SCRATCH/m
	mkdir -p "$M"
	python3 "$PY" randbytes 99 300000 "$M/f.bin"
	if minisign -S -s "$K/k.sec" -m "$M/f.bin" -x "$M/f.sig" </dev/null >/dev/null 2>&1; then
		expect_eq m-prehashed-format "$(sed -n 2p "$M/f.sig" | base64 -d 2>/dev/null | head -c 2)" ED
		expect_rc m-ok 0 cryo-verify -p "$K/k.pub" -m "$M/f.bin" -x "$M/f.sig"
		expect_match m-ok-msg "$OUT" "signed by key $KID"
		cp "$M/f.bin" "$M/g.bin" && python3 "$PY" flip "$M/g.bin" 150000
		expect_rc m-flipped 1 cryo-verify -p "$K/k.pub" -m "$M/g.bin" -x "$M/f.sig"
		expect_rc m-wrong-key 1 cryo-verify -p "$K/o.pub" -m "$M/f.bin" -x "$M/f.sig"
	else
		fail m-sign "minisign -S refused cryo-key's unencrypted key"
	fi
	if minisign -h 2>&1 | grep -q -- '-l  '; then
		if minisign -S -l -s "$K/k.sec" -m "$M/f.bin" -x "$M/l.sig" </dev/null >/dev/null 2>&1; then
			expect_eq m-legacy-format "$(sed -n 2p "$M/l.sig" | base64 -d 2>/dev/null | head -c 2)" Ed
			expect_rc m-legacy-ok 0 cryo-verify -p "$K/k.pub" -m "$M/f.bin" -x "$M/l.sig"
			expect_rc m-legacy-flipped 1 cryo-verify -p "$K/k.pub" -m "$M/g.bin" -x "$M/l.sig"
		else
			fail m-legacy "minisign -S -l failed"
		fi
	else
		skip m-legacy "this minisign has no -l (legacy signatures)"
	fi
	expect_rc minisign-checks-archive 0 minisign -V -p "$K/k.pub" -m "$A"
else
	skip minisign "MINISIGN MISSING: -m not checked against the reference tool (scripts/install-deps installs it)"
fi
finish
