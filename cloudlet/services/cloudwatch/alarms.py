"""CloudWatch alarms: the operations (metric, math and composite alarms, their state,
history and tags).

    alarms_validation.py   PutMetricAlarm's and PutCompositeAlarm's rules and errors
    alarms_evaluation.py   the pure judgement: M out of N, TreatMissingData, StateReason
    alarms_rule.py         composite AlarmRule grammar
    alarms_engine.py       the evaluator thread on the service clock, state changes, actions
    alarms_window.py       sliding and wall clock evaluation windows
    alarms_suppression.py  composite alarms' ActionsSuppressor
    alarms_messages.py     the SNS notification and Lambda event an action sends
    alarms_store.py        the SQLite rows
"""

from __future__ import annotations

import base64
import json

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.cloudwatch import alarms_suppression as suppression
from cloudlet.services.cloudwatch import alarms_validation as v
from cloudlet.services.cloudwatch.alarms_engine import AlarmEngine, epoch_of, step_of
from cloudlet.services.cloudwatch.alarms_evaluation import iso_millis
from cloudlet.services.cloudwatch.alarms_rule import parse_rule
from cloudlet.services.cloudwatch.alarms_store import COMPOSITE, METRIC, Alarm, AlarmStore

DESCRIBE_PAGE = 50
HISTORY_PAGE = 100


