"""Secrets at rest are sealed (store/sealing.py); this seals what older data directories
hold in plaintext, and leaves the canary (`sealing_canary`, one row) that tells a later
start its key is the right one.

What is sealed, each under `where(table, field, *key)`:

    iam_access_keys.secret       IAM users' secret access keys (SigV4 needs the secret back,
                                 so it is encrypted, not hashed)     key: access key id
    sts_sessions.secret, .token  temporary credentials' secret keys and session tokens
                                                                     key: access key id
    lambda_versions.environment  a function version's environment variables (the JSON of
                                 Environment.Variables)    key: account, region, name, version
    rds_<kind>._password         RDS master passwords of instances, clusters and snapshots
                                 (the engines need them back)      key: account, region, id
    records.iam.mfa-device.seed  virtual MFA devices' TOTP seeds  key: account, serial

Not sealed, and why: IAM console passwords are salted hashes (only checked, never read
back); the private keys of the TLS certificate, the RDS CA, the OIDC issuer, SNS's signing
certificate and Lambda's code-URL key, and MariaDB's admin.cnf, are files the directory's
modes already keep to Cloudlet's user, as they keep the key itself.

The old rows are rewritten with secure_delete on, so their plaintext does not linger in the
database file's free space.
"""

from __future__ import annotations

import json
from pathlib import Path

from cloudlet.store.sealing import Sealer, is_sealed, where

RDS_KINDS = ("instances", "clusters", "snapshots")
CANARY_TEXT = "Cloudlet's secrets open with this key"


def migrate(conn) -> None:
    conn.execute("PRAGMA secure_delete=ON")
    sealer = Sealer.for_directory(Path(conn.execute("PRAGMA database_list").fetchone()[2]).parent)
    _columns(conn, sealer, "iam_access_keys", ("secret",))
    _columns(conn, sealer, "sts_sessions", ("secret", "token"))
    _lambda_environments(conn, sealer)
    for kind in RDS_KINDS:
        _rds_passwords(conn, sealer, kind)
    _mfa_seeds(conn, sealer)
    conn.execute("CREATE TABLE sealing_canary (value TEXT NOT NULL)")
    conn.execute("INSERT INTO sealing_canary VALUES (?)",
                 (sealer.seal(CANARY_TEXT, where("sealing_canary", "value")),))
    conn.execute("PRAGMA secure_delete=OFF")


def _columns(conn, sealer: Sealer, table: str, columns: tuple[str, ...]) -> None:
    for row in conn.execute(f"SELECT access_key_id, {', '.join(columns)} FROM {table}").fetchall():
        key = row[0]
        values = [v if is_sealed(v) else sealer.seal(v, where(table, column, key))
                  for column, v in zip(columns, row[1:], strict=True)]
        conn.execute(f"UPDATE {table} SET {', '.join(f'{c}=?' for c in columns)} "
                     "WHERE access_key_id=?", (*values, key))


def _lambda_environments(conn, sealer: Sealer) -> None:
    for account, region, name, version, text in conn.execute(
            "SELECT account, region, name, version, doc FROM lambda_versions").fetchall():
        doc = json.loads(text)
        environment = doc.get("Environment")
        if not isinstance(environment, dict) or not isinstance(environment.get("Variables"),
                                                                dict):
            continue
        environment["Variables"] = sealer.seal(
            json.dumps(environment["Variables"]),
            where("lambda_versions", "environment", account, region, name, version))
        conn.execute("UPDATE lambda_versions SET doc=? WHERE account=? AND region=? AND name=? "
                     "AND version=?", (json.dumps(doc), account, region, name, version))


def _rds_passwords(conn, sealer: Sealer, kind: str) -> None:
    table = f"rds_{kind}"
    for account, region, id, text in conn.execute(
            f"SELECT account, region, id, data FROM {table}").fetchall():
        record = json.loads(text)
        password = record.get("_password")
        if not isinstance(password, str) or is_sealed(password):
            continue
        record["_password"] = sealer.seal(password, where(table, "_password", account, region, id))
        conn.execute(f"UPDATE {table} SET data=? WHERE account=? AND region=? AND id=?",
                     (json.dumps(record), account, region, id))


def _mfa_seeds(conn, sealer: Sealer) -> None:
    for account, serial, text in conn.execute(
            "SELECT account, key, value FROM records WHERE service='iam' AND region='' AND "
            "kind='mfa-device'").fetchall():
        device = json.loads(text)
        seed = device.get("seed")
        if not isinstance(seed, str) or is_sealed(seed):
            continue
        device["seed"] = sealer.seal(seed, where("records", "iam.mfa-device.seed", account, serial))
        conn.execute("UPDATE records SET value=? WHERE service='iam' AND account=? AND "
                     "region='' AND kind='mfa-device' AND key=?",
                     (json.dumps(device), account, serial))
