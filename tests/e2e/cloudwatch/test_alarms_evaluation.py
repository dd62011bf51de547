"""Alarms that evaluate as data arrives and the service clock moves, and notify through
SNS. These tests move the clock, so they run on a Cloudlet of their own."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from harness import CloudletProcess, error_of, unique

NS = "App/Evaluation"


@pytest.fixture(scope="module")
def server():
    process = CloudletProcess().start()
    yield process
    process.stop()
    # The evaluator thread logs what it could not do; nothing may have gone wrong.
    assert "cloudlet.cloudwatch.alarms" not in process.log(), process.log()[-5000:]


@pytest.fixture(scope="module")
def cw(server):
    return server.client("cloudwatch")


class Clock:
    def __init__(self, server):
        self.server = server

    def now(self) -> float:
        import datetime as dt

        reading = self.server.control("GET", "/_cloudlet/clock").json()
        return dt.datetime.fromisoformat(reading["now"]).timestamp()

    def advance_to(self, when: float) -> None:
        gap = when - self.now()
        if gap > 0:
            self.server.advance_clock(gap)

    def next_minute(self) -> float:
        """The start of a minute at least 10 s away from now."""
        return math.floor((self.now() + 70) / 60) * 60


@pytest.fixture(scope="module")
def clock(server):
    return Clock(server)


class Endpoint:
    """A local HTTP endpoint that confirms its SNS subscription by fetching the SubscribeURL
    and keeps every Notification's body."""

    def __init__(self):
        self.notifications: queue.Queue = queue.Queue()
        received = self.notifications

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if body["Type"] == "SubscriptionConfirmation":
                    threading.Thread(target=lambda: urllib.request.urlopen(
                        body["SubscribeURL"], timeout=5).read()).start()
                elif body["Type"] == "Notification":
                    received.put(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alarms"

    def next(self, timeout: float = 15) -> dict:
        try:
            return self.notifications.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no notification within {timeout} s") from None

    def nothing_more(self, wait: float = 1.0) -> bool:
        try:
            extra = self.notifications.get(timeout=wait)
        except queue.Empty:
            return True
        raise AssertionError(f"an unexpected notification: {extra['Subject']}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    hook = Endpoint()
    yield hook
    hook.close()


def subscribed_topic(server, endpoint: Endpoint) -> str:
    sns = server.client("sns")
    topic = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        if subs and subs[0]["SubscriptionArn"].startswith("arn:"):
            return topic
        time.sleep(0.1)
    raise AssertionError("the subscription was not confirmed")


def wait_state(cw, name: str, state: str, types=("MetricAlarm", "CompositeAlarm"),
               timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        reply = cw.describe_alarms(AlarmNames=[name], AlarmTypes=list(types))
        [alarm] = reply["MetricAlarms"] + reply["CompositeAlarms"]
        if alarm["StateValue"] == state or time.monotonic() > deadline:
            assert alarm["StateValue"] == state, alarm["StateReason"]
            return alarm
        time.sleep(0.1)


def put(cw, name: str, values: list[float], when: float, dims=None, **extra) -> None:
    import datetime as dt

    cw.put_metric_data(Namespace=NS, MetricData=[{
        "MetricName": name, "Dimensions": dims or [], "Values": values,
        "Timestamp": dt.datetime.fromtimestamp(when, dt.UTC), "Unit": "Milliseconds", **extra}])


def state_updates(cw, name: str, types=("MetricAlarm",)) -> list[tuple[str, str]]:
    items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate",
                                      AlarmTypes=list(types),
                                      ScanBy="TimestampAscending")["AlarmHistoryItems"]
    out = []
    for item in items:
        data = json.loads(item["HistoryData"])
        out.append((data["oldState"]["stateValue"], data["newState"]["stateValue"]))
    return out


# -- the acceptance: p99 latency > 500 ms for 5 minutes -----------------------------------

def test_p99_latency_alarm_goes_ok_alarm_ok_with_one_notification_per_change(
        server, cw, clock, endpoint):
    topic = subscribed_topic(server, endpoint)
    name, metric = unique("p99-latency"), unique("Latency")
    dims = [{"Name": "Service", "Value": "checkout"}]
    cw.put_metric_alarm(
        AlarmName=name, AlarmDescription="p99 latency > 500 ms for 5 minutes",
        Namespace=NS, MetricName=metric, Dimensions=dims, ExtendedStatistic="p99",
        Period=60, EvaluationPeriods=5, Threshold=500.0,
        ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic], OKActions=[topic])
    assert wait_state(cw, name, "INSUFFICIENT_DATA")["StateValue"] == "INSUFFICIENT_DATA"
    fast = [float(v) for v in range(100, 300, 2)]  # p99 ~298 ms
    slow = [float(v) for v in range(400, 1400, 10)]  # p99 ~1390 ms
    start = clock.next_minute()

    # Minute 0: healthy traffic. The alarm leaves INSUFFICIENT_DATA for OK.
    put(cw, metric, fast, start + 30, dims)
    clock.advance_to(start + 61)
    first = endpoint.next()
    assert first["Subject"] == f'OK: "{name}" in US East (N. Virginia)'
    message = json.loads(first["Message"])
    assert (message["OldStateValue"], message["NewStateValue"]) == ("INSUFFICIENT_DATA", "OK")
    endpoint.nothing_more(0.5)

    # Minutes 1-5: slow. Four slow minutes are not enough; the fifth trips the alarm.
    for minute in range(1, 6):
        put(cw, metric, slow, start + 60 * minute + 30, dims)
        clock.advance_to(start + 60 * (minute + 1) + 1)
        if minute < 5:
            endpoint.nothing_more(0.6)
    alarm = endpoint.next()
    assert alarm["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    message = json.loads(alarm["Message"])
    assert (message["OldStateValue"], message["NewStateValue"]) == ("OK", "ALARM")
    assert message["NewStateReason"].startswith(
        "Threshold Crossed: 5 out of the last 5 datapoints [")
    assert message["NewStateReason"].endswith(
        "were greater than the threshold (500.0) (minimum 5 datapoints for OK -> ALARM "
        "transition).")
    assert message["AlarmName"] == name and message["AWSAccountId"] == "000000000000"
    assert message["AlarmDescription"] == "p99 latency > 500 ms for 5 minutes"
    assert message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"
    assert message["AlarmActions"] == [topic] and message["OKActions"] == [topic]
    assert message["InsufficientDataActions"] == []
    assert message["StateChangeTime"] == time.strftime(
        "%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(start + 360))
    assert message["Trigger"] == {
        "MetricName": metric, "Namespace": NS, "StatisticType": "ExtendedStatistic",
        "ExtendedStatistic": "p99", "Unit": None,
        "Dimensions": [{"value": "checkout", "name": "Service"}], "Period": 60,
        "EvaluationPeriods": 5, "DatapointsToAlarm": 5,
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 500.0,
        "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""}
    endpoint.nothing_more(0.5)
    described = wait_state(cw, name, "ALARM")
    reason_data = json.loads(described["StateReasonData"])
    assert reason_data["statistic"] == "p99" and reason_data["period"] == 60
    assert len(reason_data["evaluatedDatapoints"]) == 5
    assert all(p["value"] > 500 for p in reason_data["evaluatedDatapoints"])

    # Minute 6: healthy again. One good datapoint of five is enough to leave ALARM.
    put(cw, metric, fast, start + 390, dims)
    clock.advance_to(start + 421)
    recovered = json.loads(endpoint.next()["Message"])
    assert (recovered["OldStateValue"], recovered["NewStateValue"]) == ("ALARM", "OK")
    endpoint.nothing_more(0.5)
    assert state_updates(cw, name) == [("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"),
                                       ("ALARM", "OK")]
    actions = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert len(actions["AlarmHistoryItems"]) == 3


# -- missing data, clock jumps, high resolution, math, composite ---------------------------

@pytest.mark.parametrize("treat,state", [("missing", "INSUFFICIENT_DATA"),
                                         ("breaching", "ALARM"), ("notBreaching", "OK"),
                                         ("ignore", "INSUFFICIENT_DATA")])
def test_treat_missing_data_on_a_silent_metric(cw, treat, state):
    name = unique(f"silent-{treat}")
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=unique("Nothing"),
                        Statistic="Sum", Period=60, EvaluationPeriods=2, Threshold=1.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData=treat)
    alarm = wait_state(cw, name, state)
    if treat == "breaching":
        assert alarm["StateReason"] == ("Threshold Crossed: no datapoints were received for 2 "
                                        "periods and 2 missing datapoints were treated as "
                                        "[Breaching].")


def test_a_clock_jump_replays_every_change_it_jumped_over(cw, clock):
    name, metric = unique("jump"), unique("Errors")
    start = clock.next_minute()
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=metric, Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=10.0,
                        ComparisonOperator="GreaterThanThreshold")
    put(cw, metric, [50.0], start + 10)       # minute 0 breaches
    put(cw, metric, [1.0], start + 70)        # minute 1 does not
    put(cw, metric, [1.0, 99.0], start + 130)  # minute 2 breaches again (Sum 100)
    clock.advance_to(start + 3 * 60 + 5)      # one jump over all three
    wait_state(cw, name, "ALARM")
    assert state_updates(cw, name) == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK"),
                                       ("OK", "ALARM")]
    stamps = [h["Timestamp"].timestamp() for h in cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate",
        ScanBy="TimestampAscending")["AlarmHistoryItems"]]
    assert stamps == [start + 60, start + 120, start + 180]


