"""Smaller and smaller versions of an inspection's output, for when the evidence bundle is over its token budget.

Each kind has a ladder of levels; level 0 is the output itself and each next level is smaller (`reduce` returns
None past the last one). What a reduction keeps is what a diagnosis needs first:

- tables: the first rows (catalogue prompts sort the worst first) and the rows the facts name, with cells cut
  and a note of how many rows were cut;
- time series: per series its statistics and anomalies (runs outside the robust band), then fewer anomalies,
  then only the series with anomalies or the highest values; never raw points past level 1, where 24 buckets
  (min/mean/max) keep the shape of the curve;
- objects: lists, text and nesting cut shorter at each level;
- text: the first and last lines.

A reduction of a table, series or object is a dict with `"reduction"` (the kind) and `"note"` (what was cut), so
that a reader of the JSON can tell it from an output; a reduced text says `… N lines cut …` where it was cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cloudinspect.troubleshoot._evidence_describe import SeriesFacts, columns_of
from cloudinspect.troubleshoot._evidence_shapes import SeriesSet, Table
from cloudinspect.troubleshoot._evidence_stats import fmt_time

_TABLE_LEVELS = ((50, 200, None), (20, 120, 20), (10, 80, 12), (5, 60, 8), (3, 40, 6), (1, 40, 4))
"""(rows from the top, cell width, columns) per level."""
_SERIES_LEVELS = ((None, 10, 24), (None, 5, 0), (20, 2, 0), (5, 1, 0), (1, 0, 0))
"""(series kept, anomalies per series, buckets per series) per level."""
_OBJECT_LEVELS = ((20, 300, 8), (5, 100, 4), (2, 60, 3), (1, 40, 2))
"""(list items, text width, nesting depth) per level."""
_TEXT_LEVELS = ((40, 10, 300), (10, 5, 200), (3, 2, 120), (1, 0, 80))
"""(first lines, last lines, line width) per level."""


def reduce(
    kind: str,
    output: Any,
    level: int,
    *,
    shape: Table | SeriesSet | None = None,
    notable: Sequence[int] = (),
    analysed: Sequence[SeriesFacts] = (),
) -> Any | None:
    """The output at `level` (>= 1) of its kind's ladder, or None when there is no smaller level."""
    if kind == "table" and isinstance(shape, Table):
        return _table(shape, notable, level)
    if kind == "timeseries" and isinstance(shape, SeriesSet):
        return _series(shape, analysed, level)
    if kind == "object":
        return _object(output, level)
    if kind == "text" and isinstance(output, str):
        return _text(output, level)
    return None


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(value: Any, width: int) -> Any:
    if isinstance(value, str):
        return _cut(value, width)
    if isinstance(value, Mapping | list):
        return _prune(value, 3, width, 2)
    return value


def _table(table: Table, notable: Sequence[int], level: int) -> dict[str, Any] | None:
    if level > len(_TABLE_LEVELS):
        return None
    first, width, max_columns = _TABLE_LEVELS[level - 1]
    rows = table.rows
    flagged = [i for i in notable if i >= first][:first]
    keep = sorted(set(range(min(first, len(rows)))) | set(flagged))
    columns = columns_of([rows[i] for i in keep])
    shown_columns = columns if max_columns is None else columns[:max_columns]
    cut = len(rows) - len(keep)
    notes = [f"{len(keep)} of {len(rows)} {table.noun}: the first {min(first, len(rows))}"]
    if flagged:
        notes.append(f" and {len(flagged)} named in the facts")
    notes.append(f"; {cut} cut" if cut else "; none cut")
    if len(shown_columns) < len(columns):
        notes.append(f"; {len(columns) - len(shown_columns)} of {len(columns)} columns cut")
    notes.append(f"; text cut to {width} characters.")
    return {
        "reduction": "table",
        "key": table.key,
        "rows_total": len(rows),
        "rows": [{c: _cell(rows[i][c], width) for c in shown_columns if c in rows[i]} for i in keep],
        "meta": {k: _cell(v, width) for k, v in table.meta.items()},
        "note": "".join(notes),
    }


