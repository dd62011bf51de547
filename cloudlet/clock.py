"""The service clock: real time plus an offset that tests may move forward
(`POST /_cloudlet/clock`), so that "30 days later" or "the session expired" takes a
second, not a month. Everything that ages (sessions, lifecycle, retention, alarms) reads
this clock, never the wall clock directly.

The offset only ever holds a finite number of seconds, at most `MAX_OFFSET` ahead of real
time: every timestamp a service records is real time plus the offset, and one that is not
a representable date (NaN, infinity, the year 11533) fails wherever it is turned into a
date, sometimes after the write that recorded it committed. `advance` refuses such a
value and leaves the clock as it was."""

from __future__ import annotations

import datetime as dt
import math
import time

YEAR = 365 * 86400
MAX_ADVANCE = 10 * YEAR  # one move forward
MAX_OFFSET = 100 * YEAR  # all of them together: dates keep four-digit years

_offset = 0.0


def now() -> dt.datetime:
    return dt.datetime.fromtimestamp(time.time() + _offset, dt.UTC)


def timestamp() -> float:
    return time.time() + _offset


def offset() -> float:
    return _offset


def check_advance(seconds) -> float:
    """`seconds` as a float, if the clock may move forward by it; else ValueError."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError("the clock advances by a number of seconds")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError("the clock advances by a finite number of seconds")
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    if seconds > MAX_ADVANCE:
        raise ValueError(f"the clock advances by at most {MAX_ADVANCE} seconds (10 years) at once")
    if _offset + seconds > MAX_OFFSET:
        raise ValueError(f"the clock runs at most {MAX_OFFSET} seconds (100 years) ahead")
    return float(seconds)


def advance(seconds) -> float:
    global _offset
    _offset += check_advance(seconds)
    return _offset
