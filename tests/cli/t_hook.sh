#!/bin/bash
# cryo-hook against real runc (and Docker) containers: Falco-shaped alerts
# on stdin and over HTTP (token, wrong methods, oversized bodies), the
# freeze done in the hook before anything slower, one response per
# container in a storm of 5,000 alerts across 20 containers (every alert
# journaled, bounded memory), malformed input of every kind, SIGTERM during
# a response (resumable), SIGHUP reloading the policy, notify commands,
# dry runs.  Traffic: HTTP on 127.0.0.1 only, to the hook the test started.
. "$(dirname "$0")/lib.sh"
need_root

cryo-key generate -W -p "$SCRATCH/k.pub" -s "$SCRATCH/k.sec" >/dev/null 2>&1 || { fail key "no key"; finish; }
K=$SCRATCH/k.sec
frozen() { [ "$(cat "$1/cgroup.freeze" 2>/dev/null)" = 1 ] && grep -qx 'frozen 1' "$1/cgroup.events"; }
has() { jq -s -e "any(.[]; $2)" "$1" >/dev/null 2>&1; }
count() { jq -s "map(select($2)) | length" "$1" 2>/dev/null || echo 0; }
# alert ID [PRIORITY [RULE]]: one line as Falco prints it with json_output
alert() {
	jq -cn --arg id "$1" --arg p "${2:-Critical}" --arg r "${3:-Terminal shell in container}" '{
		hostname: "node-1", output: ("15:01:02.123456789: " + $p + " A shell was spawned in a container (user=root container_id=" + $id + ")"),
		output_fields: {"container.id": $id, "container.name": "web", "container.image.repository": "busybox",
			"evt.time": 1, "proc.cmdline": "sh -i", "proc.name": "sh", "proc.pid": 4242,
			"user.name": "root", "k8s.ns.name": null, "k8s.pod.name": null},
		priority: $p, rule: $r, source: "syscall", tags: ["container", "mitre_execution", "shell"],
		time: "2026-11-29T15:01:02.123456789Z"}' | sed 's/"evt.time":1,/"evt.time":1795964462123456789,/'
	# (jq itself would round Falco's nanosecond integer)
}
# start_hook JOURNAL ARGS...: cryo-hook reading the FIFO $SCRATCH/in.N, fd 7 writes to it
hookn=0
start_hook() {
	local j=$1
	shift
	hookn=$((hookn + 1))
	mkfifo "$SCRATCH/in.$hookn"
	cryo-hook --journal "$j" "$@" <"$SCRATCH/in.$hookn" 2>>"$SCRATCH/hook.err" &
	HOOK=$!
	undo "kill -9 $HOOK 2>/dev/null"
	exec 7>"$SCRATCH/in.$hookn"
	wait_for 10 has "$j" '.event == "start"'
}
send() { printf '%s\n' "$1" >&7; }
stop_hook() { exec 7>&-; wait "$HOOK"; }

# ---- one alert on stdin: frozen at once, the whole response, recorded --------
id=cryohk-$$
runc_start "$id" /bin/sleep 600 || { fail start runc; finish; }
CG=$CGV2/cryo-test/$id
R=$SCRATCH/r1
J=$SCRATCH/j1.jsonl
alert "$id" | cryo-hook --case-root "$R" -k "$K" --journal "$J" 2>"$SCRATCH/e1"
expect_eq stdin-exit "$?" 0
expect_eq stdin-decision "$(jq -r 'select(.event == "alert") | .decision' "$J")" respond
has "$J" '.event == "alert" and .freeze == "frozen" and .alert_to_frozen_ms > 0 and .alert_to_frozen_ms < 5000' &&
	pass stdin-frozen-by-hook || fail stdin-frozen-by-hook "$(grep '"alert"' "$J")"
expect_eq stdin-response "$(jq -r 'select(.event == "response-end") | "\(.exit) \(.result)"' "$J")" "0 complete"
c=$(jq -r 'select(.event == "response-end") | .case' "$J")
check stdin-verifies cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"
has "$c/custody.jsonl" '.action == "freeze" and .details.trigger.rule == "Terminal shell in container" and .details.hook_freeze.state == "frozen"' &&
	pass trigger-in-custody || fail trigger-in-custody "no trigger"
