"""CloudWatch metrics: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics.

Storage, rollups and retention live in metric_store.py, statistics in statistics.py,
GetMetricData's queries and metric math in queries.py and metric_math/. Other services
publish their metrics on the bus topic `cloudwatch:metrics`; each event is stored as if
PutMetricData had been called.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import math

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.cloudwatch import statistics as stats
from cloudlet.services.cloudwatch.errors import (
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    invalid_value,
)
from cloudlet.services.cloudwatch.metric_store import Datum, MetricStore
from cloudlet.services.cloudwatch.periods import HIGH_RESOLUTION_PERIODS
from cloudlet.services.cloudwatch.statistics import Aggregate

log = logging.getLogger("cloudlet.cloudwatch")

MAX_DATA = 1000  # metrics per PutMetricData
MAX_VALUES = 150  # Values per metric
MAX_DIMENSIONS = 30
MAX_VALUE = 2.0**360
PAST = 14 * 86400
FUTURE = 2 * 3600
MAX_DATAPOINTS = 1440  # GetMetricStatistics
LIST_PAGE = 500
MAX_METRIC_DATAPOINTS = 100_800  # GetMetricData's default MaxDatapoints
RECENTLY_ACTIVE = {"PT3H": 3 * 3600}


class MetricOperations:
    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.metric_store = MetricStore(store.db)
        self.bus.subscribe("cloudwatch:metrics", self._service_metrics)

    def start(self) -> None:
        super().start()
        self.metric_store.start()

    def stop(self) -> None:
        self.metric_store.stop()
        super().stop()

    # -- writing ----------------------------------------------------------------------

    def put_metric_data(self, ctx: RequestContext, params: dict) -> dict:
        namespace = params["Namespace"]
        check_namespace(namespace)
        if namespace.startswith("AWS/"):
            raise invalid_value(namespace, "Namespace")
        data = params.get("MetricData") or []
        if not data and not params.get("EntityMetricData"):
            raise MissingParameter("The parameter MetricData is required.")
        if len(data) > MAX_DATA:
            raise InvalidParameterValue(
                f"The collection MetricData must not have a size greater than {MAX_DATA}.")
        datums = [to_datum(d, f"MetricData.member.{i}") for i, d in enumerate(data, 1)]
        for j, entity in enumerate(params.get("EntityMetricData") or [], 1):
            batch = entity.get("MetricData") or []
            datums += [to_datum(d, f"EntityMetricData.member.{j}.MetricData.member.{i}")
                       for i, d in enumerate(batch, 1)]
        self.metric_store.put(ctx.account_id, ctx.region, namespace, datums)
        return {}

    def _service_metrics(self, event: dict) -> None:
        """A `cloudwatch:metrics` event: stored as PutMetricData would, AWS/ namespaces too."""
        try:
            datums = [to_datum(d, f"MetricData.member.{i}", check_age=False)
                      for i, d in enumerate(event.get("metric_data") or [], 1)]
            self.metric_store.put(event["account"], event["region"], event["namespace"], datums)
        except Exception:
            log.exception("service metrics from %s dropped", event.get("namespace"))

    # -- reading ----------------------------------------------------------------------

    def get_metric_statistics(self, ctx: RequestContext, params: dict) -> dict:
        start, end = epoch(params["StartTime"]), epoch(params["EndTime"])
        period = params["Period"]
        basic = params.get("Statistics") or []
        extended = params.get("ExtendedStatistics") or []
        if not basic and not extended:
            raise MissingParameter("Must specify either Statistics or ExtendedStatistics.")
        if basic and extended:
            raise InvalidParameterCombination(
                "Must specify either Statistics or ExtendedStatistics, but not both.")
        for name in extended:
            if not stats.is_extended(name) or not stats.is_valid(name):
                raise InvalidParameterValue(
                    f"The value {name} for parameter ExtendedStatistics is not a valid "
                    "extended statistic.")
        check_period(period, "Period")
        check_range(start, end)
        requested = math.ceil((end - start) / period)
        if requested > MAX_DATAPOINTS:
            raise InvalidParameterCombination(
                f"You have requested up to {requested:,} datapoints, which exceeds the limit of "
                f"{MAX_DATAPOINTS:,}. You may reduce the datapoints requested by increasing "
                "Period, or decreasing the time range.")
        name = params["MetricName"]
        dimensions = params.get("Dimensions") or []
        unit = params.get("Unit")
        store = self.metric_store
        metric_id = store.metric_id(ctx.account_id, ctx.region, params["Namespace"], name,
                                    dimensions)
        datapoints = []
        if metric_id is not None:
            # without a Unit, data written with different units comes back apart, as in AWS
            periods = store.periods(metric_id, start, end, period, unit, bool(extended),
                                    by_unit=True)
            for ts, point_unit in sorted(periods):
                agg = periods[ts, point_unit][0]
                point = {"Timestamp": ts, "Unit": unit or point_unit}
                for stat in basic:
                    point[stat] = stats.value(agg, stat)
                if extended:
                    values = {s: stats.value(agg, s) for s in extended}
                    point["ExtendedStatistics"] = {s: v for s, v in values.items()
                                                   if v is not None}
                datapoints.append(point)
        return {"Label": name, "Datapoints": datapoints}

    def get_metric_data(self, ctx: RequestContext, params: dict) -> dict:
        start, end = epoch(params["StartTime"]), epoch(params["EndTime"])
        scan_by = params.get("ScanBy") or "TimestampDescending"
        limit = params.get("MaxDatapoints") or MAX_METRIC_DATAPOINTS
        results = self.metric_store.evaluate(ctx.account_id, ctx.region,
                                             params["MetricDataQueries"], start, end, scan_by)
        fingerprint = _fingerprint(params)
        offset = decode_token(params.get("NextToken"), InvalidNextToken, f=fingerprint)
        page, more = _page(results, offset, limit)
        reply: dict = {"MetricDataResults": page, "Messages": []}
        if more:
            reply["NextToken"] = encode_token(offset + limit, f=fingerprint)
        return reply

    def list_metrics(self, ctx: RequestContext, params: dict) -> dict:
        since = clock.timestamp() - PAST
        active = params.get("RecentlyActive")
        if active is not None:
            since = clock.timestamp() - RECENTLY_ACTIVE[active]
        wanted = params.get("Dimensions") or []
        for i, f in enumerate(wanted, 1):
            if not f.get("Name"):
                raise MissingParameter(f"The parameter Dimensions.member.{i}.Name is required.")
        found = []
        # another account's metrics (OwningAccount) only a monitoring account lists: none
        stored = [] if params.get("OwningAccount") not in (None, ctx.account_id) else \
            self.metric_store.metrics(ctx.account_id, ctx.region, params.get("Namespace"),
                                      params.get("MetricName"), since)
        for metric in stored:
            have = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            if all(f["Name"] in have and f.get("Value") in (None, have[f["Name"]])
                   for f in wanted):
                found.append(metric)
        offset = decode_token(params.get("NextToken"), InvalidNextToken)
        page = found[offset:offset + LIST_PAGE]
        result: dict = {"Metrics": [{k: m[k] for k in ("Namespace", "MetricName", "Dimensions")}
                                    for m in page]}
        if offset + LIST_PAGE < len(found):
            result["NextToken"] = encode_token(offset + LIST_PAGE)
        if params.get("IncludeLinkedAccounts"):
            result["OwningAccounts"] = [ctx.account_id] * len(page)
        return result


# -- input ------------------------------------------------------------------------------

def epoch(value) -> float:
    """Epoch seconds of a timestamp: a datetime, ISO 8601, epoch seconds or, from services
    on the bus (Embedded Metric Format counts in them), epoch milliseconds."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    seconds = float(value)
    return seconds / 1000 if seconds > 1e11 else seconds


