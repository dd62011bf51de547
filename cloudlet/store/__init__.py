"""Persistence: metadata in SQLite, blobs in files, under one private data directory.

`Store.open` makes the directory private (store/private.py), opens the sealer of its
secrets (store/sealing.py), migrates the database and checks that the key opens what it
sealed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cloudlet.store import private
from cloudlet.store.blobs import BlobStore
from cloudlet.store.db import Database
from cloudlet.store.migrations.m0017_sealed_secrets import CANARY_TEXT
from cloudlet.store.sealing import KEY_FILE, Sealer, SealError, where


@dataclass
class Store:
    root: Path
    db: Database
    blobs: BlobStore
    sealer: Sealer

    @classmethod
    def open(cls, root: Path, shared: tuple[str, ...] = ()) -> Store:
        """`shared`: trees under root whose contents keep their read bits (private.py)."""
        root = Path(root)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        private.tighten(root, shared)
        sealer = Sealer.for_directory(root)
        # Born 0600 whatever the umask: SQLite gives the WAL and SHM files the database's mode.
        os.close(os.open(root / "cloudlet.db", os.O_WRONLY | os.O_CREAT, 0o600))
        db = Database(root / "cloudlet.db")
        _check_key(db, sealer, root)
        return cls(root=root, db=db, blobs=BlobStore(root / "blobs"), sealer=sealer)

    def close(self) -> None:
        self.db.close()


def _check_key(db: Database, sealer: Sealer, root: Path) -> None:
    rows = db.query("SELECT value FROM sealing_canary")
    try:
        if sealer.open(rows[0]["value"], where("sealing_canary", "value")) == CANARY_TEXT:
            return
    except SealError:
        pass
    raise SealError(f"{root / KEY_FILE} is not the key this data directory's secrets were "
                    "sealed with: restore that file, or start afresh with `cloudlet reset`")
