"""The numbers behind evidence summaries: robust statistics, outliers, runs, trends and how values are written.

Outliers use the median absolute deviation (MAD), not the standard deviation: one spike inflates the standard
deviation enough to hide itself, while the median and the MAD ignore up to half the points being odd. A value is
an outlier when its modified z-score `0.6745 * |x - median| / MAD` exceeds 3.5 (Iglewicz and Hoaglin's rule).
When more than half the values are equal the MAD is 0 (a metric flat at 30, an error count mostly 0): then every
value that differs from the median by more than 10% of it (or at all, when the median is 0) stands out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

Z_THRESHOLD = 3.5
_MAD_TO_Z = 0.6745
_FLAT_TOLERANCE = 0.1
TREND_CHANGE = 0.2
"""A series rises or falls when the median of its last third differs from its first third's by this share."""


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float as JSON gives them (booleans are not numbers here). Exact types: this runs once per
    value of outputs with 50,000 points."""
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


def fmt(value: Any, width: int = 60) -> str:
    """A value as a summary writes it: floats to 2 decimals (`100.0`, `12.35`), text cut to `width` characters."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        rounded = round(value, 2)
        return repr(float(int(rounded))) if rounded.is_integer() and abs(rounded) < 1e15 else repr(rounded)
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def fmt_time(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, seconds precision (`2026-11-24T10:00:00Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Spread:
    """Where a set of values sits, and from which distance a value stands out."""

    median: float
    mad: float

    def deviation(self, value: float) -> float:
        """How far `value` is from the median, in units where 1 means 'an outlier' (above 1 stands out)."""
        distance = abs(value - self.median)
        if self.mad > 0:
            return _MAD_TO_Z * distance / self.mad / Z_THRESHOLD
        if self.median == 0:
            return math.inf if distance > 0 else 0.0
        return distance / (abs(self.median) * _FLAT_TOLERANCE)

    def bounds(self) -> tuple[float, float]:
        """The band (low, high) outside which a value stands out."""
        width = Z_THRESHOLD * self.mad / _MAD_TO_Z if self.mad > 0 else abs(self.median) * _FLAT_TOLERANCE
        return self.median - width, self.median + width


def spread(values: Sequence[float]) -> Spread:
    """The median and median absolute deviation of a non-empty sequence."""
    center = median(values)
    return Spread(center, median([abs(v - center) for v in values]))


def outliers(values: Sequence[float]) -> list[int]:
    """Indexes of the values that stand out by the MAD rule (none for fewer than 5 values: too few to judge)."""
    if len(values) < 5:
        return []
    band = spread(values)
    return [i for i, v in enumerate(values) if band.deviation(v) > 1]


@dataclass(frozen=True)
class Run:
    """Consecutive points on the same side of the band: `start` and `end` are inclusive indexes."""

    start: int
    end: int
    high: bool

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def runs(values: Sequence[float], band: Spread) -> list[Run]:
    """The runs of consecutive outlying values (a run of one is a spike), in order."""
    found: list[Run] = []
    current: Run | None = None
    for i, value in enumerate(values):
        if band.deviation(value) <= 1:
            current = None
            continue
        high = value > band.median
        if current is not None and current.high == high and current.end == i - 1:
            current = Run(current.start, i, high)
            found[-1] = current
        else:
            current = Run(i, i, high)
            found.append(current)
    return found


def trend(values: Sequence[float]) -> tuple[str, float, float] | None:
    """('rising' | 'falling' | 'flat', median of the first third, median of the last third), or None under 6
    values. Medians, so that a spike at either end does not read as a trend."""
    if len(values) < 6:
        return None
    third = len(values) // 3
    first, last = median(values[:third]), median(values[-third:])
    delta = last - first
    relative = delta / abs(first) if first else (math.inf if delta else 0.0)
    if relative >= TREND_CHANGE:
        return "rising", first, last
    if relative <= -TREND_CHANGE:
        return "falling", first, last
    return "flat", first, last


_EPOCH_MS = 1e11
_MIN_EPOCH_S = 1e8


def parse_time(value: Any) -> datetime | None:
    """A timestamp as scripts print them: ISO 8601 text (naive means UTC) or epoch seconds or milliseconds."""
    if isinstance(value, str):
        if len(value) < 8 or not value[:4].isdigit():
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if is_number(value) and value >= _MIN_EPOCH_S:
        seconds = value / 1000 if value >= _EPOCH_MS else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None
