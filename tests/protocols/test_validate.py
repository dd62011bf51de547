"""Input validation against botocore input shapes, in AWS's words."""

from __future__ import annotations

import datetime as dt
import io
import math
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


# -- numbers beyond their types, text with no UTF-8 form (issue 12) -------------------------

GET_LOG_EVENTS = shape("logs", "GetLogEvents")
EVENTS = {"logGroupName": "g", "logStreamName": "s"}


@pytest.mark.parametrize("value,bound", [
    (2**63, "less than or equal to 9223372036854775807"),
    (10**400, "less than or equal to 9223372036854775807"),
    (-1, "greater than or equal to 0"),  # the model's own min, inside the type's
    (-(10**5000), "greater than or equal to 0"),
], ids=["2^63", "10^400", "-1", "-10^5000"])
def test_longs_are_held_to_64_bits_and_their_model_range(value, bound):
    text = message(GET_LOG_EVENTS, {**EVENTS, "startTime": value})
    assert f"at 'startTime' failed to satisfy constraint: Member must have value {bound}" in text


def test_integers_are_held_to_32_bits():
    text = message(GET_LOG_EVENTS, {**EVENTS, "limit": 2**31})
    assert "Value '2147483648' at 'limit'" in text
    assert "Member must have value less than or equal to 10000" in text
    list_users = shape("iam", "ListUsers")
    validate(list_users, {"MaxItems": 1000})
    assert "less than or equal to 1000" in message(list_users, {"MaxItems": 2**40})
    put_alarm = shape("cloudwatch", "PutMetricAlarm")
    alarm = {"AlarmName": "a", "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold"}
    assert "less than or equal to 2147483647" in message(put_alarm, {**alarm, "Period": 2**31})


def test_huge_numbers_are_rendered_past_the_int_str_limit():
    text = message(GET_LOG_EVENTS, {**EVENTS, "startTime": 10**5000})
    assert "Value '1.000000E+5000' at 'startTime'" in text


def test_nan_satisfies_no_range():
    """NaN compares false with everything: a range check that only asks `value < min`
    would let it through."""
    alias = shape("lambda", "CreateAlias")
    params = {"FunctionName": "f", "Name": "a", "FunctionVersion": "1",
              "RoutingConfig": {"AdditionalVersionWeights": {"2": math.nan}}}
    text = message(alias, params)
    assert ("Value 'NaN' at 'routingConfig.additionalVersionWeights.2' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0.0") in text
    params["RoutingConfig"]["AdditionalVersionWeights"]["2"] = math.inf
    assert "Value 'Infinity'" in message(alias, params)
    params["RoutingConfig"]["AdditionalVersionWeights"]["2"] = 0.5
    validate(alias, params)


def test_epoch_timestamps_must_fit_a_datetime():
    list_metrics_stats = shape("cloudwatch", "GetMetricStatistics")
    params = {"Namespace": "n", "MetricName": "m", "Period": 60, "Statistics": ["Sum"],
              "StartTime": 10**12, "EndTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}
    assert "Member must be a timestamp between years 1 and 9999" in message(
        list_metrics_stats, params)


@pytest.mark.parametrize("text", ["a\ud800b", "\udcff", "x\udfff"])
def test_lone_surrogates_have_no_utf8_form(text):
    create_stream = shape("logs", "CreateLogStream")
    got = message(create_stream, {"logGroupName": "g", "logStreamName": text})
    assert ("at 'logStreamName' failed to satisfy constraint: Member must contain only valid "
            "UTF-8 characters") in got
    got.encode("utf-8")  # the message itself has one: the value is echoed with "?"
    validate(create_stream, {"logGroupName": "g", "logStreamName": "é😀"})
