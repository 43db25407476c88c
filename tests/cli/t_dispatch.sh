#!/bin/bash
# The cryo dispatcher: cryo VERB execs cryo-VERB next to itself, then on PATH.
. "$(dirname "$0")/lib.sh"

expect_rc help 0 cryo help
expect_match help-lists "$OUT" "freeze +freeze, thaw"
expect_match help-lists-ls "$OUT" "ls +list containers"
expect_rc version 0 cryo --version
expect_match version-text "$OUT" "^cryo \(cryo\) [0-9]+\.[0-9]+"
expect_rc no-verb 64 cryo
expect_rc unknown 64 cryo frobnicate
expect_match unknown-msg "$OUT" "not a cryo verb"
# no abbreviations: "fre" is not "freeze"
expect_rc no-prefix 64 cryo fre
expect_rc bad-chars 64 cryo '../../bin/sh'
expect_rc verb-help 0 cryo freeze --help
expect_match verb-help-text "$OUT" "^Usage: cryo-freeze"
expect_rc help-verb 0 cryo help ls
expect_match help-verb-text "$OUT" "^Usage: cryo-ls"
# found next to itself even with an empty PATH
expect_rc next-to-self 0 env PATH=/nonexistent "$BIN/cryo" ls --help
# found on PATH when not next to itself; a verb found nowhere says so
mkdir -p "$SCRATCH/a" "$SCRATCH/b"
cp "$BIN/cryo" "$SCRATCH/a/"
expect_rc not-installed 69 env PATH=/nonexistent "$SCRATCH/a/cryo" replay
expect_rc replay-help 0 cryo replay --help
expect_match replay-help-text "$OUT" "^Usage: cryo-replay"
printf '#!/bin/sh\necho from-path "$@"\n' >"$SCRATCH/b/cryo-zzz"
chmod +x "$SCRATCH/b/cryo-zzz"
expect_eq on-path "$(PATH=$SCRATCH/b "$SCRATCH/a/cryo" zzz x y)" "from-path x y"
finish
