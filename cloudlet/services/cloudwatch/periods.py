"""CloudWatch's periods: which lengths a query may ask for, and where a read's first
period begins as the data ages (what the store and GetMetricData's queries share)."""

from __future__ import annotations

from cloudlet import clock

HOUR = 3600
DAY = 86400
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)


def valid_period(period) -> bool:
    return isinstance(period, int) and period > 0 and (
        period in HIGH_RESOLUTION_PERIODS or period % 60 == 0)


def period_start(start: float, period: int) -> float:
    """Where a read's first period begins: the start rounded down as CloudWatch does (to the
    second for high-resolution periods, the minute, 5 minutes or hour as the data ages)."""
    age = clock.timestamp() - start
    if period < 60:
        step = 1
    elif age > 63 * DAY and period % 3600 == 0:
        step = 3600
    elif age > 15 * DAY and period % 300 == 0:
        step = 300
    else:
        step = 60
    return float(int(start // step) * step)
