"""Input validation against botocore input shapes, in AWS's words."""

from __future__ import annotations

import datetime as dt
import io
import timeit

import pytest

from cloudlet.errors import ValidationError
from cloudlet.models import service_model
from cloudlet.protocols.validate import validate


def shape(service: str, operation: str):
    return service_model(service).operation_model(operation).input_shape


ASSUME_ROLE = shape("sts", "AssumeRole")
ROLE = {"RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "session"}


def message(input_shape, params) -> str:
    with pytest.raises(ValidationError) as e:
        validate(input_shape, params)
    return e.value.message


def test_valid_input_passes():
    validate(ASSUME_ROLE, {**ROLE, "DurationSeconds": 900, "Tags": [{"Key": "k", "Value": "v"}]})
    validate(None, {})


def test_missing_required_members():
    assert message(ASSUME_ROLE, {"RoleArn": ROLE["RoleArn"]}) == (
        "1 validation error detected: Value null at 'roleSessionName' failed to satisfy "
        "constraint: Member must not be null"
    )
    assert message(ASSUME_ROLE, {}).startswith(
        "2 validation errors detected: Value null at 'roleArn'"
    )


def test_none_is_absent():
    validate(ASSUME_ROLE, {**ROLE, "Policy": None, "Tags": None})
    assert "Value null at 'roleArn'" in message(ASSUME_ROLE, {**ROLE, "RoleArn": None})


def test_length_and_value_bounds():
    text = message(ASSUME_ROLE, {**ROLE, "RoleSessionName": "x", "DurationSeconds": 10})
    assert text == (
        "2 validation errors detected: "
        "Value 'x' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2; "
        "Value '10' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )
    assert "Member must have length less than or equal to 64" in message(
        ASSUME_ROLE, {**ROLE, "RoleSessionName": "x" * 65}
    )
    assert "Member must have value less than or equal to 43200" in message(
        ASSUME_ROLE, {**ROLE, "DurationSeconds": 50000}
    )


def test_list_length_and_nested_paths():
    list_metrics = shape("cloudwatch", "ListMetrics")
    too_many = [{"Name": f"d{i}"} for i in range(11)]
    assert (
        "at 'dimensions' failed to satisfy constraint: "
        "Member must have length less than or equal to 10"
    ) in message(list_metrics, {"Dimensions": too_many})
    text = message(ASSUME_ROLE, {**ROLE, "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2"}]})
    assert text == (
        "1 validation error detected: Value null at 'tags.2.member.value' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_enums():
    put_alarm = shape("cloudwatch", "PutMetricAlarm")
    params = {
        "AlarmName": "a",
        "EvaluationPeriods": 1,
        "ComparisonOperator": "Bigger",
    }
    text = message(put_alarm, params)
    assert (
        "Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint: Member must "
        "satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold"
    ) in text


def test_types():
    assert "Member must be of type integer" in message(
        ASSUME_ROLE, {**ROLE, "DurationSeconds": "900"}
    )
    assert "Member must be of type integer" in message(
        ASSUME_ROLE, {**ROLE, "DurationSeconds": True}
    )
    assert "Member must be of type string" in message(ASSUME_ROLE, {**ROLE, "RoleArn": 5})
    assert "Member must be of type list" in message(ASSUME_ROLE, {**ROLE, "Tags": {"Key": "k"}})
    assert "Member must be of type structure" in message(ASSUME_ROLE, {**ROLE, "Tags": ["k"]})


def test_timestamps_blobs_and_booleans():
    history = shape("cloudwatch", "DescribeAlarmHistory")
    validate(history, {"StartDate": dt.datetime.now(dt.UTC), "EndDate": 1700000000})
    assert "Member must be of type timestamp" in message(history, {"StartDate": [1]})
    invoke = shape("lambda", "Invoke")
    validate(invoke, {"FunctionName": "f", "Payload": b"{}"})
    assert "Member must be of type blob" in message(invoke, {"FunctionName": "f", "Payload": 5})
    dry_run = shape("ec2", "DescribeInstances")
    validate(dry_run, {"DryRun": False})
    assert "Member must be of type boolean" in message(dry_run, {"DryRun": "false"})


def test_streaming_blobs_accept_streams():
    put_object = shape("s3", "PutObject")
    validate(put_object, {"Bucket": "b", "Key": "k", "Body": io.BytesIO(b"x")})


def test_unknown_members_are_rejected():
    with pytest.raises(ValidationError) as e:
        validate(ASSUME_ROLE, {**ROLE, "Bogus": 1})
    assert '"Bogus"' in e.value.message


def test_sensitive_values_are_not_echoed():
    create_login = shape("iam", "CreateLoginProfile")
    text = message(create_login, {"UserName": "u", "Password": ""})
    assert "Value at 'password' failed to satisfy constraint" in text
    assert "''" not in text


def test_map_keys():
    put_function_tags = shape("lambda", "TagResource")
    text = message(put_function_tags, {"Resource": "arn", "Tags": {"": "v"}})
    assert (
        "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]"
        in text
    )


def test_idempotency_tokens_as_botocore_sends_them():
    run = shape("ec2", "RunInstances")
    validate(
        run, {"MinCount": 1, "MaxCount": 1, "ClientToken": "6a1a1f2e-5a5e-4b1f-9c39-1f1b2c3d4e5f"}
    )


def test_fast_enough():
    run = shape("ec2", "RunInstances")
    params = {
        "ImageId": "ami-12345678",
        "MinCount": 1,
        "MaxCount": 1,
        "InstanceType": "t3.micro",
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}] * 5}
        ],
    }
    validate(run, params)
    per_call = timeit.timeit(lambda: validate(run, params), number=200) / 200
    assert per_call < 0.002
