"""Metric filters, subscription filters and Embedded Metric Format.

After each PutLogEvents the stored events go through the group's filters:

- a metric filter turns matching events into metric values (one datum per metric,
  dimensions and minute, with `Values`/`Counts`), published on `cloudwatch:metrics`;
- a subscription filter publishes the matching events on `logs:subscription`, for the
  destination (a Lambda function) to receive;
- an event whose message is JSON with an `_aws.CloudWatchMetrics` block (Embedded Metric
  Format) creates the metrics it declares, in any group.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections import defaultdict

from cloudlet.services.logs.errors import InvalidParameter, LimitExceeded, ResourceNotFound
from cloudlet.services.logs.groups import decode_token, encode_token, now_ms
from cloudlet.services.logs.patterns import (
    DelimitedPattern,
    TermPattern,
    compile_pattern,
    json_value,
    split_fields,
)

MAX_METRIC_FILTERS = 100
MAX_SUBSCRIPTION_FILTERS = 2
MAX_DIMENSIONS = 3
MINUTE_MS = 60_000


def _when(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


class _Filters:
    """A group's metric and subscription filters, compiled, cached until they change."""

    def __init__(self, metric: list, subscription: list):
        self.metric = [(row, compile_pattern(row["pattern"]), json.loads(row["transformations"]))
                       for row in metric]
        self.subscription = [(row, compile_pattern(row["pattern"])) for row in subscription]


