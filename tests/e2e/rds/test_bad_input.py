"""Bad input gets AWS's error, and nothing is left behind: no record, no server, no data
directory, no port."""

import socket
from pathlib import Path

import pytest
from harness import error_of, unique
from rdstest import PASSWORD

BASE = {"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20,
        "MasterUsername": "master", "MasterUserPassword": PASSWORD}


def instance_dirs(server) -> set[str]:
    root = Path(server.data_dir) / "rds" / "i"
    return {p.name for p in root.iterdir()} if root.exists() else set()


@pytest.mark.parametrize("identifier", ["1starts-with-digit", "two--hyphens", "ends-with-",
                                        "under_score", "x" * 64, ""])
def test_invalid_identifiers(rds, identifier):
    code, status, message = error_of(rds.create_db_instance, DBInstanceIdentifier=identifier,
                                     **BASE)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "DBInstanceIdentifier is not a valid identifier" in message


@pytest.mark.parametrize("password, words", [
    ("short", "shorter than 8 characters"),
    ("has/slash-in-it", "Only printable ASCII characters besides '/', '@', '\"', ' '"),
    ("with space inside", "Only printable ASCII characters"),
    ("x" * 129, "longer than 128 characters"),
])
def test_invalid_passwords(rds, password, words):
    code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"),
                                **{**BASE, "MasterUserPassword": password})
    assert code == "InvalidParameterValue" and words in message


@pytest.mark.parametrize("size, storage_type", [(5, "gp2"), (65537, "gp3"), (50, "io1")])
def test_storage_out_of_range(rds, size, storage_type):
    code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"),
                                **{**BASE, "AllocatedStorage": size,
                                   "StorageType": storage_type})
    assert code == "InvalidParameterCombination"
    assert message == (f"Invalid storage size for engine name postgres and storage type "
                       f"{storage_type}: {size}")


def test_unknown_engine_version_class_and_engine(rds):
    code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"),
                                **BASE, EngineVersion="9.1")
    assert (code, message) == ("InvalidParameterCombination",
                               "Cannot find version 9.1 for postgres")
    code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"),
                                **{**BASE, "DBInstanceClass": "db.huge.enormous"})
    assert code == "InvalidParameterCombination" and "DBInstanceClass=db.huge.enormous" in message
    code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"),
                                **{**BASE, "Engine": "oracle-free"})
    assert (code, message) == ("InvalidParameterValue", "Invalid DB engine: oracle-free")


def test_backup_retention_and_reserved_username(rds):
    code, _, _ = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"), **BASE,
                          BackupRetentionPeriod=36)
    assert code == "InvalidParameterValue"
    code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"),
                                **{**BASE, "MasterUsername": "rdsadmin"})
    assert code == "InvalidParameterValue" and "reserved word" in message


def test_port_already_taken_leaves_nothing_behind(rds, rds_server):
    before = instance_dirs(rds_server)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        identifier = unique("db")
        code, _, message = error_of(rds.create_db_instance, DBInstanceIdentifier=identifier,
                                    **BASE, Port=port)
    assert code == "InvalidParameterValue" and str(port) in message
    assert error_of(rds.describe_db_instances, DBInstanceIdentifier=identifier)[0] == \
        "DBInstanceNotFound"
    assert instance_dirs(rds_server) == before
    code, _, _ = error_of(rds.create_db_instance, DBInstanceIdentifier=unique("db"), **BASE,
                          Port=80)
    assert code == "InvalidParameterValue"


def test_duplicate_identifier(rds, launch):
    db = launch(wait=False)
    code, _, message = error_of(rds.create_db_instance,
                                DBInstanceIdentifier=db["DBInstanceIdentifier"], **BASE)
    assert (code, message) == ("DBInstanceAlreadyExists", "DB instance already exists")
    code, _, _ = error_of(rds.delete_db_instance, DBInstanceIdentifier="missing-db",
                          SkipFinalSnapshot=True)
    assert code == "DBInstanceNotFound"
    rds.delete_db_instance(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                           SkipFinalSnapshot=True)
