"""Search access to one directory for one OS user, through a POSIX ACL entry.

As root, Cloudlet runs PostgreSQL as the `postgres` user (it refuses root), and that user's
data folders lie inside Cloudlet's data directory, which is 0700 and root's. The server user
needs search (x) on every directory above its folder, and nothing more: `grant_search` adds
the entry `user:<uid>:--x` to a directory's access ACL, so that user alone may pass through
(not list, not read), and everyone else keeps exactly what they had.

The ACL is written as the kernel's `system.posix_acl_access` extended attribute
(linux/posix_acl_xattr.h: a version word, then sorted (tag, perm, id) entries), which needs
no library and no acl package. A filesystem without ACLs (EOPNOTSUPP) gets the others-search
bit instead, as Cloudlet did before, with a warning: files stay 0600, so others still read
nothing, but they may pass.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import struct
from pathlib import Path

log = logging.getLogger("cloudlet.engines.db")

XATTR = "system.posix_acl_access"
VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
UNDEFINED = 0xFFFFFFFF
SEARCH = 1
_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")

Entry = tuple[int, int, int]   # (tag, perm, id)


def read_acl(path: Path) -> list[Entry]:
    """The directory's access ACL; the three entries its mode implies when it has none."""
    try:
        raw = os.getxattr(path, XATTR)
    except OSError as error:
        if error.errno not in (errno.ENODATA, errno.EOPNOTSUPP):
            raise
        mode = os.stat(path).st_mode
        return [(USER_OBJ, (mode >> 6) & 7, UNDEFINED), (GROUP_OBJ, (mode >> 3) & 7, UNDEFINED),
                (OTHER, mode & 7, UNDEFINED)]
    (version,) = _HEADER.unpack_from(raw)
    if version != VERSION:
        raise OSError(errno.EINVAL, f"unknown ACL version {version} on {path}")
    return [_ENTRY.unpack_from(raw, offset)
            for offset in range(_HEADER.size, len(raw), _ENTRY.size)]


def write_acl(path: Path, entries: list[Entry]) -> None:
    ordered = sorted(entries, key=lambda e: (e[0], e[2]))
    os.setxattr(path, XATTR, _HEADER.pack(VERSION) + b"".join(_ENTRY.pack(*e) for e in ordered))


def can_search(path: Path, uid: int, gids: set[int]) -> bool:
    """Whether uid (with groups gids) may search the directory, as the kernel decides:
    owner, then a named-user entry, then the matching group entries, then others."""
    st = os.stat(path)
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    entries = read_acl(path)
    mask = next((perm for tag, perm, _ in entries if tag == MASK), 7)
    named = [perm for tag, perm, id in entries if tag == USER and id == uid]
    if named:
        return bool(named[0] & mask & SEARCH)
    groups = [perm for tag, perm, id in entries
              if (tag == GROUP_OBJ and st.st_gid in gids) or (tag == GROUP and id in gids)]
    if groups:
        return any(perm & mask & SEARCH for perm in groups)
    return bool(next(perm for tag, perm, _ in entries if tag == OTHER) & SEARCH)


def grant_search(path: Path, uid: int) -> None:
    """Add search for uid alone. The entries the old mask limited are lowered to what they
    allowed, so raising the mask by x grants nothing to anyone else."""
    entries = read_acl(path)
    old_mask = next((perm for tag, perm, _ in entries if tag == MASK), None)
    granted: list[Entry] = []
    for tag, perm, id in entries:
        if tag == MASK or (tag == USER and id == uid):
            continue
        if old_mask is not None and tag in (USER, GROUP_OBJ, GROUP):
            perm &= old_mask
        granted.append((tag, perm, id))
    own = next((perm for tag, perm, id in entries if tag == USER and id == uid), 0)
    granted.append((USER, own | SEARCH, uid))
    if old_mask is None:    # a new ACL: the mask lets the owning group keep its bits
        old_mask = next(perm for tag, perm, _ in entries if tag == GROUP_OBJ)
    granted.append((MASK, old_mask | SEARCH, UNDEFINED))
    try:
        write_acl(path, granted)
    except OSError as error:
        if error.errno not in (errno.EOPNOTSUPP, errno.ENOTSUP):
            raise
        log.warning("%s has no POSIX ACLs: giving others search (x) on it instead", path)
        os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) | stat.S_IXOTH)

