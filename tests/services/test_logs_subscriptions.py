"""What a log group's filters publish on the bus: subscription deliveries and metrics.

No client can observe the `logs:subscription` topic until a destination (Lambda) consumes
it, so this drives the provider in-process, with a real store and bus."""

import json
import time

import pytest

from cloudlet.events import Bus
from cloudlet.services.base import RequestContext
from cloudlet.services.logs.provider import LogsProvider
from cloudlet.store import Store

LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:consumer"


@pytest.fixture
def provider(tmp_path):
    store = Store.open(tmp_path)
    logs = LogsProvider(store, Bus())
    yield logs
    logs.events.close()
    store.close()


def context(operation: str) -> RequestContext:
    return RequestContext(service="logs", operation=operation, region="us-east-1",
                          account_id="000000000000", request_id="r")


def call(provider, operation: str, **params):
    return provider.handler(operation)(context(operation), params)


def received(bus: Bus, topic: str) -> list:
    got = []
    bus.subscribe(topic, got.append)
    return got


def test_subscription_filter_publishes_matching_events(provider):
    deliveries = received(provider.bus, "logs:subscription")
    call(provider, "CreateLogGroup", logGroupName="/subs")
    call(provider, "CreateLogStream", logGroupName="/subs", logStreamName="s")
    call(provider, "PutSubscriptionFilter", logGroupName="/subs", filterName="errors",
         filterPattern="ERROR", destinationArn=LAMBDA)
    now = int(time.time() * 1000)
    call(provider, "PutLogEvents", logGroupName="/subs", logStreamName="s", logEvents=[
        {"timestamp": now, "message": "ERROR one"}, {"timestamp": now + 1, "message": "fine"},
        {"timestamp": now + 2, "message": "ERROR two"}])
    provider.bus.drain()
    [delivery] = deliveries
    assert delivery["destination_arn"] == LAMBDA
    assert (delivery["account"], delivery["region"]) == ("000000000000", "us-east-1")
    assert (delivery["filter_name"], delivery["log_group"], delivery["log_stream"]) == (
        "errors", "/subs", "s")
    assert [(e["timestamp"], e["message"]) for e in delivery["events"]] == [
        (now, "ERROR one"), (now + 2, "ERROR two")]
    assert len({e["id"] for e in delivery["events"]}) == 2
    # deleted filters deliver nothing more
    call(provider, "DeleteSubscriptionFilter", logGroupName="/subs", filterName="errors")
    call(provider, "PutLogEvents", logGroupName="/subs", logStreamName="s",
         logEvents=[{"timestamp": now + 3, "message": "ERROR three"}])
    provider.bus.drain()
    assert len(deliveries) == 1


def test_metric_filter_and_emf_publish_metric_data(provider):
    metrics = received(provider.bus, "cloudwatch:metrics")
    call(provider, "CreateLogGroup", logGroupName="/m")
    call(provider, "CreateLogStream", logGroupName="/m", logStreamName="s")
    call(provider, "PutMetricFilter", logGroupName="/m", filterName="bytes",
         filterPattern="[ip, status, bytes]", metricTransformations=[{
             "metricName": "Bytes", "metricNamespace": "Web", "metricValue": "$bytes",
             "dimensions": {"Status": "$status"}}])
    minute = (int(time.time() * 1000) // 60_000) * 60_000 - 60_000
    emf = {"_aws": {"Timestamp": minute, "CloudWatchMetrics": [{
        "Namespace": "Emf", "Dimensions": [["Svc"], []], "Metrics": [{"Name": "T"}]}]},
        "Svc": "a", "T": 5}
    call(provider, "PutLogEvents", logGroupName="/m", logStreamName="s", logEvents=[
        {"timestamp": minute + 1, "message": "1.1.1.1 200 100"},
        {"timestamp": minute + 2, "message": "1.1.1.1 200 100"},
        {"timestamp": minute + 3, "message": "1.1.1.1 500 7"},
        {"timestamp": minute + 4, "message": json.dumps(emf)}])
    provider.bus.drain()
    by_namespace = {m["namespace"]: m["metric_data"] for m in metrics}
    assert {m["account"] for m in metrics} == {"000000000000"}
    [emf_a, emf_none] = by_namespace["Emf"]
    assert emf_a["Dimensions"] == [{"Name": "Svc", "Value": "a"}]
    assert emf_a["Value"] == 5 and "Dimensions" not in emf_none
    web = sorted(by_namespace["Web"], key=lambda d: d["Dimensions"][0]["Value"])
    assert [(d["Dimensions"], d["Values"], d["Counts"]) for d in web] == [
        ([{"Name": "Status", "Value": "200"}], [100.0], [2.0]),
        ([{"Name": "Status", "Value": "500"}], [7.0], [1.0])]
    assert web[0]["Timestamp"].timestamp() * 1000 == minute


def test_other_services_logs_create_group_and_stream(provider):
    now = int(time.time() * 1000)
    provider.bus.publish("logs:put", {
        "account": "000000000000", "region": "us-east-1", "log_group": "/aws/lambda/fn",
        "log_stream": "2026/11/26/[$LATEST]abc",
        "events": [{"timestamp": now + 1, "message": "END RequestId: 1"},
                   {"timestamp": now, "message": "START RequestId: 1"}]})
    provider.bus.drain()
    got = call(provider, "GetLogEvents", logGroupName="/aws/lambda/fn",
               logStreamName="2026/11/26/[$LATEST]abc", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["START RequestId: 1", "END RequestId: 1"]
    groups = call(provider, "DescribeLogGroups", logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/lambda/fn"]
