"""What an inspection's output is, from its shape: a table, time series, an object, a scalar or text.

Catalogue prompts print tables as a list of flat records under one top-level key, next to a few totals
(`{"functions": [...], "count": 12}`); time series as points with a timestamp and a number
(`{"datapoints": [{"timestamp": ..., "value": ...}]}`), as a map of series names to such lists, or as
CloudWatch's parallel arrays (`{"Timestamps": [...], "Values": [...]}`). Detection looks at the keys and
values, never at the prompt: generated prompts have contracts nobody wrote rules for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cloudinspect.troubleshoot._evidence_stats import is_number, parse_time

Kind = Literal["table", "timeseries", "object", "scalar", "text"]

_TIME_NAMES = frozenset(
    {"timestamp", "time", "ts", "t", "date", "datetime", "period", "start", "starttime", "periodstart", "bucket"}
    | {"hour", "minute", "day", "when", "at", "x"}
)
# The statistic a point's value is read from, most telling first; other numbers of the point are ignored.
_VALUE_NAMES: tuple[str, ...] = (
    "value",
    "average",
    "avg",
    "mean",
    "maximum",
    "max",
    "sum",
    "count",
    "samplecount",
    "minimum",
    "min",
    "y",
)
# Text a point may carry besides its time and numbers (CloudWatch's Unit); anything else makes it a table row.
_POINT_LABELS = frozenset({"unit", "label", "stat", "statistic"})
_SERIES_NAMES = ("Label", "label", "Id", "id", "name", "Name", "metric", "MetricName")
_SAMPLE = 20


def norm(name: str) -> str:
    """A key compared loosely: `Start_Time`, `startTime` and `starttime` are one name."""
    return name.lower().replace("_", "").replace("-", "")


@dataclass(frozen=True)
class Table:
    """Records, possibly under a top-level key (`key`), with the output's other top-level values (`meta`)."""

    key: str | None
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def noun(self) -> str:
        """What a row is, from the key (`12 functions`); 'rows' without a key."""
        return self.key or "rows"


@dataclass(frozen=True)
class Series:
    """One time series in time order; points without a time or a number are counted in `skipped`."""

    name: str | None
    field: str
    times: list[datetime]
    values: list[float]
    skipped: int = 0


@dataclass(frozen=True)
class SeriesSet:
    """Every series of an output, under its top-level key when there is one, with the other values."""

    key: str | None
    series: list[Series]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return sum(len(s.values) for s in self.series)


Shape = Table | SeriesSet | None


def detect(output: Any) -> tuple[Kind, Shape]:
    """The kind of an output and, for tables and time series, their parts."""
    if isinstance(output, str):
        return "text", None
    if output is None or isinstance(output, bool | int | float):
        return "scalar", None
    if isinstance(output, list):
        series = _series_of(output, None)
        if series:
            return "timeseries", SeriesSet(None, series)
        if all(isinstance(row, dict) for row in output):
            return "table", Table(None, output)
        return "object", None
    if not isinstance(output, Mapping):
        return "object", None
    return _detect_mapping(output)


def _detect_mapping(output: Mapping[str, Any]) -> tuple[Kind, Shape]:
    own = _parallel_series(output, None)
    if own is not None:
        return "timeseries", SeriesSet(None, [own])
    found: list[Series] = []
    series_keys: list[str] = []
    tables: list[str] = []
    for key, value in output.items():
        series = _series_of(value, key)
        if series:
            found.extend(series)
            series_keys.append(key)
        elif isinstance(value, list) and all(isinstance(row, dict) for row in value):
            tables.append(key)
    rest = {k: v for k, v in output.items() if k not in series_keys}
    if found and not tables:
        return "timeseries", SeriesSet(series_keys[0] if len(series_keys) == 1 else None, found, rest)
    if len(tables) == 1 and not found:
        key = tables[0]
        meta = {k: v for k, v in output.items() if k != key}
        if all(_is_small(v) for v in meta.values()):
            return "table", Table(key, output[key], meta)
    return "object", None


