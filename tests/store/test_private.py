"""The data directory made private: the umask, the one-time tightening of an older tree,
and what it leaves alone (shared trees' contents, an ACL's mask)."""

from __future__ import annotations

import os
import stat

from cloudlet.store import Store, private


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def old_tree(root):
    """A data directory as umask 022 made it."""
    (root / "blobs" / "ab").mkdir(parents=True)
    (root / "blobs" / "ab" / "abcd").write_bytes(b"x")
    (root / "lambda" / "code" / "f00d").mkdir(parents=True)
    (root / "lambda" / "code" / "f00d" / "app.py").write_text("print()")
    (root / "run.sh").write_text("#!/bin/sh\n")
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() or path.name == "run.sh" else 0o644)


def test_the_umask_makes_everything_private(tmp_path):
    previous = os.umask(0o022)
    try:
        private.restrict_umask()
        (tmp_path / "d").mkdir()
        (tmp_path / "f").write_text("x")
        assert (mode(tmp_path / "d"), mode(tmp_path / "f")) == (0o700, 0o600)
    finally:
        os.umask(previous)


def test_an_older_tree_is_tightened_once(tmp_path):
    old_tree(tmp_path)
    assert private.tighten(tmp_path, shared=("lambda/code",)) > 0
    assert mode(tmp_path) == 0o700
    assert mode(tmp_path / "blobs" / "ab") == 0o700
    assert mode(tmp_path / "blobs" / "ab" / "abcd") == 0o600
    assert mode(tmp_path / "run.sh") == 0o700          # the owner keeps x
    assert mode(tmp_path / "lambda" / "code") == 0o700  # the shared tree's top is private
    assert mode(tmp_path / "lambda" / "code" / "f00d") == 0o755      # its contents are not
    assert mode(tmp_path / "lambda" / "code" / "f00d" / "app.py") == 0o644
    os.chmod(tmp_path / "blobs" / "ab" / "abcd", 0o644)
    assert private.tighten(tmp_path) == 0               # the marker: not walked again
    assert mode(tmp_path / "blobs" / "ab" / "abcd") == 0o644


def test_the_top_is_made_private_at_every_start(tmp_path):
    private.tighten(tmp_path)
    os.chmod(tmp_path, 0o755)
    assert private.tighten(tmp_path) == 1
    assert mode(tmp_path) == 0o700


def test_an_acl_mask_is_not_taken_away(tmp_path):
    """Group bits that are an ACL's mask (the postgres user's search) stay; others' go."""
    from cloudlet.engines.db import access

    directory = tmp_path / "rds"
    directory.mkdir(mode=0o705)
    access.grant_search(directory, 101)
    assert mode(directory) == 0o715
    private.tighten(tmp_path)
    assert mode(directory) == 0o710
    assert (2, 1, 101) in access.read_acl(directory)


def test_store_open_tightens_before_anything_is_opened(tmp_path):
    old_tree(tmp_path)
    store = Store.open(tmp_path, shared=("lambda/code",))
    assert mode(tmp_path / "secrets.key") == 0o600
    assert mode(tmp_path / "cloudlet.db") == 0o600
    assert mode(tmp_path / "blobs" / "ab" / "abcd") == 0o600
    store.close()
