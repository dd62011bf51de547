"""CloudWatch Logs: one provider composed of its operation families.

    operations.py        log groups, streams, PutLogEvents, GetLogEvents, FilterLogEvents,
                         retention, metric and subscription filters, tags
    eventstore.py        the log events themselves, in DuckDB (`<data>/logs/events.duckdb`)
    insights/            StartQuery, GetQueryResults, StopQuery, DescribeQueries
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.logs.insights.operations import InsightsOperations
from cloudlet.services.logs.operations import LogOperations


class LogsProvider(InsightsOperations, LogOperations, Provider):
    service = "logs"
