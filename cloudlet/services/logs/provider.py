"""CloudWatch Logs: one provider composed of its operation families.

    operations.py           LogOperations: StartLiveTail, the retention sweeper, and the
                            four families below
      groups.py             GroupOperations: log groups (retention, KMS keys, deletion
                            protection, tags) and log streams
      events.py             EventOperations: PutLogEvents, GetLogEvents, FilterLogEvents
      filters.py            FilterOperations: metric filters (TestMetricFilter),
                            subscription filters, Embedded Metric Format
      policies.py           ResourcePolicyOperations: resource policies
    insights/operations.py  InsightsOperations: StartQuery, GetQueryResults, StopQuery,
                            DescribeQueries, GetLogRecord

Beside them: eventstore.py (the events, in DuckDB, `<data>/logs/events.duckdb`),
livetail.py (StartLiveTail's sessions), patterns.py (filter patterns), fastpath.py
(PutLogEvents parsed in one pass), insights/ (the query language and its runner).
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.logs.insights.operations import InsightsOperations
from cloudlet.services.logs.operations import LogOperations


class LogsProvider(InsightsOperations, LogOperations, Provider):
    service = "logs"
