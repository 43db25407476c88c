#!/bin/bash
# cryo-report on a real captured runc container: privileged enough to be
# dangerous (CAP_SYS_ADMIN, the Docker socket bind-mounted), running a
# process whose command line is HTML, with files named like HTML in its
# upper dir.  The report must verify the archive, show the main sections,
# the findings with their evidence, the process tree and the changes; the
# attacker's markup must appear only escaped, and Chromium (headless, no
# network) must render the page without running anything.  A tampered
# archive gives no report; --no-verify gives one that says NOT VERIFIED.
# Then a Docker container with the host's PID and IPC namespaces,
# CAP_SYS_ADMIN and the socket mounted: the same findings, and those.
# Traffic: none (Chromium runs with background networking off, and the page
# forbids every fetch).
. "$(dirname "$0")/lib.sh"
need_root

id=cryorep-$$
xss='<script>document.title="pwned"</script>'
touch "$SCRATCH/docker.sock"
RUNC_CAPS=CAP_SYS_ADMIN RUNC_BIND="$SCRATCH/docker.sock:/var/run/docker.sock" \
	runc_start "$id" /cryo/memprobe "$xss" /tmp 8 - || { fail start "runc"; finish; }
upper=$(runc_upper "$id")
wait_for 20 test -s "$upper/tmp/addrs" || { fail ready "memprobe"; finish; }
runc exec "$id" /bin/sh -c '
	echo x >"/tmp/\"><img src=x onerror=document.title=1>"
	echo x >"/tmp/<script>alert(1)<script>"
	cp /bin/busybox /tmp/.hidden-tool' || fail attack "files"
case=$SCRATCH/case
check freeze cryo-freeze -c "$case" "$id"
check proc cryo-proc -q -c "$case" "$id"
check fs cryo-fs -q -c "$case" "$id"
cryo-key generate -W -p "$SCRATCH/k.pub" -s "$SCRATCH/k.sec" >/dev/null
check pack cryo-pack -q -s "$SCRATCH/k.sec" -o "$SCRATCH/case.tar.zst" "$case"
cryo-freeze -q --thaw -c "$case" "$id"

html=$SCRATCH/report.html
expect_rc report 0 cryo-report -p "$SCRATCH/k.pub" -o "$html" --iocs "$SCRATCH/iocs.csv" --bodyfile "$SCRATCH/body" "$SCRATCH/case.tar.zst"
for s in verification summary custody findings processes filesystem network iocs; do
	grep -q "id=$s" "$html" || fail "section-$s" "missing"
done
pass sections
expect_match verified-banner "$(grep -o 'id=verification[^<]*' "$html")" "Verified: signature by key"
expect_match csp "$(head -5 "$html")" "Content-Security-Policy\" content=\"default-src 'none'"
if grep -qF '<script>document.title' "$html" || grep -qF '<img src=x' "$html" || grep -qF '<script>alert' "$html"; then
	fail markup-escaped "attacker markup appears raw: $(grep -oF -e '<script>' -e '<img src=x' "$html" | head -3)"
else
	pass markup-escaped
fi
grep -qF '&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;' "$html" && pass cmdline-shown-as-text ||
	fail cmdline-shown-as-text "the command line is not in the page, escaped"
grep -qF '&quot;&gt;&lt;img src=x onerror=document.title=1&gt;' "$html" && pass filename-shown-as-text ||
	fail filename-shown-as-text "the file name is not in the page, escaped"
json=$(cryo-report -p "$SCRATCH/k.pub" --json "$SCRATCH/case.tar.zst")
expect_eq finding-cap-sys-admin "$(jq -r '[.findings[] | select(.id == "cap_sys_admin")] | length' <<<"$json")" 1
expect_eq finding-docker-socket "$(jq -r '[.findings[] | select(.id == "runtime-socket")] | length' <<<"$json")" 1
expect_match finding-evidence "$(jq -r '.findings[] | select(.id == "runtime-socket") | .evidence[0]' <<<"$json")" "fs/mounts.json: /var/run/docker.sock"
expect_match tree-has-memprobe "$(grep -o '<svg class=tree.*</svg>' "$html")" "memprobe"
expect_eq changes-counted "$(jq '.changes.added >= 3' <<<"$json")" true
expect_match ioc-tool "$(cat "$SCRATCH/iocs.csv")" "\"sha256\",\"$(sha256sum <"$upper/tmp/.hidden-tool" | cut -d' ' -f1)\""
expect_match bodyfile "$(head -3 "$SCRATCH/body")" '^0\|'
[ "$(stat -c %a "$html")" = 600 ] && pass report-mode-0600 || fail report-mode-0600 "$(stat -c %a "$html")"

