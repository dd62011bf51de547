"""Secrets at rest are sealed: after IAM keys, STS sessions, Lambda environment variables and
MFA seeds are made through boto3, neither the database file (nor its WAL) nor a `sqlite3`
dump of it holds one of them in plain text, and they all still work, across a restart.

A data directory from before (umask 022, plaintext rows as older Cloudlets wrote them) is
tightened and sealed at its next start, and keeps working.

The database is read here as root, straight from the file: that proves the encryption; the
directory's modes are test_private_data_dir.py's business."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import sqlite3
import stat
import struct
import time
import zipfile
from pathlib import Path

import pytest
from harness import unique

pytestmark = pytest.mark.timeout(300)

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
HANDLER = "import os\ndef handler(event, context):\n    return os.environ['APP_TOKEN']\n"
ENV_VALUE = "env-value-Zq8w1x7Kp3"


def totp(seed_b32: bytes, step: int) -> str:
    digest = hmac.new(base64.b32decode(seed_b32), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def make_secrets(server) -> dict:
    """Create one of each secret through boto3; returns what the clients were given."""
    iam = server.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    session = server.client("sts").get_session_token()["Credentials"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-mfa")["VirtualMFADevice"]
    role = iam.create_role(RoleName=unique("fn"),
                           AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    lam = server.client("lambda")
    lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": buffer.getvalue()},
                        Environment={"Variables": {"APP_TOKEN": ENV_VALUE}})
    lam.get_waiter("function_active_v2").wait(FunctionName="fn",
                                              WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return {"key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"],
            "session_key": session["AccessKeyId"], "session_secret": session["SecretAccessKey"],
            "session_token": session["SessionToken"], "env": ENV_VALUE,
            "serial": device["SerialNumber"], "seed": device["Base32StringSeed"]}


def plaintexts(made: dict) -> dict[str, str]:
    return {name: made[name] for name in ("secret", "session_secret", "session_token", "env")} \
        | {"seed": made["seed"].decode()}


def found_in_database(data_dir: Path, made: dict) -> list[str]:
    """Which secrets appear in plain text: in the raw bytes of the database and its WAL, or
    in a dump of every row."""
    raw = b"".join(p.read_bytes() for p in data_dir.glob("cloudlet.db*") if p.is_file())
    conn = sqlite3.connect(f"file:{data_dir / 'cloudlet.db'}?mode=ro", uri=True)
    dump = "\n".join(conn.iterdump())
    conn.close()
    return [name for name, value in plaintexts(made).items()
            if value.encode() in raw or value in dump]


def check_they_work(server, made: dict) -> None:
    as_alice = server.client("sts", aws_access_key_id=made["key_id"],
                             aws_secret_access_key=made["secret"])
    assert as_alice.get_caller_identity()["Arn"].endswith(":user/alice")
    as_session = server.client("sts", aws_access_key_id=made["session_key"],
                               aws_secret_access_key=made["session_secret"],
                               aws_session_token=made["session_token"])
    assert as_session.get_caller_identity()["Account"] == "000000000000"
    reply = server.client("lambda").invoke(FunctionName="fn")
    assert json.loads(reply["Payload"].read()) == ENV_VALUE
    config = server.client("lambda").get_function_configuration(FunctionName="fn")
    assert config["Environment"]["Variables"] == {"APP_TOKEN": ENV_VALUE}


def check_mfa_seed_works(server, made: dict) -> None:
    """Enabling the device takes two consecutive codes computed from the seed."""
    step = int(time.time()) // 30
    server.client("iam").enable_mfa_device(
        UserName="alice", SerialNumber=made["serial"],
        AuthenticationCode1=totp(made["seed"], step - 1),
        AuthenticationCode2=totp(made["seed"], step))


def test_secrets_are_sealed_in_the_database_and_still_work(fresh_cloudlet):
    server = fresh_cloudlet()
    made = make_secrets(server)
    check_they_work(server, made)
    assert found_in_database(server.data_dir, made) == []
    server.stop()
    restarted = fresh_cloudlet(data_dir=server.data_dir)
    check_they_work(restarted, made)
    check_mfa_seed_works(restarted, made)
    assert found_in_database(server.data_dir, made) == []
    assert stat.S_IMODE((server.data_dir / "secrets.key").stat().st_mode) == 0o600


def make_old_style(data_dir: Path, made: dict) -> None:
    """What a data directory from before looks like: world-readable modes (umask 022), no
    key, and the secrets in plain text in their rows, at schema version 16."""
    for directory, dirs, files in os.walk(data_dir):
        for name in dirs:
            os.chmod(os.path.join(directory, name), 0o755)
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)
    os.chmod(data_dir, 0o755)
    (data_dir / ".private-v1").unlink(missing_ok=True)
    (data_dir / "secrets.key").unlink(missing_ok=True)
    conn = sqlite3.connect(data_dir / "cloudlet.db", isolation_level=None)
    conn.execute("UPDATE iam_access_keys SET secret=? WHERE access_key_id=?",
                 (made["secret"], made["key_id"]))
    conn.execute("UPDATE sts_sessions SET secret=?, token=? WHERE access_key_id=?",
                 (made["session_secret"], made["session_token"], made["session_key"]))
    for version, text in conn.execute("SELECT version, doc FROM lambda_versions").fetchall():
        doc = json.loads(text)
        doc["Environment"]["Variables"] = {"APP_TOKEN": made["env"]}
        conn.execute("UPDATE lambda_versions SET doc=? WHERE version=?", (json.dumps(doc), version))
    key, text = conn.execute("SELECT key, value FROM records WHERE kind='mfa-device'").fetchone()
    conn.execute("UPDATE records SET value=? WHERE kind='mfa-device'",
                 (json.dumps({**json.loads(text), "seed": made["seed"].decode()}),))
    conn.execute("DROP TABLE IF EXISTS sealing_canary")
    conn.execute("PRAGMA user_version=16")
    conn.close()


def test_an_old_data_directory_is_tightened_and_sealed_at_start(fresh_cloudlet):
    server = fresh_cloudlet()
    made = make_secrets(server)
    server.stop()
    data = server.data_dir
    make_old_style(data, made)
    assert sorted(found_in_database(data, made)) == sorted(plaintexts(made))  # the premise
    restarted = fresh_cloudlet(data_dir=data)
    check_they_work(restarted, made)
    check_mfa_seed_works(restarted, made)
    assert found_in_database(data, made) == []
    loose = []
    for directory, dirs, files in os.walk(data):
        for name in dirs + files:
            path = Path(directory, name)
            st = path.lstat()
            if path.is_relative_to(data / "lambda" / "code") and path != data / "lambda" / "code":
                continue    # the bind-mounted packages keep their read bits
            if (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)) and st.st_mode & 0o077:
                loose.append(str(path))
    assert loose == []
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secrets.key").stat().st_mode) == 0o600
