"""Another account's RDS resources, named by ARN: RDS has no resource policy, so an
instance, snapshot or parameter group ARN of another account answers as a missing one,
and never as the caller's own resource of that name. The one exception is AWS's: a manual
snapshot shared for restore (ModifyDBSnapshotAttribute) may be described, copied and
restored by the accounts it is shared with, and stays its owner's."""

import pytest
from harness import error_of, unique, unique_account
from rdstest import wait_for

OWNER = "000000000000"


def db_family(rds) -> str:
    return rds.describe_db_engine_versions(Engine="postgres")["DBEngineVersions"][-1][
        "DBParameterGroupFamily"]


def snapshot_available(client, identifier: str) -> None:
    client.get_waiter("db_snapshot_available").wait(
        DBSnapshotIdentifier=identifier, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})


@pytest.fixture(scope="module")
def source(rds, launch, connect):
    """Account A's instance with one row, and a manual snapshot of it."""
    db = launch(DBName="shop")
    with connect(db, dbname="shop") as conn:
        conn.execute("CREATE TABLE orders (id int, total numeric)")
        conn.execute("INSERT INTO orders VALUES (1, 9.99)")
    snapshot = unique("snap")
    created = rds.create_db_snapshot(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                                     DBSnapshotIdentifier=snapshot)["DBSnapshot"]
    snapshot_available(rds, snapshot)
    group, family = unique("pg"), db_family(rds)
    rds.create_db_parameter_group(DBParameterGroupName=group, DBParameterGroupFamily=family,
                                  Description="A's")
    yield db, created["DBSnapshotArn"], group
    rds.delete_db_instance(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                           SkipFinalSnapshot=True)


@pytest.fixture
def stranger(rds_server):
    account = unique_account()
    return account, rds_server.client("rds", aws_access_key_id=account)


def not_found(call, code: str, **kwargs) -> None:
    found, status, message = error_of(call, **kwargs)
    assert (found, status) == (code, 404), message


def test_another_accounts_arns_answer_as_missing_resources(rds, source, stranger):
    db, snapshot_arn, group = source
    _, other = stranger
    db_arn = db["DBInstanceArn"]
    group_arn = f"arn:aws:rds:us-east-1:{OWNER}:pg:{group}"
    # the stranger has a parameter group of the same name: A's ARN must not reach it either
    other.create_db_parameter_group(DBParameterGroupName=group,
                                    DBParameterGroupFamily=db_family(rds), Description="B's")
    not_found(other.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier=db_arn)
    not_found(other.reboot_db_instance, "DBInstanceNotFound", DBInstanceIdentifier=db_arn)
    not_found(other.create_db_snapshot, "DBInstanceNotFound", DBInstanceIdentifier=db_arn,
              DBSnapshotIdentifier=unique("steal"))
    not_found(other.create_db_instance_read_replica, "DBInstanceNotFound",
              DBInstanceIdentifier=unique("replica"), SourceDBInstanceIdentifier=db_arn)
    not_found(other.list_tags_for_resource, "DBInstanceNotFound", ResourceName=db_arn)
    not_found(other.add_tags_to_resource, "DBParameterGroupNotFound", ResourceName=group_arn,
              Tags=[{"Key": "k", "Value": "v"}])
    not_found(other.describe_db_snapshots, "DBSnapshotNotFound",
              DBSnapshotIdentifier=snapshot_arn)
    for call, kwargs in (
            (other.copy_db_snapshot, {"SourceDBSnapshotIdentifier": snapshot_arn,
                                      "TargetDBSnapshotIdentifier": unique("copy")}),
            (other.restore_db_instance_from_db_snapshot, {
                "DBSnapshotIdentifier": snapshot_arn, "DBInstanceIdentifier": unique("r")}),
            (other.delete_db_snapshot, {"DBSnapshotIdentifier": snapshot_arn}),
            (other.modify_db_snapshot_attribute, {
                "DBSnapshotIdentifier": snapshot_arn, "AttributeName": "restore",
                "ValuesToAdd": ["all"]})):
        not_found(call, "DBSnapshotNotFound", **kwargs)
    assert other.describe_db_snapshots(SnapshotType="shared")["DBSnapshots"] == []
    assert rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_arn)["DBSnapshots"][0][
        "Status"] == "available"


