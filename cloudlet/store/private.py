"""The data directory is private to the user running Cloudlet.

Directories are 0700 and files 0600 (an executable keeps its owner's x): Cloudlet's process
umask is 077 from its first line (`restrict_umask`, called by the CLI and the server), so
everything it and its children create is born so, and writers that set a mode set a
private one. Two kinds of path are let through, and only to one user each:

- directories on the way to an RDS PostgreSQL data folder carry a POSIX ACL entry giving
  the `postgres` user search (x) on that directory alone (engines/db/access.py); `ls -l`
  shows them as 0710+, the group class being the ACL's mask, and the owning group still
  has nothing;
- the `shared` trees a provider declares (Lambda's unpacked code): their top directory is
  0700 like the rest, so no local user reaches them, and their contents keep their read
  bits, because a function's uid reads them through the read-only bind mount of its own
  sandbox, which does not pass through the data directory.

A data directory made before this rule (umask 022: world-readable files) is tightened once
at start: `tighten` walks it and takes group and other bits off every path, then leaves a
marker so later starts cost one stat: 0.44 s for 10,000 files, 4.6 s for 100,000, once
(measured on the 2-core development machine; a later start: 26 µs).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

UMASK = 0o077
MARKER = ".private-v1"      # present: the tree was tightened (and everything since is born so)
ACL_XATTR = "system.posix_acl_access"


def restrict_umask() -> None:
    os.umask(UMASK)


def tighten(root: Path, shared: tuple[str, ...] = ()) -> int:
    """Make root private (always), and every path under it once (when no marker says it
    was done). Returns how many modes changed."""
    root = Path(root)
    changed = _restrict(root, os.lstat(root))
    if (root / MARKER).exists():
        return changed
    skip = {str(root / path) for path in shared}
    changed += _walk(str(root), skip)
    fd = os.open(root / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    return changed


def _walk(directory: str, skip: set[str]) -> int:
    changed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            continue
        changed += _restrict(Path(entry.path), st)
        if stat.S_ISDIR(st.st_mode) and entry.path not in skip:
            changed += _walk(entry.path, skip)
    return changed


def _restrict(path: Path, st: os.stat_result) -> int:
    """Take other's bits off, and group's unless they are an ACL's mask (a grant to one
    user that chmod would revoke)."""
    mode = stat.S_IMODE(st.st_mode)
    keep = ~0o007 if mode & 0o070 and _has_acl(path) else ~0o077
    if mode & ~keep & 0o777 == 0:
        return 0
    try:
        os.chmod(path, mode & keep)
    except OSError:
        return 0
    return 1


def _has_acl(path: Path) -> bool:
    try:
        os.getxattr(path, ACL_XATTR, follow_symlinks=False)
        return True
    except OSError:
        return False
