"""The alarm evaluator: a thread that judges every alarm on the service clock.

Metric alarms are judged at each tick of the service clock: every minute, every 10 seconds
for high-resolution alarms (Period < 60). A tick judges the complete periods before it
(a wall clock window only judges the ticks on its period's boundaries, alarms_window.py).
The thread wakes every `CLOUDLET_ALARM_POLL` seconds (0.2 by default), so when a test moves
the clock (`POST /_cloudlet/clock`) the ticks it jumped over are judged promptly: the last
`evaluation_range(N)` periods' worth of ticks (at most MAX_REPLAYED_TICKS) are replayed in
order, each with its own timestamp, so a jump over a breach still goes OK → ALARM → OK and
notifies twice. Older ticks are skipped: their changes would be overtaken by the ones the
replay makes.

A state change is written with its history item, then its actions run (if ActionsEnabled):
SNS topics get AWS's alarm notification through the bus topic `sns:publish`, Lambda
functions AWS's alarm event through `lambda:invoke`; Auto Scaling, EC2 and Systems Manager
actions are recorded in the history as not executed. Composite alarms are judged whenever
one of their children changes state.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import threading

from cloudlet import clock
from cloudlet.errors import ServiceError
from cloudlet.events import Bus
from cloudlet.services.cloudwatch import alarms_evaluation as ev
from cloudlet.services.cloudwatch import alarms_messages as messages
from cloudlet.services.cloudwatch import alarms_suppression as suppression
from cloudlet.services.cloudwatch.alarms_rule import parse_rule
from cloudlet.services.cloudwatch.alarms_store import Alarm, AlarmStore
from cloudlet.services.cloudwatch.alarms_validation import percentile_of
from cloudlet.services.cloudwatch.alarms_window import WallClock

log = logging.getLogger("cloudlet.cloudwatch.alarms")

MAX_REPLAYED_TICKS = 64


def step_of(alarm: Alarm) -> int:
    if alarm.composite:
        return 60
    return 10 if alarm.config["_period"] < 60 else 60


class AlarmEngine:
    def __init__(self, alarms: AlarmStore, bus: Bus, metric_store=lambda: None):
        self.alarms, self.bus = alarms, bus
        self._metric_store = metric_store
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None
        self.poll = float(os.environ.get("CLOUDLET_ALARM_POLL", "0.2"))
        self._next_due = 0.0
        self._expired_at = 0.0

    # -- the thread ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cloudwatch-alarms",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def kick(self) -> None:
        """Something changed (an alarm was put): look again now."""
        self._next_due = 0.0
        self._kick.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._kick.wait(self.poll)
            self._kick.clear()
            if self._stop.is_set():
                break
            try:
                self.run_due()
            except Exception:
                log.exception("alarm evaluation failed")

    def run_due(self) -> None:
        now = clock.timestamp()
        if now < self._next_due:
            return
        next_due = math.inf
        for alarm in self.alarms.all():
            if alarm.composite:
                held = alarm.config.get("_suppression")
                if held and held["due"] <= now:
                    try:
                        self.release(alarm.account, alarm.region, alarm.name, now)
                    except Exception:
                        log.exception("releasing the actions of alarm %s failed", alarm.name)
                elif held:
                    next_due = min(next_due, held["due"])
                continue
            step = step_of(alarm)
            tick = math.floor(now / step) * step
            if tick > alarm.evaluated_at:
                try:
                    self.evaluate_ticks(alarm.account, alarm.region, alarm.name, tick)
                except Exception:  # one broken alarm must not stop the others
                    log.exception("evaluating alarm %s failed", alarm.name)
                    self._skip_to(alarm, tick)
            next_due = min(next_due, tick + step)
        self._next_due = next_due if next_due != math.inf else now + 60
        if now - self._expired_at > 3600:
            self._expired_at = now
            self.alarms.expire_history(now)

    def _skip_to(self, alarm: Alarm, tick: float) -> None:
        with self.lock:
            current = self.alarms.get(alarm.account, alarm.region, alarm.name)
            if current is not None:
                current.evaluated_at = tick
                self.alarms.save(current)

    def evaluate_ticks(self, account: str, region: str, name: str, tick: float) -> None:
        with self.lock:
            alarm = self.alarms.get(account, region, name)
            if alarm is None or alarm.composite:
                return
            step = step_of(alarm)
            period = alarm.config["_period"]
            span = ev.evaluation_range(alarm.config["EvaluationPeriods"]) * period
            first = math.ceil(max(alarm.evaluated_at + step, tick - span) / step) * step
            ticks = [first + i * step for i in range(int((tick - first) // step) + 1)]
            wall = WallClock.of(alarm.config)
            if wall is not None:
                ticks = [t for t in ticks if wall.is_boundary(t)]
            for t in ticks[-MAX_REPLAYED_TICKS:]:
                self.evaluate_metric_alarm(alarm, t)
            alarm.evaluated_at = tick
            self.alarms.save(alarm)

    # -- metric alarms ------------------------------------------------------------------

    def evaluate_metric_alarm(self, alarm: Alarm, tick: float) -> None:
        """Judge `alarm` at `tick` and apply the verdict (in memory and stored)."""
        config = alarm.config
        period, n = config["_period"], config["EvaluationPeriods"]
        m = config.get("DatapointsToAlarm") or n
        count = ev.evaluation_range(n)
        start = tick - count * period
        stamps = [start + i * period for i in range(count)]
        try:
            values, samples = self.fetch(alarm, start, tick, count)
        except ServiceError as e:  # the alarm's metric math fails on its data
            if config.get("_evaluation_state") != "EVALUATION_ERROR":
                config["_evaluation_state"] = "EVALUATION_ERROR"
                alarm.state_reason = f"Evaluation error: {e.message}"[:1023]
                alarm.state_updated = max(tick, alarm.config_updated)
                self.alarms.save(alarm)
            return
        if config.pop("_evaluation_state", None):
            alarm.state_updated = max(tick, alarm.config_updated)
            self.alarms.save(alarm)
        treat = config.get("TreatMissingData") or "missing"
        if config.get("Namespace") == "AWS/DynamoDB":
            treat = "ignore"
        op, threshold = config["ComparisonOperator"], config["Threshold"]
        verdict = ev.judge(values, datapoints_to_alarm=m, evaluation_periods=n,
                           breaches=ev.comparison(op, threshold), treat_missing=treat)
        if self._low_samples(config, verdict, samples) or self._warming_up(config, values, tick):
            return
        state = verdict.state or alarm.state_value
        if verdict.state is None or state == alarm.state_value:
            return
        reason = ev.reason(verdict, state=state, timestamps=stamps, threshold=threshold,
                           comparison_operator=op, datapoints_to_alarm=m, evaluation_periods=n)
        data = ev.reason_data(verdict, values=values, timestamps=stamps, query_date=tick,
                              period=period, threshold=threshold,
                              statistic=config.get("Statistic") or config.get(
                                  "ExtendedStatistic"), unit=config.get("Unit"),
                              sample_counts=samples)
        self.change_state(alarm, state, reason, data, max(tick, alarm.config_updated))

    def fetch(self, alarm: Alarm, start: float, end: float, count: int):
        config = alarm.config
        period = config["_period"]
        store = self._metric_store()
        if store is None:
            return [None] * count, None
        if config.get("Metrics"):
            pairs = self._math_series(alarm, store, start, end)
            samples = None
        else:
            stat = config.get("Statistic") or config["ExtendedStatistic"]
            args = (alarm.account, alarm.region, config["Namespace"], config["MetricName"],
                    config.get("Dimensions") or [], start, end, period)
            pairs = store.statistics(*args, stat, config.get("Unit"))
            samples = _slots(store.statistics(*args, "SampleCount", config.get("Unit")),
                             start, period, count)
        return _slots(pairs, start, period, count), samples

    def _math_series(self, alarm: Alarm, store, start: float, end: float):
        queries = alarm.config["Metrics"]
        wanted = next(q["Id"] for q in queries if q.get("ReturnData", True))
        results = store.evaluate(alarm.account, alarm.region, queries, start, end)
        for result in results:
            if result.get("Id") == wanted:
                stamps = [epoch_of(t) for t in result.get("Timestamps") or []]
                return list(zip(stamps, result.get("Values") or [], strict=False))
        return []

    @staticmethod
    def _warming_up(config: dict, values: list, tick: float) -> bool:
        """WarmUpConfiguration: no evaluation until the warm-up period after creation ends,
        or, unless OnlyStartEvaluatingAfterWarmUpPeriodEnds, until the N newest periods all
        have data."""
        warm = config.get("WarmUpConfiguration")
        if not warm or tick >= config.get("_created", 0) + 60 * warm[
                "WarmUpPeriodDurationInMinutes"]:
            return False
        if warm.get("OnlyStartEvaluatingAfterWarmUpPeriodEnds"):
            return True
        return any(v is None for v in values[-config["EvaluationPeriods"]:])

    @staticmethod
    def _low_samples(config: dict, verdict: ev.Verdict, samples) -> bool:
        if config.get("EvaluateLowSampleCountPercentile") != "ignore" or samples is None:
            return False
        p = percentile_of(config.get("ExtendedStatistic"))
        if p is None or p in (0.0, 100.0):
            return False
        p /= 100
        needed = 10 / (1 - p) if p >= 0.5 else 10 / p
        return any(v is not None and (samples[i] or 0) < needed for i, v, _ in verdict.evaluated)

    # -- state changes ------------------------------------------------------------------

    def change_state(self, alarm: Alarm, state: str, reason: str, reason_data: str | None,
                     when: float, *, visited: frozenset = frozenset()) -> None:
        with self.lock:
            old_state, old_reason = alarm.state_value, alarm.state_reason
            previous = {"value": old_state, "reason": old_reason,
                        "timestamp": ev.iso_millis(alarm.state_updated)}
            if alarm.state_reason_data:
                previous["reasonData"] = alarm.state_reason_data
            alarm.state_value, alarm.state_reason = state, reason[:1023]
            alarm.state_reason_data = reason_data
            alarm.state_updated = when
            changed = state != old_state
            if changed:
                alarm.state_transitioned = when
                alarm.config.pop("_suppression", None)
                alarm.config["_previous"] = previous
                if old_state == ev.ALARM:
                    alarm.config[suppression.LEFT_ALARM_AT] = when
            self.alarms.save(alarm)
            if not changed:
                return
            new_state: dict = {"stateValue": state, "stateReason": alarm.state_reason}
            if reason_data:
                try:
                    new_state["stateReasonData"] = json.loads(reason_data)
                except ValueError:
                    new_state["stateReasonData"] = reason_data
            self.alarms.record(alarm, when, "StateUpdate",
                               f"Alarm updated from {old_state} to {state}",
                               {"version": "1.0",
                                "oldState": {"stateValue": old_state, "stateReason": old_reason},
                                "newState": new_state})
            self.act(alarm, old_state, when)
            self.evaluate_parents(alarm, when, visited | {alarm.name})
            self.recheck_suppressed(alarm, when)

    def evaluate_parents(self, child: Alarm, when: float, visited: frozenset) -> None:
        for alarm in self.alarms.list(child.account, child.region):
            if not alarm.composite or alarm.name in visited:
                continue
            refs = alarm.config.get("_children") or []
            if child.name in refs or child.arn in refs:
                self.evaluate_composite(alarm, when, visited=visited)

    def evaluate_composite(self, alarm: Alarm, when: float, *,
                           visited: frozenset = frozenset()) -> None:
        rule = parse_rule(alarm.config["AlarmRule"])
        states, children = {}, {}
        for ref in rule.children:
            name = own_name(alarm, ref)
            child = self.alarms.get(alarm.account, alarm.region, name) if name else None
            if child is not None:
                states[ref] = child.state_value
                children[ref] = child
        state = ev.ALARM if rule.evaluate(states) else ev.OK
        if state == alarm.state_value:
            return
        triggering = [c for ref, c in children.items()
                      if c.state_value == (ev.ALARM if state == ev.ALARM else c.state_value)]
        latest = max(triggering or children.values(), key=lambda c: c.state_updated,
                     default=None)
        if latest is not None:
            at = dt.datetime.fromtimestamp(latest.state_updated, dt.UTC)
            reason = (f"{latest.arn} transitioned to {latest.state_value} at "
                      f"{at.strftime('%A %d %B, %Y %H:%M:%S')} UTC")
            data = {"triggeringAlarms": [
                {"arn": latest.arn, "state": {"value": latest.state_value,
                                              "timestamp": ev.iso_millis(latest.state_updated)}}]}
        else:
            reason = "The alarm rule was evaluated to " + ("TRUE" if state == ev.ALARM else
                                                           "FALSE")
            data = {"triggeringAlarms": []}
        self.change_state(alarm, state, reason, json.dumps(data, separators=(",", ":")), when,
                          visited=visited | {alarm.name})

    # -- actions ------------------------------------------------------------------------

    def suppressor_of(self, alarm: Alarm) -> Alarm | None:
        ref = alarm.config.get("ActionsSuppressor") if alarm.composite else None
        if not ref:
            return None
        name = own_name(alarm, ref)
        return self.alarms.get(alarm.account, alarm.region, name) if name else None

    def act(self, alarm: Alarm, old_state: str, when: float) -> None:
        """Run the actions of a change, unless the composite alarm's suppressor holds them."""
        held = suppression.hold(alarm, self.suppressor_of(alarm), alarm.state_value, old_state,
                                when)
        if held is None:
            self.run_actions(alarm, old_state, when)
            return
        alarm.config["_suppression"] = held
        self.alarms.save(alarm)
        self._next_due = min(self._next_due, held["due"])

    def release(self, account: str, region: str, name: str, when: float) -> None:
        """Look again at a held change: run its actions once nothing holds them."""
        with self.lock:
            alarm = self.alarms.get(account, region, name)
            held = alarm.config.get("_suppression") if alarm is not None else None
            if not held:
                return
            if held["state"] != alarm.state_value:
                alarm.config.pop("_suppression")
                self.alarms.save(alarm)
                return
            again = suppression.hold(alarm, self.suppressor_of(alarm), held["state"],
                                     held["old_state"], when,
                                     may_wait=held["by"] == "WaitPeriod",
                                     waiting_since=held.get("since"))
            if again is None:
                alarm.config.pop("_suppression")
                self.alarms.save(alarm)
                self.run_actions(alarm, held["old_state"], when)
            elif again != held:
                alarm.config["_suppression"] = again
                self.alarms.save(alarm)
                self._next_due = min(self._next_due, again["due"])

    def recheck_suppressed(self, suppressor: Alarm, when: float) -> None:
        for alarm in self.alarms.list(suppressor.account, suppressor.region):
            ref = alarm.config.get("ActionsSuppressor")
            if alarm.composite and alarm.config.get("_suppression") and ref in (
                    suppressor.name, suppressor.arn):
                self.release(alarm.account, alarm.region, alarm.name, when)

    def run_actions(self, alarm: Alarm, old_state: str, when: float) -> None:
        key = {ev.OK: "OKActions", ev.ALARM: "AlarmActions",
               ev.INSUFFICIENT_DATA: "InsufficientDataActions"}[alarm.state_value]
        arns = alarm.config.get(key) or []
        if not arns:
            return
        if not alarm.actions_enabled:
            return
        for arn in arns:
            service = arn.split(":")[2] if arn.count(":") >= 5 else ""
            if service == "sns":
                message = json.dumps(messages.notification(alarm, old_state, when))
                self.bus.publish("sns:publish", {
                    "account": alarm.account, "region": alarm.region, "topic_arn": arn,
                    "message": message, "subject": messages.subject(alarm),
                    "principal": "cloudwatch.amazonaws.com", "source_arn": alarm.arn})
                self._action(alarm, when, arn, "Succeeded",
                             f"Successfully executed action {arn}",
                             {"notificationResource": arn, "publishedMessage": message})
            elif service == "lambda":
                payload = json.dumps(messages.lambda_event(alarm, old_state, when))
                self.bus.publish("lambda:invoke", {
                    "account": alarm.account, "region": alarm.region, "function_arn": arn,
                    "payload": payload, "source_arn": alarm.arn,
                    "source_account": alarm.account, "principal": "lambda.alarms.cloudwatch"
                    ".amazonaws.com"})
                self._action(alarm, when, arn, "Succeeded",
                             f"Successfully executed action {arn}", {})
            else:
                self._action(alarm, when, arn, "Failed",
                             f"Action not executed: {arn} (Cloudlet stores {service or 'this'} "
                             "actions but does not run them)",
                             {"error": "Cloudlet does not execute this kind of action"})

    def _action(self, alarm: Alarm, when: float, arn: str, outcome: str, summary: str,
                extra: dict) -> None:
        data = {"actionState": outcome, "stateUpdateTimestamp": int(when * 1000), **extra}
        if len(json.dumps(data)) > 4095:
            data.pop("publishedMessage", None)
        self.alarms.record(alarm, when, "Action", summary, data)

def own_name(alarm: Alarm, ref: str) -> str | None:
    """The alarm an alarm rule or ActionsSuppressor names, by name or ARN, in the alarm's
    own account and Region (None for another's: alarms reach no other account)."""
    if not ref.startswith("arn:"):
        return ref
    prefix = f"arn:aws:cloudwatch:{alarm.region}:{alarm.account}:alarm:"
    return ref[len(prefix):] if ref.startswith(prefix) else None


def epoch_of(value) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    return float(value)


def _slots(pairs, start: float, period: int, count: int) -> list[float | None]:
    out: list[float | None] = [None] * count
    for ts, value in pairs:
        i = round((epoch_of(ts) - start) / period)
        if 0 <= i < count and value is not None and not math.isnan(value):
            out[i] = float(value)
    return out
