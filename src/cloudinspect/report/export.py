"""`cells.csv` and `cells.json`: one row per cell, for spreadsheets, notebooks and `compare`.

A row is a `CellResult` with the cell's key, model, prompt and repeat lifted to the top level. In JSON the lists
(grades, per-attempt classes and latencies) stay lists, so that `cells_from_json` rebuilds the exact CellResults; in
CSV they become `;`-joined strings and each scenario's grade gets its own `grade:<scenario>` column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cloudinspect.bench.types import CellResult
from cloudinspect.errors import InputError

CELL_FIELDS = ("key", "model_id", "prompt_id", "repeat")


def flatten_cell(result: CellResult) -> dict[str, Any]:
    """The cell's JSON with `cell` lifted to the top level (key, model_id, prompt_id, repeat first)."""
    data = result.model_dump(mode="json")
    cell = data.pop("cell")
    return {"key": result.cell.key, **cell, **data}


def unflatten_cell(row: dict[str, Any]) -> CellResult:
    """The inverse of `flatten_cell`."""
    data = dict(row)
    data.pop("key", None)
    cell = {name: data.pop(name) for name in ("model_id", "prompt_id", "repeat") if name in data}
    return CellResult.model_validate({"cell": cell, **data})


def _grade_label(passed: bool, error_class: str) -> str:
    return "pass" if passed else error_class


def csv_text(results: Sequence[CellResult], scenarios: Sequence[str] = ()) -> str:
    """The cells as CSV (header + one line per cell), with a `grade:<scenario>` column per scenario."""
    names = list(scenarios)
    for result in results:
        for grade in result.grades:
            if grade.scenario not in names:
                names.append(grade.scenario)
    rows: list[dict[str, Any]] = []
    for result in results:
        row = flatten_cell(result)
        grades = {g.scenario: _grade_label(g.passed, g.error_class) for g in result.grades}
        row["grades"] = ";".join(f"{s}:{label}" for s, label in grades.items())
        row["attempt_error_classes"] = ";".join(result.attempt_error_classes)
        row["attempt_latencies_ms"] = ";".join(f"{v:.1f}" for v in result.attempt_latencies_ms)
        for name in names:
            row[f"grade:{name}"] = grades.get(name, "")
        rows.append(row)
    header = [*flatten_cell(results[0]).keys()] if results else [*CELL_FIELDS]
    header += [f"grade:{name}" for name in names]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def json_text(results: Sequence[CellResult]) -> str:
    """The cells as a JSON list of flattened rows."""
    return json.dumps([flatten_cell(r) for r in results], indent=2, ensure_ascii=False) + "\n"


def cells_from_json(path: Path) -> list[CellResult]:
    """Read `cells.json` back (InputError naming the file when it is missing or malformed)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no cells.json here: not a benchmark directory?", path) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the cells: {exc}", path) from exc
    if not isinstance(rows, list):
        raise InputError("expected a JSON list of cells", path)
    try:
        return [unflatten_cell(row) for row in rows]
    except (ValidationError, TypeError, AttributeError) as exc:
        raise InputError(f"not a list of benchmark cells: {exc}", path) from exc
