"""PutMetricAlarm's and PutCompositeAlarm's rules beyond the model's shapes, in AWS's words.

`metric_alarm_config(params, region)` returns the configuration to store (the request's
members minus Tags) or raises the error AWS answers. The model's own constraints (types,
lengths, enums, required members) were checked by the codec before."""

from __future__ import annotations

import math
import re

from cloudlet.errors import ServiceError
from cloudlet.services.cloudwatch import alarms_window as windows
from cloudlet.services.cloudwatch.alarms_evaluation import BAND_OPERATORS, TREAT_MISSING
from cloudlet.services.cloudwatch.errors import (  # noqa: F401  (v.<Error> in alarms.py)
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    ResourceNotFound,
    ValidationError,
    invalid_value,
)


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class InvalidFormat(ServiceError):
    code = "InvalidFormat"
    status = 400


SINGLE_METRIC = ("Namespace", "MetricName", "Dimensions", "Period", "Unit", "Statistic",
                 "ExtendedStatistic")
_NUM = r"\d+(?:\.\d+)?"
_EXTENDED = re.compile(
    rf"p{_NUM}|(?:tm|wm|tc|ts){_NUM}|IQM"
    rf"|(?:tm|wm|tc|ts|TM|WM|TC|TS|PR)\((?:-?{_NUM}%?)?:(?:-?{_NUM}%?)?\)")
_PERCENTILE = re.compile(rf"p({_NUM})")
_ACTION = re.compile(
    r"arn:aws[a-z-]*:(sns|lambda|autoscaling|automate|swf|ssm|ssm-incidents|aiops):"
    r"([a-z0-9-]*):([0-9]*):(.+)")
EC2_ACTIONS = ("stop", "terminate", "reboot", "recover")
MAX_TAGS = 50


def valid_period(period: int) -> bool:
    return period in (10, 20, 30) or (period > 0 and period % 60 == 0)


def percentile_of(statistic: str | None) -> float | None:
    m = _PERCENTILE.fullmatch(statistic or "")
    return float(m.group(1)) if m else None