# the page in a real browser: rendered, nothing run
if command -v chromium >/dev/null; then
	ch() { timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
		--user-data-dir="$SCRATCH/chrome" "$@" 2>/dev/null; }
	dom=$(ch --dump-dom "file://$html")
	for s in summary custody findings processes filesystem network; do
		grep -q "id=\"$s\"" <<<"$dom" || fail "browser-section-$s" "not in the DOM"
	done
	pass browser-sections
	expect_match browser-title-untouched "$(grep -o '<title>[^<]*</title>' <<<"$dom")" "<title>cryo report "
	if grep -q '<script' <<<"$dom"; then fail browser-no-script "a script element in the DOM"; else pass browser-no-script; fi
	ch --screenshot="$SCRATCH/shot.png" --window-size=1200,1800 "file://$html" >/dev/null
	[ -n "${CRYO_KEEP_SCREENSHOT:-}" ] && cp "$SCRATCH/shot.png" "$CRYO_KEEP_SCREENSHOT"
	[ -s "$SCRATCH/shot.png" ] && pass browser-screenshot || fail browser-screenshot "no screenshot"
else
	skip browser "chromium is not installed (scripts/install-deps installs it)"
fi

# a tampered archive: no report; --no-verify: a report that says so
cp "$SCRATCH/case.tar.zst" "$SCRATCH/bad.tar.zst"
cp "$SCRATCH/case.tar.zst.minisig" "$SCRATCH/bad.tar.zst.minisig"
printf 'X' | dd of="$SCRATCH/bad.tar.zst" bs=1 seek=$(( $(stat -c %s "$SCRATCH/bad.tar.zst") - 100 )) conv=notrunc status=none
expect_rc tampered-refused 1 cryo-report -p "$SCRATCH/k.pub" -o "$SCRATCH/bad.html" "$SCRATCH/bad.tar.zst"
[ ! -e "$SCRATCH/bad.html" ] && pass tampered-no-page || fail tampered-no-page "a page was written"
expect_rc no-verify 0 cryo-report --no-verify -o "$SCRATCH/nv.html" "$SCRATCH/case.tar.zst"
expect_match no-verify-banner "$(grep -o 'id=verification class="banner unverified">[^<]*' "$SCRATCH/nv.html")" "NOT VERIFIED"
expect_rc no-key-usage 64 cryo-report "$SCRATCH/case.tar.zst"
expect_rc not-over-archive 64 cryo-report -p "$SCRATCH/k.pub" -o "$SCRATCH/case.tar.zst" "$SCRATCH/case.tar.zst"
ln -s case.tar.zst "$SCRATCH/alias.html"
expect_rc not-over-archive-by-link 64 cryo-report -p "$SCRATCH/k.pub" -o "$SCRATCH/alias.html" "$SCRATCH/case.tar.zst"
expect_rc not-over-device 64 cryo-report -p "$SCRATCH/k.pub" --bodyfile /dev/null -o "$SCRATCH/ok.html" "$SCRATCH/case.tar.zst"
[ -c /dev/null ] && pass dev-null-intact || fail dev-null-intact "/dev/null is no longer a device"
expect_rc no-verify-not-archive 1 cryo-report --no-verify -o "$SCRATCH/x.html" "$SCRATCH/iocs.csv"
[ ! -e "$SCRATCH/x.html" ] && pass no-page-from-non-archive || fail no-page-from-non-archive "a page was written"
# the same on a Docker container sharing the host's PID namespace
if need_docker docker-report; then
	dname=cryorep-dk-$$
	docker rm -f "$dname" >/dev/null 2>&1
	did=$(docker run -d --name "$dname" --label cryo-test=1 --network none --pid=host --ipc=host --cap-add SYS_ADMIN \
		-v "$SCRATCH/docker.sock:/var/run/docker.sock" "$IMAGE" /cryo/memprobe dk /tmp 8 -) ||
		{ fail docker-start "docker run"; finish; }
	undo "docker rm -f '$dname'"
	undo "echo 0 >'$CGV2/docker/$did/cgroup.freeze'"
	wait_for 30 sh -c "docker exec '$did' cat /tmp/addrs | grep -q ready" || fail docker-ready "memprobe"
	dcase=$SCRATCH/dcase
	check docker-freeze cryo-freeze -c "$dcase" "${did:0:12}"
	check docker-proc cryo-proc -q -c "$dcase" "${did:0:12}"
	check docker-fs cryo-fs -q -c "$dcase" "${did:0:12}"
	check docker-pack cryo-pack -q -s "$SCRATCH/k.sec" -o "$SCRATCH/dcase.tar.zst" "$dcase"
	cryo-freeze -q --thaw -c "$dcase" "${did:0:12}"
	djson=$(cryo-report -p "$SCRATCH/k.pub" --json "$SCRATCH/dcase.tar.zst")
	expect_eq docker-report-container "$(jq -r .container.id <<<"$djson")" "$did"
	expect_eq docker-report-runtime "$(jq -r .container.runtime <<<"$djson")" docker
	expect_eq docker-report-image "$(jq -r .container.image <<<"$djson")" "$IMAGE"
	for f in cap_sys_admin runtime-socket host-pid host-ipc root; do
		expect_eq "docker-finding-$f" "$(jq --arg f "$f" '[.findings[] | select(.id == $f)] | length' <<<"$djson")" 1
	done
	expect_match docker-tree "$(jq -r '.processes[].exe' <<<"$djson")" "/cryo/memprobe"
fi
finish
