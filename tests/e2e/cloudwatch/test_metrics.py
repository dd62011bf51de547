"""CloudWatch metrics end to end: PutMetricData, GetMetricStatistics and ListMetrics over
smithy-rpc-v2-cbor (boto3's default for CloudWatch), awsJson and awsQuery; the clock-driven
rollups; bad input."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from harness import error_of, unique

UTC = dt.UTC


def protocol_client(cloudlet, protocol: str, directory: Path):
    """A boto3 CloudWatch client whose model speaks only `protocol` (json or query)."""
    source = Path(botocore.__file__).parent / "data" / "cloudwatch" / "2010-08-01"
    target = directory / protocol / "cloudwatch" / "2010-08-01"
    if not (target / "service-2.json").exists():
        target.mkdir(parents=True)
        model = json.loads(gzip.decompress((source / "service-2.json.gz").read_bytes()))
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        (target / "service-2.json").write_text(json.dumps(model))
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(directory / protocol))
    session = boto3.Session(botocore_session=core)
    return session.client("cloudwatch", endpoint_url=cloudlet.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module", params=["smithy-rpc-v2-cbor", "json", "query"])
def cw(request, cloudlet, tmp_path_factory):
    if request.param == "smithy-rpc-v2-cbor":
        return cloudlet.client("cloudwatch")
    return protocol_client(cloudlet, request.param, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def cbor(cloudlet):
    return cloudlet.client("cloudwatch")


def server_now(cloudlet) -> dt.datetime:
    return dt.datetime.fromisoformat(cloudlet.control("GET", "/_cloudlet/clock").json()["now"])


def minute(cloudlet, minutes_ago: int = 0) -> dt.datetime:
    now = server_now(cloudlet)
    return now.replace(second=0, microsecond=0) - dt.timedelta(minutes=minutes_ago)


def test_put_and_basic_statistics(cloudlet, cw):
    ns = unique("App")
    dims = [{"Name": "Service", "Value": "orders"}, {"Name": "Stage", "Value": "prod"}]
    at = minute(cloudlet, 5)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": at, "Value": 10.0,
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims[::-1], "Timestamp": at + dt.timedelta(seconds=20),
         "Values": [20.0, 30.0], "Counts": [1, 2], "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": at + dt.timedelta(minutes=1),
         "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50},
         "Unit": "Milliseconds"},
    ])
    reply = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=at,
        EndTime=at + dt.timedelta(minutes=2), Period=60,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])
    assert reply["Label"] == "Latency"
    points = sorted(reply["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [at, at + dt.timedelta(minutes=1)]
    first, second = points
    assert (first["SampleCount"], first["Sum"], first["Minimum"], first["Maximum"]) == \
        (4.0, 90.0, 10.0, 30.0)
    assert first["Average"] == pytest.approx(22.5)
    assert first["Unit"] == "Milliseconds"
    assert (second["SampleCount"], second["Sum"], second["Average"]) == (4.0, 100.0, 25.0)
    # one 2-minute period holds both
    reply = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=at,
        EndTime=at + dt.timedelta(minutes=2), Period=120, Statistics=["Sum", "Maximum"])
    assert [(p["Sum"], p["Maximum"]) for p in reply["Datapoints"]] == [(190.0, 50.0)]
    # the dimension set must match exactly
    reply = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims[:1], StartTime=at,
        EndTime=at + dt.timedelta(minutes=2), Period=60, Statistics=["Sum"])
    assert reply["Datapoints"] == []


def test_percentiles_and_extended_statistics(cloudlet, cw):
    ns = unique("Pct")
    at = minute(cloudlet, 3)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Timestamp": at, "Values": [float(v) for v in range(1, 101)]},
    ])
    reply = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", StartTime=at, EndTime=at + dt.timedelta(minutes=1),
        Period=60, ExtendedStatistics=["p50", "p99", "p99.9", "p100", "tm90", "tc90", "ts10",
                                       "wm(10%:90%)", "PR(:50)", "TM(10:20)"])
    [point] = reply["Datapoints"]
    ext = point["ExtendedStatistics"]
    assert ext["p50"] == 50.0
    assert ext["p99"] == 99.0
    assert ext["p99.9"] == 100.0
    assert ext["p100"] == 100.0
    assert ext["tm90"] == pytest.approx(45.5)  # mean of 1..90
    assert ext["tc90"] == 90.0
    assert ext["ts10"] == 55.0  # 1+...+10
    assert ext["wm(10%:90%)"] == pytest.approx((10 * 10 + sum(range(11, 91)) + 10 * 90) / 100)
    assert ext["PR(:50)"] == 50.0
    assert ext["TM(10:20)"] == pytest.approx(sum(range(11, 21)) / 10)


def test_statistic_sets_with_spread_have_no_percentiles(cloudlet, cbor):
    ns = unique("Sets")
    at = minute(cloudlet, 3)
    cbor.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "M", "Timestamp": at,
         "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2}},
        {"MetricName": "Same", "Timestamp": at,
         "StatisticValues": {"SampleCount": 3, "Sum": 21, "Minimum": 7, "Maximum": 7}},
    ])
    window = {"StartTime": at, "EndTime": at + dt.timedelta(minutes=1), "Period": 60}
    spread = cbor.get_metric_statistics(Namespace=ns, MetricName="M", ExtendedStatistics=["p50"],
                                        **window)
    assert [p.get("ExtendedStatistics") for p in spread["Datapoints"]] == [{}]
    same = cbor.get_metric_statistics(Namespace=ns, MetricName="Same",
                                      ExtendedStatistics=["p90"], **window)
    assert [p["ExtendedStatistics"] for p in same["Datapoints"]] == [{"p90": 7.0}]


def test_units_filter(cloudlet, cbor):
    ns = unique("Units")
    at = minute(cloudlet, 2)
    cbor.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Size", "Timestamp": at, "Value": 1, "Unit": "Bytes"},
        {"MetricName": "Size", "Timestamp": at, "Value": 5, "Unit": "Kilobytes"},
    ])
    window = {"StartTime": at, "EndTime": at + dt.timedelta(minutes=1), "Period": 60}
    only = cbor.get_metric_statistics(Namespace=ns, MetricName="Size", Statistics=["Sum"],
                                      Unit="Kilobytes", **window)
    assert [(p["Sum"], p["Unit"]) for p in only["Datapoints"]] == [(5.0, "Kilobytes")]
    none = cbor.get_metric_statistics(Namespace=ns, MetricName="Size", Statistics=["Sum"],
                                      Unit="Seconds", **window)
    assert none["Datapoints"] == []
    every = cbor.get_metric_statistics(Namespace=ns, MetricName="Size", Statistics=["Sum"],
                                       **window)
    assert sorted((p["Unit"], p["Sum"]) for p in every["Datapoints"]) == [
        ("Bytes", 1.0), ("Kilobytes", 5.0)]


def test_high_resolution_points(cloudlet, cw):
    ns = unique("HighRes")
    at = minute(cloudlet, 2)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Hits", "Timestamp": at + dt.timedelta(seconds=s), "Value": float(s),
         "StorageResolution": 1} for s in (1, 2, 11, 12)
    ])
    window = {"StartTime": at, "EndTime": at + dt.timedelta(seconds=20)}
    fine = cw.get_metric_statistics(Namespace=ns, MetricName="Hits", Period=10,
                                    Statistics=["Sum"], **window)
    assert sorted((p["Timestamp"], p["Sum"]) for p in fine["Datapoints"]) == [
        (at, 3.0), (at + dt.timedelta(seconds=10), 23.0)]
    one = cw.get_metric_statistics(Namespace=ns, MetricName="Hits", Period=1,
                                   Statistics=["Maximum"], **window)
    assert len(one["Datapoints"]) == 4


def test_list_metrics_filters_and_pagination(cloudlet, cw):
    ns = unique("List")
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "A", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Value": 1},
        {"MetricName": "A", "Dimensions": [{"Name": "Host", "Value": "h2"}], "Value": 1},
        {"MetricName": "B", "Dimensions": [{"Name": "Host", "Value": "h1"},
                                           {"Name": "Disk", "Value": "d1"}], "Value": 1},
        {"MetricName": "C", "Value": 1},
    ])
    every = cw.list_metrics(Namespace=ns)["Metrics"]
    assert sorted(m["MetricName"] for m in every) == ["A", "A", "B", "C"]
    assert all(m["Namespace"] == ns for m in every)
    by_name = cw.list_metrics(Namespace=ns, MetricName="A")["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in by_name) == ["h1", "h2"]
    h1 = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Host", "Value": "h1"}])["Metrics"]
    assert sorted(m["MetricName"] for m in h1) == ["A", "B"]
    disk = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Disk"}])["Metrics"]
    assert [m["MetricName"] for m in disk] == ["B"]
    active = cw.list_metrics(Namespace=ns, RecentlyActive="PT3H")["Metrics"]
    assert len(active) == 4


def test_list_metrics_pages_of_500(cloudlet, cbor):
    ns = unique("Pages")
    for batch in range(2):
        cbor.put_metric_data(Namespace=ns, MetricData=[
            {"MetricName": f"m{batch}-{i:03d}", "Value": 1.0} for i in range(300)])
    first = cbor.list_metrics(Namespace=ns)
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = cbor.list_metrics(Namespace=ns, NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 100 and "NextToken" not in second
    names = {m["MetricName"] for m in first["Metrics"] + second["Metrics"]}
    assert len(names) == 600
    paginator = cbor.get_paginator("list_metrics")
    assert sum(len(p["Metrics"]) for p in paginator.paginate(Namespace=ns)) == 600


def test_service_metrics_namespace_is_reserved(cloudlet, cbor):
    code, status, message = error_of(cbor.put_metric_data, Namespace="AWS/EC2",
                                     MetricData=[{"MetricName": "x", "Value": 1}])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "The value AWS/EC2 for parameter Namespace is invalid."


@pytest.mark.parametrize("value,shown", [(math.nan, "NaN"), (math.inf, "Infinity"),
                                         (-math.inf, "-Infinity")])
def test_nan_and_infinity_are_rejected(cloudlet, cw, value, shown):
    code, status, message = error_of(cw.put_metric_data, Namespace=unique("Bad"),
                                     MetricData=[{"MetricName": "x", "Value": value}])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == f"The value {shown} for parameter MetricData.member.1.Value is invalid."


def test_bad_data(cloudlet, cbor):
    ns = unique("Bad")
    now = server_now(cloudlet)
    cases = [
        ([{"MetricName": "x", "Timestamp": now - dt.timedelta(days=15), "Value": 1}],
         "InvalidParameterValue", "The parameter MetricData.member.1.Timestamp must specify a "
         "time no more than two weeks in the past."),
        ([{"MetricName": "x", "Timestamp": now + dt.timedelta(hours=3), "Value": 1}],
         "InvalidParameterValue", "The parameter MetricData.member.1.Timestamp must specify a "
         "time no more than two hours in the future."),
        ([{"MetricName": "x", "Value": 1, "Values": [1.0]}], "InvalidParameterCombination",
         "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually "
         "exclusive and you have specified both."),
        ([{"MetricName": "x", "Values": [1.0, 2.0], "Counts": [1.0]}], "InvalidParameterValue",
         "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of "
         "the same size."),
        ([{"MetricName": "x", "Value": 1, "StorageResolution": 30}], "InvalidParameterValue",
         "The value 30 for parameter MetricData.member.1.StorageResolution is invalid."),
        ([{"MetricName": "x", "Values": [1.0] * 151}], "InvalidParameterValue",
         "The collection MetricData.member.1.Values must not have a size greater than 150."),
        ([{"MetricName": "x", "Value": 1},
          {"MetricName": "y", "Values": [1.0, math.nan]}], "InvalidParameterValue",
         "The value NaN for parameter MetricData.member.2.Values.member.2 is invalid."),
        ([{"MetricName": "x", "Value": 1, "Dimensions": [{"Name": " ", "Value": "v"}]}],
         "InvalidParameterValue",
         "The value   for parameter MetricData.member.1.Dimensions.member.1.Name is invalid."),
        ([{"MetricName": "x", "Value": 1, "Dimensions": [{"Name": "a", "Value": "v"},
                                                         {"Name": "a", "Value": "w"}]}],
         "InvalidParameterValue", None),
        ([{"MetricName": "bell\x07", "Value": 1}], "InvalidParameterValue", None),
        ([{"MetricName": "métrique", "Value": 1}], "InvalidParameterValue", None),
        ([{"MetricName": "x", "Value": 1}] * 1001, "InvalidParameterValue",
         "The collection MetricData must not have a size greater than 1000."),
    ]
    for data, want_code, want_message in cases:
        code, status, message = error_of(cbor.put_metric_data, Namespace=ns, MetricData=data)
        assert (code, status) == (want_code, 400), message
        if want_message is not None:
            assert message == want_message
    # nothing of the refused batches was stored
    assert cbor.list_metrics(Namespace=ns)["Metrics"] == []


def test_thirty_dimensions_and_no_more(cloudlet, cbor):
    ns = unique("Dims")
    dims = [{"Name": f"d{i}", "Value": str(i)} for i in range(30)]
    cbor.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "x", "Dimensions": dims,
                                                    "Value": 1}])
    [metric] = cbor.list_metrics(Namespace=ns)["Metrics"]
    assert len(metric["Dimensions"]) == 30
    code, _, _ = error_of(cbor.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "x", "Value": 1,
         "Dimensions": dims + [{"Name": "d30", "Value": "30"}]}])
    assert code in ("InvalidParameterValue", "ValidationError")


def test_get_metric_statistics_bad_input(cloudlet, cw):
    now = server_now(cloudlet)
    base = {"Namespace": "X", "MetricName": "y", "StartTime": now - dt.timedelta(hours=1),
            "EndTime": now}
    code, _, message = error_of(cw.get_metric_statistics, Period=60, **base)
    assert (code, message) == ("MissingParameter",
                               "Must specify either Statistics or ExtendedStatistics.")
    code, _, message = error_of(cw.get_metric_statistics, Period=60, Statistics=["Sum"],
                                ExtendedStatistics=["p99"], **base)
    assert code == "InvalidParameterCombination"
    code, _, _ = error_of(cw.get_metric_statistics, Period=60, ExtendedStatistics=["p101"],
                          **base)
    assert code == "InvalidParameterValue"
    code, _, _ = error_of(cw.get_metric_statistics, Period=45, Statistics=["Sum"], **base)
    assert code == "InvalidParameterValue"
    code, _, message = error_of(cw.get_metric_statistics, Period=1, Statistics=["Sum"], **base)
    assert code == "InvalidParameterCombination"
    assert message.startswith("You have requested up to 3,600 datapoints, which exceeds the "
                              "limit of 1,440.")
    code, _, message = error_of(cw.get_metric_statistics, Namespace="X", MetricName="y",
                                StartTime=now, EndTime=now - dt.timedelta(hours=1), Period=60,
                                Statistics=["Sum"])
    assert (code, message) == ("InvalidParameterValue", "The parameter StartTime must be less "
                               "than the parameter EndTime.")


def test_aws_cli(cloudlet):
    ns = unique("Cli")
    at = minute(cloudlet, 2)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    cloudlet.aws("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "Jobs",
                 "--value", "3", "--unit", "Count", "--timestamp", stamp,
                 "--dimensions", "Queue=high")
    cloudlet.aws("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-data",
                 json.dumps([{"MetricName": "Jobs", "Value": 4, "Timestamp": stamp, "Unit": "Count",
                              "Dimensions": [{"Name": "Queue", "Value": "high"}]}]))
    listed = json.loads(cloudlet.aws("cloudwatch", "list-metrics", "--namespace", ns).stdout)
    assert [m["MetricName"] for m in listed["Metrics"]] == ["Jobs"]
    end = (at + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = json.loads(cloudlet.aws(
        "cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "Jobs",
        "--dimensions", "Name=Queue,Value=high", "--start-time", stamp, "--end-time", end,
        "--period", "60", "--statistics", "Sum", "SampleCount").stdout)
    assert [(p["Sum"], p["SampleCount"]) for p in reply["Datapoints"]] == [(7.0, 2.0)]
    bad = cloudlet.aws("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "x",
                       "--value", "NaN", check=False)
    assert bad.returncode != 0 and "InvalidParameterValue" in bad.stderr