expect_eq trigger-in-plan "$(jq -r '.trigger.output_fields["proc.pid"]' "$c/respond.json")" 4242
# the alert kept byte for byte: evt.time's nanoseconds are not rounded
tar --zstd -xOf "$c.tar.zst" trigger.json | grep -q '"evt.time":1795964462123456789,' && pass trigger-verbatim || fail trigger-verbatim "rounded or missing"
grep -q '"evt.time":1795964462123456789,' "$J" && pass journal-verbatim || fail journal-verbatim "the journal rounded the alert"
cryo-report -p "$SCRATCH/k.pub" --json "$c.tar.zst" | jq -e '[.custody[] | select(.trigger)] | length > 0' >/dev/null &&
	pass trigger-in-report || fail trigger-in-report "the report shows no trigger"
cryo-report -p "$SCRATCH/k.pub" -o "$SCRATCH/r1.html" "$c.tar.zst" >/dev/null 2>&1
grep -q 'Trigger: <b>Terminal shell in container</b> (Critical)' "$SCRATCH/r1.html" && pass trigger-on-page || fail trigger-on-page "not on the page"
frozen "$CG" && pass stdin-left-frozen || fail stdin-left-frozen "not frozen"
has "$J" '.event == "stopped"' && pass stdin-stopped || fail stdin-stopped "no stopped event"
cryo-cut -q --restore --case "$c" "$id" >/dev/null 2>&1
cryo-freeze -q --thaw "$id"

# ---- policy checks ----------------------------------------------------------
cat >"$SCRATCH/p-good.json" <<EOF
{"debounce_seconds": 60, "rules": [
 {"name": "ns", "match": {"fields": {"k8s.ns.name": "kube-*"}}, "actions": []},
 {"name": "shells", "match": {"rule": "*shell*", "priority": "Warning", "tags": ["shell"]},
  "actions": ["freeze", {"capture": {"memory": false}}, "seal",
              {"notify": {"command": ["/bin/sh", "-c", "cat >$SCRATCH/notified.json"], "timeout_seconds": 10}}]}]}
EOF
expect_rc check-good 0 cryo-hook --check --policy "$SCRATCH/p-good.json" --unsigned
expect_match check-prints "$OUT" "shells: rule~'\\*shell\\*', priority>=Warning, tag shell -> freeze,capture,seal,notify"
echo '{"rules": [{"actions": ["freeze"], "dryrun": true}]}' >"$SCRATCH/p-bad.json"
expect_rc check-bad 65 cryo-hook --check --policy "$SCRATCH/p-bad.json"
expect_match check-bad-says "$OUT" 'unknown key "dryrun"'
expect_rc seal-needs-key 64 cryo-hook --policy "$SCRATCH/p-good.json" --case-root "$SCRATCH/x"
expect_rc listen-open-needs-token 64 cryo-hook --listen 0.0.0.0:0 --unsigned --case-root "$SCRATCH/x" </dev/null

# ---- notify, and later alerts added to the running response's case ------------
R=$SCRATCH/r2
J=$SCRATCH/j2.jsonl
{ alert "$id" Warning; for i in 1 2 3; do alert "$id" Warning "Terminal shell in container $i"; done; } |
	cryo-hook --policy "$SCRATCH/p-good.json" --case-root "$R" --unsigned --journal "$J" 2>/dev/null
expect_eq notify-exit "$?" 0
c=$(jq -r 'select(.event == "response-end") | .case' "$J")
expect_eq notified "$(jq -r '"\(.exit) \(.trigger.rule) \(.response.responses[0].case)"' "$SCRATCH/notified.json")" "0 Terminal shell in container $c"
expect_eq notify-end "$(jq -r 'select(.event == "notify-end") | .exit' "$J")" 0
added=$(count "$J" '.decision == "added"')
inc=$(tar --zstd -xOf "$c.tar.zst" alerts.jsonl 2>/dev/null | wc -l)
expect_eq later-alerts-in-case "$inc" "$added"
expect_eq later-alerts-journaled "$(count "$J" '.event == "alert"')" 4
cryo-freeze -q --thaw "$id"

# a rule that only notifies freezes nothing
cat >"$SCRATCH/p-notify.json" <<EOF
{"rules": [{"name": "tell", "match": {}, "actions": [{"notify": {"command": ["/bin/sh", "-c", "cat >$SCRATCH/told.json"]}}]}]}
EOF
J=$SCRATCH/j2b.jsonl
alert "$id" Warning | cryo-hook --policy "$SCRATCH/p-notify.json" --case-root "$SCRATCH/r2b" --journal "$J" 2>/dev/null
expect_eq notify-only-decision "$(jq -r 'select(.event == "alert") | .decision' "$J")" notify
expect_eq notify-only-told "$(jq -r '.trigger.output_fields["container.id"]' "$SCRATCH/told.json" 2>/dev/null)" "$id"
frozen "$CG" && fail notify-only-not-frozen "frozen" || pass notify-only-not-frozen

