"""Deterministic time series and relative times for scenario data.

A scenario never names an absolute time: everything is relative to the moment of seeding ("-3h", "-2d"), and
generated values depend only on the scenario file (seed, pattern, point index), so two seedings of the same
scenario differ only in their time anchor. The data window runs from now-23h50m to now-5min, so that a query
over "the last 24 hours" sees every point even with a few minutes of clock offset between seeder and reader.
"""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

WINDOW_START = timedelta(hours=23, minutes=50)
"""How far back generated data starts (before the anchor)."""
WINDOW_END = timedelta(minutes=5)
"""How far back generated data ends (before the anchor)."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_REL = re.compile(r"^-?(\d+(?:\.\d+)?)([smhdw])$")


def parse_duration(text: str) -> timedelta:
    """'90m', '-3h', '2d' -> a positive timedelta (the sign is implied: scenario times are in the past)."""
    match = _REL.match(text.strip())
    if not match:
        raise ValueError(f"not a relative time like '-3h', '-90m' or '-2d': {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _check_rel(text: str) -> str:
    parse_duration(text)
    return text


RelTime = Annotated[str, AfterValidator(_check_rel)]
"""A time relative to seeding, in the past: '-3h', '-90m', '-2d' (the leading '-' is optional)."""


def stable_rng(*parts: object) -> random.Random:
    """A random generator seeded from strings (stable across processes, unlike hash())."""
    return random.Random(":".join(str(p) for p in parts))  # noqa: S311 - test data, not cryptography


def window_times(anchor: datetime, period_s: int) -> list[datetime]:
    """Timestamps every `period_s` seconds inside the data window, aligned to the period, oldest first.

    The number of points depends only on the period, so values indexed by point are deterministic.
    """
    anchor = anchor.astimezone(UTC)
    end_epoch = int((anchor - WINDOW_END).timestamp())
    end_epoch -= end_epoch % period_s
    span = int((WINDOW_START - WINDOW_END).total_seconds()) - period_s
    count = span // period_s + 1
    first = end_epoch - (count - 1) * period_s
    return [datetime.fromtimestamp(first + k * period_s, UTC) for k in range(count)]


def spread_times(anchor: datetime, count: int, rng: random.Random) -> list[datetime]:
    """`count` timestamps spread over the data window with jitter, oldest first (for log events)."""
    if count <= 0:
        return []
    start = (anchor - WINDOW_START).timestamp()
    span = (WINDOW_START - WINDOW_END).total_seconds()
    step = span / count
    stamps = [start + (k + rng.random()) * step for k in range(count)]
    return [datetime.fromtimestamp(round(s, 3), UTC) for s in stamps]


class Spike(BaseModel):
    """A burst at a given relative time: the series takes `value` for `minutes` minutes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: RelTime = Field(description="When the spike starts, relative to seeding, e.g. '-3h'.")
    minutes: int = Field(15, ge=1, le=1440)
    value: float


class Series(BaseModel):
    """A deterministic pseudo-random time series: pattern + noise + spikes, clamped to [min, max]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: Literal["constant", "sine", "ramp", "spike"] = "constant"
    base: float = 0.0
    amplitude: float = Field(
        0.0,
        description="sine: peak deviation from base; ramp: total change over the window (negative to fall); "
        "spike: height of random spikes above base.",
    )
    cycle_hours: float = Field(24.0, gt=0, description="Length of one sine cycle.")
    spike_count: int = Field(3, ge=0, le=100, description="How many random spikes the 'spike' pattern has.")
    spike_minutes: int = Field(15, ge=1, le=720)
    noise: float = Field(0.0, ge=0, description="Standard deviation of gaussian noise added to every point.")
    spikes: list[Spike] = Field(default_factory=list, description="Spikes at fixed relative times (any pattern).")
    min: float | None = 0.0
    max: float | None = None
    integer: bool = Field(False, description="Round every value to an integer (counts).")
    seed: int = 0

    @model_validator(mode="after")
    def _bounds(self) -> Series:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self

    def values(self, times: list[datetime], *key: object) -> list[float]:
        """One value per timestamp; `key` (e.g. metric and resource name) varies the noise per resource."""
        rng = stable_rng(self.seed, *key)
        n = len(times)
        spike_starts: set[int] = set()
        if self.pattern == "spike" and n:
            spike_starts = {rng.randrange(n) for _ in range(self.spike_count)}
        period_s = (times[1] - times[0]).total_seconds() if n > 1 else 300.0
        spike_len = max(1, round(self.spike_minutes * 60 / period_s))
        # Fixed spikes are placed by nominal age (point k is (n-1-k) periods older than the newest), not by
        # wall-clock time, so that the same points spike whatever the anchor's alignment.
        fixed = [(parse_duration(s.at).total_seconds(), s.minutes * 60, s.value) for s in self.spikes]
        newest_age = WINDOW_END.total_seconds()
        out: list[float] = []
        active_until = -1
        for k, ts in enumerate(times):
            x = k / (n - 1) if n > 1 else 1.0
            hours = (ts - times[0]).total_seconds() / 3600 if n else 0.0
            value = self.base
            if self.pattern == "sine":
                value += self.amplitude * math.sin(2 * math.pi * hours / self.cycle_hours)
            elif self.pattern == "ramp":
                value += self.amplitude * x
            elif self.pattern == "spike":
                if k in spike_starts:
                    active_until = k + spike_len - 1
                if k <= active_until:
                    value += self.amplitude
            noise = rng.gauss(0.0, self.noise) if self.noise else 0.0
            value += noise
            age = newest_age + (n - 1 - k) * period_s
            for at_s, length_s, spike_value in fixed:
                if at_s - length_s < age <= at_s:
                    value = spike_value + noise / 4
            if self.min is not None:
                value = max(self.min, value)
            if self.max is not None:
                value = min(self.max, value)
            out.append(float(round(value)) if self.integer else round(value, 4))
        return out
