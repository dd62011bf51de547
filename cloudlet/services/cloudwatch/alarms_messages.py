"""What an alarm's actions send: AWS's alarm notification for SNS (JSON message and
subject, with the region's long name), the alarm event for Lambda, and the Trigger that
describes what a metric or math alarm watches."""

from __future__ import annotations

import json

from botocore.loaders import Loader

from cloudlet.services.cloudwatch.alarms_evaluation import iso_millis
from cloudlet.services.cloudwatch.alarms_store import Alarm


def _region_names() -> dict[str, str]:
    names = {}
    for partition in Loader().load_data("endpoints")["partitions"]:
        for region, info in partition["regions"].items():
            names[region] = info.get("description", region)
    return names


REGION_NAMES = _region_names()


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


def subject(alarm: Alarm) -> str:
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name(alarm.region)}'
    return subject if len(subject) <= 100 else subject[:97] + "..."

def notification(alarm: Alarm, old_state: str, when: float) -> dict:
    config = alarm.config
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": config.get("AlarmDescription"),
        "AWSAccountId": alarm.account,
        "AlarmConfigurationUpdatedTimestamp": iso_millis(alarm.config_updated),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": iso_millis(when),
        "Region": region_name(alarm.region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state,
        "OKActions": config.get("OKActions") or [],
        "AlarmActions": config.get("AlarmActions") or [],
        "InsufficientDataActions": config.get("InsufficientDataActions") or [],
    }
    if alarm.composite:
        message["AlarmRule"] = config["AlarmRule"]
        reason_data = json.loads(alarm.state_reason_data or "{}")
        message["TriggeringChildren"] = [
            {"Arn": t["arn"], "State": {"Value": t["state"]["value"],
                                        "Timestamp": t["state"]["timestamp"]}}
            for t in reason_data.get("triggeringAlarms", [])]
        return message
    message["Trigger"] = trigger(config)
    return message


def lambda_event(alarm: Alarm, old_state: str, when: float) -> dict:
    config = {k: v for k, v in alarm.config.items() if not k.startswith("_")}
    state = {"value": alarm.state_value, "reason": alarm.state_reason,
             "timestamp": iso_millis(when)}
    if alarm.state_reason_data:
        state["reasonData"] = alarm.state_reason_data
    return {
        "source": "aws.cloudwatch", "alarmArn": alarm.arn, "accountId": alarm.account,
        "time": iso_millis(when), "region": alarm.region,
        "alarmData": {"alarmName": alarm.name, "state": state,
                      "previousState": alarm.config.get("_previous") or {"value": old_state},
                      "configuration": {"description": config.get("AlarmDescription"),
                                        **_lambda_configuration(config)}},
    }


def trigger(config: dict) -> dict:
    """The notification's Trigger: what the alarm watches, as CloudWatch writes it."""
    out: dict = {}
    if config.get("Metrics"):
        out.update({"Period": config["_period"],
                    "EvaluationPeriods": config["EvaluationPeriods"],
                    "DatapointsToAlarm": config.get("DatapointsToAlarm") or
                    config["EvaluationPeriods"],
                    "ComparisonOperator": config["ComparisonOperator"],
                    "Threshold": config.get("Threshold"),
                    "TreatMissingData": config.get("TreatMissingData", "missing"),
                    "EvaluateLowSampleCountPercentile": "",
                    "Metrics": [_query(q) for q in config["Metrics"]]})
    else:
        extended = config.get("ExtendedStatistic")
        out.update({"MetricName": config["MetricName"], "Namespace": config["Namespace"]})
        if extended:
            out.update({"StatisticType": "ExtendedStatistic", "ExtendedStatistic": extended})
        else:
            out.update({"StatisticType": "Statistic",
                        "Statistic": config["Statistic"].upper()})
        out.update({
            "Unit": config.get("Unit"),
            "Dimensions": [{"value": d["Value"], "name": d["Name"]}
                           for d in config.get("Dimensions") or []],
            "Period": config["Period"],
            "EvaluationPeriods": config["EvaluationPeriods"],
        })
        out.update({
            "DatapointsToAlarm": config.get("DatapointsToAlarm") or config["EvaluationPeriods"],
            "ComparisonOperator": config["ComparisonOperator"],
            "Threshold": config.get("Threshold"),
            "TreatMissingData": config.get("TreatMissingData", "missing"),
            "EvaluateLowSampleCountPercentile": config.get("EvaluateLowSampleCountPercentile",
                                                           ""),
        })
    return out


def _query(query: dict) -> dict:
    out = {k: v for k, v in query.items() if k in ("Id", "Expression", "Label", "ReturnData",
                                                    "Period", "AccountId")}
    if "MetricStat" in query:
        stat = query["MetricStat"]
        out["MetricStat"] = {"Metric": {
            "Dimensions": [{"value": d["Value"], "name": d["Name"]}
                           for d in stat["Metric"].get("Dimensions") or []],
            "MetricName": stat["Metric"].get("MetricName"),
            "Namespace": stat["Metric"].get("Namespace")},
            "Period": stat["Period"], "Stat": stat["Stat"]}
        if stat.get("Unit"):
            out["MetricStat"]["Unit"] = stat["Unit"]
    return out


def _lambda_configuration(config: dict) -> dict:
    if config.get("AlarmRule"):
        return {"alarmRule": config["AlarmRule"]}
    if config.get("Metrics"):
        return {"metrics": [{"id": q["Id"], "expression": q.get("Expression"),
                             "returnData": q.get("ReturnData", True)} for q in config["Metrics"]]}
    return {"metrics": [{"id": "m1", "metricStat": {
        "metric": {"namespace": config["Namespace"], "name": config["MetricName"],
                   "dimensions": {d["Name"]: d["Value"] for d in config.get("Dimensions") or []}},
        "period": config["Period"],
        "stat": config.get("Statistic") or config.get("ExtendedStatistic")},
        "returnData": True}]}
