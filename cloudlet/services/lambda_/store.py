"""Lambda's tables (m0011): each row's AWS shape as JSON, looked up by its key columns.

A function is its row in lambda_functions (tags, reserved concurrency, the next version
number) plus one row per version in lambda_versions ('$LATEST' and the published ones).
A version's environment variables are sealed at rest (store/sealing.py): its stored
`Environment.Variables` is the sealed JSON of the variables, opened again on every read.
"""

from __future__ import annotations

import json

from cloudlet.store.db import Database
from cloudlet.store.sealing import Sealer, where

_KEYED = {  # table -> the key column after (account, region, name)
    "lambda_versions": "version",
    "lambda_aliases": "alias",
    "lambda_policies": "qualifier",
    "lambda_url_configs": "qualifier",
    "lambda_invoke_configs": "qualifier",
}


class LambdaStore:
    def __init__(self, db: Database, sealer: Sealer):
        self.db = db
        self.sealer = sealer

    # -- a version's document, its environment sealed -----------------------------------
    def _dump_version(self, account: str, region: str, name: str, version: str,
                      doc: dict) -> str:
        environment = doc.get("Environment")
        if isinstance(environment, dict) and isinstance(environment.get("Variables"), dict):
            sealed = self.sealer.seal(json.dumps(environment["Variables"]), where(
                "lambda_versions", "environment", account, region, name, version))
            doc = {**doc, "Environment": {**environment, "Variables": sealed}}
        return json.dumps(doc)

    def _load_version(self, row) -> dict:
        doc = json.loads(row["doc"])
        environment = doc.get("Environment")
        if isinstance(environment, dict) and isinstance(environment.get("Variables"), str):
            environment["Variables"] = json.loads(self.sealer.open(
                environment["Variables"], where("lambda_versions", "environment",
                                                row["account"], row["region"], row["name"],
                                                row["version"])))
        return doc

    # -- functions ----------------------------------------------------------------------
    def function(self, account: str, region: str, name: str) -> dict | None:
        rows = self.db.query("SELECT doc FROM lambda_functions WHERE account=? AND region=? "
                             "AND name=?", (account, region, name))
        return json.loads(rows[0]["doc"]) if rows else None

    def create_function(self, account: str, region: str, name: str, doc: dict,
                        latest: dict, published: dict | None = None) -> bool:
        """False if the name is taken."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM lambda_functions WHERE account=? AND region=? "
                            "AND name=?", (account, region, name)).fetchone():
                return False
            conn.execute("INSERT INTO lambda_functions VALUES (?,?,?,?)",
                         (account, region, name, json.dumps(doc)))
            self._put_version(conn, account, region, name, latest)
            if published is not None:
                self._put_version(conn, account, region, name, published)
        return True

    def put_function(self, account: str, region: str, name: str, doc: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE lambda_functions SET doc=? WHERE account=? AND region=? "
                         "AND name=?", (json.dumps(doc), account, region, name))

    def delete_function(self, account: str, region: str, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lambda_functions WHERE account=? AND region=? AND name=?",
                         (account, region, name))

    def function_names(self, account: str, region: str) -> list[str]:
        return [r["name"] for r in self.db.query(
            "SELECT name FROM lambda_functions WHERE account=? AND region=? ORDER BY name",
            (account, region))]

    def all_functions(self, account: str, region: str | None = None) -> list[dict]:
        sql = "SELECT doc FROM lambda_functions WHERE account=?"
        args: tuple = (account,)
        if region is not None:
            sql, args = sql + " AND region=?", (account, region)
        return [json.loads(r["doc"]) for r in self.db.query(sql, args)]

    # -- versions -----------------------------------------------------------------------
    def _put_version(self, conn, account: str, region: str, name: str, doc: dict) -> None:
        version = doc["Version"]
        seq = 0 if version == "$LATEST" else int(version)
        conn.execute("INSERT OR REPLACE INTO lambda_versions VALUES (?,?,?,?,?,?)",
                     (account, region, name, version, seq,
                      self._dump_version(account, region, name, version, doc)))

    def put_version(self, account: str, region: str, name: str, doc: dict,
                    function: dict | None = None) -> None:
        with self.db.transaction() as conn:
            self._put_version(conn, account, region, name, doc)
            if function is not None:
                conn.execute("UPDATE lambda_functions SET doc=? WHERE account=? AND region=? "
                             "AND name=?", (json.dumps(function), account, region, name))

    def versions(self, account: str, region: str, name: str) -> list[dict]:
        return [self._load_version(r) for r in self.db.query(
            "SELECT * FROM lambda_versions WHERE account=? AND region=? AND name=? "
            "ORDER BY seq", (account, region, name))]

    def latest_versions(self, account: str, region: str) -> list[dict]:
        return [self._load_version(r) for r in self.db.query(
            "SELECT * FROM lambda_versions WHERE account=? AND region=? AND seq=0 "
            "ORDER BY name", (account, region))]

    def all_versions(self, account: str, region: str) -> list[dict]:
        return [self._load_version(r) for r in self.db.query(
            "SELECT * FROM lambda_versions WHERE account=? AND region=? ORDER BY name, seq",
            (account, region))]

    # -- aliases, policies, URL and invoke configurations: (name, key) -> doc -------------
    def get(self, table: str, account: str, region: str, name: str, key: str) -> dict | None:
        if table == "lambda_versions":
            rows = self.db.query("SELECT * FROM lambda_versions WHERE account=? AND region=? "
                                 "AND name=? AND version=?", (account, region, name, key))
            return self._load_version(rows[0]) if rows else None
        rows = self.db.query(f"SELECT doc FROM {table} WHERE account=? AND region=? AND name=? "
                             f"AND {_KEYED[table]}=?", (account, region, name, key))
        return json.loads(rows[0]["doc"]) if rows else None

    def put(self, table: str, account: str, region: str, name: str, key: str, doc: dict,
            **columns) -> None:
        text = (self._dump_version(account, region, name, key, doc) if table == "lambda_versions"
                else json.dumps(doc))
        names = ["account", "region", "name", _KEYED[table], "doc", *columns]
        values = [account, region, name, key, text, *columns.values()]
        if table == "lambda_policies":
            names.append("revision")
            values.append(doc.get("_revision", ""))
        if table == "lambda_versions":
            names.append("seq")
            values.append(0 if key == "$LATEST" else int(key))
        with self.db.transaction() as conn:
            conn.execute(f"INSERT OR REPLACE INTO {table} ({','.join(names)}) VALUES "
                         f"({','.join('?' * len(values))})", values)

    def delete(self, table: str, account: str, region: str, name: str, key: str) -> bool:
        with self.db.transaction() as conn:
            return conn.execute(
                f"DELETE FROM {table} WHERE account=? AND region=? AND name=? AND "
                f"{_KEYED[table]}=?", (account, region, name, key)).rowcount > 0

    def items(self, table: str, account: str, region: str, name: str) -> list[dict]:
        if table == "lambda_versions":
            return self.versions(account, region, name)
        return [json.loads(r["doc"]) for r in self.db.query(
            f"SELECT doc FROM {table} WHERE account=? AND region=? AND name=? "
            f"ORDER BY {_KEYED[table]}", (account, region, name))]

    def url_config(self, url_id: str) -> tuple[str, str, str, str, dict] | None:
        rows = self.db.query("SELECT * FROM lambda_url_configs WHERE url_id=?", (url_id,))
        if not rows:
            return None
        row = rows[0]
        return row["account"], row["region"], row["name"], row["qualifier"], json.loads(row["doc"])

    def packages(self) -> set[str]:
        """Every package some function version or layer version holds."""
        found = {json.loads(r["doc"])["_code"]["hex"]
                 for r in self.db.query("SELECT doc FROM lambda_versions")}
        return found | {json.loads(r["doc"])["_hex"]
                        for r in self.db.query("SELECT doc FROM lambda_layer_versions")}

    def code_in_use(self, hex_digest: str) -> bool:
        """Whether any function version or layer version still holds this package."""
        pattern = f'%"{hex_digest}"%'
        return bool(self.db.query("SELECT 1 FROM lambda_versions WHERE doc LIKE ? LIMIT 1",
                                  (pattern,)) or self.db.query(
            "SELECT 1 FROM lambda_layer_versions WHERE doc LIKE ? LIMIT 1", (pattern,)))

    # -- layers ---------------------------------------------------------------------------
    def next_layer_version(self, account: str, region: str, name: str) -> int:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT next_version FROM lambda_layers WHERE account=? AND "
                               "region=? AND name=?", (account, region, name)).fetchone()
            number = row["next_version"] if row else 1
            conn.execute("INSERT OR REPLACE INTO lambda_layers VALUES (?,?,?,?)",
                         (account, region, name, number + 1))
        return number

    def put_layer_version(self, account: str, region: str, name: str, version: int, doc: dict,
                          policy: dict | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO lambda_layer_versions VALUES (?,?,?,?,?,?)",
                         (account, region, name, version, json.dumps(doc),
                          json.dumps(policy) if policy else None))

    def layer_version(self, account: str, region: str, name: str,
                      version: int) -> tuple[dict, dict | None] | None:
        rows = self.db.query("SELECT doc, policy FROM lambda_layer_versions WHERE account=? AND "
                             "region=? AND name=? AND version=?", (account, region, name, version))
        if not rows:
            return None
        policy = rows[0]["policy"]
        return json.loads(rows[0]["doc"]), json.loads(policy) if policy else None

    def layer_versions(self, account: str, region: str, name: str | None = None) -> list[dict]:
        sql = "SELECT doc FROM lambda_layer_versions WHERE account=? AND region=?"
        args: tuple = (account, region)
        if name is not None:
            sql, args = sql + " AND name=?", (*args, name)
        return [json.loads(r["doc"]) for r in self.db.query(sql + " ORDER BY name, version DESC",
                                                             args)]

    def delete_layer_version(self, account: str, region: str, name: str, version: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lambda_layer_versions WHERE account=? AND region=? AND "
                         "name=? AND version=?", (account, region, name, version))

    # -- event source mappings ------------------------------------------------------------
    def mapping(self, uuid: str) -> tuple[str, str, dict] | None:
        rows = self.db.query("SELECT * FROM lambda_event_source_mappings WHERE uuid=?", (uuid,))
        return (rows[0]["account"], rows[0]["region"], json.loads(rows[0]["doc"])) if rows else None

    def put_mapping(self, account: str, region: str, function_name: str, doc: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO lambda_event_source_mappings VALUES (?,?,?,?,?)",
                         (doc["UUID"], account, region, function_name, json.dumps(doc)))

    def delete_mapping(self, uuid: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lambda_event_source_mappings WHERE uuid=?", (uuid,))

    def mappings(self, account: str, region: str, function_name: str | None = None) -> list[dict]:
        sql = "SELECT doc FROM lambda_event_source_mappings WHERE account=? AND region=?"
        args: tuple = (account, region)
        if function_name is not None:
            sql, args = sql + " AND function_name=?", (*args, function_name)
        return [json.loads(r["doc"]) for r in self.db.query(sql + " ORDER BY uuid", args)]
