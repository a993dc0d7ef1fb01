"""Summaries and facts of an inspection's output: the sentences a diagnosis model reads before (or instead of)
the data.

Everything here is deterministic: the same output gives the same sentences, so that a bundle can be compared
and cited across runs. Facts name the resource and the value ("order-processor: percent_of_timeout 100.0 >= 80")
because the diagnosis cites them one by one; they are few (`MAX_FACTS`) and ordered by how notable they are.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloudinspect.troubleshoot._evidence_shapes import Series, SeriesSet, Table, norm
from cloudinspect.troubleshoot._evidence_stats import (
    Run,
    fmt,
    fmt_time,
    is_number,
    median,
    outliers,
    runs,
    spread,
)
from cloudinspect.troubleshoot._evidence_stats import trend as series_trend

MAX_FACTS = 8
PERCENT_THRESHOLD = 80.0
"""Rows whose percentage column (`percent_of_timeout`, `error_rate_percent`, `max_cpu_percent`) is at or above
this are called out: the share at which a limit is about to be hit."""

_LABEL_COLUMNS = (
    "instanceid",
    "volumeid",
    "groupid",
    "dbinstanceidentifier",
    "keyid",
    "resourceid",
    "name",
    "function",
    "functionname",
    "id",
    "tablename",
    "table",
    "bucket",
    "bucketname",
    "queue",
    "queuename",
    "queueurl",
    "username",
    "user",
    "rolename",
    "role",
    "cluster",
    "service",
    "family",
    "alarmname",
    "alarm",
    "loggroup",
    "loggroupname",
    "dimensionvalue",
    "resource",
    "arn",
    "message",
)
# Numbers that identify rather than measure: an outlier among them means nothing.
_NOT_MEASURES = frozenset({"rank", "index", "revision", "version", "port", "fromport", "toport", "year", "n"})
_PERCENT_WORDS = ("percent", "pct", "utilization")
_THRESHOLD = f"{PERCENT_THRESHOLD:g}"
_CATEGORIES = 6
_MAX_COLUMNS_NAMED = 12
_MAX_NUMERIC_IN_SUMMARY = 6
_MAX_NAMES = 5
_OUTLIERS_PER_COLUMN = 3
_ERROR_WORDS = ("error", "exception", "timed out", "timeout", "fail", "denied", "traceback", "throttl")
_TEXT_WIDTH = 160
_SPIKE_STRENGTH = 1.5
"""A lone point is a fact only this far out (a modified z-score of 5.25): in 50,000 points of plain noise about
20 pass the 3.5 of the band, none pass this."""


@dataclass
class Description:
    """A summary, facts, and the rows (tables) or series points (time series) the facts are about: a reduction
    keeps those."""

    summary: str
    facts: list[str] = field(default_factory=list)
    notable_rows: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    values: list[Any]

    @property
    def present(self) -> list[Any]:
        return [v for v in self.values if v is not None]

    def is_numeric(self) -> bool:
        present = self.present
        return bool(present) and all(is_number(v) for v in present)

    def is_boolean(self) -> bool:
        present = self.present
        return bool(present) and all(isinstance(v, bool) for v in present)

    def is_text(self) -> bool:
        present = self.present
        return bool(present) and all(isinstance(v, str) for v in present)


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


class _Labeller:
    """How a row is named in a sentence: its name or id column, with the name next to an id (`i-0ab (web-1)`)."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
        by_norm = {norm(c): c for c in columns}
        self.column = next((by_norm[n] for n in _LABEL_COLUMNS if n in by_norm), None)
        if self.column is None:
            self.column = next(
                (c for c in columns if all(isinstance(r.get(c), str) for r in rows) and _unique(rows, c)), None
            )
        name = by_norm.get("name")
        self.extra = name if name is not None and name != self.column else None

    def __call__(self, row: Mapping[str, Any], index: int) -> str:
        if self.column is None or row.get(self.column) is None:
            return f"row {index + 1}"
        label = fmt(row[self.column])
        if self.extra and isinstance(row.get(self.extra), str) and row[self.extra]:
            label += f" ({fmt(row[self.extra], 40)})"
        return label

    def used(self) -> set[str]:
        return {c for c in (self.column, self.extra) if c}


