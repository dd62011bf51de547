"""The PostgreSQL engine on its own: real servers in a temporary directory, driven through the
DatabaseServer interface and reached with psycopg (TLS verify-full with a throwaway CA)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloudlet.engines.db.postgres import PostgresServer
from cloudlet.engines.db.server import EngineError, ServerSpec
from tests.support.harness import free_port

pytestmark = pytest.mark.skipif(PostgresServer.available() is not None,
                                reason=str(PostgresServer.available()))

MASTER, PASSWORD = "master", "Secr3t-pass'word"


def _cert(subject: str, key, issuer: x509.Name, signer, *, ca: bool, sans=()) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> dict[str, Path]:
    """A throwaway CA and a server certificate for localhost and 127.0.0.1."""
    d = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test RDS CA")])
    ca = _cert("Test RDS CA", ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("localhost", key, ca_name, ca_key, ca=False,
                 sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("Other CA", other_key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                                        "Other CA")]),
                  other_key, ca=True)
    paths = {"ca": d / "ca.pem", "cert": d / "server.pem", "key": d / "server.key",
             "other_ca": d / "other.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["other_ca"].write_bytes(other.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    os.chmod(paths["key"], 0o600)
    return paths


@pytest.fixture(scope="module")
def workdir():
    """Outside pytest's basetemp: each pytest session (another one may start at any moment)
    resets /tmp/pytest-of-<user> to 0700, which the server's OS user could then not cross."""
    path = Path(tempfile.mkdtemp(prefix="cloudlet-pg-test-"))
    yield path
    # Deleting a few hundred MB can take half a minute on a disk mounted with `discard`:
    # nothing waits for it.
    subprocess.Popen(["rm", "-rf", str(path)], start_new_session=True)


@pytest.fixture
def tmp_path(workdir, request):
    path = workdir / request.node.name
    path.mkdir()
    return path


@pytest.fixture
def servers():
    started: list[PostgresServer] = []
    yield started
    for server in reversed(started):
        server.stop()


def new_server(directory: Path, tls: dict[str, Path], **overrides) -> PostgresServer:
    spec = ServerSpec(data_dir=directory / "data", port=free_port(), master_username=MASTER,
                      master_password=PASSWORD, db_name="app", tls_cert=tls["cert"],
                      tls_key=tls["key"], archive_dir=directory / "archive", memory_mb=512)
    for key, value in overrides.items():
        setattr(spec, key, value)
    server = PostgresServer(spec)
    server.initialize()
    server.start()
    return server


@pytest.fixture(scope="module")
def primary(workdir, tls):
    """One server most tests share (each leaves it running, as it found it)."""
    server = new_server(workdir / "primary", tls)
    yield server
    server.stop()


def spec_like(server: PostgresServer, directory: Path) -> ServerSpec:
    return ServerSpec(data_dir=directory / "data", port=free_port(), master_username=MASTER,
                      master_password=PASSWORD, db_name="app", tls_cert=server.spec.tls_cert,
                      tls_key=server.spec.tls_key, archive_dir=directory / "archive")


def connect(server: PostgresServer, tls: dict[str, Path] | None = None, *,
            host: str = "127.0.0.1", sslmode: str = "verify-full", ca: Path | None = None,
            password: str = PASSWORD, **kwargs) -> psycopg.Connection:
    params = {"host": host, "port": server.spec.port, "user": MASTER, "password": password,
              "dbname": "app", "sslmode": sslmode, "connect_timeout": 5, "autocommit": True}
    if sslmode.startswith("verify"):
        params["sslrootcert"] = str(ca or tls["ca"])
    return psycopg.connect(**(params | kwargs))


def wait_for(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except psycopg.Error:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_the_host_has_postgres_and_its_version():
    assert PostgresServer.available() is None
    versions = PostgresServer.versions()
    assert versions and all(v[0].isdigit() for v in versions)


def test_the_parameter_list_is_the_engines_with_static_and_dynamic_parameters():
    rows = {row["ParameterName"]: row for row in PostgresServer.parameters()}
    assert len(rows) > 200
    assert rows["shared_buffers"]["ApplyType"] == "static"
    assert rows["shared_buffers"]["ApplyMethod"] == "pending-reboot"
    assert rows["work_mem"]["ApplyType"] == "dynamic"
    assert rows["work_mem"]["DataType"] == "integer"
    assert rows["work_mem"]["AllowedValues"] == "64-2147483647"
    assert "logical" in rows["wal_level"]["AllowedValues"].split(",")
    assert rows["enable_seqscan"]["AllowedValues"] == "0,1"
    assert rows["port"]["IsModifiable"] is False
    assert rows["rds.force_ssl"]["ApplyType"] == "dynamic"
    assert all(row["Description"] for row in rows.values())


def test_a_new_server_serves_its_database_over_verified_tls_to_the_master_user(primary, tls):
    server = primary
    assert server.running() and server.pid
    with connect(server, tls) as conn:
        conn.execute("CREATE TABLE tls_users (id int PRIMARY KEY, email text)")
        conn.execute("INSERT INTO tls_users VALUES (1, 'a@example.com')")
        assert conn.execute("SELECT id, email FROM tls_users WHERE id = %s", (1,)).fetchall() == [
            (1, "a@example.com")]
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                            ).fetchone() == (True,)
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                            ).fetchone() == (True,)
        assert conn.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
        assert conn.execute("SHOW fsync").fetchone() == ("on",)
    with connect(server, tls, host="localhost"):
        pass
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        connect(server, ca=tls["other_ca"])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(server, tls, password="wrong")


