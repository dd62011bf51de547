"""Names that are not UTF-8 and numbers out of range get AWS's 400, and the server keeps
serving (issue 12).

- `PUT /b/k%FF` and `PUT /b/k%FE` are each S3's `InvalidURI`, and neither object exists
  (both once became `k\\ufffd`, the second overwriting the first).
- bytes that are not UTF-8 in a query string, a form body, a URI label or a percent-encoded
  header are the protocol's 400 too;
- 10^400 and a CBOR bignum where a number goes (Logs `startTime`, CloudWatch `Value` and
  `Threshold`) are the service's validation error, not a 500.
"""

from __future__ import annotations

import json

import botocore.auth
import cbor2
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from harness import error_of, unique

CREDS = Credentials("test", "test")
BIG = 10**400


def signed(cloudlet, service: str, method: str, path: str, body: bytes = b"",
           headers: dict | None = None) -> requests.Response:
    """A raw request signed by botocore, its path and query sent byte for byte."""
    request = AWSRequest(method=method, url=cloudlet.endpoint + path, data=body,
                         headers=headers or {})
    signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    signer(CREDS, service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    return requests.request(method, prepared.url, data=prepared.body,
                            headers=dict(prepared.headers), timeout=30)


def assert_still_serving(cloudlet) -> None:
    assert cloudlet.client("sts").get_caller_identity()["Account"] == "000000000000"


def xml_code(reply: requests.Response) -> str:
    return reply.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


# -- S3 keys ----------------------------------------------------------------------------

def test_keys_that_are_not_utf8_are_invalid_uri_and_nothing_is_written(cloudlet):
    s3 = cloudlet.client("s3")
    bucket = unique("utf8")
    s3.create_bucket(Bucket=bucket)
    for escape in ("%FF", "%FE"):
        reply = signed(cloudlet, "s3", "PUT", f"/{bucket}/k{escape}", body=escape.encode())
        assert reply.status_code == 400, reply.text
        assert xml_code(reply) == "InvalidURI"
        assert "<Message>Couldn't parse the specified URI.</Message>" in reply.text
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    code, status, _ = error_of(s3.head_object, Bucket=bucket, Key="k\ufffd")
    assert (code, status) == ("404", 404)
    # Every operation that names a key refuses it the same way: reads, deletes, uploads.
    for method, suffix in (("GET", ""), ("HEAD", ""), ("DELETE", ""), ("POST", "?uploads")):
        reply = signed(cloudlet, "s3", method, f"/{bucket}/k%FF{suffix}")
        assert reply.status_code == 400, (method, reply.text)
    # A valid UTF-8 key still works, byte for byte.
    s3.put_object(Bucket=bucket, Key="k\u00ff", Body=b"y")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k\u00ff"]
    assert_still_serving(cloudlet)


def test_s3_query_and_headers_that_are_not_utf8_are_refused(cloudlet):
    s3 = cloudlet.client("s3")
    bucket = unique("utf8q")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    reply = signed(cloudlet, "s3", "GET", f"/{bucket}?list-type=2&prefix=a%FF")
    assert reply.status_code == 400 and xml_code(reply) == "InvalidURI", reply.text
    reply = signed(cloudlet, "s3", "PUT", f"/{bucket}/copy",
                   headers={"x-amz-copy-source": f"/{bucket}/src%FF"})
    assert reply.status_code == 400, reply.text
    reply = signed(cloudlet, "s3", "PUT", f"/{bucket}/tagged", body=b"x",
                   headers={"x-amz-tagging": "k%FF=v"})
    assert reply.status_code == 400, reply.text
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["src"]


# -- other protocols ----------------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_query_protocol_values_that_are_not_utf8_are_validation_errors(cloudlet):
    iam = cloudlet.client("iam")
    name = unique("u")
    for path, body in ((f"/?Action=CreateUser&Version=2010-05-08&UserName={name}%FF", b""),
                       ("/", f"Action=CreateUser&Version=2010-05-08&UserName={name}%FE".encode())):
        reply = signed(cloudlet, "iam", "POST", path, body=body, headers=FORM)
        assert reply.status_code == 400, reply.text
        assert xml_code(reply) == "ValidationError"
    assert not [u for u in iam.list_users()["Users"] if u["UserName"].startswith(name)]
    reply = signed(cloudlet, "ec2", "POST", "/", headers=FORM,
                   body=b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-%FF")
    assert reply.status_code == 400, reply.text
    assert xml_code(reply) == "InvalidParameterValue"
    assert_still_serving(cloudlet)


def test_rest_json_labels_that_are_not_utf8_are_refused(cloudlet):
    reply = signed(cloudlet, "lambda", "GET", "/2015-03-31/functions/f%FF")
    assert reply.status_code == 400, reply.text
    assert reply.headers["x-amzn-ErrorType"] == "ValidationException"
    assert_still_serving(cloudlet)


def test_json_and_cbor_bodies_that_are_not_utf8_are_refused(cloudlet):
    reply = signed(cloudlet, "logs", "POST", "/", body=b'{"logGroupName": "g\xff"}', headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.CreateLogGroup"})
    assert reply.status_code == 400 and reply.json()["__type"] == "SerializationException"
    body = b"\xa1\x69Namespace\x62\xff\xfe"  # {"Namespace": <text "\xff\xfe">}
    reply = signed(cloudlet, "monitoring", "POST",
                   "/service/GraniteServiceVersion20100801/operation/ListMetrics", body=body,
                   headers={"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
    assert reply.status_code == 400, reply.content
    assert cbor2.loads(reply.content)["__type"] == "SerializationException"


# -- numbers ------------------------------------------------------------------------------

def unchecked(cloudlet, service: str):
    """A boto3 client that sends what it is given (no client-side parameter validation)."""
    return cloudlet.client(service, config=Config(parameter_validation=False,
                                                  retries={"max_attempts": 1}))


def test_logs_start_time_of_10_to_the_400_is_a_validation_error(cloudlet):
    logs = unchecked(cloudlet, "logs")
    group, stream = unique("/hostile/group"), unique("stream")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    for call, kwargs in (
        (logs.get_log_events, {"logGroupName": group, "logStreamName": stream,
                               "startTime": BIG}),
        (logs.filter_log_events, {"logGroupName": group, "startTime": BIG}),
        (logs.filter_log_events, {"logGroupName": group, "endTime": -BIG}),
        (logs.get_log_events, {"logGroupName": group, "logStreamName": stream,
                               "limit": 2**31}),
        (logs.put_log_events, {"logGroupName": group, "logStreamName": stream,
                               "logEvents": [{"timestamp": BIG, "message": "m"}]}),
    ):
        code, status, message = error_of(call, **kwargs)
        assert status == 400, (kwargs, code, message)
        assert code in ("InvalidParameterException", "ValidationException"), (kwargs, code)
    assert_still_serving(cloudlet)
    assert logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"] == stream


def test_logs_numbers_beyond_json_and_int_limits(cloudlet):
    """A 5000-digit integer (past Python's int-str limit), an exponent of 10^400 and a
    non-standard NaN literal: each a 400 in Logs' words."""
    for literal in ("1" * 5000, "1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 400):
        body = f'{{"logGroupName": "g", "logStreamName": "s", "startTime": {literal}}}'
        reply = signed(cloudlet, "logs", "POST", "/", body=body.encode(), headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.GetLogEvents"})
        assert reply.status_code == 400, (literal[:20], reply.text)
        assert reply.json()["__type"] in (
            "InvalidParameterException", "ValidationException", "SerializationException")
    assert_still_serving(cloudlet)


CW_FORM = "Action=PutMetricData&Version=2010-08-01&Namespace={ns}&MetricData.member.1.MetricName=m"
ALARM_FORM = ("Action=PutMetricAlarm&Version=2010-08-01&AlarmName={name}&Namespace={ns}&"
              "MetricName=m&Statistic=Average&Period=60&EvaluationPeriods=1&"
              "ComparisonOperator=GreaterThanThreshold")
JSON_CW = {"Content-Type": "application/x-amz-json-1.0"}


def cw_json(cloudlet, operation: str, body: str) -> requests.Response:
    headers = {**JSON_CW, "X-Amz-Target": f"GraniteServiceVersion20100801.{operation}"}
    return signed(cloudlet, "monitoring", "POST", "/", body=body.encode(), headers=headers)


def assert_cloudwatch_rejects(cloudlet, namespace: str) -> None:
    cw = cloudlet.client("cloudwatch")
    assert cw.list_metrics(Namespace=namespace)["Metrics"] == []
    assert cw.describe_alarms(AlarmNamePrefix=namespace)["MetricAlarms"] == []
    assert_still_serving(cloudlet)


@pytest.mark.parametrize("literal", ["1" + "0" * 400, "-1" + "0" * 400, "1e400"])
def test_cloudwatch_json_value_and_threshold_of_10_to_the_400(cloudlet, literal):
    namespace = unique("Hostile")
    reply = cw_json(cloudlet, "PutMetricData", f'{{"Namespace": "{namespace}", "MetricData": '
                    f'[{{"MetricName": "m", "Value": {literal}}}]}}')
    assert reply.status_code == 400, reply.text
    assert reply.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    reply = cw_json(cloudlet, "PutMetricAlarm", json.dumps({
        "AlarmName": namespace, "Namespace": namespace, "MetricName": "m",
        "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold"}).replace('"Threshold": 0', f'"Threshold": {literal}'))
    assert reply.status_code == 400, reply.text
    assert_cloudwatch_rejects(cloudlet, namespace)


@pytest.mark.parametrize("literal", ["1" + "0" * 400, "1e400", "NaN", "-Infinity", "1" * 5000])
def test_cloudwatch_query_value_and_threshold_beyond_a_double(cloudlet, literal):
    namespace = unique("Hostile")
    form = CW_FORM.format(ns=namespace) + f"&MetricData.member.1.Value={literal}"
    reply = signed(cloudlet, "monitoring", "POST", "/", body=form.encode(), headers=FORM)
    assert reply.status_code == 400, (literal[:20], reply.text)
    assert xml_code(reply) == "InvalidParameterValue"
    form = ALARM_FORM.format(name=namespace, ns=namespace) + f"&Threshold={literal}"
    reply = signed(cloudlet, "monitoring", "POST", "/", body=form.encode(), headers=FORM)
    assert reply.status_code == 400, (literal[:20], reply.text)
    assert_cloudwatch_rejects(cloudlet, namespace)


CBOR = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


def cbor_call(cloudlet, operation: str, body: dict) -> requests.Response:
    return signed(cloudlet, "monitoring", "POST",
                  f"/service/GraniteServiceVersion20100801/operation/{operation}",
                  body=cbor2.dumps(body), headers=CBOR)


@pytest.mark.parametrize("value", [BIG, -BIG, cbor2.CBORTag(4, [400, 1])],
                         ids=["10^400", "-10^400", "decimal-1e400"])
def test_cloudwatch_cbor_bignum_metric_value_is_invalid_parameter_value(cloudlet, value):
    namespace = unique("Bignum")
    reply = cbor_call(cloudlet, "PutMetricData", {
        "Namespace": namespace, "MetricData": [{"MetricName": "m", "Value": value}]})
    assert reply.status_code == 400, reply.content
    assert reply.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    reply = cbor_call(cloudlet, "PutMetricAlarm", {
        "AlarmName": unique("a"), "Namespace": namespace, "MetricName": "m",
        "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": value,
        "ComparisonOperator": "GreaterThanThreshold"})
    assert reply.status_code == 400, reply.content
    assert_cloudwatch_rejects(cloudlet, namespace)


def test_cloudwatch_cbor_integer_bignum_is_out_of_range(cloudlet):
    reply = cbor_call(cloudlet, "PutMetricAlarm", {
        "AlarmName": unique("a"), "Namespace": "N", "MetricName": "m", "Statistic": "Average",
        "Period": 2**70, "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold"})
    assert reply.status_code == 400, reply.content
    assert reply.headers["x-amzn-query-error"] == "ValidationError;Sender"
    assert "less than or equal to 2147483647" in cbor2.loads(reply.content)["message"]
    assert_still_serving(cloudlet)


def test_query_integers_beyond_their_type(cloudlet):
    for value in ("99999999999", "1" * 5000, "1e3", "1_0"):
        reply = signed(cloudlet, "iam", "POST", "/", headers=FORM,
                       body=f"Action=ListUsers&Version=2010-05-08&MaxItems={value}".encode())
        assert reply.status_code == 400 and xml_code(reply) == "ValidationError", reply.text
    assert_still_serving(cloudlet)


def test_json_integers_past_32_bits_are_validation_errors(cloudlet):
    body = json.dumps({"limit": 2**40}).encode()
    reply = signed(cloudlet, "logs", "POST", "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
    assert reply.status_code == 400, reply.text
    assert "less than or equal to" in reply.json()["message"]


# -- found by the fuzz --------------------------------------------------------------------

def test_a_lone_surrogate_in_a_log_stream_name_is_a_validation_error(cloudlet):
    """JSON's "\\udfff" in a name reached SQLite, which cannot store it: a 500."""
    group = unique("/hostile/surrogate")
    cloudlet.client("logs").create_log_group(logGroupName=group)
    body = f'{{"logGroupName": "{group}", "logStreamName": "a\\udfffb"}}'.encode()
    reply = signed(cloudlet, "logs", "POST", "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.CreateLogStream"})
    assert reply.status_code == 400, reply.text
    assert reply.json()["__type"] == "ValidationException"
    assert "Value 'a?b' at 'logStreamName'" in reply.json()["message"]
    streams = cloudlet.client("logs").describe_log_streams(logGroupName=group)["logStreams"]
    assert streams == []
    assert_still_serving(cloudlet)


@pytest.mark.parametrize("service,body", [
    ("ec2", b"Action=DescribeVpcs%FF&Version=2016-11-15"),
    ("iam", b"Action=ListUsers%FF&Version=2010-05-08"),
])
def test_errors_that_echo_bytes_that_are_not_utf8_are_utf8(cloudlet, service, body):
    reply = signed(cloudlet, service, "POST", "/", body=body, headers=FORM)
    assert reply.status_code == 400, reply.text
    reply.content.decode("utf-8")  # strict: the echoed action is written with "?"
    assert xml_code(reply) == "InvalidAction"
