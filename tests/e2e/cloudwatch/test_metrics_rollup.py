"""Retention and rollup on the service clock, in a Cloudlet of its own (the clock moves):
1-second points become 1-minute points after 3 hours, 1-minute points 5-minute points after
15 days, 5-minute points 1-hour points after 63 days, and 1-hour points go after 455 days."""

from __future__ import annotations

import datetime as dt

DAY = 86400


def advance(server, seconds: float) -> None:
    server.advance_clock(seconds)


def server_now(server) -> dt.datetime:
    return dt.datetime.fromisoformat(server.control("GET", "/_cloudlet/clock").json()["now"])


def sums(cw, ns, name, start, end, period):
    reply = cw.get_metric_statistics(Namespace=ns, MetricName=name, StartTime=start,
                                     EndTime=end, Period=period, Statistics=["Sum", "SampleCount"])
    return sorted((p["Timestamp"], p["Sum"], p["SampleCount"]) for p in reply["Datapoints"])


def test_rollups_follow_the_clock(fresh_cloudlet):
    server = fresh_cloudlet()
    cw = server.client("cloudwatch")
    now = server_now(server)
    at = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    if at + dt.timedelta(minutes=2) > now:
        at -= dt.timedelta(minutes=5)
    cw.put_metric_data(Namespace="Roll", MetricData=[
        {"MetricName": "Std", "Timestamp": at, "Value": 1.0},
        {"MetricName": "Std", "Timestamp": at + dt.timedelta(minutes=1), "Value": 2.0},
        {"MetricName": "Fine", "Timestamp": at + dt.timedelta(seconds=5), "Value": 3.0,
         "StorageResolution": 1},
        {"MetricName": "Fine", "Timestamp": at + dt.timedelta(seconds=30), "Value": 4.0,
         "StorageResolution": 1},
    ])
    start, end = at - dt.timedelta(minutes=5), at + dt.timedelta(minutes=10)
    assert sums(cw, "Roll", "Std", start, end, 60) == [
        (at, 1.0, 1.0), (at + dt.timedelta(minutes=1), 2.0, 1.0)]
    assert len(sums(cw, "Roll", "Fine", at, at + dt.timedelta(minutes=1), 1)) == 2

    # 4 hours on: the 1-second points are one 1-minute point
    advance(server, 4 * 3600)
    assert sums(cw, "Roll", "Fine", at, at + dt.timedelta(minutes=1), 1) == []
    assert sums(cw, "Roll", "Fine", at, at + dt.timedelta(minutes=1), 60) == [(at, 7.0, 2.0)]

    # "20 days ago": readable only at 5-minute resolution
    advance(server, 20 * DAY - 4 * 3600)
    assert sums(cw, "Roll", "Std", start, end, 60) == []
    assert sums(cw, "Roll", "Std", start, end, 300) == [(at, 3.0, 2.0)]
    assert sums(cw, "Roll", "Fine", start, end, 300) == [(at, 7.0, 2.0)]
    # no data for two weeks: gone from ListMetrics, as in AWS
    assert cw.list_metrics(Namespace="Roll")["Metrics"] == []

    # 70 days: hourly only
    advance(server, 50 * DAY)
    hour = at.replace(minute=0)
    wide_start, wide_end = hour - dt.timedelta(hours=1), hour + dt.timedelta(hours=2)
    assert sums(cw, "Roll", "Std", wide_start, wide_end, 300) == []
    assert sums(cw, "Roll", "Std", wide_start, wide_end, 3600) == [(hour, 3.0, 2.0)]

    # past 455 days: gone
    advance(server, 400 * DAY)
    assert sums(cw, "Roll", "Std", wide_start, wide_end, 3600) == []


def test_percentiles_survive_rollup(fresh_cloudlet):
    server = fresh_cloudlet()
    cw = server.client("cloudwatch")
    now = server_now(server)
    at = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
    at = at.replace(minute=0) if at.minute < 30 else at.replace(minute=30)
    cw.put_metric_data(Namespace="Pct", MetricData=[
        {"MetricName": "Latency", "Timestamp": at + dt.timedelta(minutes=m),
         "Values": [float(v) for v in range(m * 10 + 1, m * 10 + 11)]} for m in range(10)])
    advance(server, 16 * DAY)
    reply = cw.get_metric_statistics(
        Namespace="Pct", MetricName="Latency", StartTime=at,
        EndTime=at + dt.timedelta(minutes=10), Period=600, ExtendedStatistics=["p50", "p99"])
    assert [p["ExtendedStatistics"] for p in reply["Datapoints"]] == [{"p50": 50.0, "p99": 99.0}]