def test_stop_refuses_connections_and_start_keeps_the_data(primary, tls):
    server = primary
    with connect(server, tls) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    server.stop()
    assert not server.running() and server.pid is None
    with pytest.raises(psycopg.OperationalError):
        connect(server, tls)
    server.start()
    with connect(server, tls) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [(42,)]


def test_a_killed_server_restarts_with_every_committed_row(primary, tls):
    server = primary
    with connect(server, tls) as conn:
        conn.execute("CREATE TABLE killed (v int)")
        conn.execute("INSERT INTO killed SELECT generate_series(1, 1000)")
    pid = server.pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not server.running())
    server.start()
    assert server.pid != pid
    with connect(server, tls) as conn:
        assert conn.execute("SELECT count(*) FROM killed").fetchone() == (1000,)


def test_parameters_apply_now_or_wait_for_a_reboot(primary, tls):
    server = primary
    assert server.apply_parameters({"work_mem": "8192", "shared_buffers": "4096"}) == {
        "shared_buffers"}
    with connect(server, tls) as conn:
        assert conn.execute("SHOW work_mem").fetchone() == ("8MB",)
    server.stop()
    server.start()
    with connect(server, tls) as conn:
        assert conn.execute("SHOW shared_buffers").fetchone() == ("32MB",)
        assert conn.execute("SHOW work_mem").fetchone() == ("8MB",)
    server.apply_parameters({"work_mem": None})
    with connect(server, tls) as conn:
        assert conn.execute("SHOW work_mem").fetchone() == ("4MB",)


def test_invalid_parameters_are_refused_and_never_keep_the_server_down(primary, tls):
    server = primary
    with pytest.raises(EngineError, match="no_such_parameter, work_mem"):
        server.apply_parameters({"no_such_parameter": "1", "work_mem": "lots",
                                 "temp_buffers": "2048"})
    with connect(server, tls) as conn:
        assert conn.execute("SHOW temp_buffers").fetchone() == ("16MB",)
    server.stop()
    # What a provider may hand a new server object: a group it never checked.
    again = PostgresServer(server.spec)
    again.spec.parameters["max_connections"] = "lots"
    again.start()
    assert {"max_connections", "work_mem", "no_such_parameter"} <= again.rejected
    with connect(server, tls) as conn:
        assert conn.execute("SHOW temp_buffers").fetchone() == ("16MB",)
    server.apply_parameters({name: None for name in ("no_such_parameter", "work_mem",
                                                     "temp_buffers", "max_connections")})


def test_force_ssl_refuses_plaintext_connections(primary, tls):
    server = primary
    with connect(server, sslmode="disable"):
        pass
    assert server.apply_parameters({"rds.force_ssl": "1"}) == set()
    with pytest.raises(psycopg.OperationalError, match="no encryption|reject"):
        connect(server, sslmode="disable")
    with connect(server, tls) as conn:
        assert conn.execute("SHOW rds.force_ssl").fetchone() == ("1",)
    server.apply_parameters({"rds.force_ssl": "0"})
    with connect(server, sslmode="disable"):
        pass


def test_point_in_time_restore_brings_back_a_dropped_table(primary, tls, tmp_path, servers):
    server = primary
    backup = tmp_path / "backup"
    server.base_backup(backup)
    with connect(server, tls) as conn:
        conn.execute("CREATE TABLE pitr_users (id int PRIMARY KEY, email text)")
        conn.execute("INSERT INTO pitr_users SELECT i, 'u' || i FROM generate_series(1, 500) i")
        time.sleep(0.1)
        moment = time.time()
        time.sleep(0.1)
        conn.execute("DROP TABLE pitr_users")
        time.sleep(0.1)
        conn.execute("CREATE TABLE pitr_later (v int)")
    latest = server.latest_restorable_time()
    assert latest is not None and latest >= moment

    restored = PostgresServer.restore(backup, spec_like(server, tmp_path / "restored"),
                                      archive=server.spec.archive_dir, target_time=moment)
    servers.append(restored)
    assert not restored.running()
    restored.start()
    with connect(restored, tls) as conn:
        assert conn.execute("SELECT count(*) FROM pitr_users").fetchone() == (500,)
        assert conn.execute("SELECT to_regclass('pitr_later')").fetchone() == (None,)
        conn.execute("INSERT INTO pitr_users VALUES (501, 'new')")      # promoted: writable
    with connect(server, tls) as conn:
        assert conn.execute("SELECT to_regclass('pitr_users')").fetchone() == (None,)

    # The latest restorable time has no pitr_later transaction: the whole archive is replayed.
    newest = PostgresServer.restore(backup, spec_like(server, tmp_path / "newest"),
                                    archive=server.spec.archive_dir, target_time=latest)
    servers.append(newest)
    newest.start()
    with connect(newest, tls) as conn:
        assert conn.execute("SELECT to_regclass('pitr_users'), to_regclass('pitr_later') IS NOT NULL"
                            ).fetchone() == (None, True)


