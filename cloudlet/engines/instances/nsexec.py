"""Operations the engine does inside an instance's mount namespace, as host root but
without running any of the instance's programs: a short-lived process (a fresh interpreter:
setns needs a single-threaded caller) enters the mount namespace of a process of the
instance, takes that process's root and working directory, and does one operation.

`python -S -m cloudlet.engines.instances.nsexec PID JSON` prints {"errno": N, ...}.

    mknod   {"path", "major", "minor"}          a block device node (mode 0660, group disk)
    unlink  {"path"}                            remove a node
    mount   {"source", "target", "fstype", "flags", "data", "devices": [[major, minor]],
             "protected": [mount ids], "devices_procs"}   a mount the instance asked for
                                                (mounts.py), done from the instance's
                                                devices cgroup
    umount  {"target", "flags", "protected"}    likewise
    mounts_of {"devices"}                       mount points of these devices (for detach)
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from cloudlet.engines.sandbox import linux

DISK_GID = 6
MS_REMOUNT = 32


def _mountinfo(pid: int) -> list[dict]:
    out = []
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        out.append({"id": int(fields[0]), "dev": fields[2], "point": _unescape(fields[4]),
                    "fstype": fields[sep + 1]})
    return out


def _unescape(path: str) -> str:
    return path.encode().decode("unicode_escape").encode("latin-1").decode(errors="replace")


def _enter(pid: int) -> None:
    root = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY)
    cwd = os.open(f"/proc/{pid}/cwd", os.O_RDONLY | os.O_DIRECTORY)
    ns = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
    linux.setns(ns, linux.CLONE_NEWNS)
    os.fchdir(root)
    os.chroot(".")
    os.fchdir(cwd)
    for fd in (root, cwd, ns):
        os.close(fd)


def _mount_id(mounts: list[dict], target: str) -> dict | None:
    real = os.path.realpath(target)
    found = None
    for m in mounts:
        if m["point"] == real:
            found = m
    return found


def run(pid: int, op: dict) -> dict:
    mounts = _mountinfo(pid) if op["op"] in ("mount", "umount", "mounts_of") else []
    if op.get("devices_procs"):  # the kernel then refuses any device the instance may not use
        with open(op["devices_procs"], "w") as f:
            f.write("0")
    _enter(pid)
    kind = op["op"]
    try:
        if kind == "mknod":
            if os.path.lexists(op["path"]):
                os.unlink(op["path"])
            os.makedirs(os.path.dirname(op["path"]), exist_ok=True)
            os.mknod(op["path"], 0o660 | stat.S_IFBLK, os.makedev(op["major"], op["minor"]))
            os.chown(op["path"], 0, DISK_GID)
        elif kind == "unlink":
            st = os.lstat(op["path"])
            if stat.S_ISBLK(st.st_mode):
                os.unlink(op["path"])
        elif kind == "mount":
            return _mount(op, mounts)
        elif kind == "umount":
            found = _mount_id(mounts, op["target"])
            if found is None:
                return {"errno": errno.EINVAL}
            if found["id"] in op["protected"]:
                return {"errno": errno.EPERM}
            linux.umount(op["target"], op["flags"])
        elif kind == "mounts_of":
            devices = {f"{major}:{minor}" for major, minor in op["devices"]}
            return {"errno": 0, "points": [m["point"] for m in mounts if m["dev"] in devices]}
        return {"errno": 0}
    except OSError as e:
        return {"errno": e.errno or errno.EIO}


def _mount(op: dict, mounts: list[dict]) -> dict:
    if op["flags"] & MS_REMOUNT:
        found = _mount_id(mounts, op["target"])
        if found is None or found["id"] in op["protected"]:
            return {"errno": errno.EPERM}
    elif op["fstype"] != "tmpfs":
        try:
            st = os.stat(op["source"])
        except (OSError, TypeError):
            return {"errno": errno.ENOENT}
        if not stat.S_ISBLK(st.st_mode) or [os.major(st.st_rdev), os.minor(st.st_rdev)] not in op["devices"]:
            return {"errno": errno.EPERM}
    linux.mount(op["source"], op["target"], op["fstype"], op["flags"], op["data"])
    return {"errno": 0}


def call(pid: int, op: dict, timeout: float = 30) -> dict:
    """Run op in the mount namespace of process pid (from the engine)."""
    import cloudlet

    env = {"PYTHONPATH": str(Path(cloudlet.__file__).parent.parent), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    done = subprocess.run([sys.executable, "-S", "-m", "cloudlet.engines.instances.nsexec",
                           str(pid), json.dumps(op)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"errno": errno.EIO, "error": done.stderr[-500:]}


if __name__ == "__main__":
    try:
        result = run(int(sys.argv[1]), json.loads(sys.argv[2]))
    except OSError as e:
        result = {"errno": e.errno or errno.EIO, "error": str(e)}
    print(json.dumps(result))
