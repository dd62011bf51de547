"""A MariaDB instance through the RDS API, reached with PyMySQL over TLS with the host
checked against Cloudlet's RDS CA: create, connect, snapshot and restore, point-in-time
restore, and a read replica."""

import datetime as dt
import ssl
import time

import pymysql
import pytest
from harness import unique
from rdstest import PASSWORD, wait_for
from test_backups import wait_restorable

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def mariadb_available(rds):
    versions = rds.describe_db_engine_versions(Engine="mariadb")["DBEngineVersions"]
    if not versions:
        pytest.skip("MariaDB is not installed on this host (make test installs mariadb-server)")
    return versions


def connect(db: dict, ca_bundle: str, database: str | None = "app", **kwargs):
    context = ssl.create_default_context(cafile=ca_bundle)  # checks the host name too
    return pymysql.connect(host=db["Endpoint"]["Address"], port=db["Endpoint"]["Port"],
                           user=db["MasterUsername"], password=PASSWORD, database=database,
                           ssl=context, autocommit=True, connect_timeout=5, **kwargs)


def rows(conn, sql: str, args=()) -> list[tuple]:
    with conn.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def test_mariadb_create_connect_snapshot_restore(rds, launch, ca_bundle, mariadb_available):
    assert {v["Engine"] for v in mariadb_available} == {"mariadb"}
    db = launch(Engine="mariadb", DBName="app", BackupRetentionPeriod=1)
    assert db["Engine"] == "mariadb" and db["Endpoint"]["Port"] > 0
    identifier = db["DBInstanceIdentifier"]
    conn = connect(db, ca_bundle)
    assert rows(conn, "SHOW STATUS LIKE 'Ssl_version'")[0][1].startswith("TLS")
    rows(conn, "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100))")
    rows(conn, "INSERT INTO users VALUES (1, 'ada@example.com'), (2, 'alan@example.com')")
    assert rows(conn, "SELECT id, email FROM users WHERE id = %s", (1,)) == [
        (1, "ada@example.com")]

    snapshot = unique("snap")
    rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=snapshot)
    rds.get_waiter("db_snapshot_available").wait(
        DBSnapshotIdentifier=snapshot, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    time.sleep(1.1)  # MariaDB's binlog counts whole seconds
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    time.sleep(1.1)
    rows(conn, "DROP TABLE users")
    conn.close()

    from_snapshot = unique("snaprestore")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=from_snapshot,
                                             DBSnapshotIdentifier=snapshot)
    restored = wait_for(rds, from_snapshot)
    assert restored["Engine"] == "mariadb"
    assert restored["Endpoint"] != db["Endpoint"]
    with connect(restored, ca_bundle) as again:
        assert rows(again, "SELECT id FROM users ORDER BY id") == [(1,), (2,)]

    wait_restorable(rds, identifier, moment)
    to_moment = unique("pitr")
    rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=identifier,
                                             TargetDBInstanceIdentifier=to_moment,
                                             RestoreTime=moment)
    pitr = wait_for(rds, to_moment)
    with connect(pitr, ca_bundle) as again:
        assert rows(again, "SELECT email FROM users WHERE id = %s", (2,)) == [
            ("alan@example.com",)]
    with connect(db, ca_bundle) as original, pytest.raises(pymysql.err.ProgrammingError):
        rows(original, "SELECT id FROM users")
    for name in (identifier, from_snapshot, to_moment):
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot)


def test_mariadb_read_replica_refuses_writes_until_promoted(rds, launch, ca_bundle,
                                                           mariadb_available):
    source = launch(Engine="mysql", DBName="app", BackupRetentionPeriod=1)
    conn = connect(source, ca_bundle)
    rows(conn, "CREATE TABLE t (x INT)")
    replica_id = unique("replica")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier=replica_id,
        SourceDBInstanceIdentifier=source["DBInstanceIdentifier"])
    replica = wait_for(rds, replica_id)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == source["DBInstanceIdentifier"]
    rows(conn, "INSERT INTO t VALUES (7)")
    on_replica = connect(replica, ca_bundle)
    deadline = time.monotonic() + 30
    while rows(on_replica, "SELECT x FROM t") != [(7,)]:
        assert time.monotonic() < deadline, "the write never reached the replica"
        time.sleep(0.2)
    with pytest.raises(pymysql.err.OperationalError, match="read-only"):
        rows(on_replica, "INSERT INTO t VALUES (8)")
    on_replica.close()
    rds.promote_read_replica(DBInstanceIdentifier=replica_id)
    deadline = time.monotonic() + 60
    while True:  # an application reconnects while the promotion restarts the server
        try:
            with connect(replica, ca_bundle) as promoted:
                rows(promoted, "INSERT INTO t VALUES (9)")
            break
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError):
            assert time.monotonic() < deadline, "the promoted replica never took writes"
            time.sleep(0.5)
    with connect(replica, ca_bundle) as promoted:
        assert sorted(rows(promoted, "SELECT x FROM t")) == [(7,), (9,)]
    conn.close()
    for name in (replica_id, source["DBInstanceIdentifier"]):
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
