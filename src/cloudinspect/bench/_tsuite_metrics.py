"""The troubleshooting benchmark's figures: from scored cells to one `TroubleshootModelSummary` per model.

Definitions live here and in docs/benchmark.md (keep them in step). As in the code benchmark (metrics.py), the
denominator is the matrix, not what ran: a cell without a result, or an `error` cell, counts as root cause not
found, evidence not cited and score 0, so an interrupted or crashing benchmark never looks better than a finished
one; rates come with Wilson intervals over cells; percentiles are nearest-rank (every reported duration was
observed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from cloudinspect.bench._tsuite_types import (
    FaultFigures,
    FaultInfo,
    TroubleshootBenchConfig,
    TroubleshootCellResult,
    TroubleshootModelSummary,
    TroubleshootSummary,
)
from cloudinspect.bench.metrics import MISSING, percentile, wilson_interval

METHODS: dict[str, str] = {
    "root_cause_rate": "cells whose top hypothesis names every expected label, over the matrix's cells "
    "(missing and error cells count as not found)",
    "evidence_cited_rate": "cells whose citations all exist and whose top hypothesis cites evidence of one of the "
    "fault's evidence prompts, over the matrix's cells",
    "mean_score": "mean of 0.5 recall + 0.2 precision + 0.3 evidence over the matrix's cells (missing: 0)",
    "ci95": "Wilson score interval, 95%, over cells",
    "percentiles": "nearest-rank: the smallest observed value with at least p% of the values at or below it",
}
"""How the figures are computed, written into summary.json so that a reader of the file alone knows."""

_Row = list[TroubleshootCellResult | None]
"""One model's results on one scenario, a slot per repeat (None: no result yet)."""


def summarize_troubleshoot(
    config: TroubleshootBenchConfig, faults: Sequence[FaultInfo], results: Sequence[TroubleshootCellResult]
) -> TroubleshootSummary:
    """Roll the cells up into one summary per model of the config (in its order). Only results inside the matrix
    count; of two results with one cell key the one that finished last wins; cells without a result make the
    summary incomplete."""
    scenarios = [fault.scenario for fault in faults]
    latest: dict[str, TroubleshootCellResult] = {}
    for result in results:
        kept = latest.get(result.cell.key)
        if kept is None or result.finished_at >= kept.finished_at:
            latest[result.cell.key] = result
    names = {fault.scenario: fault.fault for fault in faults}
    models: dict[str, TroubleshootModelSummary] = {}
    for model_id in dict.fromkeys(config.models):
        grid = {
            scenario: [latest.get(f"{model_id}|{scenario}|{repeat}") for repeat in range(config.repeat)]
            for scenario in scenarios
        }
        models[model_id] = model_summary(grid, names)
    return TroubleshootSummary(
        config=config,
        faults=list(faults),
        models=models,
        generated_at=datetime.now(UTC),
        complete=all(m.missing_cells == 0 for m in models.values()),
        methods=METHODS,
    )


def model_summary(grid: Mapping[str, _Row], fault_names: Mapping[str, str]) -> TroubleshootModelSummary:
    """One model's figures from its grid (scenario -> a result or None per repeat)."""
    slots = [cell for row in grid.values() for cell in row]
    present = [cell for cell in slots if cell is not None]
    expected = len(slots)
    found = sum(1 for cell in present if cell.root_cause_found)
    cited = sum(1 for cell in present if cell.evidence_cited_correctly)
    cost = sum(cell.cost_usd for cell in present)
    statuses: Counter[str] = Counter(cell.status for cell in present)
    if expected > len(present):
        statuses[MISSING] = expected - len(present)
    return TroubleshootModelSummary(
        scenarios=len(grid),
        cells=len(present),
        cells_expected=expected,
        missing_cells=expected - len(present),
        root_cause_found=found,
        root_cause_rate=_share(found, expected),
        root_cause_rate_ci95=wilson_interval(found, expected),
        evidence_cited=cited,
        evidence_cited_rate=_share(cited, expected),
        evidence_cited_rate_ci95=wilson_interval(cited, expected),
        mean_score=_mean_score(present, expected),
        cost_usd=round(cost, 6),
        usd_per_found=round(cost / found, 6) if found else None,
        duration_p50_ms=percentile([cell.duration_ms for cell in present], 50),
        duration_p95_ms=percentile([cell.duration_ms for cell in present], 95),
        tokens_in=sum(cell.tokens_in for cell in present),
        tokens_out=sum(cell.tokens_out for cell in present),
        fallback_plans=sum(cell.fallback_plans for cell in present),
        failed_steps=sum(cell.failed_steps for cell in present),
        errors=statuses.get("error", 0),
        status_counts=dict(sorted(statuses.items(), key=lambda item: (-item[1], item[0]))),
        by_fault={scenario: _fault_figures(fault_names.get(scenario, ""), row) for scenario, row in grid.items()},
    )


def _fault_figures(fault: str, row: _Row) -> FaultFigures:
    present = [cell for cell in row if cell is not None]
    expected = len(row)
    statuses: Counter[str] = Counter(cell.status for cell in present)
    if expected > len(present):
        statuses[MISSING] = expected - len(present)
    found = sum(1 for cell in present if cell.root_cause_found)
    return FaultFigures(
        fault=fault,
        cells=len(present),
        cells_expected=expected,
        root_cause_found=found,
        root_cause_rate=_share(found, expected),
        evidence_cited_rate=_share(sum(1 for cell in present if cell.evidence_cited_correctly), expected),
        mean_score=_mean_score(present, expected),
        cost_usd=round(sum(cell.cost_usd for cell in present), 6),
        duration_p50_ms=percentile([cell.duration_ms for cell in present], 50),
        statuses=dict(sorted(statuses.items())),
    )


def _mean_score(present: Sequence[TroubleshootCellResult], expected: int) -> float:
    return round(sum(cell.score for cell in present) / expected, 4) if expected else 0.0


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
