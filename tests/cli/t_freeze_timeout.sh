#!/bin/bash
# A freeze that cannot complete: tasks held by the v1 freezer never reach the
# v2 freezer's trap, so a v2 freeze of the same container must time out.
# cryo names the tasks, exits 5, records the failure, and leaves the freeze
# requested (containment is never undone by an error).
. "$(dirname "$0")/lib.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] && [ -n "$CGV2" ] || { skip all "needs a hybrid host (v1 freezer and cgroup2)"; finish; }

id=cryoto-$$
runc_start "$id" /cryo/forker -n 3 || { fail start "runc"; finish; }
wait_for 5 sh -c "[ \$(wc -l <$CGV2/cryo-test/$id/cgroup.procs) -ge 4 ]"
case=$SCRATCH/case
expect_rc hold-v1 0 cryo-freeze -m v1 "$id"
expect_rc timeout 5 cryo-freeze -m v2 --timeout 300 -c "$case" "$id"
expect_match timeout-msg "$OUT" "did not complete within 300 ms \(request left in force\)"
expect_match names-tasks "$OUT" "tasks not stopped: [0-9]+ forker \(D\)"
expect_eq left-requested "$(cat "$CGV2/cryo-test/$id/cgroup.freeze")" 1
expect_eq custody-records "$(jq -r .result "$case/custody.jsonl")" error
expect_match custody-msg "$(jq -r '.details.containers[0].error' "$case/custody.jsonl")" "did not complete"
expect_eq status-freezing "$(cryo-freeze --status --json -m v2 "$id" | jq -r '.containers[0].state')" freezing
j=$(cryo-freeze --json -m v2 --timeout 100 "$id")
expect_eq json-timeout "$(jq -r '.exit' <<<"$j")" 5
# once the v1 hold is released, the v2 freeze that stayed requested completes
expect_rc release-v1 0 cryo-freeze -m v1 --thaw "$id"
wait_for 5 grep -q "frozen 1" "$CGV2/cryo-test/$id/cgroup.events" && pass completes-later ||
	fail completes-later "v2 freeze did not complete after the v1 thaw"
expect_rc thaw 0 cryo-freeze --thaw "$id"
finish
