"""Aurora clusters on the same engines: a writer and a reader instance, the cluster's
writer and reader endpoints (TLS verified for their names), FailoverDBCluster."""

import time

import psycopg
import pytest
from harness import error_of, unique
from rdstest import PASSWORD, kill9, postmaster_of, wait_for


def test_cluster_writer_reader_endpoints_and_failover(rds, connect):
    cluster_id = unique("cluster")
    cluster = rds.create_db_cluster(DBClusterIdentifier=cluster_id, Engine="aurora-postgresql",
                                    MasterUsername="master", MasterUserPassword=PASSWORD,
                                    DatabaseName="app")["DBCluster"]
    assert cluster["Endpoint"] != cluster["ReaderEndpoint"]
    writer_id, reader_id = unique("writer"), unique("reader")
    for identifier in (writer_id, reader_id):
        rds.create_db_instance(DBInstanceIdentifier=identifier, DBClusterIdentifier=cluster_id,
                               Engine="aurora-postgresql", DBInstanceClass="db.r5.large")
        wait_for(rds, identifier)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    roles = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    assert roles == {writer_id: True, reader_id: False}
    writer_endpoint = {"Endpoint": {"Address": cluster["Endpoint"], "Port": cluster["Port"]},
                       "MasterUsername": "master"}
    reader_endpoint = {"Endpoint": {"Address": cluster["ReaderEndpoint"],
                                    "Port": cluster["Port"]}, "MasterUsername": "master"}
    with connect(writer_endpoint, dbname="app") as conn:
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO notes VALUES (1, 'written')")
    with connect(reader_endpoint, dbname="app") as conn:
        deadline = time.monotonic() + 30
        while conn.execute("SELECT to_regclass('notes') IS NULL").fetchone()[0] or \
                conn.execute("SELECT count(*) FROM notes").fetchone()[0] != 1:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO notes VALUES (2, 'on a reader')")
    code, _, _ = error_of(rds.delete_db_cluster, DBClusterIdentifier=cluster_id,
                          SkipFinalSnapshot=True)
    assert code == "InvalidDBClusterStateFault"

    rds.failover_db_cluster(DBClusterIdentifier=cluster_id)
    deadline = time.monotonic() + 60
    while True:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        roles = {m["DBInstanceIdentifier"]: m["IsClusterWriter"]
                 for m in cluster["DBClusterMembers"]}
        if cluster["Status"] == "available" and roles[reader_id]:
            break
        assert time.monotonic() < deadline, cluster
        time.sleep(0.5)
    with connect(writer_endpoint, dbname="app") as conn:
        conn.execute("INSERT INTO notes VALUES (2, 'after failover')")
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 2
    with connect(reader_endpoint, dbname="app") as conn:  # the old writer, a reader now
        deadline = time.monotonic() + 30
        while conn.execute("SELECT count(*) FROM notes").fetchone()[0] != 2:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True

    # the writer's server dies: the cluster fails over to the reader by itself
    with connect(writer_endpoint, dbname="app") as conn:
        kill9(postmaster_of(conn))
    deadline = time.monotonic() + 60
    while True:
        try:
            with connect(writer_endpoint, dbname="app") as conn:
                conn.execute("INSERT INTO notes VALUES (3, 'after the writer died')")
                assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 3
            break
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, "the writer endpoint stayed down"
            time.sleep(0.3)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    assert {m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]
            if m["IsClusterWriter"]} == {writer_id}
    wait_for(rds, reader_id)
    while rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0][
            "Status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    for identifier in (reader_id, writer_id):
        rds.delete_db_instance(DBInstanceIdentifier=identifier)
        wait_for(rds, identifier, "db_instance_deleted")
    rds.delete_db_cluster(DBClusterIdentifier=cluster_id, SkipFinalSnapshot=True)
    assert error_of(rds.describe_db_clusters, DBClusterIdentifier=cluster_id)[0] == \
        "DBClusterNotFoundFault"
