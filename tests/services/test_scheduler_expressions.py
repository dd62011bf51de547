"""EventBridge Scheduler's expressions: what parses, and when each fires next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloudlet.services.scheduler.expressions import Invalid, next_fire, parse

NOW = datetime(2026, 11, 26, 23, 20, 30, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize("expression, expected", [
    ("rate(1 minute)", datetime(2026, 11, 26, 23, 21, 30, tzinfo=UTC)),
    ("rate(5 minutes)", datetime(2026, 11, 26, 23, 25, 30, tzinfo=UTC)),
    ("rate(2 hours)", datetime(2026, 11, 27, 1, 20, 30, tzinfo=UTC)),
    ("cron(*/15 * * * ? *)", datetime(2026, 11, 26, 23, 30, tzinfo=UTC)),
    ("cron(0 12 ? * MON-FRI *)", datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
    ("cron(0 9 ? * 1 *)", datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),  # 1 is Sunday
    ("cron(0 0 L * ? *)", datetime(2026, 11, 30, 0, 0, tzinfo=UTC)),
    ("cron(30 8 1 JAN ? 2027)", datetime(2027, 1, 1, 8, 30, tzinfo=UTC)),
    ("at(2026-12-01T09:00:00)", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
])
def test_next_fire(expression, expected):
    assert next_fire(expression, NOW, NOW) == expected


def test_rate_counts_from_the_start():
    start = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert next_fire("rate(10 minutes)", NOW, start) == datetime(2026, 11, 26, 23, 30,
                                                                  tzinfo=UTC)


def test_time_zone():
    fired = next_fire("cron(0 9 * * ? *)", NOW, NOW, "Europe/Paris")
    assert fired == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_past_at_and_years_never_fire():
    assert next_fire("at(2020-01-01T00:00:00)", NOW, NOW) is None
    assert next_fire("cron(0 0 * * ? 2020)", NOW, NOW) is None


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "rate(3 weeks)",
    "cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(0 12 * *)", "cron(61 * * * ? *)",
    "cron(0 12 15W * ? *)", "cron(0 12 ? * 6#3 *)", "at(2026-02-30T00:00:00)", "daily",
])
def test_invalid(expression):
    with pytest.raises(Invalid):
        parse(expression)
