"""EventBridge Scheduler's schedule expressions: at(), rate() and cron().

    parse("rate(5 minutes)")                      -> Rate(300)
    parse("cron(0 12 ? * MON-FRI *)")             -> Cron(...)
    parse("at(2026-12-01T09:00:00)")              -> At(datetime)
    next_fire(expression, after, start, zone)     -> the first fire time strictly after `after`

cron() has AWS's six fields: minutes hours day-of-month month day-of-week year, with one of
day-of-month and day-of-week "?"; day-of-week counts 1-7 from Sunday (SUN-SAT names too);
"L" is the last day of the month. "W" and "#" are refused as unsupported.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400,
         "days": 86400}
MONTHS = {n.upper(): i for i, n in enumerate(calendar.month_abbr) if n}
DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE = re.compile(r"rate\((\d+) ([a-z]+)\)\Z")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)\Z")
_CRON = re.compile(r"cron\(([^)]*)\)\Z")
SEARCH_DAYS = 366 * 5


class Invalid(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    seconds: int


@dataclass(frozen=True)
class At:
    when: datetime  # naive, in the schedule's time zone


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None      # None: "?"
    last_day: bool
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1-7 from Sunday; None: "?"
    years: frozenset[int] | None     # None: any


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise Invalid(part)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise Invalid(part)
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise Invalid(text)
    return int(text)


def parse(expression: str):
    """A parsed expression; raises Invalid."""
    expression = (expression or "").strip()
    match = _RATE.match(expression)
    if match:
        value, unit = int(match.group(1)), match.group(2)
        singular = not unit.endswith("s")  # "1 minute", "5 minutes", as AWS requires
        if unit not in UNITS or value < 1 or (value == 1) != singular:
            raise Invalid(expression)
        return Rate(value * UNITS[unit])
    match = _AT.match(expression)
    if match:
        try:
            return At(datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            raise Invalid(expression) from None
    match = _CRON.match(expression)
    if not match:
        raise Invalid(expression)
    fields = match.group(1).split()
    if len(fields) != 6:
        raise Invalid(expression)
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise Invalid(expression)
    if any(c in f for f in (dom, dow) for c in "W#"):
        raise Invalid(expression)
    last_day = dom == "L"
    return Cron(
        minutes=_field(minutes, 0, 59), hours=_field(hours, 0, 23),
        days=None if dom in ("?", "L") else _field(dom, 1, 31), last_day=last_day,
        months=_field(month, 1, 12, MONTHS),
        weekdays=None if dow == "?" else _field(dow, 1, 7, DAYS),
        years=None if year == "*" else _field(year, 1970, 2199))


def _day_matches(cron: Cron, day: datetime) -> bool:
    if day.month not in cron.months or (cron.years is not None and day.year not in cron.years):
        return False
    if cron.last_day:
        return day.day == calendar.monthrange(day.year, day.month)[1]
    if cron.days is not None:
        return day.day in cron.days
    return (day.isoweekday() % 7) + 1 in cron.weekdays  # Sunday is 1


def next_fire(expression: str, after: datetime, start: datetime,
              zone: str | None = None) -> datetime | None:
    """The first fire time (aware, UTC) strictly after `after`, not before `start`."""
    parsed = parse(expression)
    tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
    utc = ZoneInfo("UTC")
    if isinstance(parsed, At):
        when = parsed.when.replace(tzinfo=tz).astimezone(utc)
        return when if when > after else None
    if isinstance(parsed, Rate):
        period = timedelta(seconds=parsed.seconds)
        if after < start:
            return start + period
        count = int((after - start) / period) + 1
        return start + count * period
    local = max(after, start - timedelta(seconds=1)).astimezone(tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(SEARCH_DAYS):
        if _day_matches(parsed, day):
            for hour in sorted(parsed.hours):
                for minute in sorted(parsed.minutes):
                    candidate = day.replace(hour=hour, minute=minute).astimezone(utc)
                    if candidate > after and candidate >= start.replace(second=0,
                                                                        microsecond=0):
                        return candidate
        day = (day + timedelta(days=1)).replace(hour=0, minute=0)
    return None
