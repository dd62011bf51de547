"""An instance's first process, run by the engine as PID 1 of the instance's new PID, mount,
UTS and IPC namespaces (inside the network namespace the caller gave, in the instance's
cgroups): it builds the instance's root and becomes the instance's init.

`python -S -m cloudlet.engines.instances.boot CONFIG` (CONFIG: JSON written by the engine):

1. in a tmpfs over the staging directory (visible only in this mount namespace): the root
   volume loop-mounted (its upper/ and work/ dirs), the image's layers bound as l0, l1, ...,
   and the overlay mounted with relative paths (so mountinfo inside shows no host path);
2. pivot_root into the overlay and detach the old root: no host path is left;
3. the per-boot files written (resolv.conf, hosts, hostname, the CA bundle, the NoCloud
   seed, Cloudlet's init and power commands), through the overlay, before anything else is
   mounted (a symlink in the upper layer can only lead to the instance's own files);
4. /proc and /sys with masked paths (and read-only /proc/sys but for /proc/sys/net), a
   tmpfs /dev with only the allowed nodes, devpts, /dev/shm, /run;
5. the hostname, loopback up, the devices cgroup joined (after the root volume's loop device
   was opened), a cgroup namespace (so /proc/self/cgroup shows "/"), the capability bounding
   set, the seccomp filter (its listener sent to the engine);
6. exec tini (from the image) running Cloudlet's init (guest/init).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import time

import pyseccomp  # noqa: F401 - imported (and libseccomp loaded) before pivot_root

from cloudlet.engines.sandbox import capabilities, linux, seccomp
from cloudlet.engines.sandbox.linux import (
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
)

PROC_MASKED_FILES = ("kcore", "keys", "timer_list", "sched_debug", "sysrq-trigger", "kallsyms",
                     "kmsg", "config.gz", "latency_stats", "key-users", "vmallocinfo",
                     "pagetypeinfo", "slabinfo", "partitions", "diskstats", "mdstat",
                     "buddyinfo", "iomem", "ioports", "modules", "zoneinfo", "swaps")
PROC_MASKED_DIRS = ("acpi", "scsi", "asound", "driver", "dynamic_debug", "sys/fs/binfmt_misc",
                    "tty", "fs", "irq", "bus")
SYS_MASKED_DIRS = ("block", "class/block", "dev/block", "dev/char", "devices/virtual/block",
                   "firmware", "kernel", "fs", "module", "power", "bus", "hypervisor")
DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
           ("urandom", 1, 9), ("tty", 5, 0))
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def build_root(cfg: dict) -> None:
    staging = cfg["staging"]
    linux.mount(None, "/", None, MS_REC | MS_PRIVATE)
    linux.mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m")
    os.chdir(staging)
    os.mkdir("vol")
    os.mkdir("root")
    subprocess.run(["mount", "-t", "ext4", "-o", "loop,noatime", cfg["root_volume"], "vol"],
                   check=True, stdin=subprocess.DEVNULL)
    lowers = []
    for i, layer in enumerate(cfg["layers"]):
        os.mkdir(f"l{i}")
        linux.mount(layer, f"l{i}", None, MS_BIND)
        lowers.append(f"l{i}")
    for d in ("vol/upper", "vol/work"):
        os.makedirs(d, mode=0o755, exist_ok=True)
    linux.mount("overlay", "root", "overlay", 0,
                f"lowerdir={':'.join(lowers)},upperdir=vol/upper,workdir=vol/work")
    os.chdir("root")
    linux.pivot_root(".", ".")
    linux.umount(".", MNT_DETACH)
    os.chdir("/")


def write_files(files: list) -> None:
    for path, content, mode in files:
        parent = os.path.dirname(path)
        os.makedirs(parent, mode=0o755, exist_ok=True)
        if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(content))
        os.chmod(path, mode)


def append_files(entries: list) -> None:
    for path, content in entries:
        text = base64.b64decode(content)
        try:
            with open(path, "rb") as f:
                if text in f.read():
                    continue
        except FileNotFoundError:
            pass
        with open(path, "ab") as f:
            f.write(text)


def _mask(path: str, is_dir: bool) -> None:
    if not os.path.lexists(path):
        return
    if is_dir:
        linux.mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=0,mode=0555")
    else:
        linux.mount("/dev/null", path, None, MS_BIND)


def _readonly(path: str) -> None:
    linux.mount(path, path, None, MS_BIND | MS_REC)
    linux.mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def make_devices(devices: list) -> None:
    """The data volumes attached at boot: block nodes (group disk) at their device names."""
    for name, major, minor in devices:
        os.makedirs(os.path.dirname(name), exist_ok=True)
        if os.path.lexists(name):
            os.unlink(name)
        os.mknod(name, 0o660 | 0o060000, os.makedev(major, minor))
        os.chown(name, 0, 6)


def mount_system() -> None:
    for d in ("proc", "sys", "dev", "run", "tmp"):
        os.makedirs(f"/{d}", exist_ok=True)
    os.chmod("/tmp", 0o1777)
    linux.mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=1m,nr_inodes=256")
    for name, major, minor in DEVICES:
        os.mknod(f"/dev/{name}", 0o666 | 0o020000, os.makedev(major, minor))
        os.chmod(f"/dev/{name}", 0o666)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("ptmx", "pts/ptmx")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/pts")
    linux.mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5")
    os.mkdir("/dev/shm")
    linux.mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    linux.mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m")
    linux.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_MASKED_FILES:
        _mask(f"/proc/{name}", False)
    _readonly("/proc/sys")
    linux.mount("/proc/sys/net", "/proc/sys/net", None, MS_BIND)
    linux.mount(None, "/proc/sys/net", None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_MASKED_DIRS:
        _mask(f"/proc/{name}", True)
    linux.mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in SYS_MASKED_DIRS:
        _mask(f"/sys/{name}", True)


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def confine(cfg: dict, devices_procs: int | None, control: socket.socket | None) -> None:
    if devices_procs is not None:
        os.write(devices_procs, b"0")
        os.close(devices_procs)
    linux.unshare(linux.CLONE_NEWCGROUP)
    listener = seccomp.load() if cfg.get("seccomp", True) else None
    if control is not None:
        socket.send_fds(control, [b"listener" if listener is not None else b"none"],
                        [listener] if listener is not None else [])
        control.close()
    seccomp.close(listener)
    capabilities.drop_bounding(set(cfg["keep_caps"]))


def main(argv: list[str]) -> None:
    started = time.monotonic()
    with open(argv[1]) as f:
        cfg = json.load(f)
    control = socket.socket(fileno=cfg["control_fd"]) if cfg.get("control_fd") is not None else None
    devices = os.open(cfg["devices_procs"], os.O_WRONLY) if cfg.get("devices_procs") else None
    build_root(cfg)
    write_files(cfg["files"])
    append_files(cfg.get("append", []))
    mount_system()
    make_devices(cfg.get("devices", []))
    linux.sethostname(cfg["hostname"])
    loopback_up()
    confine(cfg, devices, control)
    sys.stderr.write(f"cloudlet-boot: root ready, starting init ({time.monotonic() - started:.2f} s)\n")
    sys.stderr.flush()
    os.closerange(3, 65536)
    os.execve(cfg["init"][0], cfg["init"], cfg["env"])


if __name__ == "__main__":
    try:
        main(sys.argv)
    except BaseException as e:  # noqa: BLE001 - the console says why the instance did not boot
        sys.stderr.write(f"cloudlet-boot: {type(e).__name__}: {e}\n")
        sys.stderr.flush()
        os._exit(1)