# ---- HTTP ---------------------------------------------------------------------
head -c 24 /dev/urandom | base64 >"$SCRATCH/token"
R=$SCRATCH/r3
J=$SCRATCH/j3.jsonl
start_hook "$J" --listen 127.0.0.1:0 --token-file "$SCRATCH/token" --case-root "$R" -k "$K"
port=$(jq -r 'select(.event == "listening") | .port' "$J")
[ "$port" -gt 0 ] 2>/dev/null && pass http-port || { fail http-port "no port journaled"; port=1; }
u=http://127.0.0.1:$port/
tok=$(cat "$SCRATCH/token")
expect_eq http-no-token "$(alert "$id" | curl -s -o /dev/null -w '%{http_code}' -m 10 --data-binary @- "$u")" 401
expect_eq http-bad-token "$(alert "$id" | curl -s -o /dev/null -w '%{http_code}' -m 10 -H "X-Cryo-Token: nope$tok" --data-binary @- "$u")" 401
expect_eq http-get "$(curl -s -o /dev/null -w '%{http_code}' -m 10 -H "X-Cryo-Token: $tok" "$u")" 405
head -c $((2 << 20)) /dev/zero | tr '\0' 'a' >"$SCRATCH/big"
expect_eq http-too-large "$(curl -s -o /dev/null -w '%{http_code}' -m 20 -H "X-Cryo-Token: $tok" --data-binary @"$SCRATCH/big" "$u")" 413
expect_eq http-garbage "$(printf 'not json' | curl -s -o /dev/null -w '%{http_code}' -m 10 -H "X-Cryo-Token: $tok" --data-binary @- "$u")" 200
expect_eq http-alert "$(alert "$id" | curl -s -w '%{http_code}' -m 10 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' --data-binary @- "$u")" '{"received":1}
200'
wait_for 60 has "$J" '.event == "response-end"' || fail http-response "no response-end"
frozen "$CG" && pass http-frozen || fail http-frozen "not frozen"
expect_eq http-refusals "$(count "$J" '.event == "http-refused"')" 2
expect_eq http-decisions "$(jq -r 'select(.event == "alert") | .decision' "$J" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" "rejected=2 respond=1 "
c=$(jq -r 'select(.event == "response-end") | .case' "$J")
check http-verifies cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"
kill -TERM "$HOOK"
wait "$HOOK"
expect_eq http-sigterm-exit "$?" 0
exec 7>&-
cryo-cut -q --restore --case "$c" "$id" >/dev/null 2>&1
cryo-freeze -q --thaw "$id"

# ---- malformed input of every kind: journaled, skipped, no crash -------------
R=$SCRATCH/r4
J=$SCRATCH/j4.jsonl
python3 - "$SCRATCH/bad.in" "$SCRATCH/bad.expect" "$id" <<'PY'
import json, os, sys
out, exp, cid = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [
    b"x" * (2 << 20),                                   # a line of 2 MiB
    b'{"rule":"R","priority":"Critical",\x00"output_fields":{"container.id":"%s"}}' % cid.encode(),
    b"[1,2,3]", b'"just a string"', b"{", b"}", b"null",
    b'{"rule":"R","priority":"Critical","output_fields":"container.id=%s"}' % cid.encode(),
    b'{"priority":"Critical","output_fields":{"container.id":"%s"}}' % cid.encode(),   # no rule
    b'{"rule":"R","priority":"Critical","output_fields":{"container.id":"host"}}',
    b'{"rule":"R","priority":"Critical","output_fields":{"container.id":"0123456789ab"}}',  # nobody
    b'{"rule":"R","priority":"Critical","output_fields":{"container.id":"../../../etc"}}',
    b'{"output":"Falco internal: syscall event drop. 9 system calls dropped in last second.","output_fields":{"ebpf_enabled":"1","n_drops":"9","n_drops_buffer_clone_fork_enter":"0","n_evts":"65536"},"priority":"Debug","rule":"Falco internal: syscall event drop","time":"2026-11-29T15:00:00.000000000Z"}',
    b'{"rule":"R","priority":"Critical","output_fields":{"container.id":12345}}',
    b'{"rule":"R","priority":"Critical","output_fields":{"container.id":"%s"},"tags":"shell"}' % cid.encode(),
]
noise = os.urandom(200000)
data = b"\n".join(lines) + b"\n" + noise + b"\npartial-line-without-newline"
open(out, "wb").write(data)
n = sum(1 for l in data.split(b"\n") if l)
open(exp, "w").write(str(n))
PY
cryo-hook --case-root "$R" -k "$K" --journal "$J" <"$SCRATCH/bad.in" 2>/dev/null
expect_eq malformed-exit "$?" 0
expect_eq malformed-all-journaled "$(count "$J" '.event == "alert"')" "$(cat "$SCRATCH/bad.expect")"
expect_eq malformed-nothing-done "$(count "$J" '.decision == "respond"')" 0
has "$J" '.reason == "line longer than 1 MiB: skipped" and .bytes == 2097152' && pass malformed-long-line || fail malformed-long-line "not journaled"
has "$J" '.reason == "alert holds a NUL byte"' && pass malformed-nul || fail malformed-nul "not journaled"
has "$J" '.decision == "ignored" and (.reason | test("host"))' && pass malformed-host || fail malformed-host "not ignored"
has "$J" '.decision == "ignored" and .rule == "Falco internal: syscall event drop"' && pass malformed-drop-alert || fail malformed-drop-alert "not ignored"
has "$J" '.decision == "unknown-container"' && pass malformed-unknown || fail malformed-unknown "not journaled"
has "$J" '(.reason // "") | test("partial line")' && pass malformed-partial || fail malformed-partial "not journaled"
[ ! -d "$R" ] || [ -z "$(find "$R" -mindepth 1 -maxdepth 1 -type d)" ] && pass malformed-no-case || fail malformed-no-case "a case was made"
frozen "$CG" && fail malformed-not-frozen "frozen by garbage" || pass malformed-not-frozen

