"""The benchmark's figures: from graded cells to one `ModelSummary` per model, and `DIR/summary.json`.

Definitions live here and in docs/benchmark.md (keep them in step). The choices that matter:

- The denominator is the matrix, not what ran: a cell without a result counts as not solved (and makes the summary
  incomplete), so a crashed or interrupted benchmark can never look better than a finished one.
- Intervals, not bare rates: with a few dozen tasks, 5 points of pass rate is noise. The Wilson score interval over
  cells is always given; it assumes cells are independent, which repeats of one task are not, so a bootstrap over
  tasks (seeded: the same data always gives the same interval) is given too.
- Percentiles use the nearest-rank method: every reported latency is one that was observed.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cloudinspect.bench.types import BENCH_SCHEMA_VERSION, BenchConfig, BenchSummary, CellResult, ModelSummary, Task
from cloudinspect.errors import InputError, Problem
from cloudinspect.yamlfiles import problems_from_validation

SUMMARY_FILE = "summary.json"
Z95 = NormalDist().inv_cdf(0.975)
"""The normal quantile of a two-sided 95% interval (1.95996...)."""
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 6
"""Fixed: the same cells always give the same bootstrap interval, and every model is resampled with the same task
draws (common random numbers), so their intervals differ only by their results."""
MISSING = "missing"
"""The failure class (and status) counted for cells of the matrix that have no result."""

METHODS: dict[str, str] = {
    "pass_rate_ci95": "Wilson score interval, 95%, over cells (missing cells count as not solved)",
    "pass_rate_ci95_tasks": f"percentile bootstrap over tasks, 95%, {BOOTSTRAP_RESAMPLES} resamples, "
    f"seed {BOOTSTRAP_SEED}",
    "pass_at_k": "unbiased estimator 1 - C(n-c,k)/C(n,k) per task (n = repeats, c = solved), averaged over tasks",
    "percentiles": "nearest-rank: the smallest observed value with at least p% of the values at or below it",
}
"""How the figures are computed, written into summary.json so that a reader of the file alone knows."""


class GroupSummary(BaseModel):
    """The main figures of one model over a group of tasks (a service, a category, or the whole matrix)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tasks: int
    cells: int
    cells_expected: int
    solved: int
    pass_rate: float
    pass_rate_ci95: tuple[float, float]
    first_try_pass_rate: float
    pass_at_attempt: list[float]
    pass_at_k: dict[str, float]
    mean_attempts_to_pass: float | None
    failure_classes: dict[str, int]
    hallucinated_api_rate: float
    cost_usd: float
    usd_per_solved: float | None


# -- statistics ---------------------------------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: unlike the normal approximation it stays inside [0, 1] and does
    not collapse to a point at 0% or 100%, which small benchmarks hit often. (0, 1) when there is no data."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n ({successes} of {n})")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021)'s unbiased estimator of pass@k from n samples of which c are correct: the probability
    that at least one of k samples drawn without replacement from the n is correct."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile (p in (0, 100]): the value at rank ceil(p/100 * N) of the sorted values. None when
    there are no values."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    ordered = sorted(values)
    return _nearest_rank(ordered, p) if ordered else None


