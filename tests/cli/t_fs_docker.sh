#!/bin/bash
# cryo-fs on a Docker container (overlay2, image layers in lowerdir as
# Docker writes them): the diff, a whiteout of an image file, a modified
# image file with the image's hash beside it, a named volume captured with
# --volumes, the tmpfs Docker mounts, and the layer applied onto the
# image's own files reproducing the container's view.  Traffic: none.
. "$(dirname "$0")/lib.sh"
need_root
need_docker fs-docker || finish

name=cryofs-dk-$$
vol=cryofs-vol-$$
docker volume create "$vol" >/dev/null && undo "docker volume rm -f '$vol'"
docker rm -f "$name" >/dev/null 2>&1
docker run -d --name "$name" --label cryo-test=1 --network none -v "$vol:/data" --tmpfs /run/stage \
	"$IMAGE" /bin/sleep 600 >/dev/null || { fail start "docker run"; finish; }
undo "docker rm -f '$name'"
docker exec "$name" /bin/sh -c '
	echo dropped >/tmp/dropper.sh && chmod 755 /tmp/dropper.sh
	echo tampered >>/etc/group
	rm /bin/wget
	echo loot >/data/loot.txt
	echo staged >/run/stage/payload
' || fail attack "docker exec"
case=$SCRATCH/case
cryo-freeze -q -c "$case" "$name" || fail freeze "cryo-freeze"
expect_rc snapshot 0 cryo-fs --volumes -c "$case" "$name"
ch=$case/fs/changes.json
expect_eq added "$(jq -r '.[] | select(.path == "/tmp/dropper.sh") | .change + " " + .mode' "$ch")" "added 0755"
expect_eq modified-lower-hash "$(jq -r '.[] | select(.path == "/etc/group") | .lower.sha256' "$ch")" \
	"$(sha256sum <"$ROOTFS/etc/group" | cut -d' ' -f1)"
expect_eq whiteout "$(jq -r '.[]' "$case/fs/deleted.json" | grep -c '^/bin/wget$')" 1
expect_match tar-whiteout "$(tar -tf "$case/fs/rootfs-diff.tar")" "bin/\.wh\.wget"
mj=$case/fs/mounts.json
expect_eq volume-kind "$(jq -r '.[] | select(.mountpoint == "/data") | .kind' "$mj")" volume
vt=$(jq -r '.[] | select(.mountpoint == "/data") | .captured' "$mj")
expect_eq volume-content "$(tar -xOf "$case/$vt" loot.txt 2>/dev/null)" loot
st=$(jq -r '.[] | select(.mountpoint == "/run/stage") | .captured' "$mj")
expect_eq tmpfs-content "$(tar -xOf "$case/$st" payload 2>/dev/null)" staged
expect_eq resolv-bind "$(jq -r '.[] | select(.mountpoint == "/etc/resolv.conf") | .kind' "$mj")" volume

# the diff applied onto the image's files gives the container's view back
# (Docker's own /etc/hosts, resolv.conf, hostname are bind mounts: aside)
applied=$SCRATCH/applied
cp -a "$ROOTFS" "$applied"
/usr/bin/python3 - "$case/fs/rootfs-diff.tar" "$applied" <<'PY'
import os, shutil, sys, tarfile
t = tarfile.open(sys.argv[1]); out = sys.argv[2]
for m in t.getmembers():
    d, b = os.path.dirname(m.name), os.path.basename(m.name)
    if b.startswith(".wh.") and b != ".wh..wh..opq":
        p = os.path.join(out, d, b[4:])
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    elif m.isdir():
        os.makedirs(os.path.join(out, m.name), exist_ok=True)
    elif m.isfile():
        with open(os.path.join(out, m.name), "wb") as f:
            shutil.copyfileobj(t.extractfile(m), f)
PY
pid=$(docker_pid "$name")
view() { (cd "$1" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf -o -path ./data -o -path ./run/stage -o -name .dockerenv \) -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
if [ "$(view "/proc/$pid/root")" = "$(view "$applied")" ]; then pass layer-reproduces-view; else
	fail layer-reproduces-view "$(diff <(view "/proc/$pid/root") <(view "$applied") | head -c 800 | tr '\n' ' ')"
fi
cryo-freeze -q --thaw -c "$case" "$name"
finish
