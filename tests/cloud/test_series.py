"""Deterministic time series: same scenario, same values; data inside the last 24 hours."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from cloudinspect.cloud.series import Series, parse_duration, spread_times, stable_rng, window_times

ANCHOR = datetime(2025, 3, 4, 10, 17, 33, tzinfo=UTC)


@pytest.mark.parametrize("period", [60, 300, 3600])
def test_window_is_inside_the_last_day(period: int) -> None:
    for anchor in (ANCHOR, ANCHOR + timedelta(minutes=3, seconds=7)):
        times = window_times(anchor, period)
        assert times[0] >= anchor - timedelta(hours=23, minutes=50)
        assert times[-1] <= anchor - timedelta(minutes=5)
        assert all((b - a).total_seconds() == period for a, b in itertools.pairwise(times))
        assert all(int(t.timestamp()) % period == 0 for t in times)
    assert len(window_times(ANCHOR, period)) == len(window_times(ANCHOR + timedelta(seconds=77), period))


def test_values_depend_on_seed_and_key_not_on_anchor() -> None:
    series = Series(pattern="sine", base=40, amplitude=20, noise=5, spikes=[{"at": "-3h", "minutes": 30, "value": 99}])
    a = series.values(window_times(ANCHOR, 300), 1, "cpu", "web-1")
    b = series.values(window_times(ANCHOR + timedelta(minutes=13), 300), 1, "cpu", "web-1")
    assert a == b
    assert a != series.values(window_times(ANCHOR, 300), 1, "cpu", "web-2")
    assert a != series.values(window_times(ANCHOR, 300), 2, "cpu", "web-1")
    assert sum(1 for v in a if v > 90) >= 5  # the fixed spike (30 min = 6 points) shows


def test_patterns_and_clamping() -> None:
    times = window_times(ANCHOR, 300)
    ramp = Series(pattern="ramp", base=100, amplitude=-100).values(times)
    assert ramp[0] == 100
    assert ramp[-1] == 0
    spiky = Series(pattern="spike", base=0, amplitude=50, spike_count=3, spike_minutes=15, integer=True).values(times)
    assert max(spiky) == 50
    assert min(spiky) == 0
    capped = Series(base=95, noise=20, max=100).values(times)
    assert max(capped) <= 100
    assert min(capped) >= 0


def test_relative_times() -> None:
    assert parse_duration("-3h") == timedelta(hours=3)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("-2d") == timedelta(days=2)
    with pytest.raises(ValueError, match="relative time"):
        parse_duration("2024-01-01")


def test_spread_times_are_deterministic_and_sorted() -> None:
    one = spread_times(ANCHOR, 500, stable_rng("x"))
    two = spread_times(ANCHOR, 500, stable_rng("x"))
    assert one == two
    assert one == sorted(one)
    assert one[0] >= ANCHOR - timedelta(hours=23, minutes=50)
    assert one[-1] <= ANCHOR - timedelta(minutes=5)
