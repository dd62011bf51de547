"""RDS's records in SQLite: one JSON document per resource, in AWS's shape.

Fields whose names start with `_` are Cloudlet's own (ports, directories, the master
password) and never leave the provider. The master password is sealed at rest
(store/sealing.py) and opened on every read. Read-modify-write goes through `update`, under
one lock, so a request thread and the supervisor never lose each other's changes. The tables
are made by the numbered migrations m0010 and m0015, never here."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from cloudlet import clock
from cloudlet.store import Store
from cloudlet.store.sealing import where

KINDS = ("instances", "clusters", "snapshots", "parameter_groups", "subnet_groups",
         "event_subscriptions")
SECRET = "_password"


def public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


class Records:
    def __init__(self, store: Store):
        self.db = store.db
        self.sealer = store.sealer
        self.lock = threading.RLock()
        self.on_event: Callable[[str, str, dict], None] | None = None

    def _dump(self, kind: str, account: str, region: str, id: str, record: dict) -> str:
        if isinstance(record.get(SECRET), str):
            record = {**record, SECRET: self.sealer.seal(
                record[SECRET], where(f"rds_{kind}", SECRET, account, region, id))}
        return json.dumps(record)

    def _load(self, kind: str, row) -> dict:
        record = json.loads(row["data"])
        if isinstance(record.get(SECRET), str):
            record[SECRET] = self.sealer.open(record[SECRET], where(
                f"rds_{kind}", SECRET, row["account"], row["region"], row["id"]))
        return record

    def get(self, kind: str, account: str, region: str, id: str) -> dict | None:
        rows = self.db.query(f"SELECT * FROM rds_{kind} WHERE account=? AND region=? AND id=?",
                             (account, region, id))
        return self._load(kind, rows[0]) if rows else None

    def list(self, kind: str, account: str | None = None, region: str | None = None) -> list[dict]:
        if account is None:
            rows = self.db.query(f"SELECT * FROM rds_{kind} ORDER BY id")
        else:
            rows = self.db.query(f"SELECT * FROM rds_{kind} WHERE account=? AND region=? "
                                 "ORDER BY id", (account, region))
        return [self._load(kind, r) for r in rows]

    def put(self, kind: str, account: str, region: str, id: str, record: dict) -> dict:
        with self.lock, self.db.transaction() as conn:
            conn.execute(f"INSERT OR REPLACE INTO rds_{kind} (account, region, id, data) "
                         "VALUES (?, ?, ?, ?)",
                         (account, region, id, self._dump(kind, account, region, id, record)))
        return record

    def insert(self, kind: str, account: str, region: str, id: str, record: dict) -> bool:
        """False when the identifier is taken."""
        with self.lock, self.db.transaction() as conn:
            if conn.execute(f"SELECT 1 FROM rds_{kind} WHERE account=? AND region=? AND id=?",
                            (account, region, id)).fetchone():
                return False
            conn.execute(f"INSERT INTO rds_{kind} (account, region, id, data) VALUES "
                         "(?, ?, ?, ?)",
                         (account, region, id, self._dump(kind, account, region, id, record)))
        return True

    def update(self, kind: str, account: str, region: str, id: str,
               change: Callable[[dict], object]) -> dict | None:
        """Apply change(record) in place and store it; None when the record is gone."""
        with self.lock:
            record = self.get(kind, account, region, id)
            if record is None:
                return None
            change(record)
            return self.put(kind, account, region, id, record)

    def delete(self, kind: str, account: str, region: str, id: str) -> None:
        with self.lock, self.db.transaction() as conn:
            conn.execute(f"DELETE FROM rds_{kind} WHERE account=? AND region=? AND id=?",
                         (account, region, id))

    # -- events ---------------------------------------------------------------------------

    def event(self, account: str, region: str, source_type: str, source_id: str, message: str,
              categories: list[str], arn: str) -> None:
        now = clock.timestamp()
        data = {"SourceIdentifier": source_id, "SourceType": source_type, "Message": message,
                "EventCategories": categories, "Date": now, "SourceArn": arn}
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO rds_events (account, region, time, source_type, "
                         "source_id, data) VALUES (?, ?, ?, ?, ?, ?)",
                         (account, region, now, source_type, source_id, json.dumps(data)))
        if self.on_event is not None:
            self.on_event(account, region, data)

    def events(self, account: str, region: str, start: float, end: float) -> list[dict]:
        rows = self.db.query("SELECT data FROM rds_events WHERE account=? AND region=? AND "
                             "time>=? AND time<=? ORDER BY seq", (account, region, start, end))
        return [json.loads(r["data"]) for r in rows]
