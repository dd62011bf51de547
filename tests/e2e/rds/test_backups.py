"""Automated backups and point-in-time restore, snapshots and restoring them: every restore
is a new instance, with its own endpoint, and the original is untouched."""

import datetime as dt
import time

import psycopg
import pytest
from harness import error_of, unique
from rdstest import wait_for


def wait_restorable(rds, identifier: str, moment: dt.datetime, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        if db.get("LatestRestorableTime") and db["LatestRestorableTime"] >= moment:
            return
        assert time.monotonic() < deadline, db.get("LatestRestorableTime")
        time.sleep(0.5)


def test_point_in_time_restore_creates_a_new_instance_as_of_that_second(rds, launch, connect):
    source = launch(BackupRetentionPeriod=7)
    identifier = source["DBInstanceIdentifier"]
    with connect(source) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
        conn.execute("INSERT INTO users SELECT g, 'user' || g || '@x.io' "
                     "FROM generate_series(1, 100) g")
    time.sleep(1.1)
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    time.sleep(1.1)
    with connect(source) as conn:
        conn.execute("DROP TABLE users")
    wait_restorable(rds, identifier, moment)
    target = unique("pitr")
    restored = rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=identifier, TargetDBInstanceIdentifier=target,
        RestoreTime=moment)["DBInstance"]
    assert restored["DBInstanceStatus"] == "creating"
    restored = wait_for(rds, target)
    assert restored["Endpoint"] != source["Endpoint"]
    with connect(restored) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 100
        assert conn.execute("SELECT email FROM users WHERE id = %s", (7,)).fetchone() == \
            ("user7@x.io",)
    with connect(source) as conn, pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT count(*) FROM users")
    # a time outside the window, and no backups at all
    code, _, message = error_of(
        rds.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier=identifier,
        TargetDBInstanceIdentifier=unique("pitr"),
        RestoreTime=moment - dt.timedelta(days=3))
    assert code == "InvalidRestoreFault" and "outside the restorable window" in message
    code, _, _ = error_of(
        rds.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier=identifier,
        TargetDBInstanceIdentifier=unique("pitr"),
        RestoreTime=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert code == "InvalidRestoreFault"
    latest = rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=identifier, TargetDBInstanceIdentifier=unique("pitr"),
        UseLatestRestorableTime=True)["DBInstance"]
    latest = wait_for(rds, latest["DBInstanceIdentifier"])
    with connect(latest) as conn, pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT count(*) FROM users")
    backups = rds.describe_db_instance_automated_backups(
        DBInstanceIdentifier=identifier)["DBInstanceAutomatedBackups"]
    window = backups[0]["RestoreWindow"]
    assert window["EarliestTime"] <= moment <= window["LatestTime"]
    automated = rds.describe_db_snapshots(DBInstanceIdentifier=identifier,
                                          SnapshotType="automated")["DBSnapshots"]
    assert automated and automated[0]["DBSnapshotIdentifier"].startswith(f"rds:{identifier}-")
    for db in (identifier, target, latest["DBInstanceIdentifier"]):
        rds.delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)


def test_no_point_in_time_restore_without_retention(rds, launch):
    db = launch(wait=False)
    code, _, _ = error_of(rds.restore_db_instance_to_point_in_time,
                          SourceDBInstanceIdentifier=db["DBInstanceIdentifier"],
                          TargetDBInstanceIdentifier=unique("pitr"),
                          UseLatestRestorableTime=True)
    assert code == "PointInTimeRestoreNotEnabled"
    rds.delete_db_instance(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                           SkipFinalSnapshot=True)


def test_snapshot_copy_restore_and_final_snapshot(rds, launch, connect):
    db = launch(DBName="shop")
    identifier = db["DBInstanceIdentifier"]
    with connect(db, dbname="shop") as conn:
        conn.execute("CREATE TABLE orders (id int, total numeric)")
        conn.execute("INSERT INTO orders VALUES (1, 9.99), (2, 20)")
    snapshot = unique("snap")
    created = rds.create_db_snapshot(DBInstanceIdentifier=identifier,
                                     DBSnapshotIdentifier=snapshot)["DBSnapshot"]
    assert created["Status"] == "creating" and created["SnapshotType"] == "manual"
    rds.get_waiter("db_snapshot_available").wait(DBSnapshotIdentifier=snapshot,
                                                 WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})
    code, _, _ = error_of(rds.create_db_snapshot, DBInstanceIdentifier=identifier,
                          DBSnapshotIdentifier=snapshot)
    assert code == "DBSnapshotAlreadyExists"
    copy = unique("copy")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=snapshot, TargetDBSnapshotIdentifier=copy)
    rds.get_waiter("db_snapshot_available").wait(DBSnapshotIdentifier=copy,
                                                 WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})
    with connect(db, dbname="shop") as conn:
        conn.execute("DELETE FROM orders")
    restored_id = unique("fromsnap")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=restored_id,
                                             DBSnapshotIdentifier=copy,
                                             DBInstanceClass="db.t3.small")
    restored = wait_for(rds, restored_id)
    assert restored["DBInstanceClass"] == "db.t3.small" and restored["DBName"] == "shop"
    with connect(restored, dbname="shop") as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 2
    final = unique("final")
    rds.delete_db_instance(DBInstanceIdentifier=identifier, FinalDBSnapshotIdentifier=final)
    wait_for(rds, identifier, "db_instance_deleted")
    snaps = rds.describe_db_snapshots(DBSnapshotIdentifier=final)["DBSnapshots"]
    assert snaps[0]["Status"] == "available" and snaps[0]["DBInstanceIdentifier"] == identifier
    for name in (snapshot, copy, final):
        rds.delete_db_snapshot(DBSnapshotIdentifier=name)
    assert error_of(rds.describe_db_snapshots, DBSnapshotIdentifier=snapshot)[0] == \
        "DBSnapshotNotFound"
    rds.delete_db_instance(DBInstanceIdentifier=restored_id, SkipFinalSnapshot=True)