def test_a_snapshot_restores_without_an_archive(primary, tls, tmp_path, servers):
    server = primary
    with connect(server, tls) as conn:
        conn.execute("CREATE TABLE snap AS SELECT 7 AS v")
    server.base_backup(tmp_path / "snapshot")
    spec = spec_like(server, tmp_path / "copy")
    spec.archive_dir = None
    copy = PostgresServer.restore(tmp_path / "snapshot", spec)
    servers.append(copy)
    copy.start()
    with connect(copy, tls) as conn:
        assert conn.execute("SELECT v FROM snap").fetchall() == [(7,)]
    assert copy.latest_restorable_time() is None
    # Backups switched on later: a reload, no restart.
    pid, copy.spec.archive_dir = copy.pid, tmp_path / "copy" / "archive"
    assert copy.apply_parameters({}) == set()
    with connect(copy, tls) as conn:
        conn.execute("INSERT INTO snap VALUES (8)")
    assert copy.latest_restorable_time() is not None and copy.pid == pid
    assert any(p.name.startswith("0000") for p in copy.spec.archive_dir.iterdir())
    with pytest.raises(EngineError):
        PostgresServer.restore(tmp_path / "snapshot", copy.spec)     # not empty


def test_a_read_replica_follows_refuses_writes_and_can_be_promoted(primary, tls, tmp_path, servers):
    with connect(primary, tls) as conn:
        conn.execute("CREATE TABLE replicated (v int)")
    replica = primary.create_replica(spec_like(primary, tmp_path / "replica"))
    servers.append(replica)
    assert replica.running() and primary.replica_lag() is None
    with connect(primary, tls) as conn:
        conn.execute("INSERT INTO replicated VALUES (1)")
    with connect(replica, tls) as conn:
        wait_for(lambda: conn.execute("SELECT count(*) FROM replicated").fetchone() == (1,))
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO replicated VALUES (2)")
    assert wait_for(lambda: replica.replica_lag() == 0) is not None

    replica.promote()
    assert replica.replica_lag() is None
    with connect(replica, tls) as conn:
        conn.execute("INSERT INTO replicated VALUES (2)")
        assert conn.execute("SELECT count(*) FROM replicated").fetchone() == (2,)
    with connect(primary, tls) as conn:
        assert conn.execute("SELECT count(*) FROM replicated").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)


def test_a_synchronous_standby_confirms_commits_and_never_holds_them_when_stopped(
        primary, tls, tmp_path, servers):
    standby = primary.create_replica(spec_like(primary, tmp_path / "standby"), synchronous=True)
    servers.append(standby)
    with connect(primary, tls) as conn:
        assert conn.execute("SELECT sync_state FROM pg_stat_replication").fetchone() in [
            ("sync",), ("quorum",)]
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
        conn.execute("CREATE TABLE synced AS SELECT 1 AS v")
    with connect(standby, tls) as conn:
        wait_for(lambda: conn.execute("SELECT to_regclass('synced') IS NOT NULL").fetchone()[0])

    standby.stop()
    # A commit still waiting for the stopped standby is cancelled after a few seconds: it
    # then completes with a warning.
    warnings = []
    with connect(primary, tls) as conn:
        conn.add_notice_handler(lambda notice: warnings.append(notice.message_primary))
        cancel = threading.Timer(5, conn.cancel)
        cancel.start()
        conn.execute("INSERT INTO synced VALUES (2)")
        cancel.cancel()
        assert conn.execute("SHOW synchronous_standby_names").fetchone() == ("",)
    assert warnings == []

    standby.start()
    with connect(primary, tls) as conn:
        assert wait_for(lambda: conn.execute(
            "SELECT sync_state FROM pg_stat_replication").fetchone()) in [("sync",), ("quorum",)]
    primary.remove_replica(standby.spec)
    with connect(primary, tls) as conn:
        assert conn.execute("SHOW synchronous_standby_names").fetchone() == ("",)


def test_stats_report_connections_cpu_and_storage(primary, tls):
    server = primary
    with connect(server, tls) as conn:
        conn.execute("SELECT count(*) FROM generate_series(1, 100000)")
        stats = server.stats()
    assert stats["connections"] == 1
    assert stats["cpu_seconds"] > 0
    assert stats["storage_bytes"] > 10_000_000


def test_initialize_refuses_a_used_directory_and_leaves_nothing_on_failure(tmp_path, tls):
    spec = ServerSpec(data_dir=tmp_path / "bad" / "data", port=free_port(),
                      master_username="pg_admin", master_password=PASSWORD)
    with pytest.raises(EngineError):
        PostgresServer(spec).initialize()
    assert not spec.data_dir.exists()
    spec.data_dir.mkdir(parents=True)
    (spec.data_dir / "file").write_text("x")
    with pytest.raises(EngineError, match="not empty"):
        PostgresServer(spec).initialize()
