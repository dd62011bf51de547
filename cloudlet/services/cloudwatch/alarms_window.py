"""Evaluation windows: which ticks of the service clock judge an alarm.

A sliding window (the default) judges every tick: every minute, its periods ending at the
tick. A wall clock window (EvaluationWindow.WallClockWindow) judges only at the clock
boundaries of its period in its time zone: the minute, the 5 minutes, the hour, midnight,
or Monday midnight for a week, so each judged period is a calendar period.

    window = WallClock.of(config)        # None for a sliding window
    window.is_boundary(tick)

Time zones are IANA names (`America/New_York`), fixed offsets (`+05:30`) or offsets with a
prefix (`UTC+05:30`), aligned to 5 minutes, as AWS accepts them.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

WALL_CLOCK_PERIODS = (60, 300, 3600, 86400, 604800)
_OFFSET = re.compile(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?")


class WindowError(ValueError):
    pass


def parse_timezone(text: str | None) -> dt.tzinfo:
    if not text or text in ("UTC", "GMT", "Z"):
        return dt.UTC
    m = _OFFSET.fullmatch(text)
    if m is not None:
        sign = -1 if m.group(1) == "-" else 1
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes >= 60:
            raise WindowError(f"Invalid time zone offset: {text}")
        if minutes % 5:
            raise WindowError(f"The time zone offset {text} must be a multiple of 5 minutes.")
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"Unknown time zone: {text}") from None


@dataclass(frozen=True)
class WallClock:
    period: int
    tz: dt.tzinfo

    @classmethod
    def of(cls, config: dict) -> WallClock | None:
        wall = (config.get("EvaluationWindow") or {}).get("WallClockWindow")
        if wall is None:
            return None
        return cls(config["_period"], parse_timezone(wall.get("Timezone")))

    def is_boundary(self, tick: float) -> bool:
        local = dt.datetime.fromtimestamp(tick, self.tz)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if self.period == 604800:
            return seconds == 0 and local.weekday() == 0
        if self.period == 86400:
            return seconds == 0
        return seconds % self.period == 0


def check(params: dict, period: int) -> None:
    """PutMetricAlarm's rules for a wall clock window (raises WindowError)."""
    wall = (params.get("EvaluationWindow") or {}).get("WallClockWindow")
    if wall is None:
        return
    if period not in WALL_CLOCK_PERIODS:
        raise WindowError("With a wall clock window, the period must be 60, 300, 3600, 86400 "
                          "or 604800 seconds.")
    parse_timezone(wall.get("Timezone"))