def _nearest_rank(ordered: Sequence[float], p: float) -> float:
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def bootstrap_interval(
    rates: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the mean of per-task pass rates, resampling tasks with replacement:
    it treats the task, not the cell, as the unit, so correlated repeats of one task do not narrow it. Seeded for
    determinism. (0, 1) when there are no tasks; note that it collapses to a point when every task has the same
    rate (all solved or none), where the Wilson interval does not."""
    if not rates:
        return (0.0, 1.0)
    rng = random.Random(seed)  # noqa: S311 - resampling for statistics, not secrets
    n = len(rates)
    means = sorted(sum(rng.choices(rates, k=n)) / n for _ in range(resamples))
    return (_nearest_rank(means, 2.5), _nearest_rank(means, 97.5))


def two_proportion_overlap(ci_a: Sequence[float], ci_b: Sequence[float]) -> bool:
    """True when two intervals (low, high) overlap, i.e. the data do not show the two rates to differ.

    Caveats for whoever words a report with it: non-overlap of two 95% intervals is a conservative test (roughly
    p < 0.01, not 0.05), so 'overlap' means 'not shown different', never 'the same'; and both models ran the same
    tasks, so a paired comparison would be more sensitive than comparing intervals."""
    low_a, high_a = ci_a[0], ci_a[1]
    low_b, high_b = ci_b[0], ci_b[1]
    return low_a <= high_b and low_b <= high_a


def differs_beyond_noise(a: ModelSummary, b: ModelSummary) -> bool:
    """Whether two models' pass rates differ beyond noise: their Wilson intervals do not overlap, nor (when both
    have one) their bootstrap-over-tasks intervals. See `two_proportion_overlap` for the caveats."""
    if two_proportion_overlap(a.pass_rate_ci95, b.pass_rate_ci95):
        return False
    tasks_a, tasks_b = _extra(a, "pass_rate_ci95_tasks"), _extra(b, "pass_rate_ci95_tasks")
    if isinstance(tasks_a, Sequence) and isinstance(tasks_b, Sequence):
        return not two_proportion_overlap(tasks_a, tasks_b)
    return True


def _extra(summary: BaseModel, name: str) -> Any:
    return (summary.model_extra or {}).get(name)


# -- summaries ----------------------------------------------------------------------------------------------------

_Grid = dict[str, list[CellResult | None]]
"""prompt_id -> the model's result of each repeat (None: no result yet)."""


def summarize(config: BenchConfig, tasks: list[Task], results: list[CellResult]) -> BenchSummary:
    """Roll the cells up into one `ModelSummary` per model of the config (in its order).

    Only results inside the matrix count (a model of the config, a prompt among `tasks`, a repeat below
    config.repeat); if two results share a cell key the one that finished last wins. Cells without a result count
    as not solved and make `complete` False."""
    unique_tasks = list({task.prompt_id: task for task in tasks}.values())
    latest: dict[str, CellResult] = {}
    for result in results:
        kept = latest.get(result.cell.key)
        if kept is None or result.finished_at >= kept.finished_at:
            latest[result.cell.key] = result
    models: dict[str, ModelSummary] = {}
    for model_id in dict.fromkeys(config.models):
        grid: _Grid = {
            task.prompt_id: [latest.get(f"{model_id}|{task.prompt_id}|{repeat}") for repeat in range(config.repeat)]
            for task in unique_tasks
        }
        models[model_id] = _model_summary(config, unique_tasks, grid)
    return BenchSummary.model_validate(
        {
            "config": config,
            "tasks": unique_tasks,
            "models": models,
            "generated_at": datetime.now(UTC),
            "complete": all(_extra(m, "missing_cells") == 0 for m in models.values()),
            # An extra field (BenchSummary allows them): how the figures were computed, for readers of the file.
            "methods": METHODS,
        }
    )


def _model_summary(config: BenchConfig, tasks: list[Task], grid: _Grid) -> ModelSummary:
    core = _group(config, grid)
    present = [cell for row in grid.values() for cell in row if cell is not None]
    per_task = [sum(1 for cell in row if cell is not None and cell.solved) / config.repeat for row in grid.values()]
    attempt_latencies = [ms for cell in present for ms in cell.attempt_latencies_ms]
    task_latencies = [cell.duration_ms for cell in present]
    statuses: Counter[str] = Counter(cell.status for cell in present)
    if core.cells_expected > core.cells:
        statuses[MISSING] = core.cells_expected - core.cells
    return ModelSummary.model_validate(
        {
            **core.model_dump(),
            "read_only_violations": sum(cell.read_only_violations for cell in present),
            "bandit_high": sum(cell.bandit_high for cell in present),
            "tokens_in": sum(cell.tokens_in for cell in present),
            "tokens_out": sum(cell.tokens_out for cell in present),
            "latency_p50_ms": percentile(attempt_latencies, 50),
            "latency_p95_ms": percentile(attempt_latencies, 95),
            "task_latency_p50_ms": percentile(task_latencies, 50),
            "task_latency_p95_ms": percentile(task_latencies, 95),
            "by_service": _split(config, tasks, grid, lambda task: task.service),
            "by_category": _split(config, tasks, grid, lambda task: task.category),
            # Extras (ModelSummary allows them; documented in docs/benchmark.md).
            "missing_cells": core.cells_expected - core.cells,
            "pass_rate_ci95_tasks": bootstrap_interval(per_task),
            "attempt_failure_classes": _ranked(
                Counter(cls for cell in present for cls in cell.attempt_error_classes if cls != "none")
            ),
            "status_counts": _ranked(statuses),
            "api_calls": sum(cell.api_calls for cell in present),
            "hallucinated_calls": sum(cell.hallucinated_calls for cell in present),
        }
    )