def _unique(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    values = [r.get(column) for r in rows]
    return len(set(values)) == len(values)


def _singular(noun: str, count: int) -> str:
    if count != 1 or not noun.endswith("s") or noun.endswith(("ss", "series")):
        return noun
    return noun[:-3] + "y" if noun.endswith("ies") else noun[:-1]


def _meta_sentence(meta: Mapping[str, Any]) -> str:
    parts = []
    for key, value in meta.items():
        if isinstance(value, Mapping):
            inner = ", ".join(f"{k} {fmt(v, 40)}" for k, v in value.items())
            parts.append(f"{key}: {inner or 'none'}")
        elif not isinstance(value, list):
            parts.append(f"{key}: {fmt(value)}")
    return "; ".join(parts) + "." if parts else ""


def describe_table(table: Table) -> Description:
    """Row count, columns, numeric columns' range with the extreme rows, flagged rows, totals."""
    rows = table.rows
    n = len(rows)
    meta = _meta_sentence(table.meta)
    if n == 0:
        return Description(" ".join(s for s in (f"No {table.noun} (0 rows).", meta) if s))
    names = columns_of(rows)
    columns = [_Column(c, [r.get(c) for r in rows]) for c in names]
    label = _Labeller(rows, names)
    sentences = [f"{n} {_singular(table.noun, n)} (columns: {_listing(names, _MAX_COLUMNS_NAMED)})."]
    numeric = [c for c in columns if c.is_numeric() and c.name not in label.used()]
    ranges = [_range(column, rows, label) for column in numeric[:_MAX_NUMERIC_IN_SUMMARY]]
    if ranges:
        sentences.append("; ".join(ranges) + ".")
    sentences.extend(_threshold_sentences(rows, numeric, label))
    sentences.extend(_category_sentences(columns, n))
    if meta:
        sentences.append(meta)
    reasons = _notable(rows, columns, numeric)
    facts, notable = _table_facts(rows, names, reasons, label, numeric, table.noun)
    return Description(" ".join(sentences), facts, notable)


def _range(column: _Column, rows: Sequence[Mapping[str, Any]], label: _Labeller) -> str:
    present = column.present
    low, high = min(present), max(present)
    if low == high:
        return f"{column.name} {fmt(low)} for all" if len(present) == len(rows) else f"{column.name} {fmt(low)}"
    top = max(range(len(rows)), key=lambda i: _sortable(column.values[i]))
    return f"{column.name} min {fmt(low)}, median {fmt(median(present))}, max {fmt(high)} ({label(rows[top], top)})"


def _sortable(value: Any) -> float:
    return float(value) if is_number(value) else float("-inf")


def _listing(names: Sequence[str], limit: int) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}, … ({len(names) - limit} more)" if len(names) > limit else shown


def _is_percent(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _PERCENT_WORDS)


def _threshold_sentences(rows: Sequence[Mapping[str, Any]], numeric: Sequence[_Column], label: _Labeller) -> list[str]:
    sentences = []
    for column in numeric:
        if not _is_percent(column.name):
            continue
        hits = [i for i, v in enumerate(column.values) if is_number(v) and v >= PERCENT_THRESHOLD]
        if not hits:
            continue
        hits.sort(key=lambda i: (-_sortable(column.values[i]), i))
        named = ", ".join(f"{label(rows[i], i)} ({fmt(column.values[i])})" for i in hits[:_MAX_NAMES])
        more = f", and {len(hits) - _MAX_NAMES} more" if len(hits) > _MAX_NAMES else ""
        sentences.append(f"{len(hits)} with {column.name} at or above {_THRESHOLD}: {named}{more}.")
    return sentences


def _category_sentences(columns: Sequence[_Column], n: int) -> list[str]:
    sentences = []
    for column in columns:
        if column.is_boolean():
            trues = sum(1 for v in column.values if v is True)
            sentences.append(f"{column.name} true for {trues} of {n}.")
        elif column.is_text() and n > 1:
            counts = Counter(column.present)
            if 1 < len(counts) <= _CATEGORIES and len(counts) < n:
                ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                sentences.append(f"{column.name}: " + ", ".join(f"{fmt(k, 40)} {c}" for k, c in ordered) + ".")
    return sentences


_Reasons = dict[int, list[tuple[int, str, str]]]
"""Per row index, why it stands out: (weight, column, sentence)."""
# How much a reason says: a limit about to be hit, then a rare flag or category, then a statistical outlier.
_OVER_THRESHOLD, _RARE, _OUTLIER = 3, 2, 1
_RARE_SHARE = 10
"""An outlier is rare: a column where more than 1 value in 10 stands out has a wide spread, not outliers."""


