"""The alarm engine without a server: a fake metric store, a real SQLite store, the bus."""

from __future__ import annotations

import json

import pytest

from cloudlet.events import Bus
from cloudlet.services.cloudwatch.alarms_engine import AlarmEngine
from cloudlet.services.cloudwatch.alarms_messages import trigger
from cloudlet.services.cloudwatch.alarms_store import COMPOSITE, METRIC, Alarm, AlarmStore
from cloudlet.store.db import Database

T0 = 1_800_000_000.0  # a minute boundary
TOPIC = "arn:aws:sns:eu-west-1:111122223333:ops"


class FakeMetrics:
    def __init__(self):
        self.points: dict[float, float] = {}  # period start -> value

    def statistics(self, account, region, namespace, name, dims, start, end, period,
                   statistic, unit=None):
        if statistic == "SampleCount":
            return [(t, 1.0) for t in sorted(self.points) if start <= t < end]
        return [(t, v) for t, v in sorted(self.points.items()) if start <= t < end]


@pytest.fixture
def world(tmp_path):
    alarms = AlarmStore(Database(tmp_path / "db.sqlite"))
    bus, published = Bus(), []
    bus.subscribe("sns:publish", published.append)
    metrics = FakeMetrics()
    engine = AlarmEngine(alarms, bus, lambda: metrics)
    return alarms, engine, metrics, bus, published


def metric_alarm(alarms: AlarmStore, name: str = "errors", **config) -> Alarm:
    base = {"AlarmName": name, "Namespace": "App", "MetricName": "Errors", "Statistic": "Sum",
            "Period": 60, "_period": 60, "EvaluationPeriods": 1, "Threshold": 10.0,
            "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [TOPIC],
            "OKActions": [TOPIC]}
    base.update(config)
    alarm = Alarm("111122223333", "eu-west-1", name, METRIC, base, config_updated=T0 - 600,
                  evaluated_at=T0)
    alarms.save(alarm)
    return alarm


def test_a_jump_replays_each_tick_in_order_and_notifies_each_change(world):
    alarms, engine, metrics, bus, published = world
    metric_alarm(alarms)
    metrics.points = {T0: 50.0, T0 + 60: 1.0, T0 + 120: 70.0}
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 180)
    bus.drain()
    changes = [(json.loads(e["message"])["OldStateValue"], json.loads(e["message"])["NewStateValue"])
               for e in published]
    assert changes == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK"), ("OK", "ALARM")]
    assert [json.loads(e["message"])["StateChangeTime"] for e in published] == [
        "2027-01-15T08:01:00.000+0000", "2027-01-15T08:02:00.000+0000",
        "2027-01-15T08:03:00.000+0000"]
    assert published[0]["subject"] == 'ALARM: "errors" in Europe (Ireland)'
    assert published[0]["topic_arn"] == TOPIC and published[0]["account"] == "111122223333"
    stored = alarms.get("111122223333", "eu-west-1", "errors")
    assert stored.evaluated_at == T0 + 180 and stored.state_value == "ALARM"
    # Nothing new: the same tick judged again changes nothing and notifies nobody.
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 180)
    bus.drain()
    assert len(published) == 3


def test_a_long_jump_only_replays_what_the_evaluation_range_can_see(world):
    alarms, engine, metrics, bus, published = world
    metric_alarm(alarms)
    metrics.points = {T0: 50.0}  # long gone by the end of the jump
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 86400)
    bus.drain()
    assert published == []  # the breach is older than anything the replayed ticks see
    assert alarms.get("111122223333", "eu-west-1", "errors").state_value == "INSUFFICIENT_DATA"


def test_disabled_actions_do_not_publish_but_the_state_changes(world):
    alarms, engine, metrics, bus, published = world
    alarm = metric_alarm(alarms)
    alarm.actions_enabled = False
    alarms.save(alarm)
    metrics.points = {T0: 50.0}
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 60)
    bus.drain()
    assert published == []
    assert alarms.get("111122223333", "eu-west-1", "errors").state_value == "ALARM"


def test_composite_alarms_follow_children_without_loops(world):
    alarms, engine, metrics, bus, published = world
    child = metric_alarm(alarms, "child", AlarmActions=[], OKActions=[])
    parent = Alarm("111122223333", "eu-west-1", "parent", COMPOSITE,
                   {"AlarmName": "parent", "AlarmRule": "ALARM(child) OR ALARM(other)",
                    "_children": ["child", "other"], "AlarmActions": [TOPIC]})
    other = Alarm("111122223333", "eu-west-1", "other", COMPOSITE,
                  {"AlarmName": "other", "AlarmRule": "ALARM(parent)", "_children": ["parent"]})
    alarms.save(parent)
    alarms.save(other)
    engine.change_state(child, "ALARM", "manual", None, T0)
    bus.drain()
    assert alarms.get("111122223333", "eu-west-1", "parent").state_value == "ALARM"
    assert alarms.get("111122223333", "eu-west-1", "other").state_value == "ALARM"
    [event] = published
    message = json.loads(event["message"])
    assert message["AlarmRule"] == "ALARM(child) OR ALARM(other)"
    assert message["TriggeringChildren"][0]["Arn"].endswith(":alarm:child")
    assert "Trigger" not in message


