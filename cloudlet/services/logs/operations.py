"""Log groups, streams and events: the operations of CloudWatch Logs besides Logs Insights.

    groups.py      log groups (retention, KMS keys, tags) and log streams
    events.py      PutLogEvents, GetLogEvents, FilterLogEvents
    filters.py     metric filters, subscription filters, Embedded Metric Format
    policies.py    resource policies
    livetail.py    StartLiveTail's sessions (framed by cloudlet/protocols/eventstream.py)
    patterns.py    the filter pattern syntax
    fastpath.py    PutLogEvents' request parsed and validated in one pass
    eventstore.py  the events, in DuckDB

The retention sweeper runs on the service clock: every few seconds it deletes the events
older than each group's retention, so moving the clock forward ages logs as time would.
"""

from __future__ import annotations

import logging
import threading

from cloudlet.services.logs import fastpath
from cloudlet.services.logs.errors import InvalidParameter, LimitExceeded, no_such_group
from cloudlet.services.logs.events import DAY_MS, EventOperations
from cloudlet.services.logs.eventstore import EventStore
from cloudlet.services.logs.filters import FilterOperations
from cloudlet.services.logs.groups import GroupOperations, now_ms
from cloudlet.services.logs.livetail import MAX_SESSIONS, LiveTails, Session, session_start
from cloudlet.services.logs.patterns import compile_pattern
from cloudlet.services.logs.policies import ResourcePolicyOperations

log = logging.getLogger("cloudlet.logs")

SWEEP_INTERVAL = 2.0
CHECKPOINT_EVERY = 15  # sweeps: the event store's WAL is folded in every 30 s


class LogOperations(ResourcePolicyOperations, FilterOperations, EventOperations,
                    GroupOperations):
    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.events = EventStore(store.root / "logs")
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.tails = LiveTails()
        self.bus.subscribe("logs:put", self._service_logs)

    def start(self) -> None:
        super().start()
        threading.Thread(target=fastpath.load_typed, name="logs-fastpath", daemon=True).start()
        self._sweeper = threading.Thread(target=self._sweep_forever, name="logs-retention",
                                         daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        self._stopping.set()
        self.tails.stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
        super().stop()
        self.events.close()

    def parse_fast(self, codec, request, context):
        """PutLogEvents parsed and validated in one pass (the gateway's hook for hot
        operations); None for anything else, or anything unusual, which then takes the
        generic codec and validator and gets their exact errors."""
        return fastpath.parse(codec, request, context)

    # -- live tail ------------------------------------------------------------------------------

    def start_live_tail(self, ctx, params):
        identifiers = params["logGroupIdentifiers"]
        groups = {}
        for identifier in identifiers:
            key = self.group_key(ctx, identifier)
            if self._group(*key) is None:
                raise no_such_group()
            groups[key] = identifier[:-2] if identifier.endswith(":*") else identifier
        streams, prefixes = params.get("logStreamNames"), params.get("logStreamNamePrefixes")
        if streams and prefixes:
            raise InvalidParameter(
                "Only one of logStreamNames or logStreamNamePrefixes can be provided.")
        if (streams or prefixes) and len(groups) != 1:
            raise InvalidParameter("logStreamNames and logStreamNamePrefixes can only be used "
                                   "with a single log group.")
        text = params.get("logEventFilterPattern") or ""
        pattern = compile_pattern(text) if text.strip() else None
        if self.tails.count(ctx.account_id) >= MAX_SESSIONS:
            raise LimitExceeded("Resource limit exceeded.")
        session = Session(groups, streams, prefixes, pattern,
                          session_start(ctx.request_id, params))
        return {"responseStream": self.tails.events(session)}

    # -- other services' logs (Lambda's function logs) ------------------------------------------

    def _service_logs(self, event: dict) -> None:
        """A `logs:put` event: the group and stream are created when missing, as AWS's
        services do, and the events stored under PutLogEvents' age rules."""
        try:
            account, region = event["account"], event["region"]
            group_name, stream_name = event["log_group"], event["log_stream"]
            events = sorted((e for e in event.get("events") or () if e.get("message")),
                            key=lambda e: e["timestamp"])
            created = now_ms()
            with self.store.db.transaction() as conn:
                conn.execute("INSERT OR IGNORE INTO logs_groups (account, region, name, "
                             "creation_time) VALUES (?, ?, ?, ?)",
                             (account, region, group_name, created))
                conn.execute("INSERT OR IGNORE INTO logs_streams (account, region, log_group, "
                             "name, creation_time) VALUES (?, ?, ?, ?, ?)",
                             (account, region, group_name, stream_name, created))
            if not events:
                return
            group = self._group(account, region, group_name)
            stream = self._stream(group, stream_name)
            self.store_batch(group, stream, [int(e["timestamp"]) for e in events],
                             [str(e["message"]) for e in events])
        except Exception:
            log.exception("logs from another service dropped (%s)", event.get("log_group"))

    # -- retention -----------------------------------------------------------------------------

    def _sweep_forever(self) -> None:
        rounds = 0
        while not self._stopping.wait(SWEEP_INTERVAL):
            rounds += 1
            try:
                self.sweep()
                if rounds % CHECKPOINT_EVERY == 0:
                    self.events.checkpoint()
            except Exception:
                log.exception("log retention sweep failed")

    def sweep(self) -> int:
        """Delete every event older than its group's retention; returns how many."""
        now = now_ms()
        deleted = 0
        groups = self.store.db.query(
            "SELECT account, region, name, retention_days FROM logs_groups "
            "WHERE retention_days IS NOT NULL")
        for group in groups:
            cutoff = now - group["retention_days"] * DAY_MS
            oldest = self.store.db.query(
                "SELECT min(first_event) FROM logs_streams WHERE account = ? AND region = ? "
                "AND log_group = ?", (group["account"], group["region"], group["name"]))[0][0]
            if oldest is None or oldest >= cutoff:  # nothing old enough: no scan
                continue
            gone = self.events.delete(group["account"], group["region"], group["name"],
                                      before=cutoff)
            if gone:
                deleted += gone
                self._refresh_streams(group["account"], group["region"], group["name"])
        return deleted

    def _refresh_streams(self, account: str, region: str, group: str) -> None:
        stats = {s[0]: s[1:] for s in self.events.stream_stats(account, region, group)}
        with self.store.db.transaction() as conn:
            rows = conn.execute("SELECT name FROM logs_streams WHERE account = ? AND region = ? "
                                "AND log_group = ?", (account, region, group)).fetchall()
            for (name,) in rows:
                first, _last, stored = stats.get(name, (None, None, 0))
                # An emptied stream keeps its last event time, as AWS's does; its first
                # event time goes, so the next sweeps skip it.
                conn.execute("UPDATE logs_streams SET first_event = ?, "
                             "stored_bytes = ? WHERE account = ? AND region = ? "
                             "AND log_group = ? AND name = ?",
                             (first, stored or 0, account, region, group, name))
