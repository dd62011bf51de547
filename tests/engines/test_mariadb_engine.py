"""The MariaDB engine on its own, through PyMySQL: initialize, TLS, durability, backups with
point-in-time recovery, replicas. The RDS API's end-to-end tests live in tests/e2e/rds/."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import time
from pathlib import Path

import pytest

from cloudlet.engines.db.mariadb import MariaDBServer
from cloudlet.engines.db.server import EngineError, ServerSpec

pymysql = pytest.importorskip("pymysql")
from harness import free_port  # noqa: E402

if MariaDBServer.available() is not None:
    pytest.skip(f"MariaDB is not available here: {MariaDBServer.available()}",
                allow_module_level=True)

PASSWORD = "Secret-pass1"


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test RDS CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.crt", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


@pytest.fixture
def workdir(tmp_path):
    os.chmod(tmp_path, 0o755)  # the server runs as `mysql` and must reach its directories
    servers = []
    yield tmp_path, servers
    for server in servers:
        server.kill()


def spec(root: Path, name: str, **kwargs) -> ServerSpec:
    return ServerSpec(data_dir=root / name, port=free_port(), master_username="admin",
                      master_password=PASSWORD, **kwargs)


def connect(server: MariaDBServer, database: str | None = "app", **kwargs):
    return pymysql.connect(host="127.0.0.1", port=server.spec.port, user="admin",
                           password=PASSWORD, database=database, autocommit=True, **kwargs)


def rows(conn, sql: str, args=()) -> list[tuple]:
    with conn.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def test_tls_with_verification_and_durability_across_kill(workdir):
    root, servers = workdir
    ca, cert, key = make_ca(root)
    server = MariaDBServer(spec(root, "a", db_name="app", tls_cert=cert, tls_key=key))
    servers.append(server)
    server.initialize()
    assert not server.running()
    server.start()
    context = ssl.create_default_context(cafile=str(ca))
    conn = connect(server, ssl=context)
    assert rows(conn, "SHOW STATUS LIKE 'Ssl_version'")[0][1].startswith("TLS")
    rows(conn, "CREATE TABLE users (id INT PRIMARY KEY, email TEXT)")
    rows(conn, "INSERT INTO users VALUES (1, 'ada@example.com')")
    assert rows(conn, "SELECT id, email FROM users WHERE id = %s", (1,)) == [(1, "ada@example.com")]
    # A certificate for another name is refused when the client checks the host.
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host="127.0.0.1", port=server.spec.port, user="admin", password=PASSWORD,
                        ssl={"ca": str(root / "server.crt")})
    server.kill()
    assert not server.running()
    server.start()
    assert rows(connect(server), "SELECT email FROM users") == [("ada@example.com",)]
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        pymysql.connect(host="127.0.0.1", port=server.spec.port, user="admin", password="wrong")
    server.stop()
    assert not server.running()


def test_require_secure_transport_is_a_dynamic_parameter(workdir):
    root, servers = workdir
    ca, cert, key = make_ca(root)
    server = MariaDBServer(spec(root, "a", db_name="app", tls_cert=cert, tls_key=key))
    servers.append(server)
    server.initialize()
    server.start()
    connect(server, ssl_disabled=True).close()
    assert server.apply_parameters({"require_secure_transport": "ON"}) == set()
    with pytest.raises(pymysql.err.OperationalError):
        connect(server, ssl_disabled=True)
    connect(server, ssl=ssl.create_default_context(cafile=str(ca))).close()
    # A static parameter waits for a restart.
    assert server.apply_parameters({"innodb_buffer_pool_chunk_size": "8388608"}) == {
        "innodb_buffer_pool_chunk_size"}


def test_point_in_time_restore_is_a_new_server(workdir):
    root, servers = workdir
    source = MariaDBServer(spec(root, "a", db_name="app", archive_dir=root / "archive"))
    servers.append(source)
    source.initialize()
    source.start()
    conn = connect(source)
    rows(conn, "CREATE TABLE users (id INT PRIMARY KEY)")
    source.base_backup(root / "base")
    rows(conn, "INSERT INTO users VALUES (1), (2), (3)")
    time.sleep(1.1)  # the binlog counts whole seconds
    target = time.time()
    time.sleep(1.1)
    rows(conn, "DROP TABLE users")
    assert source.latest_restorable_time() >= target
    restored = MariaDBServer.restore(root / "base", spec(root, "b"), archive=root / "archive",
                                     target_time=target)
    servers.append(restored)
    restored.start()
    assert rows(connect(restored), "SELECT id FROM users ORDER BY id") == [(1,), (2,), (3,)]
    with pytest.raises(pymysql.err.ProgrammingError):
        rows(conn, "SELECT id FROM users")


def test_replica_follows_refuses_writes_and_promotes(workdir):
    root, servers = workdir
    primary = MariaDBServer(spec(root, "a", db_name="app"))
    servers.append(primary)
    primary.initialize()
    primary.start()
    conn = connect(primary)
    rows(conn, "CREATE TABLE t (x INT)")
    replica = primary.create_replica(spec(root, "r"), synchronous=True)
    servers.append(replica)
    rows(conn, "INSERT INTO t VALUES (7)")
    on_replica = connect(replica)
    deadline = time.monotonic() + 20
    while rows(on_replica, "SELECT x FROM t") != [(7,)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows(on_replica, "SELECT x FROM t") == [(7,)]
    assert replica.replica_lag() is not None
    assert primary.replica_lag() is None
    with pytest.raises(pymysql.err.OperationalError, match="read-only"):
        rows(on_replica, "INSERT INTO t VALUES (8)")
    replica.promote()
    rows(on_replica, "INSERT INTO t VALUES (9)")
    assert replica.replica_lag() is None
    assert sorted(rows(on_replica, "SELECT x FROM t")) == [(7,), (9,)]


def test_parameters_versions_and_a_failed_start_leaves_nothing(workdir):
    root, servers = workdir
    params = {p["name"]: p for p in MariaDBServer.parameters()}
    assert params["max_connections"]["static"] is False
    assert params["innodb_buffer_pool_chunk_size"]["static"] is True
    assert MariaDBServer.versions()[0].count(".") == 2
    busy = MariaDBServer(spec(root, "a"))
    servers.append(busy)
    busy.initialize()
    busy.start()
    clash = MariaDBServer(ServerSpec(data_dir=root / "b", port=busy.spec.port,
                                     master_username="admin", master_password=PASSWORD))
    with pytest.raises(EngineError):
        clash.initialize()
    assert not (root / "b").exists()
