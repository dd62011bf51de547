"""StartLiveTail: log events as they arrive, over an AWS event stream.

A session's `events()` is the operation's `responseStream`: `sessionStart`, then a
`sessionUpdate` with the new matching events every half second at most (at most 500 per
update, `sampled` when there were more), until the client goes away or the session's 3 hours
end (`SessionTimeoutException`). The json codec frames them (cloudlet/protocols/eventstream.py).

PutLogEvents hands each stored batch to `LiveTails.publish`, from a worker thread; the
session's generator runs on the event loop and drains what was queued.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator

from cloudlet.services.logs.patterns import Pattern

MAX_SESSIONS = 15
MAX_UPDATE_EVENTS = 500
MAX_QUEUED = 10_000
UPDATE_INTERVAL = 0.5
SESSION_SECONDS = 3 * 3600


class Session:
    def __init__(self, groups: dict[tuple[str, str, str], str], streams: list[str] | None,
                 prefixes: list[str] | None, pattern: Pattern | None, start: dict):
        self.groups = groups  # (account, region, name) -> the identifier the client gave
        self.streams = set(streams) if streams else None
        self.prefixes = tuple(prefixes) if prefixes else None
        self.pattern = pattern
        self.start = start
        self.queue: deque = deque(maxlen=MAX_QUEUED)
        self.dropped = False
        self.lock = threading.Lock()

    def offer(self, key: tuple[str, str, str], stream: str, timestamps: list[int],
              messages: list[str], ingested: int) -> None:
        identifier = self.groups.get(key)
        if identifier is None:
            return
        if self.streams is not None and stream not in self.streams:
            return
        if self.prefixes is not None and not stream.startswith(self.prefixes):
            return
        matched = [{"logStreamName": stream, "logGroupIdentifier": identifier, "message": m,
                    "timestamp": ts, "ingestionTime": ingested}
                   for ts, m in zip(timestamps, messages, strict=True)
                   if self.pattern is None or self.pattern.matches(m)]
        if matched:
            with self.lock:
                self.dropped = self.dropped or len(self.queue) + len(matched) > MAX_QUEUED
                self.queue.extend(matched)

    def take(self) -> tuple[list[dict], bool]:
        with self.lock:
            events, self.queue = list(self.queue), deque(maxlen=MAX_QUEUED)
            sampled, self.dropped = self.dropped, False
        if len(events) > MAX_UPDATE_EVENTS:
            step = len(events) / MAX_UPDATE_EVENTS
            events = [events[int(i * step)] for i in range(MAX_UPDATE_EVENTS)]
            sampled = True
        return events, sampled


class LiveTails:
    """The open live-tail sessions of one server."""

    def __init__(self):
        self.sessions: set[Session] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def count(self, account: str) -> int:
        return sum(1 for s in list(self.sessions) if any(k[0] == account for k in s.groups))

    def publish(self, key: tuple[str, str, str], stream: str, timestamps: list[int],
                messages: list[str], ingested: int) -> None:
        for session in list(self.sessions):
            session.offer(key, stream, timestamps, messages, ingested)

    async def events(self, session: Session) -> AsyncIterator[dict]:
        with self.lock:
            self.sessions.add(session)
        try:
            yield {"sessionStart": session.start}
            deadline = time.monotonic() + SESSION_SECONDS
            while not self.stopping.is_set():
                if time.monotonic() >= deadline:
                    yield {"SessionTimeoutException": {
                        "message": "Session timed out after 3 hours."}}
                    return
                await asyncio.sleep(UPDATE_INTERVAL)
                events, sampled = session.take()
                if events:
                    yield {"sessionUpdate": {"sessionMetadata": {"sampled": sampled},
                                             "sessionResults": events}}
        finally:
            with self.lock:
                self.sessions.discard(session)


def session_start(request_id: str, params: dict) -> dict:
    start = {"requestId": request_id, "sessionId": str(uuid.uuid4()),
             "logGroupIdentifiers": params["logGroupIdentifiers"]}
    for member in ("logStreamNames", "logStreamNamePrefixes", "logEventFilterPattern"):
        if params.get(member) is not None:
            start[member] = params[member]
    return start