def printable_ascii(text: str) -> bool:
    """ASCII without control characters, and not only whitespace: CloudWatch's rule for
    namespaces, metric names and dimension names."""
    return bool(text.strip()) and text.isascii() and text.isprintable()


def check_namespace(namespace: str) -> None:
    if not printable_ascii(namespace) or namespace.startswith(":"):
        raise invalid_value(namespace, "Namespace")


def check_period(period: int, parameter: str) -> None:
    if period <= 0 or (period not in HIGH_RESOLUTION_PERIODS and period % 60):
        raise InvalidParameterValue(
            f"The parameter {parameter} must be 1, 5, 10, 20, 30, or a multiple of 60.")


def check_range(start: float, end: float) -> None:
    if start >= end:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter "
                                    "EndTime.")


def check_number(value, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_value(value, parameter)
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise invalid_value("NaN" if math.isnan(value) else
                            ("Infinity" if value > 0 else "-Infinity"), parameter)
    if value != 0 and not (2.0**-260 <= abs(value) <= MAX_VALUE):
        raise invalid_value(value, parameter)
    return value


def check_dimensions(dimensions: list[dict], path: str) -> None:
    if len(dimensions) > MAX_DIMENSIONS:
        raise InvalidParameterValue(
            f"The collection {path} must not have a size greater than {MAX_DIMENSIONS}.")
    seen = set()
    for i, d in enumerate(dimensions, 1):
        name, value = d.get("Name"), d.get("Value")
        if name is None:
            raise MissingParameter(f"The parameter {path}.member.{i}.Name is required.")
        if value is None:
            raise MissingParameter(f"The parameter {path}.member.{i}.Value is required.")
        if not printable_ascii(name) or name.startswith(":"):
            raise invalid_value(name, f"{path}.member.{i}.Name")
        if not value.strip():
            raise invalid_value(value, f"{path}.member.{i}.Value")
        if name in seen:
            raise InvalidParameterValue(
                f"No metric may have duplicate dimension names: {name} in {path}.")
        seen.add(name)


def to_datum(d: dict, path: str, check_age: bool = True) -> Datum:
    """One MetricDatum, checked as PutMetricData checks it, as a Datum to store."""
    name = d.get("MetricName")
    if not name:
        raise MissingParameter(f"The parameter {path}.MetricName is required.")
    if not printable_ascii(name):
        raise invalid_value(name, f"{path}.MetricName")
    dimensions = d.get("Dimensions") or []
    check_dimensions(dimensions, f"{path}.Dimensions")
    now = clock.timestamp()
    ts = epoch(d["Timestamp"]) if d.get("Timestamp") is not None else now
    if check_age and ts < now - PAST:
        raise InvalidParameterValue(f"The parameter {path}.Timestamp must specify a time no "
                                    "more than two weeks in the past.")
    if check_age and ts > now + FUTURE:
        raise InvalidParameterValue(f"The parameter {path}.Timestamp must specify a time no "
                                    "more than two hours in the future.")
    resolution = d.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise invalid_value(resolution, f"{path}.StorageResolution")
    return Datum(name, dimensions, ts, resolution, d.get("Unit") or "None",
                 _aggregate(d, path))


def _aggregate(d: dict, path: str) -> Aggregate:
    value, values, statistic_set = d.get("Value"), d.get("Values"), d.get("StatisticValues")
    given = [k for k, v in (("Value", value), ("StatisticValues", statistic_set),
                            ("Values", values)) if v is not None]
    if len(given) > 1:
        raise InvalidParameterCombination(
            f"The parameters {path}.{given[0]} and {path}.{given[1]} are mutually exclusive "
            "and you have specified both.")
    agg = Aggregate()
    if value is not None:
        agg.add(check_number(value, f"{path}.Value"))
    elif statistic_set is not None:
        part = f"{path}.StatisticValues"
        count, total, lo, hi = (check_number(statistic_set.get(k), f"{part}.{k}")
                                if statistic_set.get(k) is not None else None
                                for k in ("SampleCount", "Sum", "Minimum", "Maximum"))
        for key, v in zip(("SampleCount", "Sum", "Minimum", "Maximum"), (count, total, lo, hi),
                          strict=True):
            if v is None:
                raise MissingParameter(f"The parameter {part}.{key} is required.")
        if count <= 0:
            raise invalid_value(statistic_set["SampleCount"], f"{part}.SampleCount")
        if lo > hi:
            raise InvalidParameterValue(f"The parameter {part}.Minimum must be less than or "
                                        f"equal to the parameter {part}.Maximum.")
        agg.add_set(count, total, lo, hi)
    elif values is not None:
        counts = d.get("Counts")
        if len(values) > MAX_VALUES:
            raise InvalidParameterValue(f"The collection {path}.Values must not have a size "
                                        f"greater than {MAX_VALUES}.")
        if counts is not None and len(counts) != len(values):
            raise InvalidParameterValue(f"The parameters {path}.Values and {path}.Counts must "
                                        "be of the same size.")
        for i, v in enumerate(values, 1):
            c = 1.0 if counts is None else check_number(counts[i - 1],
                                                          f"{path}.Counts.member.{i}")
            if c < 0:
                raise invalid_value(counts[i - 1], f"{path}.Counts.member.{i}")
            if c > 0:
                agg.add(check_number(v, f"{path}.Values.member.{i}"), c)
    else:
        raise MissingParameter(f"At least one of the parameters {path}.Value, "
                               f"{path}.StatisticValues or {path}.Values must be specified.")
    return agg


def _fingerprint(params: dict) -> str:
    """What a GetMetricData NextToken is bound to: the same queries and time range."""
    import hashlib

    basis = json.dumps([params["MetricDataQueries"], epoch(params["StartTime"]),
                        epoch(params["EndTime"]), params.get("ScanBy")],
                       sort_keys=True, default=str)
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _page(results: list[dict], offset: int, limit: int) -> tuple[list[dict], bool]:
    """Datapoints offset..offset+limit of all results taken in order; True if more remain."""
    page, skipped, room = [], 0, limit
    total = sum(len(r["Values"]) for r in results)
    for r in results:
        n = len(r["Values"])
        begin = max(0, offset - skipped)
        skipped += n
        take = min(max(0, n - begin), room)
        room -= take
        partial = begin + take < n
        page.append({**r, "Timestamps": r["Timestamps"][begin:begin + take],
                     "Values": r["Values"][begin:begin + take],
                     "StatusCode": "PartialData" if partial else r["StatusCode"]})
    return page, offset + limit < total


def encode_token(offset: int, **extra) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, **extra}).encode()).decode()


def decode_token(token: str | None, error=InvalidNextToken, **expect) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise error("The service couldn't process the NextToken.") from None
    if offset < 0 or any(data.get(k) != v for k, v in expect.items()):
        raise error("The service couldn't process the NextToken.")
    return offset
