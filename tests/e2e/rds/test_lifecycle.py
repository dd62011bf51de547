"""Cloudlet stops its database servers when it stops and brings them back when it starts;
a stopped instance starts by itself after 7 days (on the service clock)."""

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from rdstest import PASSWORD, postmaster_of, wait_for, wait_status


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="cloudlet-rds-life-")) / "data"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_restart_brings_instances_back_and_auto_start_after_7_days(fresh_cloudlet, data_dir):
    server = fresh_cloudlet(data_dir=data_dir)
    rds = server.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="keeper", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="master", MasterUserPassword=PASSWORD,
                           BackupRetentionPeriod=0)
    rds.create_db_cluster(DBClusterIdentifier="lasting", Engine="aurora-postgresql",
                          MasterUsername="master", MasterUserPassword=PASSWORD)
    rds.create_db_instance(DBInstanceIdentifier="lasting-1", DBClusterIdentifier="lasting",
                           Engine="aurora-postgresql", DBInstanceClass="db.r5.large")
    db = wait_for(rds, "keeper")
    wait_for(rds, "lasting-1")
    ca = str(data_dir / "rds" / "ca" / "rds-ca-bundle.pem")

    def connect():
        return psycopg.connect(host=db["Endpoint"]["Address"], port=db["Endpoint"]["Port"],
                               user="master", password=PASSWORD, dbname="postgres",
                               sslmode="verify-full", sslrootcert=ca, connect_timeout=5,
                               autocommit=True)
    with connect() as conn:
        conn.execute("CREATE TABLE t (v int)")
        conn.execute("INSERT INTO t VALUES (42)")
        pid = postmaster_of(conn)
    assert server.stop() == 0
    assert not alive(pid), "the server process outlived Cloudlet"

    server = fresh_cloudlet(data_dir=data_dir)
    rds = server.client("rds")
    db = wait_for(rds, "keeper")
    with connect() as conn:
        assert conn.execute("SELECT v FROM t").fetchall() == [(42,)]
    wait_for(rds, "lasting-1")
    cluster = rds.describe_db_clusters(DBClusterIdentifier="lasting")["DBClusters"][0]
    with psycopg.connect(host=cluster["Endpoint"], port=cluster["Port"], user="master",
                         password=PASSWORD, dbname="postgres", sslmode="verify-full",
                         sslrootcert=ca, connect_timeout=5) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False

    rds.stop_db_instance(DBInstanceIdentifier="keeper")
    wait_status(rds, "keeper", "stopped")
    server.advance_clock(7 * 86400 + 60)
    wait_status(rds, "keeper", "available", timeout=60)
    with connect() as conn:
        assert conn.execute("SELECT v FROM t").fetchall() == [(42,)]
    messages = [e["Message"] for e in rds.describe_events(
        SourceType="db-instance", SourceIdentifier="keeper", Duration=10080)["Events"]]
    assert any("exceeding the maximum allowed time being stopped" in m for m in messages)
    rds.delete_db_instance(DBInstanceIdentifier="keeper", SkipFinalSnapshot=True)
    rds.delete_db_instance(DBInstanceIdentifier="lasting-1")
    wait_for(rds, "keeper", "db_instance_deleted")
    wait_for(rds, "lasting-1", "db_instance_deleted")
    rds.delete_db_cluster(DBClusterIdentifier="lasting", SkipFinalSnapshot=True)
    assert not os.listdir(data_dir / "rds" / "i")
