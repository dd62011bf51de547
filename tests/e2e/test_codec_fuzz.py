"""The codec fuzz end to end: hostile requests (tests/support/hostile.py), signed, sent to
a running Cloudlet with `requests`, through the whole pipeline down to the providers.

For every protocol and served service, operations that read and write without starting
engines (no database servers, no function code, no deliveries to URLs) get drawn input
with numbers at and past their bounds, bytes that are not UTF-8, wrong types and missing
members, half the time naming resources that exist; then each protocol gets depth bombs,
duplicate keys and huge declared lengths. Every answer must be 2xx, or a 4xx in the
protocol's error shape that botocore reads (a code, a request id); the only 5xx allowed
is the modeled 501 of an operation Cloudlet does not implement yet. The server must keep
serving and log no internal error.

Bounded for CI (10-25 s on two shared cores): `CLOUDLET_FUZZ_EXAMPLES` (default 40)
examples per service and protocol, derandomized; set it higher to fuzz longer.
"""

from __future__ import annotations

import functools
import os
import re

import botocore.auth
import pytest
import requests
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.credentials import Credentials
from botocore.parsers import ResponseParserError, create_parser
from harness import CloudletProcess
from hostile import BOMBS, Hostile, build, labels_only
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloudlet.models import service_model

EXAMPLES = int(os.environ.get("CLOUDLET_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
CREDS = Credentials("test", "test")
SIGNING = {"cloudwatch": "monitoring"}

# Operations that touch only the store: nothing here starts a database server, runs code,
# or delivers to a URL (SNS subscriptions, schedules' targets), whatever the input.
OPERATIONS = {
    "logs": ["CreateLogGroup", "DescribeLogGroups", "CreateLogStream", "DescribeLogStreams",
             "PutLogEvents", "GetLogEvents", "FilterLogEvents", "PutRetentionPolicy",
             "StartQuery", "GetQueryResults", "PutMetricFilter", "TagResource",
             "ListTagsForResource", "GetLogGroupFields", "DeleteLogStream"],
    "cloudwatch": ["PutMetricData", "GetMetricStatistics", "GetMetricData", "ListMetrics",
                   "PutMetricAlarm", "DescribeAlarms", "SetAlarmState",
                   "DescribeAlarmHistory", "DescribeAlarmsForMetric", "PutCompositeAlarm",
                   "DeleteAlarms"],
    "iam": ["CreateUser", "GetUser", "ListUsers", "CreateRole", "ListRoles", "PutUserPolicy",
            "CreatePolicy", "ListPolicies", "TagUser", "UpdateAccountPasswordPolicy",
            "GetAccountPasswordPolicy", "ListAccessKeys", "ListEntitiesForPolicy"],
    "sts": ["GetCallerIdentity", "AssumeRole", "GetSessionToken", "GetFederationToken",
            "GetAccessKeyInfo"],
    "sns": ["CreateTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes", "Publish",
            "PublishBatch", "TagResource", "ListSubscriptionsByTopic"],
    "s3": ["CreateBucket", "PutObject", "GetObject", "HeadObject", "ListObjectsV2",
           "ListObjects", "ListObjectVersions", "DeleteObject", "DeleteObjects",
           "PutObjectTagging", "GetObjectTagging", "PutBucketTagging", "CreateMultipartUpload",
           "UploadPart", "ListParts", "ListMultipartUploads", "CopyObject",
           "PutBucketLifecycleConfiguration", "GetObjectAttributes", "PutBucketVersioning"],
    "lambda": ["GetFunction", "ListFunctions", "GetFunctionConfiguration",
               "ListVersionsByFunction", "GetPolicy", "ListTags", "GetAccountSettings",
               "ListLayers", "ListEventSourceMappings", "PutFunctionConcurrency",
               "GetFunctionUrlConfig", "ListAliases"],
    "rds": ["DescribeDBInstances", "DescribeDBClusters", "DescribeDBSnapshots",
            "CreateDBParameterGroup", "DescribeDBParameters", "DescribeDBParameterGroups",
            "DescribeDBEngineVersions", "DescribeEvents", "DescribeDBSubnetGroups"],
    "scheduler": ["ListSchedules", "GetSchedule", "ListScheduleGroups", "CreateScheduleGroup",
                  "GetScheduleGroup", "ListTagsForResource"],
    "ec2": ["DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeInstances",
            "DescribeRegions", "DescribeAvailabilityZones"],
}
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9._]*")


def _pairs():
    for service in OPERATIONS:
        model = service_model(service)
        for protocol in model.metadata.get("protocols") or [model.protocol]:
            yield pytest.param(service, protocol, id=f"{service}:{protocol}")


PAIRS = list(_pairs())


@pytest.fixture(scope="module")
def server():
    """A Cloudlet of its own, so its log holds only what the fuzz caused, and the things
    the fuzz names half the time."""
    cloudlet = CloudletProcess().start()
    s3 = cloudlet.client("s3")
    s3.create_bucket(Bucket="fuzz-bucket")
    s3.put_object(Bucket="fuzz-bucket", Key="k", Body=b"x")
    logs = cloudlet.client("logs")
    logs.create_log_group(logGroupName="/fuzz/g")
    logs.create_log_stream(logGroupName="/fuzz/g", logStreamName="s")
    cloudlet.client("iam").create_user(UserName="fuzz-user")
    topic = cloudlet.client("sns").create_topic(Name="fuzz-topic")["TopicArn"]
    cloudlet.client("cloudwatch").put_metric_data(
        Namespace="Fuzz", MetricData=[{"MetricName": "m", "Value": 1.0}])
    cloudlet.anchors = {
        "Bucket": ["fuzz-bucket"], "Key": ["k"], "CopySource": ["fuzz-bucket/k"],
        "logGroupName": ["/fuzz/g"], "logGroupIdentifier": ["/fuzz/g"],
        "logStreamName": ["s"], "UserName": ["fuzz-user"], "TopicArn": [topic],
        "ResourceArn": [topic], "Namespace": ["Fuzz"], "MetricName": ["m"],
        "AlarmName": ["fuzz-alarm"], "RoleArn": ["arn:aws:iam::000000000000:role/none"],
    }
    yield cloudlet
    cloudlet.stop()


@functools.cache
def hostile(protocol: str, anchors: tuple) -> Hostile:
    return Hostile(protocol, {k: list(v) for k, v in anchors})


def send(server, service: str, wire) -> requests.Response | None:
    """The request, signed as a client signs it; None when `requests` itself refuses it."""
    request = AWSRequest(method=wire.method, url=server.endpoint + wire.target, data=wire.body,
                         headers=dict(wire.headers))
    signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    try:
        signer(CREDS, SIGNING.get(service, service), "us-east-1").add_auth(request)
        prepared = request.prepare()
        return requests.request(wire.method, prepared.url, data=prepared.body,
                                headers=dict(prepared.headers), timeout=60)
    except (ValueError, UnicodeError, requests.exceptions.InvalidHeader,
            requests.exceptions.InvalidURL):
        return None


def assert_modeled(reply: requests.Response, protocol: str, operation) -> None:
    """2xx, the modeled 501 of an unimplemented operation, or a 4xx botocore reads as an
    error of the protocol (a code, a request id): never a 5xx, never a trace."""
    context = (operation.name, reply.status_code, reply.content[:400])
    assert b"Traceback" not in reply.content, context
    if reply.status_code < 400:
        return
    assert reply.status_code < 500 or reply.status_code == 501, context
    raw = {"status_code": reply.status_code, "headers": HeadersDict(reply.headers),
           "body": reply.content}
    try:
        parsed = create_parser(protocol).parse(raw, operation.output_shape)
    except ResponseParserError as e:
        raise AssertionError(f"{context}: botocore cannot read the error: {e}") from None
    code = parsed.get("Error", {}).get("Code", "")
    if reply.request.method == "HEAD":  # no body: botocore names the error by its status
        code = code if not code.isdigit() else "HeadError"
    assert _CODE.fullmatch(code) and code != "InternalFailure", context
    assert reply.status_code != 501 or code == "NotImplemented", context
    if reply.request.method != "HEAD":  # a HEAD's error has no body to name its code
        assert any(h in reply.headers for h in ("x-amzn-RequestId", "x-amz-request-id")), context


def assert_server_healthy(server) -> None:
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
    log = server.log()
    assert "internal error" not in log and "Traceback" not in log, log[-3000:]


@pytest.mark.parametrize("service,protocol", PAIRS)
@FUZZ
@given(data=st.data())
def test_hostile_input_over_http(server, service, protocol, data):
    model = service_model(service)
    names = [n for n in OPERATIONS[service] if n in model.operation_names]
    operation = model.operation_model(data.draw(st.sampled_from(names), label="operation"))
    anchors = tuple(sorted((k, tuple(v)) for k, v in server.anchors.items()))
    params = data.draw(hostile(protocol, anchors).params(operation), label="params")
    try:
        wire = build(service, protocol, operation, params, model)
    except Exception:  # botocore's serializer refused the value: no client sends it
        return
    reply = send(server, service, wire)
    if reply is not None:
        assert_modeled(reply, protocol, operation)


BOMB_TARGETS = [("logs", "json", "DescribeLogGroups"), ("lambda", "rest-json", "CreateAlias"),
                ("cloudwatch", "smithy-rpc-v2-cbor", "PutMetricData"),
                ("s3", "rest-xml", "DeleteObjects"), ("s3", "rest-xml", "PutBucketTagging"),
                ("iam", "query", "CreateUser"), ("ec2", "ec2", "DescribeVpcs")]


@pytest.mark.parametrize("service,protocol,name", BOMB_TARGETS)
@FUZZ
@given(data=st.data())
def test_bombs_over_http(server, service, protocol, name, data):
    model = service_model(service)
    operation = model.operation_model(name)
    params = labels_only(operation)
    if service == "s3":
        params["Bucket"] = "fuzz-bucket"
    wire = build(service, protocol, operation, params, model)
    wire.body = data.draw(BOMBS[protocol](), label="body")
    if service == "s3":
        wire.headers["Content-Type"] = "application/xml"
        wire.headers.pop("Content-MD5", None)
    reply = send(server, service, wire)
    if reply is not None:
        assert_modeled(reply, protocol, operation)


def test_server_survived_the_fuzz(server):
    assert_server_healthy(server)
    assert server.proc.poll() is None