def _is_small(value: Any) -> bool:
    """A scalar, or a map of scalars (`counts`): what a table's totals look like."""
    if isinstance(value, Mapping):
        return all(not isinstance(v, Mapping | list) for v in value.values())
    return not isinstance(value, list)


def _series_of(value: Any, name: str | None) -> list[Series]:
    """The series `value` holds: a list of points, parallel arrays, a list of those (GetMetricData), or a map of
    names to any of these. Empty when it is not a time series."""
    if isinstance(value, list):
        points = _point_series(value, name)
        if points is not None:
            return [points]
        if value and all(isinstance(v, Mapping) for v in value):
            parallel = [_parallel_series(v, _series_name(v, name, i)) for i, v in enumerate(value)]
            kept = [s for s in parallel if s is not None]
            if len(kept) == len(parallel):
                return kept
        return []
    if not isinstance(value, Mapping) or not value:
        return []
    own = _parallel_series(value, name)
    if own is not None:
        return [own]
    found: list[Series] = []
    for key, inner in value.items():
        series = _point_series(inner, str(key)) if isinstance(inner, list) else _parallel_series(inner, str(key))
        if series is None:
            return []
        found.append(series)
    return found


def _series_name(record: Mapping[str, Any], outer: str | None, index: int) -> str:
    for key in _SERIES_NAMES:
        if isinstance(record.get(key), str) and record[key]:
            return str(record[key])
    return f"{outer or 'series'}[{index}]"


def _point_fields(point: Any) -> tuple[str, str] | None:
    """(time key, value key) when `point` is a time-series point, else None."""
    if not isinstance(point, Mapping) or not point:
        return None
    time_key = next((k for k, v in point.items() if norm(k) in _TIME_NAMES and parse_time(v)), None)
    if time_key is None and len(point) <= 4:
        time_key = next((k for k, v in point.items() if isinstance(v, str) and parse_time(v)), None)
    if time_key is None:
        return None
    numbers = [k for k, v in point.items() if k != time_key and is_number(v)]
    others = [k for k, v in point.items() if k != time_key and k not in numbers and v is not None]
    if not numbers or any(norm(k) not in _POINT_LABELS for k in others):
        return None
    by_name = {norm(k): k for k in numbers}
    value_key = next((by_name[n] for n in _VALUE_NAMES if n in by_name), numbers[0])
    return time_key, value_key


def _point_series(points: list[Any], name: str | None) -> Series | None:
    if not points:
        return None
    fields = _point_fields(points[0])
    if fields is None:
        return None
    time_key, value_key = fields
    sample = points[:_SAMPLE] + points[-1:]
    if not all(isinstance(p, Mapping) and p.get(time_key) is not None for p in sample):
        return None
    pairs: list[tuple[datetime, float]] = []
    for point in points:
        if not isinstance(point, dict):
            continue
        value = point.get(value_key)
        if is_number(value):
            moment = parse_time(point.get(time_key))
            if moment is not None:
                pairs.append((moment, float(value)))
    return _series(name, value_key, pairs, len(points))


def _parallel_series(record: Any, name: str | None) -> Series | None:
    """CloudWatch GetMetricData's `{"Timestamps": [...], "Values": [...]}`."""
    if not isinstance(record, Mapping):
        return None
    keys = {norm(k): k for k in record}
    if "timestamps" not in keys or "values" not in keys:
        return None
    times, values = record[keys["timestamps"]], record[keys["values"]]
    if not isinstance(times, list) or not isinstance(values, list) or len(times) != len(values) or not times:
        return None
    if parse_time(times[0]) is None:
        return None
    pairs = [(parse_time(t), v) for t, v in zip(times, values, strict=True)]
    kept = [(t, float(v)) for t, v in pairs if t is not None and is_number(v)]
    return _series(name, keys["values"], kept, len(times))


def _series(name: str | None, value_key: str, pairs: list[tuple[datetime, float]], total: int) -> Series | None:
    if not pairs:
        return None
    # Scripts print newest first as often as oldest first (CloudWatch returns either): time order for analysis.
    pairs.sort(key=lambda p: p[0])
    return Series(name, value_key, [p[0] for p in pairs], [p[1] for p in pairs], total - len(pairs))