# ---- a storm: 5,000 alerts across 20 containers ---------------------------------
ids=()
for i in $(seq 1 20); do
	runc_start "cryost-$i-$$" /bin/sleep 600 >/dev/null 2>&1 || { fail storm-start "container $i"; finish; }
	ids+=("cryost-$i-$$")
done
cat >"$SCRATCH/p-storm.json" <<'EOF'
{"rules": [{"name": "storm", "match": {"priority": "Warning"}, "actions": ["freeze", {"capture": {"memory": false}}, "seal"]}]}
EOF
python3 - "$SCRATCH/storm.in" "${ids[@]}" <<'PY'
import json, sys
out, ids = sys.argv[1], sys.argv[2:]
with open(out, "w") as f:
    for i in range(5000):
        cid = ids[i % len(ids)]
        f.write(json.dumps({"output": "alert %d" % i, "priority": ["Critical", "Warning", "Error"][i % 3],
                            "rule": "Storm rule %d" % (i % 7), "time": "2026-11-29T15:00:00Z", "source": "syscall",
                            "output_fields": {"container.id": cid, "proc.pid": i}, "tags": ["storm"]}) + "\n")
PY
R=$SCRATCH/r5
J=$SCRATCH/j5.jsonl
/usr/bin/time -f '%M' -o "$SCRATCH/storm.rss" cryo-hook --policy "$SCRATCH/p-storm.json" --case-root "$R" --unsigned --journal "$J" \
	<"$SCRATCH/storm.in" 2>/dev/null
expect_eq storm-exit "$?" 0
expect_eq storm-journal-all "$(count "$J" '.event == "alert"')" 5000
expect_eq storm-one-response-each "$(count "$J" '.decision == "respond"')" 20
expect_eq storm-distinct "$(jq -r 'select(.decision == "respond") | .container_id' "$J" | sort -u | wc -l)" 20
expect_eq storm-responses-ok "$(count "$J" '.event == "response-end" and .exit == 0')" 20
expect_eq storm-cases "$(find "$R" -mindepth 1 -maxdepth 1 -type d | wc -l)" 20
expect_eq storm-rest "$(count "$J" '.decision == "added" or .decision == "debounced"')" 4980
nf=0
for i in "${ids[@]}"; do frozen "$CGV2/cryo-test/$i" && nf=$((nf + 1)); done
expect_eq storm-all-frozen "$nf" 20
rss=$(cat "$SCRATCH/storm.rss")
echo "storm: cryo-hook max RSS ${rss} KiB" >&2
[ "$rss" -lt 131072 ] && pass storm-bounded-memory || fail storm-bounded-memory "max RSS ${rss} KiB"
for i in "${ids[@]}"; do cryo-freeze -q --thaw "$i"; done

