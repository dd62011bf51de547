"""Metric filters (and Embedded Metric Format) turn log events into CloudWatch metrics."""

import datetime as dt
import json
import time

from harness import error_of, unique


def wait_for_sum(cloudwatch, namespace, name, dimensions=(), timeout=10.0):
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    deadline = time.monotonic() + timeout
    while True:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=name, Dimensions=list(dimensions),
            StartTime=end - dt.timedelta(minutes=30), EndTime=end, Period=3600,
            Statistics=["Sum", "SampleCount", "Maximum"])["Datapoints"]
        if points or time.monotonic() > deadline:
            return points
        time.sleep(0.2)


def test_put_describe_test_delete_metric_filter(logs):
    group = unique("/mf")
    logs.create_log_group(logGroupName=group)
    transformation = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1",
                      "defaultValue": 0.0}
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR",
                           metricTransformations=[transformation])
    [described] = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert described["filterName"] == "errors"
    assert described["filterPattern"] == "ERROR"
    assert described["metricTransformations"] == [transformation]
    assert described["logGroupName"] == group
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0][
        "metricFilterCount"] == 1
    by_metric = logs.describe_metric_filters(metricName="Errors", metricNamespace="App")
    assert group in [f["logGroupName"] for f in by_metric["metricFilters"]]
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []
    code, _, _ = error_of(logs.delete_metric_filter, logGroupName=group, filterName="errors")
    assert code == "ResourceNotFoundException"
    code, _, message = error_of(logs.put_metric_filter, logGroupName=group, filterName="bad",
                                filterPattern="{ $.x = ", metricTransformations=[transformation])
    assert (code, message) == ("InvalidParameterException", "Invalid filter pattern")
    code, _, _ = error_of(logs.put_metric_filter, logGroupName=group, filterName="dims",
                          filterPattern="ERROR", metricTransformations=[{
                              "metricName": "E", "metricNamespace": "App", "metricValue": "1",
                              "dimensions": {"Host": "$host"}}])
    assert code == "InvalidParameterException"


def test_test_metric_filter(logs):
    result = logs.test_metric_filter(
        filterPattern="[ip, user, username, timestamp, request, status_code = 404, bytes]",
        logEventMessages=[
            '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 404 1534',
            '127.0.0.1 - frank [10/Oct/2000:13:25:16 -0700] "GET /b.gif HTTP/1.0" 200 1534'])
    [match] = result["matches"]
    assert match["eventNumber"] == 1
    assert match["extractedValues"] == {
        "$ip": "127.0.0.1", "$user": "-", "$username": "frank",
        "$timestamp": "10/Oct/2000:13:25:15 -0700", "$request": "GET /a.gif HTTP/1.0",
        "$status_code": "404", "$bytes": "1534"}
    json_result = logs.test_metric_filter(filterPattern="{ $.latency > 100 }",
                                          logEventMessages=['{"latency": 101}', '{"latency": 1}',
                                                            "plain"])
    assert [m["eventNumber"] for m in json_result["matches"]] == [1]


def test_metric_filter_publishes_metrics(cloudlet, logs):
    cloudwatch = cloudlet.client("cloudwatch")
    group, namespace = unique("/mfpub"), unique("LogMetrics")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_metric_filter(
        logGroupName=group, filterName="latency", filterPattern="{ $.status = 500 }",
        metricTransformations=[{"metricName": "Latency", "metricNamespace": namespace,
                                "metricValue": "$.latency", "unit": "Milliseconds",
                                "dimensions": {"Region": "$.region"}}])
    now = int(time.time() * 1000) - 1000
    events = [{"status": 500, "latency": 120, "region": "eu"},
              {"status": 200, "latency": 999, "region": "eu"},
              {"status": 500, "latency": 80, "region": "eu"},
              {"status": 500, "latency": 10, "region": "us"}]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now + i, "message": json.dumps(e)} for i, e in enumerate(events)])
    [point] = wait_for_sum(cloudwatch, namespace, "Latency",
                           [{"Name": "Region", "Value": "eu"}])
    assert (point["Sum"], point["SampleCount"], point["Maximum"]) == (200.0, 2.0, 120.0)


def test_embedded_metric_format(cloudlet, logs):
    cloudwatch = cloudlet.client("cloudwatch")
    group, namespace = unique("/emf"), unique("EmfApp")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000) - 1000
    emf = {"_aws": {"Timestamp": now, "CloudWatchMetrics": [{
        "Namespace": namespace, "Dimensions": [["Service"]],
        "Metrics": [{"Name": "ProcessingTime", "Unit": "Milliseconds"}]}]},
        "Service": "orders", "ProcessingTime": 42, "requestId": "r-1"}
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": json.dumps(emf)},
        {"timestamp": now + 1, "message": json.dumps({**emf, "ProcessingTime": [8, 10]})}])
    [point] = wait_for_sum(cloudwatch, namespace, "ProcessingTime",
                           [{"Name": "Service", "Value": "orders"}])
    assert (point["Sum"], point["SampleCount"], point["Maximum"]) == (60.0, 3.0, 42.0)
    # the event itself is an ordinary log event too
    got = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert len(got["events"]) == 2


def test_subscription_filters(logs):
    group = unique("/subs")
    logs.create_log_group(logGroupName=group)
    arn = "arn:aws:lambda:us-east-1:000000000000:function:consumer"
    logs.put_subscription_filter(logGroupName=group, filterName="errors",
                                 filterPattern="ERROR", destinationArn=arn)
    logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                 destinationArn=arn)
    code, _, _ = error_of(logs.put_subscription_filter, logGroupName=group, filterName="third",
                          filterPattern="", destinationArn=arn)
    assert code == "LimitExceededException"
    described = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [(f["filterName"], f["destinationArn"]) for f in described] == [
        ("all", arn), ("errors", arn)]
    assert described[0]["distribution"] == "ByLogStream"
    logs.delete_subscription_filter(logGroupName=group, filterName="all")
    assert len(logs.describe_subscription_filters(logGroupName=group)[
        "subscriptionFilters"]) == 1
    code, _, _ = error_of(logs.delete_subscription_filter, logGroupName=group,
                          filterName="all")
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(logs.put_subscription_filter, logGroupName=group, filterName="x",
                          filterPattern="", destinationArn="not-an-arn")
    assert code == "InvalidParameterException"
