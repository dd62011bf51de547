"""The data directory is private: another local user neither reads nor lists anything in a
running Cloudlet's data directory, and every file is 0600 and every directory 0700, with
the two documented exceptions (store/private.py): directories on the way to an RDS
PostgreSQL folder carry an ACL entry giving the postgres user search (x) alone, and Lambda's
unpacked packages, under a 0700 directory, keep their read bits for the bind mount.

The data directory's parent is open to all (0755), so that only the data directory's own
modes keep the other user out."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest
from harness import CloudletProcess, unique

pytestmark = pytest.mark.timeout(600)

PASSWORD = "Sup3r-secret!"
OTHER_USER = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
# What the other user tries on every path it is given: read a byte of a file, list a directory.
PROBE = textwrap.dedent("""
    import json, os, sys
    got = []
    for path, is_dir in json.load(sys.stdin):
        try:
            if is_dir:
                os.listdir(path)
            else:
                with open(path, "rb") as f:
                    f.read(1)
            got.append(path)
        except OSError:
            pass
    print(json.dumps(got))
""")


@pytest.fixture(scope="module")
def populated():
    """A running Cloudlet (with --tls) whose data directory holds a bit of everything: S3
    objects and a multipart upload's part, IAM keys, an STS session, a Lambda function that
    has run (and logged), Logs events, an SNS mail, metrics, and RDS instances."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as another user")
    parent = Path(tempfile.mkdtemp(prefix="cloudlet-private-test-"))
    parent.chmod(0o755)
    server = CloudletProcess(data_dir=parent / "data", tls=True).start()
    try:
        _populate(server)
        yield server
    finally:
        server.stop(timeout=60)
        shutil.rmtree(parent, ignore_errors=True)


def _populate(server) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="private")
    s3.put_object(Bucket="private", Key="a.txt", Body=b"customer data")
    upload = s3.create_multipart_upload(Bucket="private", Key="big")["UploadId"]
    s3.upload_part(Bucket="private", Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    iam = server.client("iam")
    iam.create_user(UserName="alice")
    iam.create_access_key(UserName="alice")
    server.client("sts").get_session_token()
    role = iam.create_role(RoleName=unique("fn"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}
    ))["Role"]["Arn"]
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    print('hi')\n"
                                   "    return 1\n")
    lam = server.client("lambda")
    lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": buffer.getvalue()},
                        Environment={"Variables": {"TOKEN": "t0ps3cret"}})
    lam.get_waiter("function_active_v2").wait(FunctionName="fn",
                                              WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    assert lam.invoke(FunctionName="fn")["StatusCode"] == 200
    logs = server.client("logs")
    logs.create_log_group(logGroupName="app")
    logs.create_log_stream(logGroupName="app", logStreamName="s")
    logs.put_log_events(logGroupName="app", logStreamName="s",
                        logEvents=[{"timestamp": 1_700_000_000_000, "message": "hello"}])
    sns = server.client("sns")
    topic = sns.create_topic(Name="mail")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="me@example.com")
    server.client("cloudwatch").put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hits", "Value": 1.0}])
    _rds(server.client("rds"))


def _rds(rds) -> None:
    """A PostgreSQL instance with automated backups (its WAL archive) and, when MariaDB is
    installed, a MariaDB one; both connected to over TLS."""
    import psycopg
    engines = {v["Engine"] for v in rds.describe_db_engine_versions()["DBEngineVersions"]}
    for engine in ("postgres", "mariadb"):
        if engine not in engines:
            continue
        name = unique(engine[:5])
        rds.create_db_instance(DBInstanceIdentifier=name, Engine=engine,
                               DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                               MasterUsername="master", MasterUserPassword=PASSWORD,
                               BackupRetentionPeriod=1)
        rds.get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240})
        db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        if engine == "postgres":
            with psycopg.connect(host="127.0.0.1", port=db["Endpoint"]["Port"], user="master",
                                 password=PASSWORD, dbname="postgres", sslmode="require",
                                 connect_timeout=5, autocommit=True) as conn:
                conn.execute("CREATE TABLE t (x int)")
                assert conn.execute("SELECT 1").fetchone() == (1,)


def _tree(root: Path) -> list[tuple[str, bool]]:
    found = [(str(root), True)]
    for directory, dirs, files in os.walk(root):
        found += [(os.path.join(directory, d), True) for d in dirs]
        found += [(os.path.join(directory, f), False) for f in files]
    return found


def test_another_local_user_reads_and_lists_nothing(populated):
    paths = _tree(populated.data_dir)
    assert len(paths) > 100, "the data directory should hold a bit of everything"
    probe = subprocess.run([*OTHER_USER, "/usr/bin/python3", "-c", PROBE],
                           input=json.dumps(paths), capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == []


def test_files_are_0600_and_directories_0700(populated):
    root = populated.data_dir
    shared = root / "lambda" / "code"       # the bind-mounted packages: read bits kept inside
    loose = []
    acl_directories = 0
    for path, is_dir in _tree(root):
        st = os.lstat(path)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            continue    # links, and MariaDB's socket (0777, as every socket, in a 0700 run/)
        mode = stat.S_IMODE(st.st_mode)
        if Path(path).is_relative_to(shared) and Path(path) != shared:
            if mode & 0o022:
                loose.append((path, oct(mode)))     # readable there, never writable
            continue
        if is_dir and mode & 0o070 == 0o010 and _has_acl(path):
            acl_directories += 1                    # search for the postgres user alone
            mode &= ~0o070
        if mode & 0o077:
            loose.append((path, oct(mode)))
    assert loose == []
    for name in ("cloudlet.db", "cloudlet.db-wal", "secrets.key", "tls/key.pem",
                 "rds/ca/ca-key.pem"):
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o600, name
    postgres = [p.parent for p in (root / "rds").rglob("postmaster.pid")]  # running servers
    if postgres:    # the postgres user passes through an ACL entry, not others' x
        for data in postgres:
            for ancestor in [p for p in data.parents if p.is_relative_to(root)]:
                assert _has_acl(ancestor), ancestor
                assert stat.S_IMODE(ancestor.stat().st_mode) == 0o710, ancestor
        assert acl_directories >= 3


def _has_acl(path: str) -> bool:
    try:
        os.getxattr(path, "system.posix_acl_access")
        return True
    except OSError:
        return False
