"""The service clock moves forward only, by a finite number of seconds within bounds."""

from __future__ import annotations

import pytest

from cloudlet import clock


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -float("inf"), -1, "60",
                                     True, None, [60], 10**400, clock.MAX_ADVANCE + 1])
def test_a_bad_advance_is_refused_and_the_offset_stays(monkeypatch, seconds):
    monkeypatch.setattr(clock, "_offset", 5.0)
    with pytest.raises(ValueError):
        clock.advance(seconds)
    assert clock.offset() == 5.0


def test_advances_add_up_to_at_most_the_bound(monkeypatch):
    monkeypatch.setattr(clock, "_offset", 0.0)
    assert clock.advance(0) == 0.0
    assert clock.advance(60) == 60.0
    monkeypatch.setattr(clock, "_offset", clock.MAX_OFFSET - 1.0)
    with pytest.raises(ValueError):
        clock.advance(2)
    assert clock.advance(1) == clock.MAX_OFFSET
    assert clock.now().year < 10000
