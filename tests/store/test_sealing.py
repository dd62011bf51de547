"""Secrets sealed at rest: the key file, the sealed format, what does not open, migration
m0017 over plaintext rows of every kind, and a start with the wrong key."""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import stat

import pytest

from cloudlet.store import Store
from cloudlet.store.db import _migration_modules
from cloudlet.store.sealing import KEY_FILE, Sealer, SealError, is_sealed, where


def test_a_sealed_value_opens_only_where_it_was_sealed(tmp_path):
    sealer = Sealer.for_directory(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert len((tmp_path / KEY_FILE).read_bytes()) == 32
    here = where("iam_access_keys", "secret", "AKIAEXAMPLE")
    sealed = sealer.seal("wJalrXUtnFEMI/K7MDENG", here)
    assert is_sealed(sealed) and "wJalr" not in sealed
    assert sealed != sealer.seal("wJalrXUtnFEMI/K7MDENG", here)     # a fresh nonce each time
    assert sealer.open(sealed, here) == "wJalrXUtnFEMI/K7MDENG"
    assert Sealer.for_directory(tmp_path).open(sealed, here) == "wJalrXUtnFEMI/K7MDENG"
    with pytest.raises(SealError):
        sealer.open(sealed, where("iam_access_keys", "secret", "AKIAOTHER"))
    with pytest.raises(SealError):
        sealer.open(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"), here)
    with pytest.raises(SealError):
        sealer.open("wJalrXUtnFEMI/K7MDENG", here)      # plaintext is not let through
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open(sealed, here)


def _version_16(root) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "cloudlet.db", isolation_level=None)
    for version, module in _migration_modules():
        if version <= 16:
            importlib.import_module(module).migrate(conn)
    conn.execute("PRAGMA user_version=16")
    return conn


def test_m0017_seals_every_plaintext_secret_an_older_directory_holds(tmp_path):
    conn = _version_16(tmp_path)
    conn.execute("INSERT INTO iam_access_keys VALUES ('AKIA1', '1', 'alice', 'iam-secret', "
                 "'Active', 0, NULL, NULL, NULL)")
    conn.execute("INSERT INTO sts_sessions VALUES ('ASIA1', 'sts-secret', 'sts-token', '1', "
                 "'user', 'arn', 'id', NULL, 0, 9e9, '{}')")
    conn.execute("INSERT INTO lambda_functions VALUES ('1', 'r', 'fn', '{}')")
    conn.execute("INSERT INTO lambda_versions VALUES ('1', 'r', 'fn', '$LATEST', 0, ?)",
                 (json.dumps({"Version": "$LATEST", "Environment": {"Variables": {"K": "env-v"}}}),))
    for kind in ("instances", "clusters", "snapshots"):
        conn.execute(f"INSERT INTO rds_{kind} VALUES ('1', 'r', 'db', ?)",
                     (json.dumps({"MasterUsername": "m", "_password": f"rds-{kind}"}),))
    conn.execute("INSERT INTO records VALUES ('iam', '1', '', 'mfa-device', 'arn:mfa', ?)",
                 (json.dumps({"seed": "MFASEED234567", "user": None}),))
    conn.close()
    store = Store.open(tmp_path)
    dump = "\n".join(sqlite3.connect(tmp_path / "cloudlet.db").iterdump())
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("cloudlet.db*"))
    for plain in ("iam-secret", "sts-secret", "sts-token", "env-v", "rds-instances",
                  "rds-clusters", "rds-snapshots", "MFASEED234567"):
        assert plain not in dump and plain.encode() not in raw, plain

    from cloudlet.services.lambda_.store import LambdaStore
    from cloudlet.services.rds.records import Records
    from cloudlet.services.sts.sessions import SessionStore
    session = SessionStore(store.db, store.sealer).lookup("ASIA1")
    assert (session.secret_access_key, session.session_token) == ("sts-secret", "sts-token")
    doc = LambdaStore(store.db, store.sealer).get("lambda_versions", "1", "r", "fn", "$LATEST")
    assert doc["Environment"]["Variables"] == {"K": "env-v"}
    for kind in ("instances", "clusters", "snapshots"):
        assert Records(store).get(kind, "1", "r", "db")["_password"] == f"rds-{kind}"
    row = store.db.query("SELECT secret FROM iam_access_keys")[0]
    assert store.sealer.open(row["secret"], where("iam_access_keys", "secret", "AKIA1")) == \
        "iam-secret"


def test_a_start_with_another_key_is_refused_with_the_reason(tmp_path):
    Store.open(tmp_path).close()
    (tmp_path / KEY_FILE).write_bytes(os.urandom(32))
    with pytest.raises(SealError, match="secrets.key is not the key"):
        Store.open(tmp_path)
