"""Blobs in files.

A blob is written to a temporary file in the same directory, fsynced, and renamed into
place; only then may the metadata that points to it commit. A half-written blob is never
visible under its final name, and leftover temporaries are swept at start-up.

What a crash can leave besides temporaries is a complete blob no row points to: renamed
but not yet committed, or freed but not yet unlinked. The blob's owner finds those with
`earlier()` and deletes them. Blob ids end with the epoch of the process that wrote them
(8 hex digits drawn at start), so a blob this process is writing, committing, or holding
as an upload's part is never among them, whatever the clock says. A clean stop leaves a
marker (`mark_clean`); `needs_sweep` is true when the last run left none (it crashed, or
it predates the marker).
"""

from __future__ import annotations

import ctypes
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

TMP_SUFFIX = ".tmp"
CLEAN = ".clean"   # the last process closed the store: no orphans to look for
WRITEBACK_STEP = 16 * 1024 * 1024


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.epoch = secrets.token_hex(4)
        clean = self.root / CLEAN
        self.needs_sweep = not clean.exists()
        clean.unlink(missing_ok=True)
        self.sweep()

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id

    def new_id(self) -> str:
        return secrets.token_hex(12) + self.epoch

    def write(self, chunks: Iterable[bytes] | bytes, blob_id: str | None = None) -> tuple[str, int]:
        blob_id = blob_id or self.new_id()
        final = self.path(blob_id)
        final.parent.mkdir(exist_ok=True)
        tmp = final.with_name(f"{final.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
        size = flushed = 0
        with open(tmp, "wb") as f:
            for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
                f.write(chunk)
                size += len(chunk)
                if size - flushed >= WRITEBACK_STEP:  # so the final fsync has little left
                    f.flush()
                    _start_writeback(f.fileno(), flushed, size - flushed)
                    flushed = size
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return blob_id, size

    def read(self, blob_id: str) -> bytes:
        return self.path(blob_id).read_bytes()

    def open(self, blob_id: str):
        return open(self.path(blob_id), "rb")

    def delete(self, blob_id: str) -> None:
        try:
            self.path(blob_id).unlink()
        except FileNotFoundError:
            pass

    def sweep(self) -> None:
        for tmp in self.root.glob(f"*/*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)

    def earlier(self, batch: int = 500) -> Iterator[list[str]]:
        """The ids of blobs written by earlier processes, in batches."""
        found: list[str] = []
        for fanout in sorted(os.scandir(self.root), key=lambda e: e.name):
            if fanout.name.startswith(".") or not fanout.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(fanout.path):
                name = entry.name
                if name.endswith(TMP_SUFFIX) or name.endswith(self.epoch):
                    continue
                found.append(name)
                if len(found) >= batch:
                    yield found
                    found = []
        if found:
            yield found

    def mark_clean(self) -> None:
        """For the owner at a clean stop: every blob written is committed or deleted."""
        fd = os.open(self.root / CLEAN, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)


def _load_sync_file_range():
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter links
        function = libc.sync_file_range
    except (OSError, AttributeError):  # not Linux
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    return function


_sync_file_range = _load_sync_file_range()
SYNC_FILE_RANGE_WRITE = 2


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing this range to disk now, without waiting for it."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