def _notable(rows: Sequence[Mapping[str, Any]], columns: Sequence[_Column], numeric: Sequence[_Column]) -> _Reasons:
    """Why rows stand out: over a percentage threshold, an outlier, a rare flag or category."""
    n = len(rows)
    reasons: _Reasons = {}
    for column in numeric:
        if _is_percent(column.name):
            for i, v in enumerate(column.values):
                if is_number(v) and v >= PERCENT_THRESHOLD:
                    reason = f"{column.name} {fmt(v)} >= {_THRESHOLD}"
                    reasons.setdefault(i, []).append((_OVER_THRESHOLD, column.name, reason))
    for column in numeric:
        if norm(column.name) in _NOT_MEASURES or _is_percent(column.name):
            continue
        indexes = [i for i, v in enumerate(column.values) if is_number(v)]
        values = [column.values[i] for i in indexes]
        found = outliers(values)
        if not found or len(found) * _RARE_SHARE > len(values):
            continue
        band = spread(values)
        found.sort(key=lambda j: (-band.deviation(values[j]), indexes[j]))
        for j in found[:_OUTLIERS_PER_COLUMN]:
            reason = f"{column.name} {fmt(values[j])} stands out (median {fmt(band.median)})"
            reasons.setdefault(indexes[j], []).append((_OUTLIER, column.name, reason))
    for column in columns:
        if n < 3 or not (column.is_boolean() or column.is_text()):
            continue
        counts = Counter(column.present)
        if len(counts) < 2 or (column.is_text() and (len(counts) > _CATEGORIES or n < 4)):
            continue
        for value, count in sorted(counts.items(), key=lambda kv: (kv[1], str(kv[0]))):
            if count <= max(1, n // 4) and count * 2 < n and count <= _MAX_NAMES:
                reason = f"{column.name} = {fmt(value, 40)} ({count} of {n})"
                for i, v in enumerate(column.values):
                    if v == value:
                        reasons.setdefault(i, []).append((_RARE, column.name, reason))
    return reasons


def _table_facts(
    rows: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    reasons: _Reasons,
    label: _Labeller,
    numeric: Sequence[_Column],
    noun: str,
) -> tuple[list[str], list[int]]:
    if reasons:
        order = sorted(reasons, key=lambda i: (-sum(w for w, _, _ in reasons[i]), i))
        shown = order if len(order) <= MAX_FACTS else order[: MAX_FACTS - 1]
        facts = []
        for i in shown:
            said = [column for _, column, _ in reasons[i]]
            pairs = _pairs(rows[i], names, label, said)
            context = f" ({pairs})" if pairs else ""
            facts.append(f"{label(rows[i], i)}: {'; '.join(r for _, _, r in reasons[i])}{context}")
        rest = order[len(shown) :]
        if rest:
            named = ", ".join(label(rows[i], i) for i in sorted(rest)[:_MAX_NAMES])
            facts.append(f"{len(rest)} more {noun} flagged: {named}{', …' if len(rest) > _MAX_NAMES else ''}")
        return facts, sorted(order)
    if len(rows) <= _MAX_NAMES:
        facts = [f"{label(r, i)}: {_pairs(r, names, label) or 'no other values'}" for i, r in enumerate(rows)]
        return facts, list(range(len(rows)))
    facts, notable = [], []
    for column in numeric[:3]:
        top = max(range(len(rows)), key=lambda i: _sortable(column.values[i]))
        if column.values[top] != min(column.present):
            facts.append(f"Highest {column.name}: {label(rows[top], top)} ({fmt(column.values[top])})")
            notable.append(top)
    return facts, sorted(set(notable))


def _pairs(row: Mapping[str, Any], names: Sequence[str], label: _Labeller, skip: Sequence[str] = ()) -> str:
    used = label.used() | set(skip)
    pairs = [f"{c} {_brief(row[c])}" for c in names if c in row and c not in used]
    return ", ".join(pairs[:6]) + (", …" if len(pairs) > 6 else "")


def _brief(value: Any) -> str:
    if isinstance(value, Mapping | list):
        return fmt(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str), 40)
    return fmt(value, 40)