class FilterOperations:
    _filter_cache: dict
    _filter_lock: threading.Lock

    def _filters(self, account: str, region: str, group: str) -> _Filters:
        if not hasattr(self, "_filter_cache"):
            self._filter_cache, self._filter_lock = {}, threading.Lock()
        key = (account, region, group)
        cached = self._filter_cache.get(key)
        if cached is None:
            metric = self.store.db.query(
                "SELECT * FROM logs_metric_filters WHERE account = ? AND region = ? "
                "AND log_group = ? ORDER BY name", key)
            subscription = self.store.db.query(
                "SELECT * FROM logs_subscription_filters WHERE account = ? AND region = ? "
                "AND log_group = ? ORDER BY name", key)
            cached = self._filter_cache[key] = _Filters(metric, subscription)
        return cached

    def forget_filters(self, account: str, region: str, group: str) -> None:
        if hasattr(self, "_filter_cache"):
            self._filter_cache.pop((account, region, group), None)

    # -- after each PutLogEvents -------------------------------------------------------------

    def after_put(self, group, stream: str, timestamps: list[int], messages: list[str],
                  first_id: int, ingested: int) -> None:
        account, region, name = group["account"], group["region"], group["name"]
        emf = ([i for i, m in enumerate(messages) if "_aws" in m]
               if "_aws" in "\x00".join(messages) else ())  # one C-level scan first
        for i in emf:
            for namespace, data in embedded_metrics(messages[i], timestamps[i]):
                self.bus.publish("cloudwatch:metrics", {"account": account, "region": region,
                                                        "namespace": namespace,
                                                        "metric_data": data})
        filters = self._filters(account, region, name)
        for _row, pattern, transformations in filters.metric:
            self._publish_metrics(account, region, pattern, transformations, timestamps,
                                  messages)
        for row, pattern in filters.subscription:
            matched = [{"id": f"{first_id + i:056d}", "timestamp": ts, "message": m}
                       for i, (ts, m) in enumerate(zip(timestamps, messages, strict=True))
                       if pattern.matches(m)]
            if matched:
                self.bus.publish("logs:subscription", {
                    "account": account, "region": region,
                    "destination_arn": row["destination_arn"], "filter_name": row["name"],
                    "log_group": name, "log_stream": stream, "events": matched})

    def _publish_metrics(self, account, region, pattern, transformations, timestamps,
                         messages) -> None:
        by_namespace: dict[str, list] = defaultdict(list)
        for t in transformations:
            buckets: dict[tuple, dict[float, int]] = defaultdict(lambda: defaultdict(int))
            unmatched_minutes = set()
            for ts, message in zip(timestamps, messages, strict=True):
                minute = ts - ts % MINUTE_MS
                extracted = pattern.extract(message)
                if extracted is None:
                    unmatched_minutes.add(minute)
                    continue
                value = metric_value(t["metricValue"], pattern, message, extracted)
                if value is None:
                    continue
                dims = dimension_values(t.get("dimensions") or {}, pattern, message, extracted)
                if dims is None:
                    continue
                buckets[(minute, dims)][value] += 1
            if t.get("defaultValue") is not None:
                for minute in unmatched_minutes - {m for m, _ in buckets}:
                    buckets[(minute, ())][float(t["defaultValue"])] += 1
            for (minute, dims), counts in buckets.items():
                datum = {"MetricName": t["metricName"], "Timestamp": _when(minute),
                         "Values": list(counts), "Counts": [float(c) for c in counts.values()]}
                if dims:
                    datum["Dimensions"] = [{"Name": k, "Value": v} for k, v in dims]
                if t.get("unit"):
                    datum["Unit"] = t["unit"]
                by_namespace[t["metricNamespace"]].append(datum)
        for namespace, data in by_namespace.items():
            self.bus.publish("cloudwatch:metrics", {"account": account, "region": region,
                                                    "namespace": namespace,
                                                    "metric_data": data})

    # -- metric filters ------------------------------------------------------------------------

    def put_metric_filter(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        pattern = compile_pattern(params["filterPattern"])
        transformations = params["metricTransformations"]
        for t in transformations:
            _check_transformation(t, pattern)
        key = (group["account"], group["region"], group["name"])
        with self.store.db.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM logs_metric_filters WHERE account = ? "
                                 "AND region = ? AND log_group = ? AND name != ?",
                                 (*key, params["filterName"])).fetchone()[0]
            if count >= MAX_METRIC_FILTERS:
                raise LimitExceeded("Resource limit exceeded.")
            conn.execute(
                "INSERT OR REPLACE INTO logs_metric_filters (account, region, log_group, name, "
                "pattern, transformations, creation_time, apply_on_transformed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, params["filterName"], params["filterPattern"],
                 json.dumps(transformations), now_ms(),
                 int(bool(params.get("applyOnTransformedLogs")))))
        self.forget_filters(*key)
        return {}

    def delete_metric_filter(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        key = (group["account"], group["region"], group["name"], params["filterName"])
        with self.store.db.transaction() as conn:
            gone = conn.execute("DELETE FROM logs_metric_filters WHERE account = ? "
                                "AND region = ? AND log_group = ? AND name = ?", key).rowcount
        if not gone:
            raise ResourceNotFound("The specified resource does not exist.")
        self.forget_filters(*key[:3])
        return {}

    def describe_metric_filters(self, ctx, params):
        if (params.get("metricName") is None) != (params.get("metricNamespace") is None):
            raise InvalidParameter(
                "If you specify metricName or metricNamespace, you must specify both.")
        sql = "SELECT * FROM logs_metric_filters WHERE account = ? AND region = ?"
        args: list = [ctx.account_id, ctx.region]
        if params.get("logGroupName") is not None:
            group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
            sql += " AND log_group = ?"
            args.append(group["name"])
        elif params.get("filterNamePrefix") is not None:
            raise InvalidParameter("If you specify filterNamePrefix, you must specify "
                                   "logGroupName.")
        if params.get("filterNamePrefix"):
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(params["filterNamePrefix"]), params["filterNamePrefix"]]
        rows = self.store.db.query(sql + " ORDER BY log_group, name", args)
        if params.get("metricName") is not None:
            rows = [r for r in rows if any(
                t["metricName"] == params["metricName"]
                and t["metricNamespace"] == params["metricNamespace"]
                for t in json.loads(r["transformations"]))]
        page, token = _page(rows, params)
        result = {"metricFilters": [{
            "filterName": r["name"], "filterPattern": r["pattern"],
            "metricTransformations": json.loads(r["transformations"]),
            "creationTime": r["creation_time"], "logGroupName": r["log_group"],
            "applyOnTransformedLogs": bool(r["apply_on_transformed"])} for r in page]}
        if token:
            result["nextToken"] = token
        return result

    def test_metric_filter(self, ctx, params):
        pattern = compile_pattern(params["filterPattern"])
        matches = []
        for number, message in enumerate(params["logEventMessages"], 1):
            extracted = pattern.extract(message)
            if extracted is not None:
                matches.append({"eventNumber": number, "eventMessage": message,
                                "extractedValues": extracted})
        return {"matches": matches}

    # -- subscription filters ------------------------------------------------------------------

    def put_subscription_filter(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        compile_pattern(params["filterPattern"])
        destination = params["destinationArn"]
        parts = destination.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in (
                "lambda", "kinesis", "firehose", "logs"):
            raise InvalidParameter(f"Invalid destination ARN: {destination}")
        key = (group["account"], group["region"], group["name"])
        with self.store.db.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM logs_subscription_filters "
                                 "WHERE account = ? AND region = ? AND log_group = ? "
                                 "AND name != ?", (*key, params["filterName"])).fetchone()[0]
            if count >= MAX_SUBSCRIPTION_FILTERS:
                raise LimitExceeded("Resource limit exceeded.")
            conn.execute(
                "INSERT OR REPLACE INTO logs_subscription_filters (account, region, log_group, "
                "name, pattern, destination_arn, role_arn, distribution, creation_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, params["filterName"], params["filterPattern"], destination,
                 params.get("roleArn"), params.get("distribution") or "ByLogStream", now_ms()))
        self.forget_filters(*key)
        return {}

    def delete_subscription_filter(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        key = (group["account"], group["region"], group["name"], params["filterName"])
        with self.store.db.transaction() as conn:
            gone = conn.execute("DELETE FROM logs_subscription_filters WHERE account = ? "
                                "AND region = ? AND log_group = ? AND name = ?", key).rowcount
        if not gone:
            raise ResourceNotFound("The specified subscription filter does not exist.")
        self.forget_filters(*key[:3])
        return {}

    def describe_subscription_filters(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        sql = ("SELECT * FROM logs_subscription_filters WHERE account = ? AND region = ? "
               "AND log_group = ?")
        args: list = [group["account"], group["region"], group["name"]]
        if params.get("filterNamePrefix"):
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(params["filterNamePrefix"]), params["filterNamePrefix"]]
        rows = self.store.db.query(sql + " ORDER BY name", args)
        page, token = _page(rows, params)
        filters = []
        for r in page:
            described = {"filterName": r["name"], "logGroupName": r["log_group"],
                         "filterPattern": r["pattern"], "destinationArn": r["destination_arn"],
                         "distribution": r["distribution"], "creationTime": r["creation_time"],
                         "applyOnTransformedLogs": False}
            if r["role_arn"]:
                described["roleArn"] = r["role_arn"]
            filters.append(described)
        result = {"subscriptionFilters": filters}
        if token:
            result["nextToken"] = token
        return result


def _page(rows: list, params: dict) -> tuple[list, str | None]:
    start = decode_token(params["nextToken"]) if params.get("nextToken") else 0
    if type(start) is not int or start < 0:
        raise InvalidParameter("The specified nextToken is invalid.")
    limit = params.get("limit") or 50
    page = rows[start:start + limit]
    return page, (encode_token(start + limit) if start + limit < len(rows) else None)


def _check_transformation(t: dict, pattern) -> None:
    value = t["metricValue"]
    if not value:
        raise InvalidParameter("Invalid metric value: the metric value must not be empty.")
    if not value.startswith("$") and _number(value) is None:
        raise InvalidParameter(f"Invalid metric value: {value}")
    dimensions = t.get("dimensions") or {}
    if dimensions and isinstance(pattern, TermPattern):
        raise InvalidParameter("The specified filter pattern does not support dimensions")
    if len(dimensions) > MAX_DIMENSIONS:
        raise InvalidParameter(
            f"A metric transformation can have at most {MAX_DIMENSIONS} dimensions.")
    if dimensions and t.get("defaultValue") is not None:
        raise InvalidParameter(
            "You can't specify both default value and dimensions in a metric transformation.")
    for reference in dimensions.values():
        if not reference.startswith("$"):
            raise InvalidParameter(f"Invalid dimension value: {reference}")


def _reference(reference: str, pattern, message: str, extracted: dict):
    if reference.startswith("$."):
        return json_value(message, reference)
    if isinstance(pattern, DelimitedPattern):
        return extracted.get(reference)
    return None


def metric_value(reference: str, pattern, message: str, extracted: dict) -> float | None:
    if not reference.startswith("$"):
        return _number(reference)
    return _number(_reference(reference, pattern, message, extracted))


def dimension_values(dimensions: dict, pattern, message: str, extracted: dict) -> tuple | None:
    values = []
    for name, reference in sorted(dimensions.items()):
        value = _reference(reference, pattern, message, extracted)
        if value is None or isinstance(value, dict | list):
            return None
        values.append((name, value if isinstance(value, str) else json.dumps(value)))
    return tuple(values)


# -- Embedded Metric Format ----------------------------------------------------------------------

def embedded_metrics(message: str, event_time: int) -> list[tuple[str, list]]:
    """(namespace, [MetricDatum]) for each CloudWatchMetrics directive of an EMF event;
    [] for anything that is not valid EMF (it stays an ordinary log event)."""
    if not message.lstrip().startswith("{"):
        return []
    try:
        document = json.loads(message)
    except (ValueError, RecursionError):
        return []
    meta = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("CloudWatchMetrics"), list):
        return []
    timestamp = meta.get("Timestamp", event_time)
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return []
    out = []
    for directive in meta["CloudWatchMetrics"]:
        if not isinstance(directive, dict) or not isinstance(directive.get("Namespace"), str):
            continue
        dimension_sets = directive.get("Dimensions") or [[]]
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or not isinstance(dimension_sets, list):
            continue
        data = []
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list):
                continue
            dims = [{"Name": d, "Value": document[d]} for d in dimension_set
                    if isinstance(d, str) and isinstance(document.get(d), str)]
            if len(dims) != len(dimension_set):
                continue
            for metric in metrics:
                datum = _emf_datum(metric, document, timestamp, dims)
                if datum is not None:
                    data.append(datum)
        if data:
            out.append((directive["Namespace"], data))
    return out


def _emf_datum(metric, document: dict, timestamp: int, dims: list) -> dict | None:
    if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
        return None
    raw = document.get(metric["Name"])
    values = raw if isinstance(raw, list) else [raw]
    numbers = [_number(v) for v in values if not isinstance(v, str)]
    if not numbers or any(n is None for n in numbers):
        return None
    datum = {"MetricName": metric["Name"], "Timestamp": _when(timestamp)}
    if len(numbers) == 1:
        datum["Value"] = numbers[0]
    else:
        datum["Values"] = numbers
    if dims:
        datum["Dimensions"] = dims
    if isinstance(metric.get("Unit"), str):
        datum["Unit"] = metric["Unit"]
    if metric.get("StorageResolution") in (1, 60):
        datum["StorageResolution"] = metric["StorageResolution"]
    return datum


__all__ = ["FilterOperations", "embedded_metrics", "split_fields"]
