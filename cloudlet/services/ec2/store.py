"""EC2's records in SQLite (m0014): one row per resource, its AWS shape as JSON.

    with records.write(account, region) as view:   # one transaction: commit or roll back
        view.put("vpc", vpc)
    view = records.read(account, region)           # reads, outside any transaction

A document is the resource as Describe* returns it, without its tags (kept in `ec2_tags`)
and with Cloudlet's own fields, whose names start with `_`. `View.find` narrows by the
indexed columns (kind, ids, VPC, parent, name, tags) before it decodes any document.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import time

import msgspec

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.ids import KINDS
from cloudlet.store import Store
from cloudlet.store.migrations import m0014_ec2

_decode = msgspec.json.decode
_encode = msgspec.json.Encoder().encode
_CHUNK = 500  # ids per IN (...) list


def decode_all(rows) -> list[dict]:
    """Documents from rows. A large batch is decoded with the cyclic garbage collector
    paused: its new dicts would otherwise set off collections that walk every live object
    (three times the decoding itself for a thousand security groups)."""
    if len(rows) < 100 or not gc.isenabled():
        return [_decode(row[0]) for row in rows]
    gc.disable()
    try:
        return [_decode(row[0]) for row in rows]
    finally:
        gc.enable()


def _order(doc: dict) -> tuple:
    return doc["_seq"], doc["_id"]


def public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k[0] != "_"}


class View:
    """One account and region, on one connection (inside a transaction when writing)."""

    def __init__(self, conn: sqlite3.Connection, account: str, region: str, writing: bool):
        self.conn, self.account, self.region, self.writing = conn, account, region, writing
        self.after_commit: list = []
        self.after_rollback: list = []  # run when the transaction is rolled back

    # -- reading -------------------------------------------------------------------------
    def get(self, id: str, kind: str | None = None) -> dict | None:
        row = self.conn.execute(
            "SELECT kind, doc FROM ec2_resources WHERE account=? AND region=? AND id=?",
            (self.account, self.region, id)).fetchone()
        if row is None or (kind is not None and row[0] != kind):
            return None
        return _decode(row[1])

    def require(self, id: str, kind: str) -> dict:
        found = self.get(id, kind)
        if found is None:
            raise errors.not_found(kind, id)
        return found

    def find(self, kind: str, *, ids=None, vpc_ids=None, parents=None, names=None,
             tags: dict[str, list[str] | None] | None = None) -> list[dict]:
        """Documents of `kind`, in creation order, narrowed by each given column."""
        sql = ["SELECT doc FROM ec2_resources WHERE account=? AND region=? AND kind=?"]
        args: list = [self.account, self.region, kind]
        for column, values in (("id", ids), ("vpc_id", vpc_ids), ("parent", parents),
                               ("name", names)):
            if values is not None:
                values = list(values)
                if not values:
                    return []
                if len(values) > _CHUNK:  # a long list is cheaper filtered after reading
                    continue
                sql.append(f"AND {column} IN ({','.join('?' * len(values))})")
                args += values
        for key, values in (tags or {}).items():
            if values is not None and not values:
                return []
            clause = "AND id IN (SELECT id FROM ec2_tags WHERE account=? AND region=? AND key=?"
            args += [self.account, self.region, key]
            if values is not None:
                clause += f" AND value IN ({','.join('?' * len(values))})"
                args += list(values)
            sql.append(clause + ")")
        narrowed = len(args) > 3
        if not narrowed:  # the kind index gives creation order; a narrowed query sorts after,
            sql.append("ORDER BY seq, id")  # or SQLite would walk the kind index for order
        rows = self.conn.execute(" ".join(sql), args).fetchall()
        docs = decode_all(rows)
        if narrowed and len(docs) > 1:
            docs.sort(key=_order)
        return docs

    def count(self, kind: str, *, vpc_id: str | None = None, parent: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM ec2_resources WHERE account=? AND region=? AND kind=?"
        args: list = [self.account, self.region, kind]
        if vpc_id is not None:
            sql, args = sql + " AND vpc_id=?", [*args, vpc_id]
        if parent is not None:
            sql, args = sql + " AND parent=?", [*args, parent]
        return self.conn.execute(sql, args).fetchone()[0]

    def kinds_in_vpc(self, vpc_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT kind, COUNT(*) FROM ec2_resources WHERE account=? AND region=? AND vpc_id=? "
            "GROUP BY kind", (self.account, self.region, vpc_id)).fetchall()
        return {row[0]: row[1] for row in rows}

    def tags_of(self, ids: list[str] | None = None, kind: str | None = None
                ) -> dict[str, list[dict]]:
        """{id: [{"Key", "Value"}, ...]} for these ids (or every resource of `kind`)."""
        found: dict[str, list[dict]] = {}
        if ids is not None and len(ids) <= _CHUNK:
            if not ids:
                return found
            rows = self.conn.execute(
                "SELECT id, key, value FROM ec2_tags WHERE account=? AND region=? AND id IN "
                f"({','.join('?' * len(ids))}) ORDER BY id, key",
                (self.account, self.region, *ids)).fetchall()
        else:
            sql = "SELECT id, key, value FROM ec2_tags WHERE account=? AND region=?"
            args: tuple = (self.account, self.region)
            if kind is not None:
                sql, args = sql + " AND kind=?", (*args, kind)
            rows = self.conn.execute(sql + " ORDER BY id, key", args).fetchall()
        for id, key, value in rows:
            found.setdefault(id, []).append({"Key": key, "Value": value})
        return found

    def tag_rows(self, clauses: list[tuple[str, list]]) -> list[tuple]:
        sql = "SELECT id, kind, key, value FROM ec2_tags WHERE account=? AND region=?"
        args: list = [self.account, self.region]
        for clause, values in clauses:
            sql += f" AND {clause}"
            args += values
        return self.conn.execute(sql + " ORDER BY id, key", args).fetchall()

    def kind_of_id(self, id: str) -> str | None:
        row = self.conn.execute(
            "SELECT kind FROM ec2_resources WHERE account=? AND region=? AND id=?",
            (self.account, self.region, id)).fetchone()
        return row[0] if row else None

    # -- writing -------------------------------------------------------------------------
    def put(self, kind: str, doc: dict, *, parent: str | None = None) -> dict:
        assert self.writing, "writes need records.write()"
        id = doc[KINDS[kind].id_member]
        row = self.conn.execute(
            "SELECT seq FROM ec2_resources WHERE account=? AND region=? AND id=?",
            (self.account, self.region, id)).fetchone()
        seq = row[0] if row else time.time_ns()
        doc["_seq"], doc["_id"] = seq, id
        name = doc.get("GroupName") if kind == "security-group" else None
        self.conn.execute(
            "INSERT OR REPLACE INTO ec2_resources (account, region, id, kind, vpc_id, parent, "
            "name, seq, doc) VALUES (?,?,?,?,?,?,?,?,?)",
            (self.account, self.region, id, kind, doc.get("VpcId"),
             parent if parent is not None else doc.get("_parent"), name, seq,
             _encode(doc).decode()))
        return doc

    def delete(self, id: str) -> None:
        assert self.writing
        self.conn.execute("DELETE FROM ec2_resources WHERE account=? AND region=? AND id=?",
                          (self.account, self.region, id))
        self.conn.execute("DELETE FROM ec2_tags WHERE account=? AND region=? AND id=?",
                          (self.account, self.region, id))

    def set_tags(self, id: str, kind: str, tags: list[dict]) -> None:
        assert self.writing
        self.conn.executemany(
            "INSERT OR REPLACE INTO ec2_tags (account, region, id, key, value, kind) "
            "VALUES (?,?,?,?,?,?)",
            [(self.account, self.region, id, t["Key"], t.get("Value") or "", kind)
             for t in tags])

    def remove_tag(self, id: str, key: str, value: str | None = None) -> None:
        sql = "DELETE FROM ec2_tags WHERE account=? AND region=? AND id=? AND key=?"
        args: tuple = (self.account, self.region, id, key)
        if value is not None:
            sql, args = sql + " AND value=?", (*args, value)
        self.conn.execute(sql, args)

    # -- public addresses (unique across accounts) --------------------------------------
    def taken_public_ips(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT address FROM ec2_public_ips")}

    def claim_public_ip(self, address: str, owner: str) -> None:
        self.conn.execute("INSERT INTO ec2_public_ips (address, account, region, owner) "
                          "VALUES (?,?,?,?)", (address, self.account, self.region, owner))

    def release_public_ip(self, address: str) -> None:
        self.conn.execute("DELETE FROM ec2_public_ips WHERE address=?", (address,))

    # -- the region's default VPC -------------------------------------------------------
    def place(self) -> tuple[bool, str | None]:
        row = self.conn.execute("SELECT default_vpc FROM ec2_places WHERE account=? AND "
                                "region=?", (self.account, self.region)).fetchone()
        return (row is not None, row[0] if row else None)

    def set_place(self, default_vpc: str | None) -> None:
        self.conn.execute("INSERT OR REPLACE INTO ec2_places (account, region, default_vpc) "
                          "VALUES (?,?,?)", (self.account, self.region, default_vpc))


class Records:
    def __init__(self, store: Store):
        self.db = store.db
        with self.db.transaction() as conn:
            m0014_ec2.migrate(conn)  # idempotent, for data directories migrated before it

    def read(self, account: str, region: str) -> View:
        return View(self.db.connection(), account, region, writing=False)

    @contextlib.contextmanager
    def write(self, account: str, region: str):
        view = None
        try:
            with self.db.transaction() as conn:
                view = View(conn, account, region, writing=True)
                yield view
        except BaseException:
            for callback in view.after_rollback if view is not None else ():
                callback()
            raise
        for callback in view.after_commit:
            callback()

    def places(self) -> list[tuple[str, str]]:
        """Every (account, region) that has EC2 resources."""
        return [(r[0], r[1]) for r in self.db.query(
            "SELECT DISTINCT account, region FROM ec2_resources")]
