"""Persistence: metadata in SQLite, blobs in files, under one data directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cloudlet.store.blobs import BlobStore
from cloudlet.store.db import Database


@dataclass
class Store:
    root: Path
    db: Database
    blobs: BlobStore

    @classmethod
    def open(cls, root: Path) -> Store:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        return cls(root=root, db=Database(root / "cloudlet.db"), blobs=BlobStore(root / "blobs"))

    def close(self) -> None:
        self.db.close()
