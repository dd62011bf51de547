"""Invoke end to end: RequestResponse, Event, DryRun, Tail, function errors, qualifiers,
payload checks, logs in /aws/lambda/<name>, metrics."""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import error_of

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import eventually, log_messages, make_function  # noqa: E402


@pytest.fixture(scope="module")
def hello(lam, role):
    return make_function(lam, role)


def test_seed_hello_and_name(lam, hello):
    out = lam.invoke(FunctionName=hello)
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    assert json.loads(out["Payload"].read()) == {"statusCode": 200, "body": "Hello, world!"}
    out = lam.invoke(FunctionName=hello, Payload=json.dumps({"name": "Ada"}))
    assert json.loads(out["Payload"].read())["body"] == "Hello, Ada!"


def test_tail_has_report(lam, hello):
    out = lam.invoke(FunctionName=hello, LogType="Tail", Payload=b"{}")
    text = base64.b64decode(out["LogResult"]).decode()
    assert "START RequestId:" in text and "REPORT RequestId:" in text
    assert "Billed Duration:" in text


def test_function_error_unhandled(lam, role):
    name = make_function(lam, role, "def handler(event, context):\n"
                                    "    raise ValueError('boom')\n")
    out = lam.invoke(FunctionName=name)
    assert out["StatusCode"] == 200 and out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom"


def test_not_json_and_too_large(lam, hello):
    code, status, _ = error_of(lam.invoke, FunctionName=hello, Payload=b"not json")
    assert (code, status) == ("InvalidRequestContentException", 400)
    code, status, message = error_of(lam.invoke, FunctionName=hello,
                                     Payload=b'"' + b"x" * 6_300_000 + b'"')
    assert (code, status) == ("RequestTooLargeException", 413)
    code, status, message = error_of(lam.invoke, FunctionName=hello, InvocationType="Event",
                                     Payload=b'"' + b"x" * 1_100_000 + b'"')
    assert (code, status) == ("RequestTooLargeException", 413)


def test_dry_run_and_missing(lam, hello):
    out = lam.invoke(FunctionName=hello, InvocationType="DryRun")
    assert out["StatusCode"] == 204
    code, status, message = error_of(lam.invoke, FunctionName="no-such-fn-xyz")
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "no-such-fn-xyz" in message


def test_qualifier_version_and_alias(lam, role):
    name = make_function(lam, role, "def handler(e, c):\n    return 'v1'\n")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    from invoke_support import make_zip
    lam.update_function_code(FunctionName=name,
                             ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name,
                                               WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v2"
    out = lam.invoke(FunctionName=name, Qualifier="live")
    assert json.loads(out["Payload"].read()) == "v1" and out["ExecutedVersion"] == version
    out = lam.invoke(FunctionName=f"{name}:{version}")
    assert json.loads(out["Payload"].read()) == "v1"


def test_print_goes_to_logs(cloudlet, lam, role):
    name = make_function(lam, role, "def handler(e, c):\n    print('hello from', e['who'])\n"
                                    "    return 1\n")
    lam.invoke(FunctionName=name, Payload=json.dumps({"who": "tests"}))
    logs = cloudlet.client("logs")
    found = eventually(lambda: log_messages(logs, f"/aws/lambda/{name}"))
    assert any("hello from tests" in m for m in found)
    assert any(m.startswith("REPORT RequestId:") for m in found)


def test_event_invoke_runs(cloudlet, lam, role):
    name = make_function(lam, role, "def handler(e, c):\n    print('async got', e['n'])\n")
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
    assert out["StatusCode"] == 202
    logs = cloudlet.client("logs")
    assert eventually(lambda: any("async got 7" in m for m in
                                  log_messages(logs, f"/aws/lambda/{name}")))
    cw = cloudlet.client("cloudwatch")
    assert eventually(lambda: "AsyncEventAge" in {
        m["MetricName"] for m in cw.list_metrics(
            Namespace="AWS/Lambda",
            Dimensions=[{"Name": "FunctionName", "Value": name}])["Metrics"]})


def test_metrics_published(cloudlet, lam, role):
    name = make_function(lam, role)
    for _ in range(3):
        lam.invoke(FunctionName=name)
    throttled = make_function(lam, role)
    lam.put_function_concurrency(FunctionName=throttled, ReservedConcurrentExecutions=0)
    code, status, _ = error_of(lam.invoke, FunctionName=throttled)
    assert (code, status) == ("TooManyRequestsException", 429)
    cw = cloudlet.client("cloudwatch")
    now = datetime.now(UTC)

    def total(function: str, metric: str, statistic: str = "Sum"):
        points = cw.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName=metric, StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=5), Period=3600, Statistics=[statistic],
            Dimensions=[{"Name": "FunctionName", "Value": function}])["Datapoints"]
        return sum(p[statistic] for p in points)

    assert eventually(lambda: total(name, "Invocations") == 3, timeout=45), \
        total(name, "Invocations")
    assert total(name, "Errors") == 0 and total(name, "Duration", "Maximum") > 0
    assert total(name, "ConcurrentExecutions", "Maximum") >= 1
    assert eventually(lambda: total(throttled, "Throttles") == 1, timeout=45), \
        total(throttled, "Throttles")


def test_other_account_needs_resource_policy(cloudlet, lam, role):
    name = make_function(lam, role)
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    other = cloudlet.client("lambda", aws_access_key_id="111122223333")
    code, status, message = error_of(other.invoke, FunctionName=arn)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (f"User: arn:aws:iam::111122223333:root is not authorized to perform: "
                       f"lambda:InvokeFunction on resource: {arn} because no resource-based "
                       "policy allows the lambda:InvokeFunction action")
    lam.add_permission(FunctionName=name, StatementId="partner",
                       Action="lambda:InvokeFunction", Principal="111122223333")
    out = other.invoke(FunctionName=arn, Payload=b'{"name": "Partner"}')
    assert json.loads(out["Payload"].read())["body"] == "Hello, Partner!"


def test_deprecated_invoke_async(cloudlet, lam, role):
    name = make_function(lam, role, "def handler(e, c):\n    print('old api', e['v'])\n")
    assert lam.invoke_async(FunctionName=name, InvokeArgs=b'{"v": 3}')["Status"] == 202
    logs = cloudlet.client("logs")
    assert eventually(lambda: any("old api 3" in m for m in
                                  log_messages(logs, f"/aws/lambda/{name}")))


def test_invoke_with_response_stream(lam, hello, role):
    out = lam.invoke_with_response_stream(FunctionName=hello, Payload=b'{"name": "Ada"}',
                                          LogType="Tail")
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    events = list(out["EventStream"])
    assert json.loads(events[0]["PayloadChunk"]["Payload"])["body"] == "Hello, Ada!"
    assert "REPORT RequestId:" in base64.b64decode(events[-1]["InvokeComplete"]["LogResult"]).decode()
    failing = make_function(lam, role, "def handler(e, c):\n    raise KeyError('k')\n")
    events = list(lam.invoke_with_response_stream(FunctionName=failing)["EventStream"])
    assert "PayloadChunk" not in events[0]
    assert json.loads(events[-1]["InvokeComplete"]["ErrorDetails"])["errorType"] == "KeyError"
