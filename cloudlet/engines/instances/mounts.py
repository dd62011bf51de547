"""mount(2) and umount2(2) from inside an instance, answered by the engine.

Instances run without CAP_SYS_ADMIN (with it, root could mount a cgroup v1 hierarchy and
escape through release_agent, or unmount the masks over /proc). Their mount and umount2
calls are seccomp user notifications instead (sandbox/seccomp.py), and the supervisor does
what EC2 users need, from the instance's devices cgroup and in its mount namespace
(nsexec.py): mounting the instance's own volumes (ext2/3/4, xfs, btrfs, vfat) and tmpfs,
remounting and unmounting those, always nodev. Everything else (proc, sysfs, cgroup, bind and move mounts,
unmounting what the engine mounted at boot) is refused with EPERM.
"""

from __future__ import annotations

import errno
import select
import threading
from collections.abc import Callable

from cloudlet.engines.instances import nsexec
from cloudlet.engines.sandbox import seccomp

FILESYSTEMS = {"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "tmpfs"}
MS_MGC_MSK, MS_MGC_VAL = 0xFFFF0000, 0xC0ED0000
MS_NODEV, MS_REMOUNT = 4, 32
ALLOWED_FLAGS = (1 | 2 | 4 | 8 | 16 | 128 | 1024 | 2048 | 32768 | (1 << 21) | (1 << 24)
                 | (1 << 25) | MS_REMOUNT)
UMOUNT_FLAGS = 1 | 2 | 8          # MNT_FORCE, MNT_DETACH, UMOUNT_NOFOLLOW
REFUSED_OPTIONS = ("journal_dev", "journal_path", "logdev", "rtdev", "device=")


def mount_request(source, target, fstype, flags, data) -> tuple[int, dict | None]:
    """(errno, nsexec op): whether a mount call may go on, as far as its arguments tell."""
    if (flags & MS_MGC_MSK) == MS_MGC_VAL:
        flags &= ~MS_MGC_MSK & 0xFFFFFFFF
    if target is None or flags & ~ALLOWED_FLAGS:
        return errno.EPERM, None
    if not flags & MS_REMOUNT and fstype not in FILESYSTEMS:
        return errno.EPERM, None
    if data and any(option in data for option in REFUSED_OPTIONS):
        return errno.EPERM, None
    # nodev always: a volume's raw blocks are the instance's to write, so it could carry a
    # node for any device (the devices cgroup would refuse it too, where there is one)
    return 0, {"op": "mount", "source": source, "target": target, "fstype": fstype,
               "flags": flags | MS_NODEV, "data": data}


class MountSupervisor:
    """Answers one instance's notified calls on its own thread until the listener closes."""

    def __init__(self, listener: int, context: Callable[[], dict]):
        self.listener = listener
        self.context = context      # {"devices": [[major, minor]], "protected": [...], "devices_procs"}
        self._stop = threading.Event()
        self._mount_nr = seccomp.syscall_number("mount")
        self._umount_nr = seccomp.syscall_number("umount2")
        self.thread = threading.Thread(target=self._run, name="instance-mounts", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self.listener], [], [], 0.5)
                if not ready:
                    continue
                try:
                    note = seccomp.receive(self.listener)
                except OSError:
                    break
                if note is not None:
                    self._answer(note)
        finally:
            seccomp.close(self.listener)

    def _answer(self, note: seccomp.Notification) -> None:
        try:
            error, op = self._decide(note)
            if op is not None and seccomp.still_waiting(self.listener, note):
                result = nsexec.call(note.pid, {**op, **self.context()})
                error = result.get("errno", errno.EIO)
        except OSError as e:
            error = e.errno or errno.EIO
        seccomp.respond(self.listener, note, error)

    def _decide(self, note: seccomp.Notification) -> tuple[int, dict | None]:
        args = note.args
        if note.nr == self._mount_nr:
            source = seccomp.read_string(note.pid, args[0])
            target = seccomp.read_string(note.pid, args[1])
            fstype = seccomp.read_string(note.pid, args[2])
            data = seccomp.read_string(note.pid, args[4]) if args[4] else None
            return mount_request(source, target, fstype, args[3], data)
        if note.nr == self._umount_nr:
            target = seccomp.read_string(note.pid, args[0])
            if target is None or args[1] & ~UMOUNT_FLAGS:
                return errno.EPERM, None
            return 0, {"op": "umount", "target": target, "flags": args[1]}
        return errno.EPERM, None