def test_m_out_of_n(cw, clock):
    name, metric = unique("m-of-n"), unique("Queue")
    start = clock.next_minute()
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=metric, Statistic="Maximum",
                        Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=10.0,
                        ComparisonOperator="GreaterThanThreshold")
    for minute, value in enumerate([20.0, 1.0, 30.0]):
        put(cw, metric, [value], start + 60 * minute + 5)
    clock.advance_to(start + 181)
    alarm = wait_state(cw, name, "ALARM")
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in alarm["StateReason"]


def test_a_high_resolution_alarm_evaluates_every_ten_seconds(cw, clock):
    name, metric = unique("hires"), unique("Spikes")
    start = clock.next_minute()
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=metric, Statistic="Maximum",
                        Period=10, EvaluationPeriods=1, Threshold=5.0,
                        ComparisonOperator="GreaterThanThreshold")
    put(cw, metric, [9.0], start + 2, StorageResolution=1)
    clock.advance_to(start + 11)
    wait_state(cw, name, "ALARM")
    put(cw, metric, [1.0], start + 12, StorageResolution=1)
    clock.advance_to(start + 21)
    assert wait_state(cw, name, "OK")["StateTransitionedTimestamp"].timestamp() == start + 20


def test_an_alarm_on_a_math_expression(cw, clock):
    name, errors, requests = unique("error-rate"), unique("Errors"), unique("Requests")
    start = clock.next_minute()
    cw.put_metric_alarm(
        AlarmName=name, EvaluationPeriods=1, Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "e", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": errors},
                                       "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "r", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": requests},
                                       "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "rate", "Expression": "100 * e / r", "Label": "error rate"}])
    put(cw, errors, [3.0], start + 5)
    put(cw, requests, [100.0], start + 5)
    clock.advance_to(start + 61)
    wait_state(cw, name, "OK")
    put(cw, errors, [30.0], start + 65)
    put(cw, requests, [100.0], start + 65)
    clock.advance_to(start + 121)
    alarm = wait_state(cw, name, "ALARM")
    assert "[30.0 (" in alarm["StateReason"]


