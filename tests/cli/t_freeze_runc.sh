#!/bin/bash
# A frozen runc container really stops (a counter inside does not move) and
# runs on after thaw; through cgroup v2 and through the v1 freezer; the
# custody log records each action with an intact hash chain.
. "$(dirname "$0")/lib.sh"
need_root

id=cryofz-$$
runc_start "$id" /cryo/counter /tmp/count || { fail start "runc container did not start"; finish; }
count_file=$(runc_upper "$id")/tmp/count
wait_for 5 test -s "$count_file" || fail counter-starts "no count written"
count() { tr -d '\n' <"$count_file"; }
advances() { local a b; a=$(count); sleep 0.3; b=$(count); [ "$a" != "$b" ]; }

case=$SCRATCH/case
for mech in v2 v1; do
	advances && pass "$mech/runs-before" || fail "$mech/runs-before" "counter not moving before freeze"
	expect_rc "$mech/freeze" 0 cryo-freeze -m "$mech" -c "$case" "$id"
	expect_match "$mech/freeze-msg" "$OUT" "frozen via"
	advances && fail "$mech/stopped" "counter moved while frozen" || pass "$mech/stopped"
	# every task of the container is in the frozen state the kernel reports
	if [ "$mech" = v2 ]; then
		expect_match "$mech/kernel-frozen" "$(cat "$CGV2/cryo-test/$id/cgroup.events")" "frozen 1"
	else
		expect_eq "$mech/kernel-frozen" "$(cat /sys/fs/cgroup/freezer/cryo-test/"$id"/freezer.state)" FROZEN
	fi
	st=$(cryo-freeze --status --json -m "$mech" "$id")
	expect_eq "$mech/status" "$(jq -r '.containers[0].state' <<<"$st")" frozen
	expect_eq "$mech/status-mech" "$(jq -r '.containers[0].mechanism' <<<"$st")" \
		"$([ $mech = v2 ] && echo cgroup2 || echo freezer-v1)"
	expect_eq "$mech/ls-state" "$(cryo-ls --json "$id" | jq -r '.containers[0].state')" frozen
	# idempotent
	expect_rc "$mech/freeze-again" 0 cryo-freeze -m "$mech" -q "$id"
	expect_rc "$mech/thaw" 0 cryo-freeze --thaw -m "$mech" -c "$case" "$id"
	advances && pass "$mech/runs-after" || fail "$mech/runs-after" "counter did not resume after thaw"
done

# JSON result of a freeze
j=$(cryo-freeze --json "$id")
expect_eq json-result "$(jq -r '.containers[0].result' <<<"$j")" ok
expect_eq json-before "$(jq -r '.containers[0].before' <<<"$j")" thawed
expect_match json-ms "$(jq -r '.containers[0].ms' <<<"$j")" '^[0-9.e-]+$'
expect_eq json-exit "$(jq -r '.exit' <<<"$j")" 0
cryo-freeze --thaw -q "$id"

# the custody log: 4 entries, chained, each one's prev is the sha256 of the line before
log=$case/custody.jsonl
expect_eq custody-lines "$(wc -l <"$log")" 4
expect_eq case-mode "$(stat -c %a "$case")" 700
expect_eq log-mode "$(stat -c %a "$log")" 600
caseid=$(jq -r .case_id "$case/case.json")
prev="case:$caseid"
ok=1
while IFS= read -r line; do
	[ "$(jq -r .prev <<<"$line")" = "$prev" ] || ok=0
	prev="sha256:$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)"
done <"$log"
[ $ok = 1 ] && pass custody-chain || fail custody-chain "prev hashes do not chain"
expect_eq custody-actions "$(jq -r .action "$log" | tr '\n' ' ')" "freeze thaw freeze thaw "
expect_eq custody-result "$(jq -r .result "$log" | sort -u)" ok
expect_eq custody-target "$(head -1 "$log" | jq -r .target)" "$id"
expect_eq custody-container "$(head -1 "$log" | jq -r '.details.containers[0].id')" "$id"

# a case directory that cannot be written does not stop containment
expect_rc case-unwritable 2 cryo-freeze -c "$SCRATCH/no/such/dir" "$id"
expect_match case-unwritable-msg "$OUT" "NOT RECORDED"
expect_match case-unwritable-frozen "$(cat "$CGV2/cryo-test/$id/cgroup.events")" "frozen 1"
expect_eq case-unwritable-json "$(cryo-freeze --json -c "$SCRATCH/no/such/dir" "$id" 2>/dev/null | jq -c '[.exit, .recorded]')" "[2,false]"
cryo-freeze --thaw -q "$id"
# --status records nothing and makes no case directory
expect_rc status-no-case 0 cryo-freeze --status -c "$SCRATCH/status-case" "$id"
[ -e "$SCRATCH/status-case" ] && fail status-no-case-dir "case directory created by --status" || pass status-no-case-dir
# a failure is recorded too
expect_rc custody-failure 3 cryo-freeze -c "$case" "no-such-$$"
expect_eq custody-failure-logged "$(tail -1 "$log" | jq -r .result)" error
expect_match custody-failure-msg "$(tail -1 "$log" | jq -r .message)" "no running container"
finish
