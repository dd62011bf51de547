"""What both engines ask of the system about their servers: whether a process lives, the
CPU time and storage I/O of a server's processes (/proc), the disk space a data directory
takes, one syncfs for a whole tree, and the empty directory a new server needs."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from cloudlet.engines.db.server import EngineError


def require_empty(directory: Path) -> None:
    """A new server's data directory: absent or empty."""
    if directory.exists() and any(directory.iterdir()):
        raise EngineError(f"data directory {directory} is not empty")


def executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def syncfs(path: Path) -> None:
    """Flush the file system holding path (one syncfs call instead of an fsync per file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(libc, "syncfs") or libc.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def process_state(pid: int) -> tuple[str, str, int] | None:
    """(command name, state letter, parent pid) from /proc, or None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return comm, fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Whether pid is a live process (a zombie is not)."""
    state = process_state(pid)
    return state is not None and state[1] not in ("Z", "X")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def process_tree(root: int) -> list[int]:
    """A server's main process and its direct children (PostgreSQL's backends and auxiliary
    processes; MariaDB's server has none)."""
    pids = [root]
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[1]) == root:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(root: int) -> float:
    """CPU time of the server: its live processes plus the children it has already reaped."""
    ticks = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields:
            # utime, stime are fields 14, 15 of /proc/pid/stat; cutime, cstime 16, 17
            ticks += int(fields[11]) + int(fields[12])
            if pid == root:
                ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def io_bytes(root: int) -> tuple[int, int]:
    """Bytes the server's processes read from and wrote to storage (/proc/pid/io)."""
    read = written = 0
    for pid in process_tree(root):
        try:
            lines = Path(f"/proc/{pid}/io").read_text().splitlines()
        except OSError:
            continue
        values = dict(line.split(": ", 1) for line in lines if ": " in line)
        read += int(values.get("read_bytes", 0))
        written += int(values.get("write_bytes", 0))
    return read, written


def tree_size(path: Path) -> int:
    """Bytes used on disk by a directory tree."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total
