"""Named network namespaces without forking, and sockets created inside them.

A network namespace is per thread in Linux: `unshare(CLONE_NEWNET)` or `setns()` in one
thread leaves the others where they are. So a namespace is created by a short-lived thread
that unshares and bind-mounts its own `/proc/self/task/<tid>/ns/net` on `/run/netns/<name>`
(where `ip netns` finds it), and `inside(name)` moves the calling thread in and back. A socket
keeps the namespace it was created in, so `socket(name, ...)` is all one process needs to serve
listeners or make connections in any namespace.

`anonymous()` makes a namespace with no name at all: only `lo` (up), held by the descriptor it
returns and by whatever lives in it (its sockets, the processes that joined it). It cannot be
left behind: the kernel frees it with its last holder, a crashed Cloudlet included.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import socket as _socket
import struct
import threading
from collections.abc import Iterator

RUN_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
_MS_BIND = 4096
_MS_REC = 16384
_MS_SHARED = 1 << 20
_MNT_DETACH = 2
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_run_dir_lock = threading.Lock()


def path(name: str) -> str:
    """Where the namespace `name` is bound (an absolute path is taken as it is)."""
    return name if name.startswith("/") else f"{RUN_DIR}/{name}"


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _share_run_dir() -> None:
    """Make /run/netns a shared mount point, as `ip netns add` does, so binds propagate."""
    with _run_dir_lock:
        os.makedirs(RUN_DIR, exist_ok=True)
        if _libc.mount(b"", RUN_DIR.encode(), b"none", _MS_SHARED | _MS_REC, None) == 0:
            return
        _check(_libc.mount(RUN_DIR.encode(), RUN_DIR.encode(), b"none", _MS_BIND | _MS_REC,
                           None), "bind /run/netns")
        _check(_libc.mount(b"", RUN_DIR.encode(), b"none", _MS_SHARED | _MS_REC, None),
               "share /run/netns")


def create(name: str) -> str:
    """Create the namespace `name` (an error if it exists) and return its path."""
    _share_run_dir()
    target = path(name)
    fd = os.open(target, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
    os.close(fd)
    failure: list[BaseException] = []

    def unshare_and_bind() -> None:
        try:
            _check(_libc.unshare(CLONE_NEWNET), "unshare")
            own = f"/proc/self/task/{threading.get_native_id()}/ns/net"
            _check(_libc.mount(own.encode(), target.encode(), b"none", _MS_BIND, None),
                   f"bind {target}")
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=unshare_and_bind, name=f"netns-{name}")
    worker.start()
    worker.join()
    if failure:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise failure[0]
    return target


def remove(name: str) -> None:
    """Unbind and forget the namespace `name`; the kernel frees it once nothing holds it."""
    target = path(name)
    _libc.umount2(target.encode(), _MNT_DETACH)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)


def anonymous() -> int:
    """A new, unnamed namespace with only `lo`, up; returns a descriptor that holds it (close
    it when done: the namespace lives on only while a socket or a process is still in it)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare")
        try:
            fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            try:
                _loopback_up()
            except OSError:
                os.close(fd)
                raise
        finally:
            setns(home)
    finally:
        os.close(home)
    return fd


def _loopback_up() -> None:
    """`ip link set lo up` in the calling thread's namespace (one ioctl: no netlink socket)."""
    with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as probe:
        request = struct.pack("16s16x", b"lo")
        flags = struct.unpack_from("H", fcntl.ioctl(probe, _SIOCGIFFLAGS, request), 16)[0]
        fcntl.ioctl(probe, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def exists(name: str) -> bool:
    return os.path.exists(path(name))


def names(prefix: str) -> list[str]:
    """The namespaces in /run/netns whose names start with `prefix`."""
    try:
        return sorted(entry for entry in os.listdir(RUN_DIR) if entry.startswith(prefix))
    except FileNotFoundError:
        return []


def setns(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


@contextlib.contextmanager
def inside(name: str | int) -> Iterator[None]:
    """Run the calling thread inside the namespace `name` (or the one a descriptor holds),
    and bring it back afterwards."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if isinstance(name, int):
            setns(name)
        else:
            target = os.open(path(name), os.O_RDONLY)
            try:
                setns(target)
            finally:
                os.close(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


def socket(where: str | int | None, family: int = _socket.AF_INET, type: int = _socket.SOCK_STREAM,
           proto: int = 0) -> _socket.socket:
    """A socket created inside the namespace `where` (a name, a path or a descriptor; None:
    the caller's own)."""
    if where is None:
        return _socket.socket(family, type, proto)
    with inside(where):
        return _socket.socket(family, type, proto)


def sysctl(key: str, value: str | int) -> None:
    """Set a sysctl of the calling thread's network namespace (`net.ipv4.ip_forward`)."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as handle:
        handle.write(str(value))


def available() -> tuple[bool, str]:
    """Whether this process can make namespaces, with the reason when it cannot."""
    if os.geteuid() != 0:
        return False, "not running as root"
    if not os.path.exists("/proc/thread-self/ns/net"):
        return False, "no network namespaces (/proc/thread-self/ns/net missing)"
    probe = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if _libc.setns(probe, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            if code in (errno.EPERM, errno.EINVAL, errno.ENOSYS):
                return False, f"setns refused: {os.strerror(code)} (no CAP_SYS_ADMIN?)"
    finally:
        os.close(probe)
    return True, ""
