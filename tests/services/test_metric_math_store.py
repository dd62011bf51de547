"""The metric store and the `cloudwatch:metrics` bus topic, driven in-process: what other
services publish is stored as PutMetricData would store it, AWS/ namespaces included, and
the contract the alarms use (metric_store.statistics and evaluate)."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.events import Bus
from cloudlet.services.cloudwatch.provider import CloudWatchProvider
from cloudlet.store import Store


def test_bus_events_are_stored_like_put_metric_data(tmp_path):
    bus = Bus()
    provider = CloudWatchProvider(Store.open(tmp_path), bus)
    now = clock.timestamp()
    minute = now - now % 60 - 120
    bus.publish("cloudwatch:metrics", {
        "account": "000000000000", "region": "eu-west-1", "namespace": "AWS/Lambda",
        "metric_data": [
            {"MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
             "Values": [10.0, 20.0, 300.0], "Unit": "Milliseconds", "Timestamp": minute},
            {"MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
             "Value": 3.0, "Unit": "Count", "Timestamp": (minute + 1) * 1000},  # EMF: ms
        ]})
    bus.publish("cloudwatch:metrics", {"account": "000000000000", "region": "eu-west-1",
                                       "namespace": "AWS/Lambda",
                                       "metric_data": [{"MetricName": "Bad", "Value": "x"}]})
    bus.drain()
    store = provider.metric_store
    dims = [{"Name": "FunctionName", "Value": "f"}]
    assert store.statistics("000000000000", "eu-west-1", "AWS/Lambda", "Invocations", dims,
                            minute, minute + 60, 60, "Sum") == [(minute, 3.0)]
    assert store.statistics("000000000000", "eu-west-1", "AWS/Lambda", "Duration", dims,
                            minute, minute + 60, 60, "p50") == [(minute, 20.0)]
    assert store.statistics("000000000000", "eu-west-1", "AWS/Lambda", "Duration", dims,
                            minute, minute + 60, 60, "Maximum", unit="Seconds") == []
    # another region sees nothing
    assert store.statistics("000000000000", "us-east-1", "AWS/Lambda", "Duration", dims,
                            minute, minute + 60, 60, "Sum") == []
    results = store.evaluate("000000000000", "eu-west-1", [
        {"Id": "d", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration",
                                              "Dimensions": dims},
                                   "Period": 60, "Stat": "Average"}, "ReturnData": False},
        {"Id": "e", "Expression": "d * 2", "Label": "double"},
    ], minute, minute + 60)
    assert results == [{"Id": "e", "Label": "double", "Timestamps": [minute], "Values": [220.0],
                        "StatusCode": "Complete"}]
    metrics = store.metrics("000000000000", "eu-west-1", namespace="AWS/Lambda")
    assert sorted(m["MetricName"] for m in metrics) == ["Duration", "Invocations"]


def test_the_sweeper_rolls_up_on_its_own_when_the_clock_jumps(tmp_path, monkeypatch):
    import time

    from cloudlet.services.cloudwatch.metric_store import Datum, MetricStore
    from cloudlet.services.cloudwatch.statistics import Aggregate

    db = Store.open(tmp_path).db
    store = MetricStore(db)
    store.start()
    try:
        now = clock.timestamp()
        store.put("000000000000", "us-east-1", "App", [
            Datum("Hits", [], now - 30, 1, "Count", Aggregate.of_values([2.0], [1.0])),
            Datum("Hits", [], now - 90, 60, "Count", Aggregate.of_values([3.0], [1.0]))])
        assert sorted(r[0] for r in db.query("SELECT resolution FROM cw_points")) == [1, 60]
        monkeypatch.setattr(clock, "_offset", clock.offset() + 20 * 86400)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # no read here: only the sweeper thread can act
            if [r[0] for r in db.query("SELECT resolution FROM cw_points")] in ([300], [300, 300]):
                break
            time.sleep(0.1)
        rows = db.query("SELECT resolution, sample_count, sum FROM cw_points")
        assert {r[0] for r in rows} == {300}
        assert sum(r[1] for r in rows) == 2.0 and sum(r[2] for r in rows) == 5.0
    finally:
        store.stop()
