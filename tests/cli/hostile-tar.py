#!/usr/bin/env python3
"""hostile-tar.py KIND OUT.tar CANARY_DIR BUSYBOX: a root filesystem tar as
a compromised container could leave it, for cryo-replay's tests.

KIND
  escape    every way out of an extraction directory at once: "../"
            traversal, absolute paths, a symlink then a write through it
            (absolute and relative), hard links to /etc/passwd (absolute,
            "..", and one inside whose name is then written), device nodes,
            a setuid root shell, a FIFO; plus busybox so the root can run a
            shell.  Everything aimed outside names CANARY_DIR.
  many      100,000 empty files (and busybox)
  bomb      one 200 MiB file of zeros: a few hundred KiB once compressed
"""
import io, os, sys, tarfile

kind, out, canary, busybox = sys.argv[1:5]
up = "../" * 24


def reg(t, name, data=b"", mode=0o644, uid=0, gid=0, typ=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name)
    i.type, i.mode, i.uid, i.gid, i.linkname = typ, mode, uid, gid, link
    i.size = len(data) if typ == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if typ == tarfile.REGTYPE else None)


def base(t):
    for d in ("bin", "etc", "tmp", "root"):
        reg(t, d, typ=tarfile.DIRTYPE, mode=0o755)
    with open(busybox, "rb") as f:
        reg(t, "bin/busybox", f.read(), mode=0o755)
    for a in ("sh", "ls", "cat", "stat", "find", "test", "echo", "wc", "sha256sum", "id"):
        reg(t, "bin/" + a, typ=tarfile.SYMTYPE, link="busybox")
    reg(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")


with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    base(t)
    if kind == "escape":
        c = canary.lstrip("/")
        reg(t, up + c + "/traversal", b"escaped\n")
        reg(t, "bin/" + up + c + "/traversal2", b"escaped\n")
        reg(t, "/" + c + "/absolute", b"escaped\n")
        reg(t, "evil", typ=tarfile.SYMTYPE, link=canary)
        reg(t, "evil/through-symlink", b"escaped\n")
        reg(t, "evil2", typ=tarfile.SYMTYPE, link=up + c)
        reg(t, "evil2/through-relative-symlink", b"escaped\n")
        reg(t, "pw-abs", typ=tarfile.LNKTYPE, link="/etc/passwd")
        reg(t, "pw-up", typ=tarfile.LNKTYPE, link=up + "etc/passwd")
        reg(t, "pw-in", typ=tarfile.LNKTYPE, link="etc/passwd")
        reg(t, "pw-in", b"rewritten through a hard link\n")
        reg(t, "evil-dir", typ=tarfile.SYMTYPE, link=canary)
        reg(t, "pw-via-symlink", typ=tarfile.LNKTYPE, link="evil-dir/host-file")
        reg(t, "dev-mem", typ=tarfile.CHRTYPE)
        i = tarfile.TarInfo("dev-kmsg")
        i.type, i.devmajor, i.devminor, i.mode = tarfile.CHRTYPE, 1, 11, 0o666
        t.addfile(i)
        i = tarfile.TarInfo("dev-sda")
        i.type, i.devmajor, i.devminor, i.mode = tarfile.BLKTYPE, 8, 0, 0o660
        t.addfile(i)
        with open(busybox, "rb") as f:
            reg(t, "bin/suid-sh", f.read(), mode=0o4755)
        reg(t, "bin/sgid-file", b"x", mode=0o2755)
        reg(t, "fifo", typ=tarfile.FIFOTYPE, mode=0o644)
        reg(t, "etc/shadow-link", typ=tarfile.SYMTYPE, link="/etc/shadow")
        reg(t, "ok-file", b"inside\n", mode=0o600)
    elif kind == "many":
        for d in range(100):
            reg(t, "m%02d" % d, typ=tarfile.DIRTYPE, mode=0o755)
        for i in range(100000):
            reg(t, "m%02d/f%06d" % (i % 100, i))
    elif kind == "bomb":
        i = tarfile.TarInfo("zeros")
        i.size = 200 << 20

        class Zeros(io.RawIOBase):
            def __init__(self, n):
                self.n = n

            def readable(self):
                return True

            def readinto(self, b):
                k = min(len(b), self.n)
                b[:k] = bytes(k)
                self.n -= k
                return k

        t.addfile(i, io.BufferedReader(Zeros(i.size), 1 << 20))
    else:
        sys.exit("unknown kind " + kind)
