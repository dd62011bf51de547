"""Parameter groups applied to real servers (dynamic at once, static pending-reboot),
rds.force_ssl honoured, events, and the minute's metrics on CloudWatch."""

import datetime as dt
import time

import psycopg
import pytest
from harness import error_of, unique
from rdstest import PASSWORD, wait_for


@pytest.fixture(scope="module")
def family(rds):
    return rds.describe_db_engine_versions(Engine="postgres")["DBEngineVersions"][-1][
        "DBParameterGroupFamily"]


def test_parameter_group_applies_to_the_server(rds, rds_server, launch, connect, family):
    name = unique("params")
    group = rds.create_db_parameter_group(DBParameterGroupName=name,
                                          DBParameterGroupFamily=family,
                                          Description="app settings")["DBParameterGroup"]
    assert group["DBParameterGroupArn"].endswith(f":pg:{name}")
    params = {p["ParameterName"]: p for p in rds.get_paginator("describe_db_parameters")
              .paginate(DBParameterGroupName=name).build_full_result()["Parameters"]}
    assert params["work_mem"]["ApplyType"] == "dynamic"
    assert params["max_prepared_transactions"]["ApplyType"] == "static"
    assert "rds.force_ssl" in params
    code, _, _ = error_of(rds.modify_db_parameter_group, DBParameterGroupName=name, Parameters=[
        {"ParameterName": "max_prepared_transactions", "ParameterValue": "10",
         "ApplyMethod": "immediate"}])
    assert code == "InvalidParameterCombination"
    code, _, _ = error_of(rds.modify_db_parameter_group, DBParameterGroupName=name, Parameters=[
        {"ParameterName": "no_such_setting", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    assert code == "InvalidParameterValue"
    code, _, _ = error_of(rds.modify_db_parameter_group,
                          DBParameterGroupName=f"default.{family}", Parameters=[
                              {"ParameterName": "work_mem", "ParameterValue": "8192",
                               "ApplyMethod": "immediate"}])
    assert code == "InvalidParameterValue"
    rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=[
        {"ParameterName": "work_mem", "ParameterValue": "8192", "ApplyMethod": "immediate"},
        {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    db = launch(DBParameterGroupName=name)
    identifier = db["DBInstanceIdentifier"]
    assert db["DBParameterGroups"] == [{"DBParameterGroupName": name,
                                        "ParameterApplyStatus": "in-sync"}]
    with connect(db) as conn:
        assert conn.execute("SHOW work_mem").fetchone()[0] == "8MB"
    with pytest.raises(psycopg.OperationalError):  # rds.force_ssl=1 refuses plain text
        psycopg.connect(host=db["Endpoint"]["Address"], port=db["Endpoint"]["Port"],
                        user="master", password=PASSWORD, dbname="postgres",
                        sslmode="disable", connect_timeout=5)
    rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=[
        {"ParameterName": "max_prepared_transactions", "ParameterValue": "10",
         "ApplyMethod": "pending-reboot"}])
    deadline = time.monotonic() + 30
    while rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
            "DBParameterGroups"][0]["ParameterApplyStatus"] != "pending-reboot":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    with connect(db) as conn:
        assert conn.execute("SHOW max_prepared_transactions").fetchone()[0] == "0"
    rds.reboot_db_instance(DBInstanceIdentifier=identifier)
    db = wait_for(rds, identifier)
    assert db["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"
    with connect(db) as conn:
        assert conn.execute("SHOW max_prepared_transactions").fetchone()[0] == "10"
    code, _, _ = error_of(rds.delete_db_parameter_group, DBParameterGroupName=name)
    assert code == "InvalidDBParameterGroupState"

    # metrics: published when the instance is up, then every minute
    cloudwatch = rds_server.client("cloudwatch")
    deadline = time.monotonic() + 30
    while True:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS", MetricName="DatabaseConnections",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
            StartTime=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
            EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1),
            Period=60, Statistics=["Maximum"])["Datapoints"]
        if points:
            break
        assert time.monotonic() < deadline, "no DatabaseConnections datapoint"
        time.sleep(1)
    names = {m["MetricName"] for m in cloudwatch.list_metrics(
        Namespace="AWS/RDS", Dimensions=[{"Name": "DBInstanceIdentifier",
                                          "Value": identifier}])["Metrics"]}
    assert {"CPUUtilization", "DatabaseConnections", "FreeStorageSpace"} <= names
    rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
    wait_for(rds, identifier, "db_instance_deleted")
    rds.delete_db_parameter_group(DBParameterGroupName=name)
    assert error_of(rds.describe_db_parameter_groups, DBParameterGroupName=name)[0] == \
        "DBParameterGroupNotFound"


def test_subnet_groups_tags_and_events(rds):
    name = unique("subnets")
    created = rds.create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="app",
                                         SubnetIds=["subnet-1", "subnet-2"])["DBSubnetGroup"]
    assert [s["SubnetIdentifier"] for s in created["Subnets"]] == ["subnet-1", "subnet-2"]
    arn = created["DBSubnetGroupArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "env", "Value": "dev"},
                                                     {"Key": "team", "Value": "a"}])
    rds.remove_tags_from_resource(ResourceName=arn, TagKeys=["team"])
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [
        {"Key": "env", "Value": "dev"}]
    assert error_of(rds.create_db_subnet_group, DBSubnetGroupName=name,
                    DBSubnetGroupDescription="again", SubnetIds=["subnet-1"])[0] == \
        "DBSubnetGroupAlreadyExists"
    rds.delete_db_subnet_group(DBSubnetGroupName=name)
    assert error_of(rds.describe_db_subnet_groups, DBSubnetGroupName=name)[0] == \
        "DBSubnetGroupNotFoundFault"
    assert error_of(rds.describe_events, SourceIdentifier="x")[0] == \
        "InvalidParameterCombination"



def test_event_subscriptions(rds):
    name = unique("subscription")
    topic = "arn:aws:sns:us-east-1:000000000000:rds-events"
    created = rds.create_event_subscription(SubscriptionName=name, SnsTopicArn=topic,
                                            SourceType="db-instance",
                                            EventCategories=["failover", "backup"])
    assert created["EventSubscription"]["Status"] == "active"
    assert error_of(rds.create_event_subscription, SubscriptionName=name,
                    SnsTopicArn=topic)[0] == "SubscriptionAlreadyExist"
    found = rds.describe_event_subscriptions(SubscriptionName=name)["EventSubscriptionsList"]
    assert found[0]["EventCategoriesList"] == ["failover", "backup"]
    rds.delete_event_subscription(SubscriptionName=name)
    assert error_of(rds.describe_event_subscriptions, SubscriptionName=name)[0] == \
        "SubscriptionNotFound"