def test_a_composite_alarm_follows_its_children_and_notifies(server, cw, endpoint):
    topic = subscribed_topic(server, endpoint)
    cpu, deploy, parent = unique("cpu"), unique("deploy"), unique("noisy")
    for child in (cpu, deploy):
        cw.put_metric_alarm(AlarmName=child, Namespace=NS, MetricName=unique("M"),
                            Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold")
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f"ALARM({cpu}) AND NOT ALARM({deploy})",
                           AlarmActions=[topic])
    wait_state(cw, parent, "OK")
    cw.set_alarm_state(AlarmName=cpu, StateValue="ALARM", StateReason="hot")
    alarm = wait_state(cw, parent, "ALARM")
    assert alarm["StateReason"].startswith(
        f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{cpu} transitioned to ALARM at ")
    notification = endpoint.next()
    message = json.loads(notification["Message"])
    assert notification["Subject"] == f'ALARM: "{parent}" in US East (N. Virginia)'
    assert message["AlarmRule"] == f"ALARM({cpu}) AND NOT ALARM({deploy})"
    assert message["TriggeringChildren"][0]["Arn"].endswith(f":alarm:{cpu}")
    cw.set_alarm_state(AlarmName=deploy, StateValue="ALARM", StateReason="deploying")
    wait_state(cw, parent, "OK")
    endpoint.nothing_more(0.5)  # no OKActions
    assert state_updates(cw, parent, types=("CompositeAlarm",)) == [
        ("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]


def test_alarm_state_survives_a_restart(fresh_cloudlet):
    first = fresh_cloudlet()
    cw = first.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="durable", Namespace=NS, MetricName="M", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore",
                        Tags=[{"Key": "k", "Value": "v"}])
    cw.set_alarm_state(AlarmName="durable", StateValue="ALARM", StateReason="before restart")
    first.kill9()
    second = fresh_cloudlet()
    cw = second.client("cloudwatch")
    alarm = wait_state(cw, "durable", "ALARM")
    assert alarm["StateReason"] == "before restart"
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [
        {"Key": "k", "Value": "v"}]
    assert state_updates(cw, "durable") == [("INSUFFICIENT_DATA", "ALARM")]


@pytest.mark.parametrize("low,state", [("evaluate", "ALARM"), ("ignore", "INSUFFICIENT_DATA")])
def test_percentile_alarms_with_low_sample_counts(cw, clock, low, state):
    # p99 needs 10 / (1 - 0.99) = 1000 samples to be significant; 20 are not.
    name, metric = unique(f"low-{low}"), unique("Latency")
    start = clock.next_minute()
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=metric,
                        ExtendedStatistic="p99", Period=60, EvaluationPeriods=1,
                        Threshold=500.0, ComparisonOperator="GreaterThanThreshold",
                        EvaluateLowSampleCountPercentile=low)
    put(cw, metric, [900.0] * 20, start + 5)
    clock.advance_to(start + 61)
    if state == "ALARM":
        wait_state(cw, name, "ALARM")
    else:
        # Once the sample-rich minute has been judged, the low one is known to be skipped.
        put(cw, metric, [float(v) for v in range(150)], start + 65, Counts=[14.0] * 150)
        clock.advance_to(start + 121)
        wait_state(cw, name, "OK")
        assert state_updates(cw, name) == [("INSUFFICIENT_DATA", "OK")]


def composite_actions(cw, name: str) -> list[str]:
    return [i["HistorySummary"] for i in cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="Action", AlarmTypes=["CompositeAlarm"])[
        "AlarmHistoryItems"]]


