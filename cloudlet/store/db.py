"""Metadata in SQLite (WAL), with numbered schema migrations.

One database per data directory. Each thread gets its own connection; writes go through
`transaction()`, which commits before returning, so an acknowledged write is on disk in the
WAL and survives `kill -9` of the server.

Migrations are the modules `cloudlet/store/migrations/mNNNN_<name>.py`, each with a
`migrate(connection)` that takes the schema from version NNNN-1 to NNNN.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sqlite3
import threading
from pathlib import Path

from cloudlet.store import migrations as _migrations


def _migration_modules() -> list[tuple[int, str]]:
    found = []
    for info in pkgutil.iter_modules(_migrations.__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            found.append((int(info.name[1:5]), f"{_migrations.__name__}.{info.name}"))
    return sorted(found)


class Database:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.migrate()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self):
        conn = self.connection()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def query(self, sql: str, args: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, args).fetchall()

    def schema_version(self) -> int:
        return self.connection().execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        with self.transaction() as conn:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version, module in _migration_modules():
                if version > current:
                    importlib.import_module(module).migrate(conn)
                    conn.execute(f"PRAGMA user_version={version}")
        if self.schema_version() > current:
            # Migrated pages go to the database file now, over the old ones (m0017 rewrites
            # plaintext secrets: their old pages should not wait in the file for a checkpoint).
            self.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
