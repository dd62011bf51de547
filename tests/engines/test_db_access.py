"""Search for one user through a POSIX ACL entry (engines/db/access.py): that user passes
through a 0700 directory, reads what it may read beyond, lists nothing; nobody else gains
anything; a chmod that revokes it is seen."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess

import pytest

from cloudlet.engines.db import access

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root and setpriv to act as other users")
NOBODY = pwd.getpwnam("nobody")


def as_user(user: pwd.struct_passwd, *command: str) -> bool:
    return subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                           "--clear-groups", *command], capture_output=True).returncode == 0


@pytest.fixture
def tree():
    """/tmp/x (0755) / private (0700, root's) / open (0755) / file (0644)."""
    import tempfile
    top = tempfile.mkdtemp(prefix="cloudlet-access-test-")
    os.chmod(top, 0o755)
    private = os.path.join(top, "private")
    os.makedirs(os.path.join(private, "open"))
    os.chmod(private, 0o700)
    os.chmod(os.path.join(private, "open"), 0o755)
    with open(os.path.join(private, "open", "file"), "w") as f:
        f.write("hello")
    os.chmod(os.path.join(private, "open", "file"), 0o644)
    yield private
    shutil.rmtree(top)


def test_search_for_one_user_alone(tree):
    other = next(u for u in pwd.getpwall() if u.pw_uid not in (0, NOBODY.pw_uid)
                 and u.pw_uid < 65534)
    file = os.path.join(tree, "open", "file")
    assert not access.can_search(tree, NOBODY.pw_uid, {NOBODY.pw_gid})
    assert not as_user(NOBODY, "cat", file)
    access.grant_search(tree, NOBODY.pw_uid)
    assert access.can_search(tree, NOBODY.pw_uid, {NOBODY.pw_gid})
    assert as_user(NOBODY, "cat", file)
    assert not as_user(NOBODY, "ls", tree)                # search, not read
    assert not as_user(other, "cat", file)                # nobody else
    assert os.stat(tree).st_mode & 0o007 == 0
    os.chmod(tree, 0o700)                                 # chmod sets the mask: revoked
    assert not access.can_search(tree, NOBODY.pw_uid, {NOBODY.pw_gid})
    assert not as_user(NOBODY, "cat", file)
    access.grant_search(tree, NOBODY.pw_uid)
    assert as_user(NOBODY, "cat", file)


def test_what_a_mask_held_back_stays_held_back(tree):
    """An owning group with r-x under a --- mask gets nothing when the mask gains x."""
    other = next(u for u in pwd.getpwall() if u.pw_uid not in (0, NOBODY.pw_uid)
                 and u.pw_uid < 65534)
    os.chown(tree, 0, other.pw_gid)
    access.write_acl(tree, [(access.USER_OBJ, 7, access.UNDEFINED),
                            (access.GROUP_OBJ, 5, access.UNDEFINED),
                            (access.MASK, 0, access.UNDEFINED),
                            (access.OTHER, 0, access.UNDEFINED)])
    access.grant_search(tree, NOBODY.pw_uid)
    entries = access.read_acl(tree)
    assert (access.GROUP_OBJ, 0, access.UNDEFINED) in entries
    assert not access.can_search(tree, other.pw_uid, {other.pw_gid})
    assert access.can_search(tree, NOBODY.pw_uid, {NOBODY.pw_gid})
