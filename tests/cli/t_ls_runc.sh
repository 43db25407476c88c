#!/bin/bash
# cryo-ls finds a runc container from kernel state and runc's state dir:
# init pid, cgroup, overlay upper dir; every target form resolves to it.
. "$(dirname "$0")/lib.sh"
need_root

id=cryols-$$
runc_start "$id" /cryo/counter /tmp/count || { fail start "runc container did not start"; finish; }
pid=$(runc_pid "$id")

json=$(cryo-ls --json) || fail json "cryo-ls --json failed"
c=$(jq -c --arg id "$id" '.containers[] | select(.id == $id)' <<<"$json")
[ -n "$c" ] && pass found || fail found "container $id not listed: $json"
expect_eq init-pid "$(jq -r .init_pid <<<"$c")" "$pid"
expect_eq runtime "$(jq -r .runtime <<<"$c")" runc
expect_eq cgroup "$(jq -r .cgroup.v2 <<<"$c")" "/cryo-test/$id"
expect_eq upperdir "$(jq -r .rootfs.upperdir <<<"$c")" "$(runc_upper "$id")"
expect_eq lowerdir "$(jq -r '.rootfs.lowerdir[0]' <<<"$c")" "$ROOTFS"
expect_eq state "$(jq -r .state <<<"$c")" running
expect_eq netns "$(jq -r .namespaces.net <<<"$c")" "$(stat -L -c %i /proc/"$pid"/ns/net)"
expect_eq start-ticks "$(jq -r .init_start_ticks <<<"$c")" "$(sed 's/.*) //' /proc/"$pid"/stat | cut -d' ' -f20)"

# the table names it too
expect_match table "$(cryo-ls)" "cryols-$$ +runc +$pid"

# every target form
for t in "$id" "cryols-" "pid:$pid" "cgroup:/cryo-test/$id" "cgroup:/cryo-test/$id/"; do
	got=$(cryo-ls --json "$t" | jq -r '.containers | map(.id) | join(",")')
	expect_eq "target[$t]" "$got" "$id"
done
# pid of a child process (not the init) finds the container as well
sh_pid=$(pgrep -f -n '/cryo/counter' || true)
expect_eq target-pid-any "$(cryo-ls --json "pid:$sh_pid" | jq -r '.containers[0].id')" "$id"

# a process hidden in a dot-named sub-cgroup is still one of the container's
cg=$CGV2/cryo-test/$id
if mkdir "$cg/.hidden" 2>/dev/null; then
	echo "$sh_pid" >"$cg/.hidden/cgroup.procs"
	expect_match hidden-subcgroup "$(cryo-ls --json "$id" | jq -c '.containers[0].pids')" "[\\[,]$sh_pid[],]"
	echo "$sh_pid" >"$cg/cgroup.procs"
	rmdir "$cg/.hidden"
else
	fail hidden-subcgroup "cannot make a sub-cgroup in $cg"
fi

# a process outside any container
expect_rc target-pid-host 3 cryo-ls "pid:$$"
expect_match target-pid-host-msg "$OUT" "not in a container"
expect_rc not-found 3 cryo-ls "no-such-container-$$"
expect_rc bad-syntax 64 cryo-ls "pid:abc"
expect_rc bad-cgroup 64 cryo-ls "cgroup:/a/../b"
expect_rc bad-option 64 cryo-ls --frobnicate
expect_match bad-option-msg "$OUT" "Try 'cryo-ls --help'"
expect_rc help 0 cryo-ls --help
expect_match help-text "$OUT" "^Usage: cryo-ls"
expect_rc version 0 cryo-ls --version

# ambiguity: two containers sharing an id prefix
runc_start "${id}-a" /bin/sleep 600 || fail start2 "second container"
runc_start "${id}-b" /bin/sleep 600 || fail start3 "third container"
expect_rc ambiguous 4 cryo-ls "${id}-"
expect_match ambiguous-lists "$OUT" "${id}-a.*${id}-b|${id}-b.*${id}-a"
# an exact id wins over being a prefix of others
expect_eq exact-wins "$(cryo-ls --json "$id" | jq -r '.containers[0].id')" "$id"
finish