def test_trigger_of_a_math_alarm():
    config = {"_period": 300, "EvaluationPeriods": 2, "ComparisonOperator": "LessThanThreshold",
              "Threshold": 1.0, "Metrics": [
                  {"Id": "m", "ReturnData": False, "MetricStat": {
                      "Metric": {"Namespace": "N", "MetricName": "M",
                                 "Dimensions": [{"Name": "D", "Value": "v"}]},
                      "Period": 300, "Stat": "Sum"}},
                  {"Id": "e", "Expression": "m * 2", "Label": "double"}]}
    out = trigger(config)
    assert out["Period"] == 300 and out["DatapointsToAlarm"] == 2
    assert out["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"] == [{"value": "v",
                                                                        "name": "D"}]
    assert out["Metrics"][1] == {"Id": "e", "Expression": "m * 2", "Label": "double"}


def test_lambda_actions_get_the_alarm_event(world):
    alarms, engine, metrics, bus, published = world
    function = "arn:aws:lambda:eu-west-1:111122223333:function:on-alarm"
    invoked = []
    bus.subscribe("lambda:invoke", invoked.append)
    metric_alarm(alarms, AlarmActions=[function], OKActions=[], AlarmDescription="errors up")
    metrics.points = {T0: 50.0}
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 60)
    bus.drain()
    [call] = invoked
    assert call["function_arn"] == function and call["source_arn"].endswith(":alarm:errors")
    event = json.loads(call["payload"])
    assert event["source"] == "aws.cloudwatch" and event["region"] == "eu-west-1"
    data = event["alarmData"]
    assert data["state"]["value"] == "ALARM" and data["state"]["reason"].startswith(
        "Threshold Crossed: 1 datapoint [50.0")
    assert data["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert data["previousState"]["reason"] == "Unchecked: Initial alarm creation"
    assert data["configuration"]["description"] == "errors up"
    assert data["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] == "Errors"


def test_history_is_kept_thirty_days(world):
    alarms, engine, *_ = world
    alarm = metric_alarm(alarms)
    alarms.record(alarm, T0, "StateUpdate", "old", {})
    alarms.record(alarm, T0 + 20 * 86400, "StateUpdate", "recent", {})
    alarms.expire_history(T0 + 31 * 86400)
    rows = alarms.history("111122223333", "eu-west-1", name="errors", types=["MetricAlarm"],
                          item_type=None, start=None, end=None, ascending=True)
    assert [r["summary"] for r in rows] == ["recent"]


def test_a_failing_math_expression_is_an_evaluation_error_until_it_works(world):
    from cloudlet.errors import ServiceError

    alarms, engine, metrics, bus, published = world
    outcome = {"raise": True}

    def evaluate(account, region, queries, start, end):
        if outcome["raise"]:
            raise ServiceError("Error in expression 'e': division by a string", code="x")
        return [{"Id": "e", "Timestamps": [end - 60], "Values": [99.0]}]

    metrics.evaluate = evaluate
    metric_alarm(alarms, Metrics=[{"Id": "e", "Expression": "m / 'x'"}], Namespace=None)
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 60)
    alarm = alarms.get("111122223333", "eu-west-1", "errors")
    assert alarm.config["_evaluation_state"] == "EVALUATION_ERROR"
    assert alarm.state_reason == "Evaluation error: Error in expression 'e': division by a string"
    assert alarm.state_value == "INSUFFICIENT_DATA"
    outcome["raise"] = False
    engine.evaluate_ticks("111122223333", "eu-west-1", "errors", T0 + 120)
    alarm = alarms.get("111122223333", "eu-west-1", "errors")
    assert "_evaluation_state" not in alarm.config and alarm.state_value == "ALARM"


def test_one_broken_alarm_does_not_stop_the_others(world, monkeypatch):
    alarms, engine, metrics, bus, published = world
    metric_alarm(alarms, "a-broken")
    metric_alarm(alarms, "b-fine")
    metrics.points = {T0: 50.0}
    real = metrics.statistics

    def statistics(account, region, namespace, name, *args):
        if namespace == "Broken":
            raise RuntimeError("a bug")
        return real(account, region, namespace, name, *args)

    broken = alarms.get("111122223333", "eu-west-1", "a-broken")
    broken.config["Namespace"] = "Broken"
    alarms.save(broken)
    metrics.statistics = statistics
    monkeypatch.setattr("cloudlet.clock.timestamp", lambda: T0 + 61)
    engine.run_due()
    assert alarms.get("111122223333", "eu-west-1", "b-fine").state_value == "ALARM"
    assert alarms.get("111122223333", "eu-west-1", "a-broken").evaluated_at == T0 + 60
