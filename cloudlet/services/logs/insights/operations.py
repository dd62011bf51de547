"""Logs Insights operations: StartQuery, GetQueryResults, StopQuery, DescribeQueries, and
GetLogRecord (the event behind a result's @ptr).

StartQuery compiles the query on the request (so a malformed one fails at once, as on AWS)
and hands it to the runner's worker pool; GetQueryResults reads the query's state.
"""

from __future__ import annotations

import json
import uuid

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.logs.insights.compiler import compile_query
from cloudlet.services.logs.insights.errors import (
    invalid_parameter,
    limit_exceeded,
    resource_not_found,
)
from cloudlet.services.logs.insights.results import parse_pointer
from cloudlet.services.logs.insights.runner import Query, QueryRunner

MAX_LOG_GROUPS = 50
MAX_CONCURRENT = 30      # AWS's default quota of concurrent Logs Insights queries
LANGUAGE = "CWLI"
PAGE = 10_000            # GetQueryResults' largest page


class InsightsOperations:
    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.insights = QueryRunner(self._insights_cursor)

    def _insights_cursor(self):
        return self.events.cursor()

    def stop(self) -> None:
        self.insights.shutdown()
        super().stop()

    def start_query(self, ctx: RequestContext, params: dict) -> dict:
        language = params.get("queryLanguage", LANGUAGE)
        if language != LANGUAGE:
            raise invalid_parameter(f"Cloudlet supports only the {LANGUAGE} query language, "
                                    f"not {language}")
        groups = self._query_log_groups(ctx, params)
        start, end = params["startTime"], params["endTime"]
        if end < start:
            raise invalid_parameter("endTime must be greater than or equal to startTime")
        compiled = compile_query(params["queryString"], params.get("limit"))
        if self.insights.active(ctx.account_id, ctx.region) >= MAX_CONCURRENT:
            raise limit_exceeded(f"Account maximum query concurrency limit of "
                                 f"[{MAX_CONCURRENT}] reached.")
        query = Query(
            query_id=str(uuid.uuid4()), account=ctx.account_id, region=ctx.region,
            query_string=params["queryString"], log_groups=groups,
            start_ms=start * 1000, end_ms=end * 1000 + 999, compiled=compiled,
            create_time=int(clock.timestamp() * 1000),
            user_identity=getattr(ctx.caller, "arn", "") or "",
        )
        self.insights.submit(query)
        return {"queryId": query.query_id}

    def _query_log_groups(self, ctx: RequestContext, params: dict) -> list[str]:
        given = [k for k in ("logGroupName", "logGroupNames", "logGroupIdentifiers")
                 if params.get(k)]
        if len(given) != 1:
            raise invalid_parameter("Exactly one of logGroupName, logGroupNames and "
                                    "logGroupIdentifiers must be specified")
        value = params[given[0]]
        names = [value] if isinstance(value, str) else list(value)
        if len(names) > MAX_LOG_GROUPS:
            raise invalid_parameter(f"A query may search at most {MAX_LOG_GROUPS} log groups")
        groups = []
        for name in names:
            record = self.log_group_record(ctx, name)
            if record is None:
                raise resource_not_found(f"Log group '{name}' does not exist for account ID "
                                         f"'{ctx.account_id}'")
            groups.append(record["name"])
        return groups

    def _query(self, ctx: RequestContext, query_id: str) -> Query:
        query = self.insights.queries.get(query_id)
        if query is None or query.account != ctx.account_id or query.region != ctx.region:
            raise resource_not_found("Query does not exist.")
        return query

    def get_query_results(self, ctx: RequestContext, params: dict) -> dict:
        query = self._query(ctx, params["queryId"])
        status = query.status
        results = query.results if status == "Complete" else []
        out = {"queryLanguage": LANGUAGE, "status": status,
               "statistics": dict(query.statistics)}
        offset = _offset(params.get("nextToken"))
        size = params.get("maxItems") or PAGE
        out["results"] = results[offset:offset + size]
        if offset + size < len(results):
            out["nextToken"] = str(offset + size)
        return out

    def stop_query(self, ctx: RequestContext, params: dict) -> dict:
        query = self._query(ctx, params["queryId"])
        return {"success": self.insights.stop(query)}

    def get_log_record(self, ctx: RequestContext, params: dict) -> dict:
        """The whole event behind a result row's @ptr, with its discovered fields."""
        pointer = parse_pointer(params["logRecordPointer"])
        if pointer is None:
            raise invalid_parameter("The specified logRecordPointer is not valid.")
        group, event_id = pointer
        row = self.events.cursor().execute(
            "SELECT timestamp, ingestion_time, log_stream, message FROM log_events "
            "WHERE account = ? AND region = ? AND log_group = ? AND event_id = ?",
            [ctx.account_id, ctx.region, group, event_id]).fetchone()
        if row is None:
            raise resource_not_found("The specified log record does not exist.")
        timestamp, ingested, stream, message = row
        record = discovered_fields(message)
        record.update({"@timestamp": str(timestamp), "@ingestionTime": str(ingested),
                       "@log": f"{ctx.account_id}:{group}", "@logStream": stream,
                       "@message": message})
        return {"logRecord": record}

    def describe_queries(self, ctx: RequestContext, params: dict) -> dict:
        group = params.get("logGroupName")
        if group is not None:
            record = self.log_group_record(ctx, group)
            group = record["name"] if record else group
        status = params.get("status")
        found = [q for q in list(self.insights.queries.values())
                 if q.account == ctx.account_id and q.region == ctx.region
                 and (group is None or group in q.log_groups)
                 and (status is None or q.status == status)]
        found.sort(key=lambda q: q.create_time, reverse=True)
        offset = _offset(params.get("nextToken"))
        size = params.get("maxResults") or 1000
        out = {"queries": [_info(q) for q in found[offset:offset + size]]}
        if offset + size < len(found):
            out["nextToken"] = str(offset + size)
        return out


def discovered_fields(message: str) -> dict[str, str]:
    """A JSON event's fields, flattened as Insights names them (`a.b`, `list.0`)."""
    if not message.startswith("{"):
        return {}
    try:
        document = json.loads(message)
    except ValueError:
        return {}
    out: dict[str, str] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(f"{prefix}.{i}", item)
        elif value is not None:
            out[prefix] = json.dumps(value) if isinstance(value, bool) else str(value)

    walk("", document)
    return out


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise invalid_parameter("The specified nextToken is not valid.")
    return int(token)


def _info(query: Query) -> dict:
    info = {"queryLanguage": LANGUAGE, "queryId": query.query_id,
            "queryString": query.query_string, "status": query.status,
            "createTime": query.create_time, "logGroupName": query.log_groups[0]}
    if query.status == "Complete":
        info["queryDuration"] = query.duration_ms
        info["bytesScanned"] = query.statistics["bytesScanned"]
    if query.user_identity:
        info["userIdentity"] = query.user_identity
    return info