def check_name(name: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationError("The alarm name must not contain ASCII control characters.")


def check_actions(params: dict, region: str, *, composite: bool) -> None:
    for key in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        for arn in params.get(key) or []:
            m = _ACTION.fullmatch(arn)
            if m is None:
                raise ValidationError(f"Invalid arn syntax: {arn}")
            service, arn_region = m.group(1), m.group(2)
            if arn_region and arn_region != region and service != "ssm-incidents":
                raise ValidationError(f"Invalid region {arn_region} specified. Only {region} "
                                      "is supported.")
            if service == "automate" and m.group(4) not in (f"ec2:{a}" for a in EC2_ACTIONS):
                raise ValidationError(f"Invalid use of EC2 action: {arn}")
            if composite and service in ("autoscaling", "automate", "swf"):
                raise ValidationError(f"Composite alarms cannot have {service} actions: {arn}")


def check_tags(tags: list[dict]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"A resource can have at most {MAX_TAGS} tags.")
    for tag in tags:
        if tag["Key"].lower().startswith("aws:"):
            raise InvalidParameterValue("Invalid tag key: tag keys beginning with 'aws:' are "
                                        "reserved for AWS use.")


def _treat_missing(params: dict) -> None:
    treat = params.get("TreatMissingData")
    if treat is not None and treat not in TREAT_MISSING:
        raise ValidationError(f"Option {treat} is not supported. Supported options for parameter "
                              "TreatMissingData are: missing, ignore, breaching, notBreaching.")
    low = params.get("EvaluateLowSampleCountPercentile")
    if low is not None and low not in ("evaluate", "ignore"):
        raise ValidationError(f"Option {low} is not supported. Supported options for parameter "
                              "EvaluateLowSampleCountPercentile are: evaluate, ignore.")


def _window(period: int, evaluation_periods: int) -> None:
    total = period * evaluation_periods
    if period < 3600 and total > 86400:
        raise ValidationError("Metrics cannot be checked across more than a day "
                              "(EvaluationPeriods * Period must be <= 86400).")
    if total > 604800:
        raise ValidationError("Metrics cannot be checked across more than 7 days "
                              "(EvaluationPeriods * Period must be <= 604800).")


def _period(period: int, name: str = "Period") -> None:
    if not valid_period(period):
        raise ValidationError(f"{name} must be 10, 20, 30 or a multiple of 60.")


def metric_alarm_config(params: dict, region: str) -> dict:
    config = {k: v for k, v in params.items() if k != "Tags" and v is not None}
    check_name(params["AlarmName"])
    if params.get("EvaluationCriteria") is not None or params.get("EvaluationInterval"):
        raise ValidationError("Cloudlet does not evaluate PromQL alarms (EvaluationCriteria); "
                              "use MetricName or Metrics.")
    window = params.get("EvaluationWindow") or {}
    if "WallClockWindow" in window and "SlidingWindow" in window:
        raise ValidationError("EvaluationWindow takes exactly one of SlidingWindow and "
                              "WallClockWindow.")
    unsupported(params)
    metrics = params.get("Metrics")
    if metrics is not None:
        given = [k for k in SINGLE_METRIC if params.get(k) is not None]
        if given:
            raise InvalidParameterCombination(
                f"The parameters Metrics and {given[0]} are mutually exclusive.")
        config["_period"] = _metrics_period(metrics, params.get("ThresholdMetricId"))
    elif params.get("MetricName") is not None:
        _single_metric(params)
        config["_period"] = params["Period"]
    else:
        raise ValidationError("One of MetricName, Metrics or EvaluationCriteria must be "
                              "specified.")
    if params.get("EvaluationPeriods") is None:
        raise MissingParameter("The parameter EvaluationPeriods is required.")
    if params.get("ComparisonOperator") is None:
        raise MissingParameter("The parameter ComparisonOperator is required.")
    n = params["EvaluationPeriods"]
    m = params.get("DatapointsToAlarm")
    if m is not None and m > n:
        raise ValidationError("DatapointsToAlarm must be less than or equal to "
                              "EvaluationPeriods.")
    _window(config["_period"], n)
    try:
        windows.check(params, config["_period"])
    except windows.WindowError as e:
        raise ValidationError(str(e)) from None
    _threshold(params)
    _treat_missing(params)
    low = params.get("EvaluateLowSampleCountPercentile")
    if low is not None and percentile_of(params.get("ExtendedStatistic")) is None:
        raise ValidationError("EvaluateLowSampleCountPercentile can only be set for alarms on "
                              "a percentile (ExtendedStatistic pNN).")
    check_actions(params, region, composite=False)
    if metrics is not None and any(
            _ACTION.fullmatch(a) and _ACTION.fullmatch(a).group(1) in ("automate", "swf")
            for k in ("OKActions", "AlarmActions", "InsufficientDataActions")
            for a in params.get(k) or []):
        raise ValidationError("Alarms based on math expressions cannot perform EC2 actions.")
    return config


def unsupported(params: dict) -> None:
    if params.get("ActionConfiguration"):
        raise ValidationError("Cloudlet does not support ActionConfiguration "
                              "(AlarmTagsPropagation) yet.")


def _single_metric(params: dict) -> None:
    for key in ("Namespace", "Period"):
        if params.get(key) is None:
            raise MissingParameter(f"The parameter {key} is required.")
    statistic, extended = params.get("Statistic"), params.get("ExtendedStatistic")
    if (statistic is None) == (extended is None):
        raise InvalidParameterCombination("Exactly one of the parameters Statistic and "
                                          "ExtendedStatistic must be specified.")
    if extended is not None and not _extended_ok(extended):
        raise InvalidParameterValue(f"The value {extended} for parameter ExtendedStatistic "
                                    "is not supported.")
    _period(params["Period"])


def _extended_ok(statistic: str) -> bool:
    if not _EXTENDED.fullmatch(statistic):
        return False
    p = percentile_of(statistic)
    return p is None or 0 <= p <= 100


def _metrics_period(metrics: list[dict], threshold_id: str | None) -> int:
    if len([q for q in metrics if "MetricStat" in q]) > 10:
        raise ValidationError("An alarm on a math expression can use at most 10 metrics.")
    ids = [q["Id"] for q in metrics]
    if len(ids) != len(set(ids)):
        raise ValidationError("The Id of each element of the Metrics list must be unique.")
    returning = [q for q in metrics if q.get("ReturnData", True) and q["Id"] != threshold_id]
    if len(returning) != 1:
        raise ValidationError("Exactly one element of the metrics list should return data.")
    periods = set()
    for q in metrics:
        if not re.fullmatch(r"[a-z][a-zA-Z0-9_]*", q["Id"]):
            raise ValidationError(f"Invalid metrics list: the Id {q['Id']} must start with a "
                                  "lowercase letter and contain only letters, numbers and "
                                  "underscores.")
        if "SEARCH(" in (q.get("Expression") or "").upper().replace(" ", ""):
            raise ValidationError("You can't create an alarm based on a search expression "
                                  "(SEARCH).")
        if ("MetricStat" in q) == ("Expression" in q):
            raise ValidationError("Exactly one of MetricStat and Expression must be specified "
                                  f"for the metric with Id {q['Id']}.")
        stat = q.get("MetricStat")
        if stat is not None:
            _period(stat["Period"], "MetricStat Period")
            periods.add(stat["Period"])
            if stat["Stat"] not in ("SampleCount", "Average", "Sum", "Minimum", "Maximum") \
                    and not _extended_ok(stat["Stat"]):
                raise InvalidParameterValue(f"The value {stat['Stat']} for parameter "
                                            "MetricStat.Stat is not supported.")
        elif q.get("Period") is not None:
            _period(q["Period"])
            periods.add(q["Period"])
    if len(periods) > 1:
        raise ValidationError("All metrics in an alarm on a math expression must use the same "
                              "period.")
    if not periods:
        raise ValidationError("The Period of the metrics list could not be determined: give "
                              "a MetricStat or the expression's Period.")
    return periods.pop()


def _threshold(params: dict) -> None:
    operator = params["ComparisonOperator"]
    threshold_id = params.get("ThresholdMetricId")
    if operator in BAND_OPERATORS:
        if threshold_id is None:
            raise ValidationError(f"ComparisonOperator {operator} is only supported for alarms "
                                  "on an anomaly detection band (ThresholdMetricId).")
        if params.get("Threshold") is not None:
            raise InvalidParameterCombination("The parameters Threshold and ThresholdMetricId "
                                              "are mutually exclusive.")
        ids = {q["Id"]: q for q in params.get("Metrics") or []}
        band = ids.get(threshold_id)
        if band is None or "ANOMALY_DETECTION_BAND" not in (band.get("Expression") or ""):
            raise ValidationError(f"ThresholdMetricId {threshold_id} must name the "
                                  "ANOMALY_DETECTION_BAND expression of the Metrics list.")
        return
    if threshold_id is not None:
        raise ValidationError(f"ComparisonOperator {operator} cannot be used with "
                              "ThresholdMetricId.")
    threshold = params.get("Threshold")
    if threshold is None:
        raise MissingParameter("The parameter Threshold is required.")
    if not math.isfinite(threshold):  # NaN, or a number past a double's range
        shown = "NaN" if threshold != threshold else ("Infinity" if threshold > 0 else "-Infinity")
        raise invalid_value(shown, "Threshold")
