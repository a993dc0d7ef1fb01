"""`write_reports`: every report file of a benchmark directory, from its summary, cells and attempts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cloudinspect.bench.types import BenchSummary, CellResult
from cloudinspect.errors import InputError
from cloudinspect.fileio import write_text_atomic
from cloudinspect.loop.state import Attempt
from cloudinspect.report import export, views
from cloudinspect.report.html import render_html
from cloudinspect.report.markdown import render_markdown

REPORT_FILES = ("report.html", "report.md", "cells.csv", "cells.json")


def ordered(summary: BenchSummary, results: Sequence[CellResult]) -> list[CellResult]:
    """Cells in a stable order: model (as configured), prompt, repeat."""
    rank = {m: i for i, m in enumerate(views.model_order(summary, results))}
    return sorted(results, key=lambda r: (rank[r.cell.model_id], r.cell.prompt_id, r.cell.repeat))


def write_reports(
    directory: Path, summary: BenchSummary, results: Sequence[CellResult], attempts: Mapping[str, list[Attempt]]
) -> list[Path]:
    """Write report.html, report.md, cells.csv and cells.json into `directory` (each atomically) and return
    their paths. `attempts` maps a cell's `run_id` to its repair run's attempts; cells without are shown
    without attempts."""
    directory = directory.expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the report directory: {exc.strerror}", directory) from exc
    cells = ordered(summary, results)
    texts = {
        "report.html": render_html(summary, cells, attempts),
        "report.md": render_markdown(summary, cells),
        "cells.csv": export.csv_text(cells, summary.config.scenarios),
        "cells.json": export.json_text(cells),
    }
    return [write_text_atomic(directory / name, texts[name]) for name in REPORT_FILES]
