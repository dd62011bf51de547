"""Queries in the background: a small worker pool runs each compiled query against the event
store; the request threads only read a query's state.

    Scheduled -> Running -> Complete | Failed | Cancelled (StopQuery) | Timeout

A running query is stopped by interrupting its DuckDB cursor, from StopQuery or from the
timeout timer (`CLOUDLET_LOGS_QUERY_TIMEOUT` seconds, 60 minutes by default as on AWS).
Finished queries are kept for `RETENTION` seconds (AWS keeps results 7 days), the newest
`KEPT` of them at most.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cloudlet import clock
from cloudlet.services.logs.insights.compiler import Compiled
from cloudlet.services.logs.insights.results import render

log = logging.getLogger(__name__)

WORKERS = 2
RETENTION = 7 * 86400
KEPT = 1000              # finished queries kept at most (their results live in memory)
FINISHED = {"Complete", "Failed", "Cancelled", "Timeout"}


def query_timeout() -> float:
    return float(os.environ.get("CLOUDLET_LOGS_QUERY_TIMEOUT", 3600))


@dataclass
class Query:
    query_id: str
    account: str
    region: str
    query_string: str
    log_groups: list[str]
    start_ms: int
    end_ms: int
    compiled: Compiled
    create_time: int                      # epoch ms, service clock
    user_identity: str = ""
    status: str = "Scheduled"
    results: list = field(default_factory=list)
    statistics: dict = field(default_factory=lambda: {
        "recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0})
    duration_ms: int = 0
    stop_reason: str = ""                 # "Cancelled" or "Timeout" once interrupted
    cursor: object = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class QueryRunner:
    def __init__(self, cursor: Callable[[], object]):
        self.cursor = cursor              # the event store's read cursor factory
        self.queries: dict[str, Query] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, query: Query) -> None:
        with self._lock:
            self._forget_old()
            self.queries[query.query_id] = query
            if self._pool is None:
                self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="logs-insights")
            self._pool.submit(self._run, query)

    def active(self, account: str, region: str) -> int:
        return sum(1 for q in list(self.queries.values()) if q.account == account
                   and q.region == region and q.status not in FINISHED)

    def stop(self, query: Query, reason: str = "Cancelled") -> bool:
        with query.lock:
            if query.status in FINISHED:
                return False
            query.stop_reason = reason
            if query.status == "Scheduled":
                query.status = reason
            elif query.cursor is not None:
                query.cursor.interrupt()
            return True

    def shutdown(self) -> None:
        for query in list(self.queries.values()):
            self.stop(query)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _forget_old(self) -> None:
        horizon = (clock.timestamp() - RETENTION) * 1000
        finished = [q for q in self.queries.values() if q.status in FINISHED]
        finished.sort(key=lambda q: q.create_time)
        excess = len(finished) - KEPT
        for i, q in enumerate(finished):
            if q.create_time < horizon or i < excess:
                del self.queries[q.query_id]

    def _run(self, query: Query) -> None:
        with query.lock:
            if query.status != "Scheduled":
                return
            query.status = "Running"
            query.cursor = cursor = self.cursor()
        began = time.monotonic()
        timer = threading.Timer(query_timeout(), self.stop, (query, "Timeout"))
        timer.daemon = True
        timer.start()
        try:
            self._execute(query, cursor)
            status = "Complete"
        except Exception as e:  # noqa: BLE001 - a query's failure is its status, not a crash
            status = query.stop_reason or "Failed"
            if status == "Failed":
                log.warning("Logs Insights query %s failed: %s", query.query_id, e)
        finally:
            timer.cancel()
            query.duration_ms = int((time.monotonic() - began) * 1000)
        with query.lock:
            query.cursor = None     # the store's cursor for this thread: kept, not closed
            query.status = query.stop_reason or status

    def _execute(self, query: Query, cursor) -> None:
        compiled = query.compiled
        params = {"account": query.account, "region": query.region,
                  "groups": query.log_groups, "start": query.start_ms, "end": query.end_ms}
        rows = cursor.execute(compiled.sql, params).fetchall()
        scanned, scanned_bytes = cursor.execute(compiled.scanned_sql, params).fetchone()
        if compiled.matched_sql is None:
            matched = rows[0][-1] if rows else 0
        else:
            matched = cursor.execute(compiled.matched_sql, params).fetchone()[0]
        query.results = render(rows, compiled.columns, compiled.with_ptr)
        query.statistics = {"recordsMatched": float(matched or 0),
                            "recordsScanned": float(scanned or 0),
                            "bytesScanned": float(scanned_bytes or 0)}
