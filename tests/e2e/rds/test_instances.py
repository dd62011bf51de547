"""An instance's life with real clients: create, connect with TLS verification, describe,
modify, stop/start, reboot, delete."""

import socket

import psycopg
import pytest
from harness import error_of
from rdstest import PASSWORD, wait_for, wait_status


@pytest.fixture(scope="module")
def app_db(rds, launch):
    db = launch(DBName="app", Tags=[{"Key": "team", "Value": "web"}])
    yield db
    rds.delete_db_instance(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                           SkipFinalSnapshot=True)


def test_create_connect_with_verify_full_and_query(rds, app_db, connect):
    db = app_db
    assert db["DBInstanceStatus"] == "available"
    address, port = db["Endpoint"]["Address"], db["Endpoint"]["Port"]
    socket.getaddrinfo(address, port)  # the endpoint resolves on this machine
    with connect(db, dbname="app") as conn:
        assert conn.info.pgconn.ssl_in_use
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")
        conn.execute("INSERT INTO users (email) VALUES (%s), (%s)", ("a@x.io", "b@x.io"))
        row = conn.execute("SELECT id, email FROM users WHERE id = %s", (2,)).fetchone()
    assert row == (2, "b@x.io")
    assert db["DBName"] == "app" and db["Engine"] == "postgres"
    assert db["DBInstanceArn"].endswith(f":db:{db['DBInstanceIdentifier']}")
    tags = rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]
    assert tags == [{"Key": "team", "Value": "web"}]


def test_tls_is_verified_against_the_endpoint_name(app_db, ca_bundle, tmp_path):
    db = app_db
    other = tmp_path / "other-ca.pem"
    with open(ca_bundle) as f:
        other.write_text(f.read().replace("MII", "MIJ", 1))
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host=db["Endpoint"]["Address"], port=db["Endpoint"]["Port"],
                        user="master", password=PASSWORD, dbname="postgres",
                        sslmode="verify-full", sslrootcert=str(other), connect_timeout=5)


def test_describe_filters_and_pagination(rds, launch):
    first = launch(wait=False)
    second = launch(wait=False)
    ids = {first["DBInstanceIdentifier"], second["DBInstanceIdentifier"]}
    found = rds.describe_db_instances(
        Filters=[{"Name": "db-instance-id", "Values": sorted(ids)}])["DBInstances"]
    assert {d["DBInstanceIdentifier"] for d in found} == ids
    assert rds.describe_db_instances(
        Filters=[{"Name": "engine", "Values": ["mariadb-nope"]}])["DBInstances"] == []
    pages = rds.get_paginator("describe_db_instances").paginate(PaginationConfig={"PageSize": 20})
    assert ids <= {d["DBInstanceIdentifier"] for p in pages for d in p["DBInstances"]}
    assert error_of(rds.describe_db_instances, MaxRecords=5)[0] == "InvalidParameterValue"
    code, status, _ = error_of(rds.describe_db_instances, DBInstanceIdentifier="nope-nope")
    assert (code, status) == ("DBInstanceNotFound", 404)
    for identifier in ids:
        wait_for(rds, identifier)
        rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)


def test_stop_refuses_connections_and_start_keeps_data(rds, launch, connect):
    db = launch()
    identifier = db["DBInstanceIdentifier"]
    with connect(db) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    assert rds.stop_db_instance(DBInstanceIdentifier=identifier)["DBInstance"][
        "DBInstanceStatus"] == "stopping"
    wait_status(rds, identifier, "stopped")
    with pytest.raises(psycopg.OperationalError):
        connect(db)
    assert error_of(rds.stop_db_instance, DBInstanceIdentifier=identifier)[0] == \
        "InvalidDBInstanceState"
    rds.start_db_instance(DBInstanceIdentifier=identifier)
    db = wait_for(rds, identifier)
    with connect(db) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [("still here",)]
    messages = [e["Message"] for e in rds.describe_events(
        SourceType="db-instance", SourceIdentifier=identifier)["Events"]]
    assert "DB instance created" in messages and "DB instance stopped" in messages
    rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)


def test_reboot_modify_and_delete(rds, launch, connect):
    db = launch(DeletionProtection=True)
    identifier = db["DBInstanceIdentifier"]
    assert rds.reboot_db_instance(DBInstanceIdentifier=identifier)["DBInstance"][
        "DBInstanceStatus"] == "rebooting"
    db = wait_for(rds, identifier)
    code, _, message = error_of(rds.reboot_db_instance, DBInstanceIdentifier=identifier,
                                ForceFailover=True)
    assert code == "InvalidParameterCombination" and "MultiAZ" in message
    # pending until the maintenance window
    modified = rds.modify_db_instance(DBInstanceIdentifier=identifier,
                                      DBInstanceClass="db.t3.small")["DBInstance"]
    assert modified["PendingModifiedValues"] == {"DBInstanceClass": "db.t3.small"}
    assert modified["DBInstanceClass"] == "db.t3.micro"
    rds.modify_db_instance(DBInstanceIdentifier=identifier, ApplyImmediately=True,
                           DBInstanceClass="db.t3.medium", MasterUserPassword="N3w-password")
    db = wait_for(rds, identifier)
    wait_status(rds, identifier, "available")
    db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    assert db["DBInstanceClass"] == "db.t3.medium"
    with psycopg.connect(host=db["Endpoint"]["Address"], port=db["Endpoint"]["Port"],
                         user="master", password="N3w-password", dbname="postgres",
                         sslmode="require", connect_timeout=5) as conn:
        assert conn.execute("SHOW max_connections").fetchone()[0] == "450"
    code, _, message = error_of(rds.delete_db_instance, DBInstanceIdentifier=identifier,
                                SkipFinalSnapshot=True)
    assert code == "InvalidParameterCombination" and "deletion protection" in message
    rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False)
    code, _, message = error_of(rds.delete_db_instance, DBInstanceIdentifier=identifier)
    assert code == "InvalidParameterCombination" and "FinalDBSnapshotIdentifier" in message
    deleting = rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
    assert deleting["DBInstance"]["DBInstanceStatus"] == "deleting"
    wait_for(rds, identifier, "db_instance_deleted")
    assert error_of(rds.describe_db_instances, DBInstanceIdentifier=identifier)[0] == \
        "DBInstanceNotFound"
    with socket.socket() as s:  # the endpoint port is free again
        s.bind(("127.0.0.1", db["Endpoint"]["Port"]))


def test_engine_versions_and_orderable_options(rds):
    versions = rds.describe_db_engine_versions(Engine="postgres")["DBEngineVersions"]
    assert versions and all(v["Engine"] == "postgres" for v in versions)
    assert versions[0]["DBParameterGroupFamily"].startswith("postgres")
    options = rds.describe_orderable_db_instance_options(
        Engine="postgres", DBInstanceClass="db.t3.micro")["OrderableDBInstanceOptions"]
    assert {o["StorageType"] for o in options} >= {"gp2", "gp3"}
