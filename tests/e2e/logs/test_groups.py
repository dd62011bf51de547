"""Log groups and log streams: create, describe, delete, retention values, tags, KMS."""

import time

from harness import error_of, unique


def test_create_describe_delete_group(logs):
    name = unique("/app/groups")
    key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    logs.create_log_group(logGroupName=name, kmsKeyId=key, tags={"team": "core"})
    [group] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["logGroupName"] == name
    assert group["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"
    assert group["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"
    assert group["kmsKeyId"] == key
    assert group["storedBytes"] == 0
    assert group["metricFilterCount"] == 0
    assert "retentionInDays" not in group  # new groups never expire
    assert abs(group["creationTime"] - time.time() * 1000) < 60_000
    code, _, message = error_of(logs.create_log_group, logGroupName=name)
    assert (code, message) == ("ResourceAlreadyExistsException",
                               "The specified log group already exists")
    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    code, _, message = error_of(logs.delete_log_group, logGroupName=name)
    assert (code, message) == ("ResourceNotFoundException",
                               "The specified log group does not exist.")


def test_describe_by_prefix_and_pattern_and_pages(logs):
    base = unique("/svc")
    names = [f"{base}/DataLogs", f"{base}/other", f"{base}/GroupDataLogs-x"]
    for n in names:
        logs.create_log_group(logGroupName=n)
    found = logs.describe_log_groups(logGroupNamePrefix=base)["logGroups"]
    assert [g["logGroupName"] for g in found] == sorted(names)
    by_pattern = logs.describe_log_groups(logGroupNamePattern=base.split("/")[-1] + "/Group")
    assert [g["logGroupName"] for g in by_pattern["logGroups"]] == [f"{base}/GroupDataLogs-x"]
    # a pattern search returns only the name, ARN and creation time
    assert set(by_pattern["logGroups"][0]) == {"logGroupName", "arn", "creationTime"}
    matches = logs.describe_log_groups(logGroupNamePattern="DataLogs")["logGroups"]
    assert {f"{base}/DataLogs", f"{base}/GroupDataLogs-x"} <= {g["logGroupName"] for g in matches}
    first = logs.describe_log_groups(logGroupNamePrefix=base, limit=2)
    assert len(first["logGroups"]) == 2 and first["nextToken"]
    rest = logs.describe_log_groups(logGroupNamePrefix=base, limit=2,
                                    nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in first["logGroups"] + rest["logGroups"]] == sorted(names)
    assert "nextToken" not in rest
    code, _, _ = error_of(logs.describe_log_groups, logGroupNamePrefix=base,
                          logGroupNamePattern="x")
    assert code == "InvalidParameterException"
    for token in ("WzEsMl0=", "bm90IGpzb24=", "%%%"):  # [1,2], "not json", not base64
        code, _, _ = error_of(logs.describe_log_groups, nextToken=token)
        assert code == "InvalidParameterException", token
        code, _, _ = error_of(logs.describe_log_streams, logGroupName=names[0],
                              nextToken=token)
        assert code == "InvalidParameterException", token


def test_group_name_rules(logs):
    code, _, message = error_of(logs.create_log_group, logGroupName="bad name!")
    assert code == "InvalidParameterException"
    assert "regular expression pattern" in message


def test_retention_allowed_values(logs):
    name = unique("/ret")
    logs.create_log_group(logGroupName=name)
    for days in (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                 2192, 2557, 2922, 3288, 3653):
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    [group] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["retentionInDays"] == 3653
    for days in (2, 0, 10, 4000):
        code, _, message = error_of(logs.put_retention_policy, logGroupName=name,
                                    retentionInDays=days)
        assert code == "InvalidParameterException", days
        assert "retentionInDays" in message
    logs.delete_retention_policy(logGroupName=name)
    [group] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert "retentionInDays" not in group
    code, _, _ = error_of(logs.put_retention_policy, logGroupName=name + "-missing",
                          retentionInDays=1)
    assert code == "ResourceNotFoundException"


def test_kms_key_association(logs):
    name = unique("/kms")
    logs.create_log_group(logGroupName=name)
    key = "arn:aws:kms:us-east-1:000000000000:key/abcd"
    logs.associate_kms_key(logGroupName=name, kmsKeyId=key)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["kmsKeyId"] == key
    logs.disassociate_kms_key(logGroupName=name)
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]


def test_tags_new_and_legacy_operations(logs):
    name = unique("/tags")
    logs.create_log_group(logGroupName=name, tags={"a": "1"})
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1"}
    logs.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"a": "1", "b": "2"}
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    logs.tag_log_group(logGroupName=name, tags={"c": "3"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2", "c": "3"}
    logs.untag_log_group(logGroupName=name, tags=["b", "c"])
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {}
    code, _, _ = error_of(logs.list_tags_for_resource, resourceArn=arn + "-missing")
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(logs.tag_resource, resourceArn=arn,
                          tags={f"k{i}": "v" for i in range(51)})
    assert code in ("TooManyTagsException", "ValidationException")


def test_streams_describe_order_and_delete(logs):
    group = unique("/streams")
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    # b gets the oldest event, a the newest, c none
    for name, offset in (("b", 30_000), ("a", 10_000), ("c", None)):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        if offset is not None:
            logs.put_log_events(logGroupName=group, logStreamName=name,
                                logEvents=[{"timestamp": now - offset, "message": "x" * 10}])
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a", "b", "c"]
    a = by_name[0]
    assert a["firstEventTimestamp"] == a["lastEventTimestamp"] == now - 10_000
    assert a["arn"].endswith(f":log-group:{group}:log-stream:a")
    assert "lastIngestionTime" in a
    newest_first = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                             descending=True)["logStreams"]
    assert [s["logStreamName"] for s in newest_first][:2] == ["a", "b"]
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")
    assert [s["logStreamName"] for s in prefixed["logStreams"]] == ["b"]
    code, _, _ = error_of(logs.describe_log_streams, logGroupName=group,
                          orderBy="LastEventTime", logStreamNamePrefix="a")
    assert code == "InvalidParameterException"
    page = logs.describe_log_streams(logGroupName=group, limit=2)
    rest = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in page["logStreams"] + rest["logStreams"]] == [
        "a", "b", "c"]
    code, _, message = error_of(logs.create_log_stream, logGroupName=group, logStreamName="a")
    assert (code, message) == ("ResourceAlreadyExistsException",
                               "The specified log stream already exists")
    logs.delete_log_stream(logGroupName=group, logStreamName="a")
    code, _, _ = error_of(logs.get_log_events, logGroupName=group, logStreamName="a")
    assert code == "ResourceNotFoundException"
    # a recreated stream starts empty
    logs.create_log_stream(logGroupName=group, logStreamName="a")
    assert logs.get_log_events(logGroupName=group, logStreamName="a")["events"] == []
    code, _, _ = error_of(logs.create_log_stream, logGroupName=group, logStreamName="x:y")
    assert code == "InvalidParameterException"


def test_stored_bytes(logs):
    group = unique("/bytes")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "é" * 50}])
    [described] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["storedBytes"] == 100


def test_group_identifier_arn(logs):
    group = unique("/ident")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    streams = logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["s"]
    code, _, _ = error_of(logs.describe_log_streams, logGroupIdentifier=arn,
                          logGroupName=group)
    assert code == "InvalidParameterException"


def test_delete_group_deletes_its_events(logs):
    group = unique("/gone")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "first life"}])
    logs.delete_log_group(logGroupName=group)
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    assert logs.get_log_events(logGroupName=group, logStreamName="s")["events"] == []
    assert logs.filter_log_events(logGroupName=group)["events"] == []
