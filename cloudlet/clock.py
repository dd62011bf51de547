"""The service clock: real time plus an offset that tests may move forward
(`POST /_cloudlet/clock`), so that "30 days later" or "the session expired" takes a
second, not a month. Everything that ages (sessions, lifecycle, retention, alarms) reads
this clock, never the wall clock directly."""

from __future__ import annotations

import datetime as dt
import time

_offset = 0.0


def now() -> dt.datetime:
    return dt.datetime.fromtimestamp(time.time() + _offset, dt.UTC)


def timestamp() -> float:
    return time.time() + _offset


def offset() -> float:
    return _offset


def advance(seconds: float) -> float:
    global _offset
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    _offset += seconds
    return _offset
