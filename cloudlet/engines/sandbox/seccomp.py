"""Seccomp filters (libseccomp through pyseccomp) and the supervisor's side of seccomp user
notifications (SECCOMP_RET_USER_NOTIF: the kernel holds the syscall until the listener
answers it; the listener reads the arguments from the caller's memory and decides).

A filter allows everything but DENIED (EPERM), NOSYS (ENOSYS: callers fall back to the older
call) and NOTIFIED (sent to the listener). Calls that create user namespaces are refused too.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from dataclasses import dataclass

from cloudlet.engines.sandbox import linux

# Kernel interfaces that root in a sandbox has no business with, whatever its capabilities.
DENIED = (
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at", "syslog", "acct", "swapon", "swapoff",
    "quotactl", "quotactl_fd", "lookup_dcookie", "pivot_root", "reboot", "iopl", "ioperm",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "setns", "vhangup",
    "fanotify_init", "process_vm_writev", "kcmp", "move_pages", "nfsservctl",
    "io_uring_setup", "io_uring_enter", "io_uring_register",  # its operations bypass filters
)
# The new mount API: ENOSYS, so that mount(8) uses mount(2), which the supervisor sees.
NOSYS = ("fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr",
         "clone3")
NOTIFIED = ("mount", "umount2")

_RECV = 0xC0502100        # SECCOMP_IOCTL_NOTIF_RECV, struct seccomp_notif (80 bytes)
_SEND = 0xC0182101        # SECCOMP_IOCTL_NOTIF_SEND, struct seccomp_notif_resp (24 bytes)
_ID_VALID = 0x40082102    # SECCOMP_IOCTL_NOTIF_ID_VALID


def load(denied=DENIED, nosys=NOSYS, notified=NOTIFIED) -> int | None:
    """Install the filter on the calling thread (and what it execs); returns the listener's
    file descriptor when some calls are notified. Loaded without NO_NEW_PRIVS (the caller has
    CAP_SYS_ADMIN), so that setuid programs such as sudo keep working."""
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    f.set_attr(sc.Attr.CTL_NNP, 0)
    for name in denied:
        _rule(f, sc.ERRNO(errno.EPERM), name)
    for name in nosys:
        _rule(f, sc.ERRNO(errno.ENOSYS), name)
    newuser = sc.Arg(0, sc.MASKED_EQ, linux.CLONE_NEWUSER, linux.CLONE_NEWUSER)
    f.add_rule(sc.ERRNO(errno.EPERM), "unshare", newuser)
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", newuser)
    for name in notified:
        f.add_rule(sc.NOTIFY, name)
    f.load()
    if not notified:
        return None
    fd = sc._libseccomp.seccomp_notify_fd(f._filter)
    if fd < 0:
        raise OSError(-fd, "seccomp_notify_fd")
    return fd


def _rule(f, action: int, name: str) -> None:
    try:
        f.add_rule(action, name)
    except (OSError, ValueError, RuntimeError):
        pass  # a call this kernel or libseccomp does not know


def syscall_number(name: str) -> int:
    import pyseccomp as sc

    return sc.resolve_syscall(sc.system_arch(), name)


@dataclass(frozen=True)
class Notification:
    id: int
    pid: int
    nr: int
    args: tuple[int, ...]


def receive(fd: int) -> Notification | None:
    """The next pending notification (None when the caller went away meanwhile)."""
    buf = bytearray(80)
    try:
        fcntl.ioctl(fd, _RECV, buf)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.EINTR):
            return None
        raise
    id_, pid, _flags, nr, _arch, _ip = struct.unpack_from("=QIIiIQ", buf, 0)
    args = struct.unpack_from("=6Q", buf, 32)
    return Notification(id_, pid, nr, args)


def respond(fd: int, notification: Notification, error: int = 0, value: int = 0) -> None:
    """Answer a call: error is a positive errno (0: success, returning value)."""
    try:
        fcntl.ioctl(fd, _SEND, struct.pack("=QqiI", notification.id, value, -error, 0))
    except OSError as e:
        if e.errno != errno.ENOENT:  # the caller was killed meanwhile
            raise


def still_waiting(fd: int, notification: Notification) -> bool:
    """Whether the call is still pending (so the pid read with it is still that caller)."""
    try:
        fcntl.ioctl(fd, _ID_VALID, struct.pack("=Q", notification.id))
        return True
    except OSError:
        return False


def read_string(pid: int, address: int, limit: int = 4096) -> str | None:
    """A NUL-terminated string from a process's memory (None for a NULL pointer)."""
    if address == 0:
        return None
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        out = b""
        while len(out) < limit:
            mem.seek(address + len(out))
            try:
                chunk = mem.read(min(256, limit - len(out)))
            except OSError:
                chunk = b""
            if not chunk:
                break
            if b"\0" in chunk:
                return (out + chunk.split(b"\0", 1)[0]).decode(errors="surrogateescape")
            out += chunk
    raise OSError(errno.EFAULT, "string not terminated")


def close(fd: int | None) -> None:
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
