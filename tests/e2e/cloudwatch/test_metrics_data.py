"""GetMetricData end to end: metric queries, metric math, labels, ReturnData, ScanBy,
MaxDatapoints pagination and bad expressions, over CBOR, awsJson and awsQuery."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from harness import error_of, unique

# The protocol clients and clock helpers of test_metrics.py (tests import with importlib).
_spec = importlib.util.spec_from_file_location("cw_test_metrics",
                                               Path(__file__).with_name("test_metrics.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
minute = _helpers.minute
cw = _helpers.cw  # the CloudWatch client fixture, once per protocol


@pytest.fixture(scope="module")
def data(cloudlet, cw):
    """Two request counters per host over five minutes, one minute missing on h2."""
    ns = unique("Web")
    at = minute(cloudlet, 10)
    metrics = []
    for i in range(5):
        metrics.append({"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "h1"}],
                        "Timestamp": at + dt.timedelta(minutes=i), "Value": float(10 * (i + 1))})
        if i != 2:
            metrics.append({"MetricName": "Requests",
                            "Dimensions": [{"Name": "Host", "Value": "h2"}],
                            "Timestamp": at + dt.timedelta(minutes=i), "Value": float(i + 1)})
    cw.put_metric_data(Namespace=ns, MetricData=metrics)
    return ns, at


def stat(qid, ns, host, stat="Sum", period=60, **extra):
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Requests",
                                                 "Dimensions": [{"Name": "Host", "Value": host}]},
                                      "Period": period, "Stat": stat}, **extra}


def window(at):
    return {"StartTime": at, "EndTime": at + dt.timedelta(minutes=5)}


def by_id(reply):
    return {r["Id"]: r for r in reply["MetricDataResults"]}


def test_metric_queries_newest_first(cw, data):
    ns, at = data
    reply = cw.get_metric_data(MetricDataQueries=[stat("m1", ns, "h1"),
                                                  stat("m2", ns, "h2", Label="second")],
                               **window(at))
    results = by_id(reply)
    assert results["m1"]["Label"] == "Requests"
    assert results["m2"]["Label"] == "second"
    assert results["m1"]["Values"] == [50.0, 40.0, 30.0, 20.0, 10.0]
    assert results["m1"]["Timestamps"] == [at + dt.timedelta(minutes=i) for i in range(4, -1, -1)]
    assert results["m2"]["Values"] == [5.0, 4.0, 2.0, 1.0]
    assert all(r["StatusCode"] == "Complete" for r in results.values())
    ascending = cw.get_metric_data(MetricDataQueries=[stat("m1", ns, "h1")],
                                   ScanBy="TimestampAscending", **window(at))
    assert ascending["MetricDataResults"][0]["Values"] == [10.0, 20.0, 30.0, 40.0, 50.0]


def test_math_expressions(cw, data):
    ns, at = data
    queries = [stat("m1", ns, "h1", ReturnData=False), stat("m2", ns, "h2", ReturnData=False),
               {"Id": "total", "Expression": "SUM(METRICS())", "Label": "All hosts"},
               {"Id": "ratio", "Expression": "m2 / m1 * 100"},
               {"Id": "filled", "Expression": "FILL(m2, 0)"},
               {"Id": "rate", "Expression": "RATE(m1)"},
               {"Id": "high", "Expression": "IF(m1 > 25, m1, 0)"},
               {"Id": "nested", "Expression": "ABS(DIFF(total)) + 1"}]
    results = by_id(cw.get_metric_data(MetricDataQueries=queries, ScanBy="TimestampAscending",
                                       **window(at)))
    assert set(results) == {"total", "ratio", "filled", "rate", "high", "nested"}
    assert results["total"]["Label"] == "All hosts"
    assert results["total"]["Values"] == [11.0, 22.0, 30.0, 44.0, 55.0]
    assert results["ratio"]["Values"] == pytest.approx([10.0, 10.0, 10.0, 10.0])
    assert results["filled"]["Values"] == [1.0, 2.0, 0.0, 4.0, 5.0]
    assert results["rate"]["Values"] == pytest.approx([10 / 60] * 4)
    assert results["high"]["Values"] == [0.0, 0.0, 30.0, 40.0, 50.0]
    assert results["nested"]["Values"] == [12.0, 9.0, 15.0, 12.0]


def test_search(cw, data):
    ns, at = data
    reply = cw.get_metric_data(MetricDataQueries=[
        {"Id": "s", "Expression": f"SEARCH('{{{ns},Host}} MetricName=\"Requests\"', 'Sum', 60)"},
    ], ScanBy="TimestampAscending", **window(at))
    labels = sorted(r["Label"] for r in reply["MetricDataResults"])
    assert labels == ["h1 Requests", "h2 Requests"]
    assert all(r["Id"] == "s" for r in reply["MetricDataResults"])
    total = cw.get_metric_data(MetricDataQueries=[
        {"Id": "s", "Expression": f"SEARCH('{{{ns},Host}}', 'Maximum', 300)",
         "ReturnData": False},
        {"Id": "t", "Expression": "SUM(s)"}], **window(at))
    assert [r["Values"] for r in total["MetricDataResults"]] == [[55.0]]


def test_pagination_with_max_datapoints(cw, data):
    ns, at = data
    queries = [stat("m1", ns, "h1"), stat("m2", ns, "h2")]
    first = cw.get_metric_data(MetricDataQueries=queries, MaxDatapoints=3, **window(at))
    assert "NextToken" in first
    got = {r["Id"]: list(r["Values"]) for r in first["MetricDataResults"]}
    assert sum(len(v) for v in got.values()) == 3
    assert by_id(first)["m1"]["StatusCode"] == "PartialData"
    token = first["NextToken"]
    while token:
        page = cw.get_metric_data(MetricDataQueries=queries, MaxDatapoints=3, NextToken=token,
                                  **window(at))
        for r in page["MetricDataResults"]:
            got[r["Id"]] += r["Values"]
        token = page.get("NextToken")
    assert got == {"m1": [50.0, 40.0, 30.0, 20.0, 10.0], "m2": [5.0, 4.0, 2.0, 1.0]}
    code, _, _ = error_of(cw.get_metric_data, MetricDataQueries=queries, NextToken="garbage",
                          **window(at))
    assert code == "InvalidNextToken"


def test_percentile_stat_in_metric_query(cloudlet, cw):
    ns = unique("P")
    at = minute(cloudlet, 3)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Timestamp": at, "Values": [float(v) for v in range(1, 101)]},
        {"MetricName": "Latency", "Timestamp": at, "Values": [float(v) for v in range(101, 201)]},
    ])
    reply = cw.get_metric_data(MetricDataQueries=[
        {"Id": "p", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency"},
                                   "Period": 60, "Stat": "p99"}}],
        StartTime=at, EndTime=at + dt.timedelta(minutes=1))
    assert reply["MetricDataResults"][0]["Values"] == [198.0]


@pytest.mark.parametrize("queries,fragment", [
    ([{"Id": "e1", "Expression": "SUM(m1"}], "Error in expression 'e1'"),
    ([{"Id": "e1", "Expression": "FOO(1)"}], "Unrecognized function name 'FOO'"),
    ([{"Id": "e1", "Expression": "m9 * 2"}], "Unrecognized identifier 'm9'"),
    ([{"Id": "e1", "Expression": "e2"}, {"Id": "e2", "Expression": "e1"}], "Circular"),
    ([{"Id": "e1", "Expression": "1"}, {"Id": "e1", "Expression": "2"}], "not unique"),
    ([{"Id": "E1", "Expression": "1"}], "Invalid metric data query id"),
    ([{"Id": "e1"}], "mutually exclusive"),
    ([{"Id": "m", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "x"},
                                 "Period": 60, "Stat": "p200"}}], "not a valid statistic"),
    ([{"Id": "m", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "x"},
                                 "Period": 7, "Stat": "Sum"}}], "multiple of 60"),
])
def test_bad_queries(cloudlet, cw, queries, fragment):
    at = minute(cloudlet, 5)
    code, status, message = error_of(cw.get_metric_data, MetricDataQueries=queries,
                                     **window(at))
    assert (code, status) == ("ValidationError", 400)
    assert fragment in message


def test_dynamic_labels(cw, data):
    ns, at = data
    reply = cw.get_metric_data(MetricDataQueries=[
        stat("m1", ns, "h1", Label="${PROP('Dim.Host')} ${PROP('MetricName')} max ${MAX}"),
        {"Id": "s", "Expression": f"SEARCH('{{{ns},Host}}', 'Sum', 60)",
         "Label": "[last ${LAST}] ${LABEL}"},
    ], **window(at))
    labels = sorted(r["Label"] for r in reply["MetricDataResults"])
    assert labels == ["[last 50] h1 Requests", "[last 5] h2 Requests", "h1 Requests max 50"]
