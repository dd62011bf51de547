"""Triggers end to end: SNS subscriptions, CloudWatch Logs subscription filters (AWS's
gzip+base64 awslogs event), alarm actions, S3 without permission, async destinations
(OnSuccess/OnFailure to Lambda and SNS), the dead-letter queue, retries with backoff on the
service clock, and the maximum event age."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import time
from pathlib import Path

import pytest
from botocore.config import Config
from harness import unique

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import eventually, log_messages, make_function, make_role  # noqa: E402

RECORDER = '''import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
    return "recorded"
'''
FAILING = '''import json
def handler(event, context):
    print("ATTEMPT " + json.dumps(event))
    raise RuntimeError("always fails")
'''
ACCOUNT = "000000000000"


def recorded(logs, name: str, count: int = 1, timeout: float = 20.0) -> list:
    def found():
        events = [json.loads(m.split("EVENT ", 1)[1]) for m in
                  log_messages(logs, f"/aws/lambda/{name}") if "EVENT " in m]
        return events if len(events) >= count else None
    return eventually(found, timeout) or []


@pytest.fixture(scope="module")
def logs(cloudlet):
    return cloudlet.client("logs")


def arn_of(lam, name: str) -> str:
    return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def test_sns_subscription(cloudlet, lam, role, logs):
    sns = cloudlet.client("sns")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    name = make_function(lam, role, RECORDER)
    lam.add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn_of(lam, name))
    sns.publish(TopicArn=topic, Message="hello lambda", Subject="greeting")
    event = recorded(logs, name)[0]
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Message"] == "hello lambda" and record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["Subject"] == "greeting"


def test_logs_subscription_filter(cloudlet, lam, role, logs):
    name = make_function(lam, role, RECORDER)
    lam.add_permission(FunctionName=name, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com")
    group = unique("/app/source")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    logs.put_subscription_filter(logGroupName=group, filterName="errors",
                                 filterPattern="ERROR", destinationArn=arn_of(lam, name))
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now, "message": "ERROR disk full"},
        {"timestamp": now + 1, "message": "INFO fine"}])
    event = recorded(logs, name)[0]
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert data["messageType"] == "DATA_MESSAGE" and data["owner"] == ACCOUNT
    assert data["logGroup"] == group and data["logStream"] == "s1"
    assert data["subscriptionFilters"] == ["errors"]
    assert [e["message"] for e in data["logEvents"]] == ["ERROR disk full"]


def test_alarm_action_invokes(cloudlet, lam, role, logs):
    name = make_function(lam, role, RECORDER)
    cw = cloudlet.client("cloudwatch")
    alarm = unique("alarm")
    cw.put_metric_alarm(AlarmName=alarm, MetricName="M", Namespace="App", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[arn_of(lam, name)])
    alarm_arn = cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["AlarmArn"]
    lam.add_permission(FunctionName=name, StatementId="alarms", Action="lambda:InvokeFunction",
                       Principal="lambda.alarms.cloudwatch.amazonaws.com", SourceArn=alarm_arn)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="testing")
    event = recorded(logs, name)[0]
    assert event["alarmData"]["alarmName"] == alarm
    assert event["alarmData"]["state"]["value"] == "ALARM"


def test_s3_without_permission_does_not_invoke(cloudlet, lam, role, logs):
    s3 = cloudlet.client("s3")
    bucket = unique("noperm")
    s3.create_bucket(Bucket=bucket)
    name = make_function(lam, role, RECORDER)
    allowed = make_function(lam, role, RECORDER)
    lam.add_permission(FunctionName=allowed, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": arn_of(lam, name), "Events": ["s3:ObjectCreated:*"]},
            {"LambdaFunctionArn": arn_of(lam, allowed), "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    event = recorded(logs, allowed)[0]  # the allowed one ran: the other had its chance too
    assert event["Records"][0]["s3"]["object"]["key"] == "a.txt"
    assert event["Records"][0]["eventName"] == "ObjectCreated:Put"
    time.sleep(1)
    assert log_messages(logs, f"/aws/lambda/{name}") == []


def test_destinations_success_and_failure(cloudlet, lam, role, logs):
    ok = make_function(lam, role, RECORDER)
    bad = make_function(lam, role, FAILING)
    on_success = make_function(lam, role, RECORDER)
    on_failure = make_function(lam, role, RECORDER)
    lam.put_function_event_invoke_config(
        FunctionName=ok, DestinationConfig={"OnSuccess": {"Destination": arn_of(lam, on_success)}})
    lam.put_function_event_invoke_config(
        FunctionName=bad, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn_of(lam, on_failure)}})
    lam.invoke(FunctionName=ok, InvocationType="Event", Payload=b'{"k": 1}')
    out = lam.invoke(FunctionName=bad, InvocationType="Event", Payload=b'{"k": 2}')
    request_id = out["ResponseMetadata"]["RequestId"]
    success = recorded(logs, on_success)[0]
    assert success["version"] == "1.0"
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestContext"]["functionArn"] == arn_of(lam, ok) + ":$LATEST"
    assert success["requestPayload"] == {"k": 1} and success["responsePayload"] == "recorded"
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    failure = recorded(logs, on_failure)[0]
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["requestId"] == request_id
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorMessage"] == "always fails"


def test_dead_letter_to_sns(cloudlet, lam, role, logs):
    sns = cloudlet.client("sns")
    topic = sns.create_topic(Name=unique("dlq"))["TopicArn"]
    reader = make_function(lam, role, RECORDER)
    lam.add_permission(FunctionName=reader, StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn_of(lam, reader))
    bad = make_function(lam, role, FAILING, DeadLetterConfig={"TargetArn": topic})
    lam.put_function_event_invoke_config(FunctionName=bad, MaximumRetryAttempts=0)
    lam.invoke(FunctionName=bad, InvocationType="Event", Payload=b'{"lost": true}')
    record = recorded(logs, reader)[0]["Records"][0]["Sns"]
    assert json.loads(record["Message"]) == {"lost": True}
    assert record["MessageAttributes"]["ErrorMessage"]["Value"] == "always fails"
    assert "RequestID" in record["MessageAttributes"]


def _advance(server, seconds: float) -> None:
    server.advance_clock(seconds)


def test_retries_backoff_and_event_age(fresh_cloudlet):
    server = fresh_cloudlet()
    lam = server.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    logs = server.client("logs")
    role = make_role(server.client("iam"))
    bad = make_function(lam, role, FAILING)
    sink = make_function(lam, role, RECORDER)
    lam.put_function_event_invoke_config(
        FunctionName=bad, DestinationConfig={"OnFailure": {"Destination": arn_of(lam, sink)}})

    def attempts() -> int:
        return sum("ATTEMPT " in m for m in log_messages(logs, f"/aws/lambda/{bad}"))

    lam.invoke(FunctionName=bad, InvocationType="Event", Payload=b'{"try": 1}')
    assert eventually(lambda: attempts() == 1)
    time.sleep(1)
    assert attempts() == 1  # the first retry waits a minute
    _advance(server, 61)
    assert eventually(lambda: attempts() == 2)
    _advance(server, 61)
    time.sleep(1)
    assert attempts() == 2  # the second waits two minutes
    _advance(server, 60)
    assert eventually(lambda: attempts() == 3)
    failure = recorded(logs, sink)[0]
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3

    lam.put_function_event_invoke_config(
        FunctionName=bad, MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": arn_of(lam, sink)}})
    lam.invoke(FunctionName=bad, InvocationType="Event", Payload=b'{"try": 2}')
    assert eventually(lambda: attempts() == 4)
    _advance(server, 90)
    aged = [e for e in recorded(logs, sink, 2) if e["requestPayload"] == {"try": 2}]
    assert aged and aged[0]["requestContext"]["condition"] == "EventAgeExceeded"
    assert attempts() == 4


def test_queued_events_survive_a_restart(fresh_cloudlet, tmp_path):
    server = fresh_cloudlet(data_dir=tmp_path / "data")
    lam = server.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    name = make_function(lam, make_role(server.client("iam")), RECORDER)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"kept": true}')
    time.sleep(0.5)  # throttled: it waits in the queue
    server.stop()
    server = fresh_cloudlet(data_dir=tmp_path / "data")
    lam = server.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    lam.delete_function_concurrency(FunctionName=name)
    assert recorded(server.client("logs"), name)[0] == {"kept": True}
