"""Read replicas: their own endpoint, writes refused, the source can't be deleted under
them, promotion makes a standalone primary."""

import time

import psycopg
import pytest
from harness import error_of, unique
from rdstest import wait_for


def eventually(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


def test_read_replica_follows_refuses_writes_and_promotes(rds, launch, connect):
    source = launch(BackupRetentionPeriod=1)
    source_id = source["DBInstanceIdentifier"]
    with connect(source) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
        conn.execute("INSERT INTO items VALUES (1, 'first')")
    replica_id = unique("replica")
    created = rds.create_db_instance_read_replica(DBInstanceIdentifier=replica_id,
                                                  SourceDBInstanceIdentifier=source_id)
    assert created["DBInstance"]["ReadReplicaSourceDBInstanceIdentifier"] == source_id
    replica = wait_for(rds, replica_id)
    assert replica["Endpoint"] != source["Endpoint"]
    source = rds.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
    assert source["ReadReplicaDBInstanceIdentifiers"] == [replica_id]
    with connect(source) as conn:
        conn.execute("INSERT INTO items VALUES (2, 'second')")
    with connect(replica) as conn:
        eventually(lambda: conn.execute("SELECT count(*) FROM items").fetchone()[0] == 2)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO items VALUES (3, 'on the replica')")
    code, _, message = error_of(rds.delete_db_instance, DBInstanceIdentifier=source_id,
                                SkipFinalSnapshot=True)
    assert code == "InvalidDBInstanceState" and replica_id in message
    rds.promote_read_replica(DBInstanceIdentifier=replica_id)
    promoted = wait_for(rds, replica_id)
    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    with connect(promoted) as conn:
        conn.execute("INSERT INTO items VALUES (3, 'after promotion')")
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 3
    with connect(source) as conn:  # the source goes its own way
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 2
    source = rds.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
    assert source["ReadReplicaDBInstanceIdentifiers"] == []
    for identifier in (replica_id, source_id):
        rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)


def test_no_replica_without_backups(rds, launch):
    source = launch(wait=False)
    code, _, message = error_of(rds.create_db_instance_read_replica,
                                DBInstanceIdentifier=unique("replica"),
                                SourceDBInstanceIdentifier=source["DBInstanceIdentifier"])
    assert code == "InvalidDBInstanceState" and "Automated backups are not enabled" in message
    rds.delete_db_instance(DBInstanceIdentifier=source["DBInstanceIdentifier"],
                           SkipFinalSnapshot=True)
