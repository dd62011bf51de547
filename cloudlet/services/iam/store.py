"""IAM's data access: one small method per question the operations ask of SQLite.

Every row is keyed by account (IAM is global per account). Entity kinds are the table
suffixes `users`, `groups`, `roles`, `instance_profiles`; policies are keyed by ARN.
"""

from __future__ import annotations

import contextlib
import sqlite3

from cloudlet.store import Store

ENTITY_TABLES = {"user": "iam_users", "group": "iam_groups", "role": "iam_roles",
                 "instance-profile": "iam_instance_profiles"}


class IamStore:
    def __init__(self, store: Store):
        self.db = store.db
        # Bumped after every IAM write commits: readers that cache (the access-key lookup
        # on every signed request) keep an answer only while the generation is unchanged.
        self.generation = 0

    @contextlib.contextmanager
    def transaction(self):
        try:
            with self.db.transaction() as conn:
                yield conn
        finally:
            self.generation += 1

    # -- reads ------------------------------------------------------------------------

    def one(self, sql: str, args: tuple = ()) -> sqlite3.Row | None:
        rows = self.db.query(sql, args)
        return rows[0] if rows else None

    def entity(self, kind: str, account: str, name: str) -> sqlite3.Row | None:
        return self.one(f"SELECT * FROM {ENTITY_TABLES[kind]} WHERE account=? AND name=?",
                        (account, name))

    def entities(self, kind: str, account: str, path_prefix: str = "/") -> list[sqlite3.Row]:
        return self.db.query(
            f"SELECT * FROM {ENTITY_TABLES[kind]} WHERE account=? AND substr(path, 1, ?)=? "
            "ORDER BY name COLLATE NOCASE", (account, len(path_prefix), path_prefix))

    def tags(self, account: str, kind: str, name: str) -> list[sqlite3.Row]:
        return self.db.query(
            "SELECT key, value FROM iam_tags WHERE account=? AND entity_type=? AND entity_name=? "
            "ORDER BY rowid", (account, kind, name))

    def group_names_of(self, account: str, user: str) -> list[str]:
        return [r["group_name"] for r in self.db.query(
            "SELECT g.name AS group_name FROM iam_group_members m JOIN iam_groups g "
            "ON g.account=m.account AND g.name=m.group_name WHERE m.account=? AND m.user_name=? "
            "ORDER BY g.name COLLATE NOCASE", (account, user))]

    def members_of(self, account: str, group: str) -> list[sqlite3.Row]:
        return self.db.query(
            "SELECT u.* FROM iam_group_members m JOIN iam_users u ON u.account=m.account "
            "AND u.name=m.user_name WHERE m.account=? AND m.group_name=? "
            "ORDER BY u.name COLLATE NOCASE", (account, group))

    def inline_policies(self, account: str, kind: str, name: str) -> list[sqlite3.Row]:
        return self.db.query(
            "SELECT name, document FROM iam_inline_policies WHERE account=? AND entity_type=? "
            "AND entity_name=? ORDER BY name COLLATE NOCASE", (account, kind, name))

    def inline_policy(self, account: str, kind: str, name: str, policy: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT name, document FROM iam_inline_policies WHERE account=? AND entity_type=? "
            "AND entity_name=? AND name=?", (account, kind, name, policy))

    def attached(self, account: str, kind: str, name: str) -> list[str]:
        return [r["policy_arn"] for r in self.db.query(
            "SELECT policy_arn FROM iam_attachments WHERE account=? AND entity_type=? "
            "AND entity_name=? ORDER BY rowid", (account, kind, name))]

    def attachments_of(self, account: str, arn: str) -> list[sqlite3.Row]:
        return self.db.query(
            "SELECT entity_type, entity_name FROM iam_attachments WHERE account=? AND policy_arn=? "
            "ORDER BY entity_type, entity_name COLLATE NOCASE", (account, arn))

    def attachment_counts(self, account: str) -> dict[str, int]:
        return {r["policy_arn"]: r["n"] for r in self.db.query(
            "SELECT policy_arn, count(*) AS n FROM iam_attachments WHERE account=? "
            "GROUP BY policy_arn", (account,))}

    def boundary_counts(self, account: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in ("iam_users", "iam_roles"):
            for r in self.db.query(f"SELECT boundary FROM {table} WHERE account=? "
                                   "AND boundary IS NOT NULL", (account,)):
                counts[r["boundary"]] = counts.get(r["boundary"], 0) + 1
        return counts

    def policy(self, account: str, arn: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM iam_policies WHERE account=? AND arn=?", (account, arn))

    def policies(self, account: str) -> list[sqlite3.Row]:
        return self.db.query("SELECT * FROM iam_policies WHERE account=? "
                             "ORDER BY name COLLATE NOCASE", (account,))

    def policy_version(self, account: str, arn: str, version: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM iam_policy_versions WHERE account=? AND arn=? AND version=?",
                        (account, arn, version))

    def policy_versions(self, account: str, arn: str) -> list[sqlite3.Row]:
        return self.db.query(
            "SELECT * FROM iam_policy_versions WHERE account=? AND arn=? "
            "ORDER BY CAST(substr(version, 2) AS INTEGER) DESC", (account, arn))

    def access_key(self, access_key_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM iam_access_keys WHERE access_key_id=?", (access_key_id,))

    def access_keys(self, account: str, user: str) -> list[sqlite3.Row]:
        return self.db.query("SELECT * FROM iam_access_keys WHERE account=? AND user_name=? "
                             "ORDER BY created, rowid", (account, user))

    def login_profile(self, account: str, user: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM iam_login_profiles WHERE account=? AND user_name=?",
                        (account, user))

    def profiles_of_role(self, account: str, role: str) -> list[sqlite3.Row]:
        return self.db.query("SELECT * FROM iam_instance_profiles WHERE account=? AND role_name=? "
                             "ORDER BY name COLLATE NOCASE", (account, role))

    def count(self, table: str, account: str) -> int:
        return self.db.query(f"SELECT count(*) FROM {table} WHERE account=?", (account,))[0][0]

    def id_exists(self, entity_id: str) -> bool:
        return any(self.db.query(f"SELECT 1 FROM {table} WHERE id=?", (entity_id,))
                   for table in (*ENTITY_TABLES.values(), "iam_policies"))

    # -- writes (inside a transaction: `conn` is the transaction's connection) ---------------

    @staticmethod
    def insert(conn, table: str, row: dict) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))

    @staticmethod
    def put_tags(conn, account: str, kind: str, name: str, tags: list[dict]) -> None:
        for tag in tags:
            conn.execute(
                "INSERT INTO iam_tags (account, entity_type, entity_name, key, value) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, entity_type, entity_name, key) "
                "DO UPDATE SET key=excluded.key, value=excluded.value",
                (account, kind, name, tag["Key"], tag["Value"]))

    @staticmethod
    def delete_tags(conn, account: str, kind: str, name: str, keys: list[str] | None = None) -> None:
        sql = "DELETE FROM iam_tags WHERE account=? AND entity_type=? AND entity_name=?"
        if keys is None:
            conn.execute(sql, (account, kind, name))
        for key in keys or ():
            conn.execute(sql + " AND key=?", (account, kind, name, key))