def _split(
    config: BenchConfig, tasks: list[Task], grid: _Grid, key: Callable[[Task], str]
) -> dict[str, dict[str, Any]]:
    groups: dict[str, _Grid] = {}
    for task in tasks:
        groups.setdefault(key(task), {})[task.prompt_id] = grid[task.prompt_id]
    return {name: _group(config, groups[name]).model_dump(mode="json") for name in sorted(groups)}


def _group(config: BenchConfig, grid: _Grid) -> GroupSummary:
    present = [cell for row in grid.values() for cell in row if cell is not None]
    expected = len(grid) * config.repeat
    solved = [cell for cell in present if cell.solved]
    passed_at = [_passed_at(cell) for cell in solved]
    curve = [_share(sum(1 for n in passed_at if n <= k), expected) for k in range(1, config.max_attempts + 1)]
    per_task_solved = [sum(1 for cell in row if cell is not None and cell.solved) for row in grid.values()]
    failures = Counter(_failure_class(cell) for cell in present if not cell.solved)
    if expected > len(present):
        failures[MISSING] = expected - len(present)
    api_calls = sum(cell.api_calls for cell in present)
    cost = sum(cell.cost_usd for cell in present)
    return GroupSummary(
        tasks=len(grid),
        cells=len(present),
        cells_expected=expected,
        solved=len(solved),
        pass_rate=_share(len(solved), expected),
        pass_rate_ci95=wilson_interval(len(solved), expected),
        first_try_pass_rate=curve[0],
        pass_at_attempt=curve,
        pass_at_k={
            str(k): (sum(pass_at_k(config.repeat, c, k) for c in per_task_solved) / len(grid) if grid else 0.0)
            for k in range(1, config.repeat + 1)
        },
        mean_attempts_to_pass=sum(passed_at) / len(passed_at) if passed_at else None,
        failure_classes=_ranked(failures),
        hallucinated_api_rate=_share(sum(cell.hallucinated_calls for cell in present), api_calls),
        cost_usd=cost,
        usd_per_solved=cost / len(solved) if solved else None,
    )


def _passed_at(cell: CellResult) -> int:
    # The runner sets passed_at on every solved cell; older or hand-made results may not: their last attempt passed.
    return cell.passed_at if cell.passed_at is not None else max(cell.attempts, 1)


def _failure_class(cell: CellResult) -> str:
    # A cell that stopped before any attempt failed (provider error, budget) has no failure class: its status says.
    return cell.failure_class if cell.failure_class != "none" else cell.status


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _ranked(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# -- summary.json -------------------------------------------------------------------------------------------------


def write_summary(directory: Path, summary: BenchSummary) -> Path:
    """Write `DIR/summary.json` atomically: a reader or a crash never sees half a file."""
    from cloudinspect.fileio import write_text_atomic

    directory.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(directory / SUMMARY_FILE, summary.model_dump_json(indent=2) + "\n")


def read_summary(directory: Path) -> BenchSummary:
    """Read `DIR/summary.json`; an `InputError` naming the file when it is missing, not JSON, from a newer
    cloudinspect, or not a summary."""
    path = directory / SUMMARY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("no benchmark summary here (run `cloudinspect bench --out DIR` first)", path) from exc
    except OSError as exc:
        raise InputError(f"cannot read the benchmark summary: {exc.strerror}", path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("not valid JSON", path, [Problem(exc.msg, line=exc.lineno)]) from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top of the file", path)
    version = data.get("schema_version", BENCH_SCHEMA_VERSION)
    if isinstance(version, int) and version > BENCH_SCHEMA_VERSION:
        raise InputError(
            f"summary schema version {version} is newer than this cloudinspect reads ({BENCH_SCHEMA_VERSION}): "
            "upgrade cloudinspect",
            path,
        )
    try:
        return BenchSummary.model_validate(data)
    except ValidationError as exc:
        raise InputError("not a valid benchmark summary", path, problems_from_validation(exc)) from exc