def test_a_snapshot_shared_for_restore_is_copied_and_restored_by_its_arn(
        rds, source, stranger, connect, rds_server):
    db, snapshot_arn, _ = source
    account, other = stranger
    snapshot = snapshot_arn.rsplit(":", 1)[1]
    shared = rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=snapshot,
                                              AttributeName="restore", ValuesToAdd=[account])
    assert shared["DBSnapshotAttributesResult"]["DBSnapshotAttributes"] == [
        {"AttributeName": "restore", "AttributeValues": [account]}]
    assert rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=snapshot)[
        "DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0]["AttributeValues"] == [account]
    listed = other.describe_db_snapshots(SnapshotType="shared")["DBSnapshots"]
    assert [s["DBSnapshotArn"] for s in listed] == [snapshot_arn]
    assert other.describe_db_snapshots()["DBSnapshots"] == []  # not without asking
    # a copy: the stranger's own snapshot
    copy = unique("copy")
    other.copy_db_snapshot(SourceDBSnapshotIdentifier=snapshot_arn,
                           TargetDBSnapshotIdentifier=copy)
    snapshot_available(other, copy)
    mine = other.describe_db_snapshots(DBSnapshotIdentifier=copy)["DBSnapshots"][0]
    assert mine["DBSnapshotArn"].split(":")[4] == account
    assert mine["SourceDBSnapshotIdentifier"] == snapshot_arn
    # a restore: a new instance in the stranger's account, with the snapshot's data
    restored_id = unique("restored")
    other.restore_db_instance_from_db_snapshot(DBSnapshotIdentifier=snapshot_arn,
                                               DBInstanceIdentifier=restored_id)
    restored = wait_for(other, restored_id)
    assert restored["DBInstanceArn"].split(":")[4] == account
    with connect(restored, dbname="shop") as conn:
        assert str(conn.execute("SELECT total FROM orders").fetchone()[0]) == "9.99"
    # still the owner's: the stranger neither deletes nor re-shares it
    for call, kwargs in ((other.delete_db_snapshot, {}),
                         (other.modify_db_snapshot_attribute, {
                             "AttributeName": "restore", "ValuesToAdd": ["all"]})):
        not_found(call, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_arn, **kwargs)
    # a third account, and the stranger once the share is withdrawn, are refused
    third = rds_server.client("rds", aws_access_key_id=unique_account())
    not_found(third.copy_db_snapshot, "DBSnapshotNotFound",
              SourceDBSnapshotIdentifier=snapshot_arn, TargetDBSnapshotIdentifier=unique("c"))
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=snapshot, AttributeName="restore",
                                     ValuesToRemove=[account])
    not_found(other.copy_db_snapshot, "DBSnapshotNotFound",
              SourceDBSnapshotIdentifier=snapshot_arn, TargetDBSnapshotIdentifier=unique("c"))
    other.delete_db_instance(DBInstanceIdentifier=restored_id, SkipFinalSnapshot=True)
    other.delete_db_snapshot(DBSnapshotIdentifier=copy)


def test_sharing_takes_the_restore_attribute_and_account_ids(rds, source):
    snapshot = source[1].rsplit(":", 1)[1]
    for kwargs in ({"AttributeName": "copy", "ValuesToAdd": ["all"]},
                   {"AttributeName": "restore", "ValuesToAdd": ["12345"]}):
        code, _, _ = error_of(rds.modify_db_snapshot_attribute, DBSnapshotIdentifier=snapshot,
                              **kwargs)
        assert code == "InvalidParameterValue"
    code, _, _ = error_of(rds.modify_db_snapshot_attribute, DBSnapshotIdentifier=unique("none"),
                          AttributeName="restore", ValuesToAdd=["all"])
    assert code == "DBSnapshotNotFound"