def _series(shape: SeriesSet, analysed: Sequence[SeriesFacts], level: int) -> dict[str, Any] | None:
    if level > len(_SERIES_LEVELS):
        return None
    keep, anomalies, buckets = _SERIES_LEVELS[level - 1]
    ranked = sorted(
        range(len(analysed)),
        key=lambda i: (-sum(r.length for r in analysed[i].runs), -analysed[i].stats["max"], i),
    )
    chosen = ranked if keep is None else ranked[:keep]
    records = []
    for i in chosen:
        item = analysed[i]
        record: dict[str, Any] = {"name": item.series.name, **item.stats}
        if anomalies:
            record["anomalies"] = item.anomalies(anomalies)
        record["anomalous_points"] = sum(r.length for r in item.runs)
        if buckets:
            record["buckets"] = _buckets(item, buckets)
        records.append(record)
    notes = [f"{shape.points} points in {len(analysed)} series reduced to statistics"]
    if anomalies:
        notes.append(f" and up to {anomalies} anomalies each")
    if buckets:
        notes.append(f" and {buckets} buckets (min/mean/max) each")
    if len(chosen) < len(analysed):
        notes.append(f"; {len(chosen)} of {len(analysed)} series shown (anomalous and highest first)")
    return {
        "reduction": "timeseries",
        "points_total": shape.points,
        "series_total": len(analysed),
        "series": records,
        "meta": {k: _prune(v, 5, 100, 3) for k, v in shape.meta.items()},
        "note": "".join(notes) + ".",
    }


def _buckets(item: SeriesFacts, count: int) -> list[dict[str, Any]]:
    values, times = item.series.values, item.series.times
    size = max(1, -(-len(values) // count))
    out = []
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        out.append(
            {
                "from": fmt_time(times[start]),
                "min": round(min(chunk), 4),
                "mean": round(sum(chunk) / len(chunk), 4),
                "max": round(max(chunk), 4),
            }
        )
    return out


def _object(output: Any, level: int) -> dict[str, Any] | None:
    if level > len(_OBJECT_LEVELS):
        return None
    items, width, depth = _OBJECT_LEVELS[level - 1]
    return {
        "reduction": "object",
        "value": _prune(output, items, width, depth),
        "note": f"lists cut to {items} items, maps to {items * 2} keys, text to {width} characters, "
        f"nesting to {depth} levels.",
    }


def _prune(value: Any, items: int, width: int, depth: int) -> Any:
    if isinstance(value, str):
        return _cut(value, width)
    if isinstance(value, Mapping):
        if depth <= 0:
            return f"{{… {len(value)} keys}}"
        keys = list(value)[: items * 2]
        pruned = {k: _prune(value[k], items, width, depth - 1) for k in keys}
        if len(value) > len(keys):
            pruned["…"] = f"{len(value) - len(keys)} more keys"
        return pruned
    if isinstance(value, list | tuple):
        if depth <= 0:
            return f"[… {len(value)} items]"
        out = [_prune(v, items, width, depth - 1) for v in value[:items]]
        if len(value) > items:
            out.append(f"… {len(value) - items} more items")
        return out
    return value


def _text(text: str, level: int) -> str | None:
    if level > len(_TEXT_LEVELS):
        return None
    head, tail, width = _TEXT_LEVELS[level - 1]
    lines = text.splitlines()
    if len(lines) <= head + tail:
        kept = [_cut(line, width) for line in lines]
    else:
        cut = len(lines) - head - tail
        kept = [_cut(line, width) for line in lines[:head]]
        kept.append(f"… {cut} lines cut …")
        kept.extend(_cut(line, width) for line in lines[len(lines) - tail :])
    return "\n".join(kept)