# ---- SIGTERM during a response: the step finishes, the case resumes -----------
id2=cryohk-t-$$
runc_start "$id2" /bin/env MEMPROBE_TOUCH=1 /cryo/memprobe t /tmp 256 - || { fail start-term runc; finish; }
wait_for 60 test -s "$(runc_upper "$id2")/tmp/addrs"
R=$SCRATCH/r6
J=$SCRATCH/j6.jsonl
start_hook "$J" --case-root "$R" -k "$K"
send "$(alert "$id2")"
wait_for 30 sh -c "ls -d $R/*/proc >/dev/null 2>&1" || fail term-proc-started "no proc/"
kill -TERM "$HOOK"
wait "$HOOK"
expect_eq term-exit "$?" 0
exec 7>&-
expect_eq term-response-interrupted "$(jq -r 'select(.event == "response-end") | .exit' "$J")" 75
has "$J" '.event == "stopping" and .why == "SIGTERM"' && pass term-journaled || fail term-journaled "no stopping event"
c=$(jq -r 'select(.event == "response-end") | .case' "$J")
has "$c/custody.jsonl" '.action == "interrupted"' && pass term-recorded || fail term-recorded "no interrupted entry"
has "$c/custody.jsonl" '.tool == "cryo-proc" and .result == "ok"' && pass term-step-finished || fail term-step-finished "proc did not finish"
frozen "$CGV2/cryo-test/$id2" && pass term-still-frozen || fail term-still-frozen "thawed"
expect_rc term-resume 0 cryo-respond --resume "$c"
check term-resumed-verifies cryo-verify -p "$SCRATCH/k.pub" "$c.tar.zst"

# ---- SIGHUP reloads the policy; a bad one is refused, the old kept ---------------
cryo-freeze -q --thaw "$id"
echo '{"rules": [{"name": "watch", "match": {}, "actions": []}]}' >"$SCRATCH/p-hup.json"
J=$SCRATCH/j7.jsonl
start_hook "$J" --policy "$SCRATCH/p-hup.json" --case-root "$SCRATCH/r7" -k "$K"
send "$(alert "$id")"
echo '{"rules": [{"name": "dry", "match": {}, "actions": ["freeze", "cut"], "dry_run": true}]}' >"$SCRATCH/p-hup.json"
wait_for 10 has "$J" '.event == "alert"'
kill -HUP "$HOOK"
wait_for 10 has "$J" '.event == "policy-reload" and .rules == 1'
send "$(alert "$id")"
echo '{"rules": [{"name": "broken", "actions": ["freez"]}]}' >"$SCRATCH/p-hup.json"
wait_for 10 sh -c "[ \$(jq -s 'map(select(.event == \"alert\")) | length' $J) = 2 ]"
kill -HUP "$HOOK"
wait_for 10 has "$J" '.event == "policy-reload" and .error'
send "$(alert "$id")"
stop_hook
expect_eq hup-decisions "$(jq -r 'select(.event == "alert") | .decision' "$J" | tr '\n' ' ')" "journal dry-run dry-run "
frozen "$CG" && fail dry-run-not-frozen "frozen" || pass dry-run-not-frozen

# ---- --dry-run: decided and journaled, nothing changed -----------------------------
J=$SCRATCH/j8.jsonl
alert "$id" | cryo-hook --dry-run --case-root "$SCRATCH/r8" --journal "$J" 2>/dev/null
expect_eq dry-run-exit "$?" 0
expect_eq dry-run-decision "$(jq -r 'select(.event == "alert") | .decision' "$J")" dry-run
frozen "$CG" && fail global-dry-run "frozen" || pass global-dry-run
[ -z "$(find "$SCRATCH/r8" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ] && pass dry-run-no-case || fail dry-run-no-case "a case was made"

# ---- Docker: Falco's 12-hex short id ------------------------------------------------
if need_docker hook-docker; then
	docker_start cryohk-dk-$$ /bin/sleep 600 || fail docker-start "docker run"
	J=$SCRATCH/j9.jsonl
	alert "${DOCKER_ID:0:12}" | cryo-hook --case-root "$SCRATCH/r9" -k "$K" --journal "$J" 2>/dev/null
	expect_eq docker-exit "$?" 0
	expect_eq docker-full-id "$(jq -r 'select(.event == "alert") | .container_id' "$J")" "$DOCKER_ID"
	expect_eq docker-response "$(jq -r 'select(.event == "response-end") | .exit' "$J")" 0
	expect_eq docker-frozen "$(cat "$CGV2/docker/$DOCKER_ID/cgroup.freeze")" 1
fi
finish
