#!/bin/bash
# cryo-key: minisign-format keys, with and without a password; the password
# never on the command line; files created exclusively, the secret 0600.
. "$(dirname "$0")/lib.sh"

k=$SCRATCH/keys
mkdir -p "$k"
expect_rc gen-unencrypted 0 cryo-key generate -W -p "$k/a.pub" -s "$k/a.sec"
id=$(sed -n 's/^key id //p' <<<"$OUT")
expect_match keyid-form "$id" "^[0-9A-F]{16}$"
expect_eq pub-comment "$(head -1 "$k/a.pub")" "untrusted comment: minisign public key $id"
# base64("Ed" || keynum || pk): 42 bytes, "Ed" first
expect_eq pub-layout "$(sed -n 2p "$k/a.pub" | base64 -d | head -c 2)" "Ed"
expect_eq pub-size "$(sed -n 2p "$k/a.pub" | base64 -d | wc -c)" 42
expect_eq sec-size "$(sed -n 2p "$k/a.sec" | base64 -d | wc -c)" 158
expect_eq sec-unencrypted-kdf "$(sed -n 2p "$k/a.sec" | base64 -d | head -c 6 | od -An -c | tr -s ' ')" " E d \\0 \\0 B 2"
expect_eq sec-mode "$(stat -c %a "$k/a.sec")" 600
expect_eq show-pub "$(cryo-key show "$k/a.pub")" "$id"
expect_eq show-sec "$(cryo-key show "$k/a.sec")" "$id"
expect_eq show-json "$(cryo-key show --json "$k/a.pub" | jq -r .public_key)" "$(sed -n 2p "$k/a.pub")"

# never overwrite without -f; with -f, atomically replaced
expect_rc no-overwrite 64 cryo-key generate -W -p "$k/a.pub" -s "$k/a.sec"
expect_eq untouched "$(cryo-key show "$k/a.pub")" "$id"
expect_rc force 0 cryo-key generate -W -f -p "$k/a.pub" -s "$k/a.sec"
[ "$(cryo-key show "$k/a.pub")" != "$id" ] && pass force-new-key || fail force-new-key "same key id after -f"
# a symlink planted where the secret key goes is not followed
ln -s /etc/passwd "$k/evil.sec"
expect_rc no-symlink 64 cryo-key generate -W -p "$k/evil.pub" -s "$k/evil.sec"

# encrypted with scrypt as minisign does ("Sc"), password from an fd or env
expect_rc gen-encrypted 0 sh -c "echo 'correct horse' | cryo-key generate --password-fd 0 -p '$k/b.pub' -s '$k/b.sec'"
expect_eq sec-kdf-scrypt "$(sed -n 2p "$k/b.sec" | base64 -d | head -c 6)" "EdScB2"
expect_eq show-with-password "$(echo 'correct horse' | cryo-key show --password-fd 0 "$k/b.sec")" "$(cryo-key show "$k/b.pub")"
expect_eq show-with-env "$(PW='correct horse' cryo-key show --password-env PW "$k/b.sec")" "$(cryo-key show "$k/b.pub")"
expect_rc wrong-password 1 sh -c "echo 'battery staple' | cryo-key show --password-fd 0 '$k/b.sec'"
expect_match wrong-password-msg "$OUT" "wrong password"
expect_rc no-password-source 64 sh -c "cryo-key show --password-env NOPE_UNSET '$k/b.sec'"
# corrupt and foreign files
printf 'untrusted comment: x\nnot base64!\n' >"$k/bad.pub"
expect_rc not-a-key 65 cryo-key show "$k/bad.pub"
# the reference tool reads our keys, we read its keys
if command -v minisign >/dev/null; then
	echo "evidence" >"$k/msg"
	expect_rc minisign-signs-unencrypted 0 minisign -S -s "$k/a.sec" -m "$k/msg" -x "$k/msg.a.sig"
	expect_rc minisign-verifies-our-pub 0 minisign -V -p "$k/a.pub" -m "$k/msg" -x "$k/msg.a.sig"
	expect_rc minisign-signs-encrypted 0 sh -c "echo 'correct horse' | minisign -S -s '$k/b.sec' -m '$k/msg' -x '$k/msg.b.sig'"
	expect_rc minisign-verifies-encrypted 0 minisign -V -p "$k/b.pub" -m "$k/msg" -x "$k/msg.b.sig"
	minisign -G -W -p "$k/m.pub" -s "$k/m.sec" >/dev/null 2>&1
	mid=$(cryo-key show "$k/m.pub")
	expect_match minisign-pub-read "$mid" "^[0-9A-F]{16}$"
	# minisign -W writes a zero checksum: its keys load all the same
	expect_eq minisign-unencrypted-sec "$(cryo-key show "$k/m.sec")" "$mid"
	printf 'pw one\npw one\n' | minisign -G -p "$k/n.pub" -s "$k/n.sec" >/dev/null 2>&1
	expect_eq minisign-encrypted-sec "$(PW='pw one' cryo-key show --password-env PW "$k/n.sec")" "$(cryo-key show "$k/n.pub")"
	# a damaged unencrypted key (zero checksum, halves that disagree)
	sed -n 1p "$k/m.sec" >"$k/m2.sec"
	sed -n 2p "$k/m.sec" | base64 -d | python3 -c 'import sys; b=bytearray(sys.stdin.buffer.read()); b[100]^=1; sys.stdout.buffer.write(b)' | base64 -w0 >>"$k/m2.sec"
	echo >>"$k/m2.sec"
	expect_rc minisign-damaged 1 cryo-key show "$k/m2.sec"
	expect_match minisign-damaged-msg "$OUT" "corrupt"
else
	skip minisign "minisign missing (scripts/install-deps installs it)"
fi

expect_rc usage 64 cryo-key frobnicate
expect_rc usage-gen 64 cryo-key generate -p "$k/c.pub"
finish
