"""Wall clock evaluation windows: boundaries in a time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from cloudlet.services.cloudwatch.alarms_window import WallClock, WindowError, parse_timezone


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def test_hour_boundaries_follow_the_offset():
    wall = WallClock(3600, parse_timezone("UTC+05:30"))
    assert wall.is_boundary(at("2026-03-02T04:30:00+00:00"))
    assert not wall.is_boundary(at("2026-03-02T05:00:00+00:00"))


def test_days_start_at_local_midnight_across_daylight_saving():
    wall = WallClock(86400, parse_timezone("America/New_York"))
    assert wall.is_boundary(at("2026-03-07T05:00:00+00:00"))  # EST midnight
    assert wall.is_boundary(at("2026-03-09T04:00:00+00:00"))  # EDT midnight
    assert not wall.is_boundary(at("2026-03-09T05:00:00+00:00"))


def test_weeks_start_on_monday_and_minutes_everywhere():
    week = WallClock(604800, parse_timezone(None))
    assert week.is_boundary(at("2026-03-02T00:00:00+00:00"))  # a Monday
    assert not week.is_boundary(at("2026-03-03T00:00:00+00:00"))
    assert WallClock(60, parse_timezone("-03:00")).is_boundary(at("2026-03-03T00:07:00+00:00"))


@pytest.mark.parametrize("text", ["Mars/Olympus", "+05:33", "UTC+15:00", "+5:75"])
def test_bad_time_zones(text):
    with pytest.raises(WindowError):
        parse_timezone(text)