# ---------------------------------------------------------------------------------------------------------------
# Time series
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesFacts:
    """A series' statistics and anomalies, shared by its summary and its reduction."""

    series: Series
    runs: list[Run]
    center: float
    low: float
    high: float

    @functools.cached_property
    def trend(self) -> tuple[str, float, float] | None:
        """('rising' | 'falling' | 'flat', first third's median, last third's), None under 6 points."""
        return series_trend(self.series.values)

    @functools.cached_property
    def stats(self) -> dict[str, Any]:
        """Field, points, first and last time, min, mean, median, max and trend, rounded for the data."""
        values = self.series.values
        found = self.trend
        stats: dict[str, Any] = {
            "field": self.series.field,
            "points": len(values),
            "first": fmt_time(self.series.times[0]),
            "last": fmt_time(self.series.times[-1]),
            "min": round(min(values), 4),
            "mean": round(sum(values) / len(values), 4),
            "median": round(self.center, 4),
            "max": round(max(values), 4),
        }
        if found is not None:
            stats["trend"] = found[0]
        return stats

    def anomalies(self, limit: int) -> list[dict[str, Any]]:
        """The runs, longest and furthest first, as records: from, to, points, min, max."""
        out = []
        for run in self.ranked[:limit]:
            values = self.series.values[run.start : run.end + 1]
            out.append(
                {
                    "from": fmt_time(self.series.times[run.start]),
                    "to": fmt_time(self.series.times[run.end]),
                    "points": run.length,
                    "min": round(min(values), 4),
                    "max": round(max(values), 4),
                }
            )
        return out

    @functools.cached_property
    def ranked(self) -> list[Run]:
        """The runs, longest first, then furthest from the median, then earliest."""
        return sorted(self.runs, key=lambda run: (-run.length, -self.peak(run), run.start))

    def strength(self, run: Run) -> float:
        """How far the run's peak is from the median, in widths of the band (above 1: outside it)."""
        width = self.high - self.center
        return self.peak(run) / width if width > 0 else math.inf

    def peak(self, run: Run) -> float:
        """How far the run's furthest point is from the median."""
        return max(abs(v - self.center) for v in self.series.values[run.start : run.end + 1])


def analyse_series(series: Series) -> SeriesFacts:
    band = spread(series.values)
    low, high = band.bounds()
    found = runs(series.values, band) if len(series.values) >= 5 else []
    return SeriesFacts(series, found, band.median, low, high)


def describe_series(shape: SeriesSet) -> tuple[Description, list[SeriesFacts]]:
    """Count, time range, min/mean/max, anomalies (runs outside the robust band) and trend, per series."""
    analysed = [analyse_series(s) for s in shape.series]
    meta = _meta_sentence(shape.meta)
    one = len(analysed) == 1
    sentences = [_series_sentence(analysed[0], None) if one else _series_set_sentence(analysed)]
    if meta:
        sentences.append(meta)
    facts: list[str] = []
    candidates = sorted(
        (
            (index, f, run)
            for index, f in enumerate(analysed)
            for run in f.ranked[:MAX_FACTS]
            if run.length > 1 or f.strength(run) >= _SPIKE_STRENGTH
        ),
        key=lambda c: (-c[2].length, -c[1].peak(c[2]), c[0], c[2].start),
    )
    many = len(analysed) > 1
    for _, item, run in candidates[:MAX_FACTS]:
        facts.append(_run_fact(item, run, many))
    for item in analysed:
        found = item.trend
        if len(facts) < MAX_FACTS and found is not None and found[0] != "flat":
            prefix = f"{item.series.name}: " if many else ""
            change = f"median {fmt(found[1])} in the first third, {fmt(found[2])} in the last"
            facts.append(f"{prefix}{item.series.field} {found[0]}: {change}")
    return Description(" ".join(sentences), facts), analysed


def _run_fact(item: SeriesFacts, run: Run, named: bool) -> str:
    series = item.series
    values = series.values[run.start : run.end + 1]
    prefix = f"{series.name}: " if named else ""
    side = "above" if run.high else "below"
    bound = item.high if run.high else item.low
    center = fmt(item.center)
    if run.length == 1:
        kind = "spike" if run.high else "dip"
        moment = fmt_time(series.times[run.start])
        return f"{prefix}{kind} of {series.field} to {fmt(values[0])} at {moment} (median {center})"
    level = fmt(values[0]) if min(values) == max(values) else f"{fmt(min(values))}-{fmt(max(values))}"
    return (
        f"{prefix}{series.field} {side} {fmt(bound)} for {run.length} consecutive points from "
        f"{fmt_time(series.times[run.start])} to {fmt_time(series.times[run.end])}: {level} (median {center})"
    )