class AlarmOperations:
    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.alarm_store = AlarmStore(store.db)
        self.alarm_engine = AlarmEngine(self.alarm_store, self.bus,
                                        lambda: getattr(self, "metric_store", None))

    def start(self) -> None:
        super().start()
        self.alarm_engine.start()

    def stop(self) -> None:
        self.alarm_engine.stop()
        super().stop()

    # -- putting alarms -----------------------------------------------------------------

    def put_metric_alarm(self, ctx: RequestContext, params: dict) -> dict:
        config = v.metric_alarm_config(params, ctx.region)
        if params.get("ThresholdMetricId"):
            raise v.ValidationError("Cloudlet does not evaluate anomaly detection bands "
                                    "(ANOMALY_DETECTION_BAND) yet: alarms with "
                                    "ThresholdMetricId cannot be created.")
        self._check_tags(params)
        if config.get("Metrics"):
            self._check_expression(ctx, config)
        alarm = self._put(ctx, METRIC, config, params)
        step = step_of(alarm)
        now = clock.timestamp()
        self.alarm_engine.evaluate_ticks(ctx.account_id, ctx.region, alarm.name,
                                         (now // step) * step)
        self.alarm_engine.kick()
        return {}

    def put_composite_alarm(self, ctx: RequestContext, params: dict) -> dict:
        v.check_name(params["AlarmName"])
        rule = parse_rule(params["AlarmRule"])
        missing = []
        for ref in sorted(rule.children):
            name = _name_of(ref, ctx)
            if name is None or self.alarm_store.get(ctx.account_id, ctx.region, name) is None:
                missing.append(ref)
        if missing:
            raise v.ValidationError(f"Could not save the composite alarm as alarms {missing} in "
                                    "the alarm rule do not exist")
        if params["AlarmName"] in {_name_of(r, ctx) for r in rule.children}:
            raise v.ValidationError("A composite alarm cannot reference itself in its alarm "
                                    "rule.")
        v.check_actions(params, ctx.region, composite=True)
        v.unsupported(params)
        suppressor = params.get("ActionsSuppressor")
        if suppressor is not None and (params.get("ActionsSuppressorWaitPeriod") is None or
                                       params.get("ActionsSuppressorExtensionPeriod") is None):
            raise v.ValidationError("ActionsSuppressorWaitPeriod and "
                                    "ActionsSuppressorExtensionPeriod are required with "
                                    "ActionsSuppressor.")
        self._check_tags(params)
        config = {k: val for k, val in params.items() if k != "Tags" and val is not None}
        config["_children"] = sorted(rule.children)
        alarm = self._put(ctx, COMPOSITE, config, params)
        with self.alarm_engine.lock:
            alarm = self.alarm_store.get(ctx.account_id, ctx.region, alarm.name)
            self.alarm_engine.evaluate_composite(alarm, clock.timestamp())
        return {}

    def _check_expression(self, ctx: RequestContext, config: dict) -> None:
        """A math alarm's expressions get GetMetricData's checks (and its errors) once."""
        metrics = getattr(self, "metric_store", None)
        if metrics is None or not hasattr(metrics, "evaluate"):
            return
        now = clock.timestamp()
        results = metrics.evaluate(ctx.account_id, ctx.region, config["Metrics"],
                                   now - 2 * config["_period"], now)
        if len(results) > 1:
            raise v.ValidationError("The expression of an alarm must return a single time "
                                    "series.")

    def _check_tags(self, params: dict) -> None:
        if params.get("Tags"):
            v.check_tags(params["Tags"])

    def _put(self, ctx: RequestContext, alarm_type: str, config: dict, params: dict) -> Alarm:
        now = clock.timestamp()
        name = params["AlarmName"]
        with self.alarm_engine.lock:
            old = self.alarm_store.get(ctx.account_id, ctx.region, name)
            if old is not None and old.alarm_type != alarm_type:
                raise v.ValidationError(f"The alarm {name} already exists as a "
                                        f"{old.alarm_type}.")
            if old is None:
                alarm = Alarm(ctx.account_id, ctx.region, name, alarm_type, config,
                              tags=list(params.get("Tags") or []),
                              actions_enabled=params.get("ActionsEnabled", True),
                              state_updated=now, state_transitioned=now, config_updated=now)
                config["_created"] = now
                original = {}
            else:  # an update keeps the state and the tags, and overwrites the rest
                alarm = old
                original = {k: val for k, val in old.config.items()
                            if not k.startswith("_") and config.get(k) != val}
                original.update({k: None for k in config if k not in old.config
                                 and not k.startswith("_")})
                config["_created"] = old.config.get("_created", old.config_updated)
                alarm.config = config
                alarm.actions_enabled = params.get("ActionsEnabled", True)
                alarm.config_updated = now
            if alarm_type == METRIC:
                # A new alarm is judged at once, an updated one keeps its state until the
                # next tick; neither is judged over ticks before its configuration.
                step = step_of(alarm)
                alarm.evaluated_at = (now // step) * step - (step if old is None else 0)
            self.alarm_store.save(alarm)
            if old is None:
                self.alarm_store.record(alarm, now, "ConfigurationUpdate",
                                        f'Alarm "{name}" created',
                                        {"type": "Create", "version": "1.0",
                                         "createdAlarm": _history_view(alarm)})
            else:
                self.alarm_store.record(alarm, now, "ConfigurationUpdate",
                                        f'Alarm "{name}" updated',
                                        {"type": "Update", "version": "1.0",
                                         "originalUpdatedFields": original,
                                         "updatedAlarm": _history_view(alarm)})
        return alarm

    # -- describing ---------------------------------------------------------------------

    def describe_alarms(self, ctx: RequestContext, params: dict) -> dict:
        types = params.get("AlarmTypes") or ["MetricAlarm"]
        children_of, parents_of = params.get("ChildrenOfAlarmName"), params.get(
            "ParentsOfAlarmName")
        if children_of or parents_of:
            others = [k for k in ("AlarmNames", "AlarmNamePrefix", "StateValue", "ActionPrefix")
                      if params.get(k)]
            if others or (children_of and parents_of):
                raise v.InvalidParameterCombination(
                    "With ChildrenOfAlarmName or ParentsOfAlarmName, only AlarmTypes, "
                    "MaxRecords and NextToken can be specified.")
        if params.get("AlarmNames") and params.get("AlarmNamePrefix"):
            raise v.InvalidParameterCombination("AlarmNames and AlarmNamePrefix are mutually "
                                                "exclusive.")
        alarms = self.alarm_store.list(ctx.account_id, ctx.region)
        by_name = {a.name: a for a in alarms}
        if children_of:
            parent = by_name.get(children_of)
            refs = (parent.config.get("_children") or []) if parent and parent.composite else []
            wanted = {_name_of(r, ctx) for r in refs}
            alarms = [a for a in alarms if a.name in wanted]
        if parents_of:
            child = by_name.get(parents_of)
            alarms = [a for a in alarms if a.composite and child is not None and (
                child.name in a.config.get("_children", []) or
                child.arn in a.config.get("_children", []))]
        if params.get("AlarmNames"):
            names = set(params["AlarmNames"])
            alarms = [a for a in alarms if a.name in names]
        if params.get("AlarmNamePrefix"):
            alarms = [a for a in alarms if a.name.startswith(params["AlarmNamePrefix"])]
        if params.get("StateValue"):
            alarms = [a for a in alarms if a.state_value == params["StateValue"]]
        if params.get("ActionPrefix"):
            prefix = params["ActionPrefix"]
            alarms = [a for a in alarms if any(
                arn.startswith(prefix) for k in ("OKActions", "AlarmActions",
                                                 "InsufficientDataActions")
                for arn in a.config.get(k) or [])]
        alarms = [a for a in alarms if a.alarm_type in types]
        page, token = _page(alarms, params, DESCRIBE_PAGE, key=lambda a: a.name)
        out: dict = {
            "MetricAlarms": [describe(a) for a in page if not a.composite],
            "CompositeAlarms": [describe(a) for a in page if a.composite],
        }
        if "CompositeAlarm" not in types:
            out.pop("CompositeAlarms")
        if token:
            out["NextToken"] = token
        return out

    def describe_alarms_for_metric(self, ctx: RequestContext, params: dict) -> dict:
        dims = _dims(params.get("Dimensions"))
        found = []
        for alarm in self.alarm_store.list(ctx.account_id, ctx.region):
            if alarm.composite:
                continue
            config = alarm.config
            if config.get("Metrics"):
                stats = [q["MetricStat"] for q in config["Metrics"] if "MetricStat" in q]
                match = any(
                    s["Metric"].get("Namespace") == params["Namespace"]
                    and s["Metric"].get("MetricName") == params["MetricName"]
                    and ("Dimensions" not in params or
                         _dims(s["Metric"].get("Dimensions")) == dims)
                    for s in stats)
            else:
                match = (config.get("Namespace") == params["Namespace"]
                         and config.get("MetricName") == params["MetricName"]
                         and ("Dimensions" not in params or
                              _dims(config.get("Dimensions")) == dims))
                for key in ("Statistic", "ExtendedStatistic", "Period", "Unit"):
                    if params.get(key) is not None and config.get(key) != params[key]:
                        match = False
            if match:
                found.append(describe(alarm))
        return {"MetricAlarms": found}

    def describe_alarm_history(self, ctx: RequestContext, params: dict) -> dict:
        types = params.get("AlarmTypes") or ["MetricAlarm"]
        start, end = params.get("StartDate"), params.get("EndDate")
        rows = self.alarm_store.history(
            ctx.account_id, ctx.region, name=params.get("AlarmName"), types=types,
            item_type=params.get("HistoryItemType"),
            start=epoch_of(start) if start is not None else None,
            end=epoch_of(end) if end is not None else None,
            ascending=params.get("ScanBy") == "TimestampAscending")
        descending = params.get("ScanBy") != "TimestampAscending"
        page, token = _page(rows, params, HISTORY_PAGE,
                            key=lambda r: (r["timestamp"], r["seq"]), descending=descending)
        out: dict = {"AlarmHistoryItems": [
            {"AlarmName": r["name"], "AlarmType": r["alarm_type"], "Timestamp": r["timestamp"],
             "HistoryItemType": r["item_type"], "HistorySummary": r["summary"],
             "HistoryData": r["data"]} for r in page]}
        if token:
            out["NextToken"] = token
        return out

    # -- changing alarms ----------------------------------------------------------------

    def delete_alarms(self, ctx: RequestContext, params: dict) -> dict:
        """Names that do not exist are ignored, as on AWS; alarms a remaining composite
        alarm depends on are not deleted, and then nothing is."""
        names = list(dict.fromkeys(params["AlarmNames"]))
        with self.alarm_engine.lock:
            existing = {a.name: a for a in self.alarm_store.list(ctx.account_id, ctx.region)}
            used = set()
            for alarm in existing.values():
                if alarm.composite and alarm.name not in names:
                    refs = {_name_of(r, ctx) for r in alarm.config.get("_children", [])}
                    used |= refs & set(names)
            if used:
                raise v.ValidationError(f"Cannot delete {','.join(sorted(used))} as there are "
                                        "composite alarm(s) depending on them.")
            self.alarm_store.delete(ctx.account_id, ctx.region,
                                    [n for n in names if n in existing])
        return {}

    def set_alarm_state(self, ctx: RequestContext, params: dict) -> dict:
        data = params.get("StateReasonData")
        if data is not None:
            try:
                json.loads(data)
            except ValueError:
                raise v.InvalidFormat("The StateReasonData must be valid JSON.") from None
        with self.alarm_engine.lock:
            alarm = self.alarm_store.get(ctx.account_id, ctx.region, params["AlarmName"])
            if alarm is None:
                raise v.ResourceNotFound(f"Alarm {params['AlarmName']} not found")
            self.alarm_engine.change_state(alarm, params["StateValue"], params["StateReason"],
                                           data, clock.timestamp())
        return {}

    def enable_alarm_actions(self, ctx: RequestContext, params: dict) -> dict:
        return self._actions_enabled(ctx, params["AlarmNames"], True)

    def disable_alarm_actions(self, ctx: RequestContext, params: dict) -> dict:
        return self._actions_enabled(ctx, params["AlarmNames"], False)

    def _actions_enabled(self, ctx: RequestContext, names: list[str], enabled: bool) -> dict:
        with self.alarm_engine.lock:
            for name in names:
                alarm = self.alarm_store.get(ctx.account_id, ctx.region, name)
                if alarm is not None and alarm.actions_enabled != enabled:
                    alarm.actions_enabled = enabled
                    alarm.config["ActionsEnabled"] = enabled
                    self.alarm_store.save(alarm)
        return {}

    # -- tags ---------------------------------------------------------------------------

    def _alarm_by_arn(self, ctx: RequestContext, arn: str) -> Alarm:
        prefix = f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:"
        alarm = None
        if arn.startswith(prefix):
            alarm = self.alarm_store.get(ctx.account_id, ctx.region, arn[len(prefix):])
        if alarm is None:
            kind = arn.split(":")[5] if arn.count(":") >= 6 else "resource"
            raise v.ResourceNotFoundException(
                f"{kind.capitalize() if kind == 'alarm' else 'Resource'} {arn} not found",
                fields={"ResourceType": kind, "ResourceId": arn})
        return alarm

    def tag_resource(self, ctx: RequestContext, params: dict) -> dict:
        with self.alarm_engine.lock:
            alarm = self._alarm_by_arn(ctx, params["ResourceARN"])
            tags = {t["Key"]: t["Value"] for t in alarm.tags}
            tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
            merged = [{"Key": k, "Value": val} for k, val in tags.items()]
            v.check_tags(merged)
            alarm.tags = merged
            self.alarm_store.save(alarm)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict) -> dict:
        with self.alarm_engine.lock:
            alarm = self._alarm_by_arn(ctx, params["ResourceARN"])
            drop = set(params["TagKeys"])
            alarm.tags = [t for t in alarm.tags if t["Key"] not in drop]
            self.alarm_store.save(alarm)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict) -> dict:
        alarm = self._alarm_by_arn(ctx, params["ResourceARN"])
        return {"Tags": alarm.tags}


# -- shapes -----------------------------------------------------------------------------

def describe(alarm: Alarm) -> dict:
    """An alarm in DescribeAlarms' MetricAlarm or CompositeAlarm shape."""
    out = {k: val for k, val in alarm.config.items() if not k.startswith("_")}
    out.update({
        "AlarmName": alarm.name, "AlarmArn": alarm.arn,
        "AlarmConfigurationUpdatedTimestamp": alarm.config_updated,
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": out.get("OKActions") or [],
        "AlarmActions": out.get("AlarmActions") or [],
        "InsufficientDataActions": out.get("InsufficientDataActions") or [],
        "StateValue": alarm.state_value, "StateReason": alarm.state_reason,
        "StateUpdatedTimestamp": alarm.state_updated,
        "StateTransitionedTimestamp": alarm.state_transitioned,
    })
    if alarm.state_reason_data:
        out["StateReasonData"] = alarm.state_reason_data
    out.update(suppression.describe(alarm))
    if alarm.config.get("_evaluation_state"):
        out["EvaluationState"] = alarm.config["_evaluation_state"]
    if not alarm.composite and "Dimensions" not in out and "Metrics" not in out:
        out["Dimensions"] = []
    return out


def _history_view(alarm: Alarm) -> dict:
    view = describe(alarm)
    for key in ("AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp",
                "StateTransitionedTimestamp"):
        view[key] = iso_millis(view[key])
    for key in ("StateValue", "StateReason", "StateReasonData"):
        view.pop(key, None)
    return view


def _name_of(ref: str, ctx: RequestContext) -> str | None:
    if ref.startswith("arn:"):
        prefix = f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:"
        return ref[len(prefix):] if ref.startswith(prefix) else None
    return ref


def _dims(dimensions) -> list:
    return sorted((d["Name"], d["Value"]) for d in dimensions or [])




def _page(items: list, params: dict, default: int, key, descending: bool = False
          ) -> tuple[list, str | None]:
    """One page of `items` (sorted by `key`, descending or not) after the NextToken, a
    cursor on the last item returned, so pages stay right while items come and go."""
    size = params.get("MaxRecords") or default
    token = params.get("NextToken")
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
            after = tuple(after) if isinstance(after, list) else after
            items = [i for i in items if (key(i) < after if descending else key(i) > after)]
        except (ValueError, KeyError, TypeError):
            raise v.InvalidNextToken("The service cannot process the NextToken.") from None
    page = items[:size]
    if len(items) > size:
        cursor = key(page[-1])
        return page, base64.urlsafe_b64encode(json.dumps({"after": cursor}).encode()).decode()
    return page, None