def test_an_actions_suppressor_holds_a_composite_alarms_actions(cw, clock):
    child, maintenance, parent = unique("child"), unique("maintenance"), unique("held")
    topic = "arn:aws:sns:us-east-1:000000000000:held-actions"
    for name in (child, maintenance):
        cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=unique("M"),
                            Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore")
    cw.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="start")
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f"ALARM({child})", AlarmActions=[topic],
                           ActionsSuppressor=maintenance, ActionsSuppressorWaitPeriod=120,
                           ActionsSuppressorExtensionPeriod=300)
    wait_state(cw, parent, "OK")

    # The suppressor is in ALARM: the composite alarm's change is held by it.
    cw.set_alarm_state(AlarmName=maintenance, StateValue="ALARM", StateReason="maintenance")
    cw.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="broken")
    alarm = wait_state(cw, parent, "ALARM")
    assert alarm["ActionsSuppressedBy"] == "Alarm"
    # It leaves ALARM: the extension period holds the actions 300 s more, then they run.
    cw.set_alarm_state(AlarmName=maintenance, StateValue="OK", StateReason="done")
    assert wait_state(cw, parent, "ALARM")["ActionsSuppressedBy"] == "ExtensionPeriod"
    assert composite_actions(cw, parent) == []
    clock.advance_to(clock.now() + 301)
    deadline = time.monotonic() + 10
    while not composite_actions(cw, parent) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert composite_actions(cw, parent) == [f"Successfully executed action {topic}"]
    assert "ActionsSuppressedBy" not in wait_state(cw, parent, "ALARM")

    # A new change waits up to 120 s for the suppressor; it does not come: the actions run.
    cw.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="fixed")
    wait_state(cw, parent, "OK")
    cw.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="broken again")
    assert wait_state(cw, parent, "ALARM")["ActionsSuppressedBy"] == "WaitPeriod"
    clock.advance_to(clock.now() + 121)
    while len(composite_actions(cw, parent)) < 2 and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    assert len(composite_actions(cw, parent)) == 2


def test_a_warm_up_period_keeps_a_new_alarm_in_insufficient_data(cw, clock):
    name = unique("warm")
    created = clock.now()
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=unique("Heartbeat"),
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="LessThanThreshold", TreatMissingData="breaching",
                        WarmUpConfiguration={"WarmUpPeriodDurationInMinutes": 5})
    clock.advance_to(created + 241)  # four minutes in: still warming up
    time.sleep(0.6)
    assert wait_state(cw, name, "INSUFFICIENT_DATA")["StateValue"] == "INSUFFICIENT_DATA"
    clock.advance_to(created + 361)
    wait_state(cw, name, "ALARM")


def test_a_wall_clock_window_judges_calendar_periods(cw, clock):
    name, metric = unique("wall"), unique("Jobs")
    base = math.ceil((clock.now() + 70) / 300) * 300
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=metric, Statistic="Sum",
                        Period=300, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold",
                        EvaluationWindow={"WallClockWindow": {"Timezone": "UTC+05:30"}})
    put(cw, metric, [5.0], base + 10)
    # A sliding window would go to ALARM at base + 60; the wall clock waits for the end of
    # the 5-minute period (UTC+05:30 keeps 5-minute boundaries where UTC has them).
    clock.advance_to(base + 301)
    alarm = wait_state(cw, name, "ALARM")
    assert alarm["StateTransitionedTimestamp"].timestamp() == base + 300
    assert alarm["EvaluationWindow"] == {"WallClockWindow": {"Timezone": "UTC+05:30"}}
    for window, period in [({"Timezone": "Mars/Olympus"}, 300), ({}, 120),
                           ({"Timezone": "+05:33"}, 60)]:
        code, _, message = error_of(
            cw.put_metric_alarm, AlarmName=unique("wall-bad"), Namespace=NS, MetricName="M",
            Statistic="Sum", Period=period, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            EvaluationWindow={"WallClockWindow": window})
        assert code == "ValidationError", message