def _series_sentence(item: SeriesFacts, name: str | None) -> str:
    stats = item.stats
    series = item.series
    head = f"{name}: " if name else ""
    skipped = f" ({series.skipped} points without a time or a number skipped)" if series.skipped else ""
    parts = [
        f"{head}{stats['points']} points of {series.field} from {stats['first']} to {stats['last']}{skipped};",
        f"min {fmt(stats['min'])}, mean {fmt(stats['mean'])}, median {fmt(stats['median'])}, max {fmt(stats['max'])}.",
    ]
    anomalous = sum(run.length for run in item.runs)
    if anomalous:
        sustained = [r for r in item.runs if r.length > 1]
        parts.append(
            f"{anomalous} anomalous points outside {fmt(item.low)}-{fmt(item.high)} in {len(item.runs)} runs"
            f" ({len(sustained)} sustained)."
        )
    else:
        parts.append("No anomalies.")
    found = item.trend
    if found is not None:
        parts.append(f"Trend: {found[0]} (median {fmt(found[1])} in the first third, {fmt(found[2])} in the last).")
    return " ".join(parts)


def _series_set_sentence(analysed: Sequence[SeriesFacts]) -> str:
    names = [s.series.name or "?" for s in analysed]
    start = min(s.series.times[0] for s in analysed)
    end = max(s.series.times[-1] for s in analysed)
    total = sum(len(s.series.values) for s in analysed)
    parts = [
        f"{len(analysed)} series ({_listing(names, 8)}), {total} points from {fmt_time(start)} to {fmt_time(end)}."
    ]
    top = max(analysed, key=lambda s: max(s.series.values))
    parts.append(f"Highest value: {top.series.name} ({fmt(max(top.series.values))}).")
    odd = [s for s in analysed if s.runs]
    if odd:
        named = ", ".join(
            f"{s.series.name} ({sum(r.length for r in s.runs)} points, max {fmt(max(s.series.values))})"
            for s in odd[:_MAX_NAMES]
        )
        parts.append(f"{len(odd)} with anomalies: {named}{', …' if len(odd) > _MAX_NAMES else ''}.")
    else:
        parts.append("No anomalies.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# Objects, scalars, text
# ---------------------------------------------------------------------------------------------------------------


def describe_object(output: Any) -> Description:
    """The top-level keys (or items) and what each holds."""
    if isinstance(output, Mapping):
        parts = [f"{key} {_what(value)}" for key, value in list(output.items())[:_MAX_COLUMNS_NAMED]]
        more = f", … ({len(output) - _MAX_COLUMNS_NAMED} more keys)" if len(output) > _MAX_COLUMNS_NAMED else ""
        return Description(f"An object with {len(output)} keys: {', '.join(parts)}{more}.")
    items = list(output) if isinstance(output, list | tuple) else [output]
    kinds = Counter(type(v).__name__ for v in items)
    shown = ", ".join(fmt(v, 40) for v in items[:_MAX_NAMES] if not isinstance(v, Mapping | list))
    example = f": {shown}{', …' if len(items) > _MAX_NAMES else ''}" if shown else ""
    kinds_text = ", ".join(f"{c} {k}" for k, c in sorted(kinds.items()))
    return Description(f"A list of {len(items)} items ({kinds_text}){example}.")


def _what(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"(object, {len(value)} keys)"
    if isinstance(value, list):
        return f"({len(value)} items)"
    return f"= {fmt(value, 40)}"


def describe_scalar(output: Any) -> Description:
    return Description(f"The inspection printed a single value: {fmt(output, 200)}.")


def describe_text(output: str) -> Description:
    """Size, first line, and the lines that mention errors."""
    lines = output.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    summary = f"Text of {len(lines)} lines ({len(output)} characters); first line: {fmt(first, _TEXT_WIDTH)}"
    seen: dict[str, None] = {}
    for line in lines:
        lowered = line.lower()
        if any(word in lowered for word in _ERROR_WORDS):
            seen.setdefault(fmt(line.strip(), _TEXT_WIDTH), None)
        if len(seen) == _MAX_NAMES:
            break
    return Description(summary, [f"Line: {line}" for line in seen])


def describe_error(status: str, error: str, attempts: int, has_output: bool) -> Description:
    """What failed: the run's status, attempts and first lines of its error."""
    tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""
    reason = " ".join(error.split())
    detail = f": {fmt(reason, 300)}" if reason else ""
    unaccepted = " Its last output was not accepted, so it is not used as evidence." if has_output else ""
    return Description(f"The inspection failed (status {status}{tries}){detail}.{unaccepted}")
