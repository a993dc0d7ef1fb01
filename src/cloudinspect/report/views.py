"""What the reports show, computed once from the summary and the cells: the leaderboard rows, each model's
per-service figures and outcome counts, and per task each cell with its attempts.

The HTML and Markdown renderers only lay these out, so that both say the same thing and figures are formatted in
one place.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloudinspect.bench.metrics import MISSING
from cloudinspect.bench.types import BenchSummary, CellResult, ModelSummary, ScenarioGrade, Task
from cloudinspect.loop.state import Attempt

CODE_LIMIT = 20_000
DIFF_LIMIT = 20_000
OUTPUT_LIMIT = 4_000
FEEDBACK_LIMIT = 8_000
MESSAGE_LIMIT = 2_000
LIST_LIMIT = 25


@dataclass(frozen=True)
class Capped:
    """A text cut to a size a browser and a reader can cope with, and the note that says so."""

    text: str
    note: str = ""


def cap(text: str, limit: int) -> Capped:
    """The first `limit` characters of `text`, with a note when some were left out."""
    if len(text) <= limit:
        return Capped(text)
    return Capped(text[:limit], f"showing the first {limit:,} of {len(text):,} characters")


def cap_list(items: Sequence[str], limit: int = LIST_LIMIT) -> tuple[list[str], str]:
    """The first `limit` items (each capped), with a note when some were left out."""
    shown = [cap(item, MESSAGE_LIMIT).text for item in items[:limit]]
    return shown, (f"showing {limit} of {len(items)}" if len(items) > limit else "")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def usd(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "$0"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def millis(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's headline figures, formatted."""

    model: str
    colour: str
    solved: str
    pass_rate: str
    ci: str
    first_try: str
    mean_attempts: str
    cost: str
    usd_per_solved: str
    latency: str
    hallucinated: str
    pass_rate_value: float
    cost_value: float


def leaderboard(summary: BenchSummary, colours: Mapping[str, str]) -> list[LeaderboardRow]:
    """Models by pass rate (highest first), then by cost (cheapest first)."""
    rows = []
    for model, s in summary.models.items():
        low, high = s.pass_rate_ci95
        rows.append(
            LeaderboardRow(
                model=model,
                colour=colours.get(model, "#777"),
                solved=f"{s.solved}/{s.tasks}",
                pass_rate=percent(s.pass_rate),
                ci=f"{percent(low)}–{percent(high)}",
                first_try=percent(s.first_try_pass_rate),
                mean_attempts="–" if s.mean_attempts_to_pass is None else f"{s.mean_attempts_to_pass:.2f}",
                cost=usd(s.cost_usd),
                usd_per_solved=usd(s.usd_per_solved),
                latency=f"{millis(s.latency_p50_ms)} / {millis(s.latency_p95_ms)}",
                hallucinated=percent(s.hallucinated_api_rate) if s.hallucinated_api_rate else "0%",
                pass_rate_value=s.pass_rate,
                cost_value=s.cost_usd,
            )
        )
    return sorted(rows, key=lambda r: (-r.pass_rate_value, r.cost_value, r.model))


def model_order(summary: BenchSummary, results: Sequence[CellResult]) -> list[str]:
    """Models in the config's order, then any model that only the summary or the cells know."""
    order = list(summary.config.models)
    for model in [*summary.models, *(r.cell.model_id for r in results)]:
        if model not in order:
            order.append(model)
    return order


def service_pass_rates(
    summary: BenchSummary, results: Sequence[CellResult], models: Sequence[str]
) -> tuple[list[str], dict[tuple[str, str], tuple[float, int] | None]]:
    """Services (sorted) and each model's pass rate and cell count on each: the summary's `by_service` figure
    when it has a `pass_rate`, otherwise counted from the cells (a missing cell counts as not solved)."""
    services = sorted({t.service for t in summary.tasks})
    service_of = {t.prompt_id: t.service for t in summary.tasks}
    repeat = summary.config.repeat
    solved: Counter[tuple[str, str]] = Counter()
    for r in results:
        if r.solved and r.cell.prompt_id in service_of:
            solved[(r.cell.model_id, service_of[r.cell.prompt_id])] += 1
    per_service_tasks = Counter(service_of.values())
    values: dict[tuple[str, str], tuple[float, int] | None] = {}
    for model in models:
        by_service: Mapping[str, Any] = summary.models[model].by_service if model in summary.models else {}
        for service in services:
            cells = per_service_tasks[service] * repeat
            stored = by_service.get(service, {})
            rate = stored.get("pass_rate") if isinstance(stored, Mapping) else None
            if isinstance(rate, int | float):
                n = stored.get("cells_expected", cells)
                values[(model, service)] = (float(rate), n if isinstance(n, int) else cells)
            else:
                values[(model, service)] = (solved[(model, service)] / cells, cells) if cells else None
    return services, values


def outcome_counts(
    summary: BenchSummary, results: Sequence[CellResult], models: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per model: solved cells, then the summary's failure classes of the other cells of the matrix (`missing`
    for cells without a result), counted from the cells for a model the summary does not know."""
    expected = len(summary.tasks) * summary.config.repeat
    solved: Counter[str] = Counter(r.cell.model_id for r in results if r.solved)
    counts: dict[str, dict[str, int]] = {}
    for model in models:
        row: dict[str, int] = {"solved": solved[model]} if solved[model] else {}
        s: ModelSummary | None = summary.models.get(model)
        if s is not None:
            failures = dict(s.failure_classes)
        else:
            mine = [r for r in results if r.cell.model_id == model]
            failures = dict(
                Counter(r.failure_class if r.failure_class != "none" else r.status for r in mine if not r.solved)
            )
            if expected > len(mine):
                failures[MISSING] = expected - len(mine)
        row.update({name: count for name, count in failures.items() if count})
        counts[model] = row
    return counts


def outcome_order(name: str) -> tuple[bool, bool, str]:
    """Solved first, missing last, failure classes by name in between."""
    return (name != "solved", name == MISSING, name)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk" or "" (context)
    text: str


@dataclass(frozen=True)
class ExecView:
    status: str
    error_class: str
    message: Capped
    duration: str
    api_calls: int
    blocked_calls: list[str]
    stdout: Capped
    stderr: Capped


@dataclass(frozen=True)
class AttemptView:
    """One attempt as the report shows it: everything capped, nothing trusted (the template escapes it all)."""

    n: int
    passed: bool
    error_class: str
    error_message: str
    code: Capped
    diff: list[DiffLine]
    diff_note: str
    fixed_by_tooling: list[str]
    findings: list[dict[str, Any]]
    execution: ExecView | None
    verdict_summary: str
    differences: list[str]
    differences_note: str
    schema_errors: list[str]
    feedback: Capped
    usage: str
    warnings: list[str]


@dataclass(frozen=True)
class CellView:
    model: str
    colour: str
    repeat: int
    status: str
    solved: bool
    failure_class: str
    passed_at: int | None
    reason: str
    run_id: str | None
    grades: list[ScenarioGrade]
    figures: str
    attempts: list[AttemptView]


@dataclass(frozen=True)
class TaskView:
    prompt_id: str
    service: str
    category: str
    scenarios: list[str]
    cells: list[CellView] = field(default_factory=list)

    @property
    def solved_by(self) -> int:
        return sum(1 for c in self.cells if c.solved)


def _diff_lines(diff: str) -> tuple[list[DiffLine], str]:
    capped = cap(diff, DIFF_LIMIT)
    lines = []
    for line in capped.text.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = ""
        lines.append(DiffLine(kind, line))
    return lines, capped.note


def _execution(data: Mapping[str, Any] | None) -> ExecView | None:
    if data is None:
        return None
    blocked = [f"{c.get('service', '?')}:{c.get('operation', '?')}" for c in data.get("blocked_calls") or []]
    duration = data.get("duration_ms")
    return ExecView(
        status=str(data.get("status", "?")),
        error_class=str(data.get("error_class", "none")),
        message=cap(str(data.get("error_message") or ""), MESSAGE_LIMIT),
        duration=millis(float(duration)) if isinstance(duration, int | float) else "–",
        api_calls=len(data.get("api_calls") or []),
        blocked_calls=blocked[:LIST_LIMIT],
        stdout=cap(str(data.get("stdout") or ""), OUTPUT_LIMIT),
        stderr=cap(str(data.get("stderr") or ""), OUTPUT_LIMIT),
    )


def attempt_view(attempt: Attempt) -> AttemptView:
    """An attempt, capped for display."""
    diff, diff_note = _diff_lines(attempt.diff)
    verdict = attempt.verdict
    differences, differences_note = cap_list(verdict.differences if verdict else [])
    if verdict and verdict.difference_count > len(verdict.differences) and not differences_note:
        differences_note = f"showing {len(verdict.differences)} of {verdict.difference_count}"
    schema_errors, _ = cap_list(verdict.schema_errors if verdict else [])
    usage = attempt.usage
    return AttemptView(
        n=attempt.n,
        passed=attempt.passed,
        error_class=attempt.error_class,
        error_message=cap(attempt.error_message, MESSAGE_LIMIT).text,
        code=cap(attempt.code, CODE_LIMIT),
        diff=diff,
        diff_note=diff_note,
        fixed_by_tooling=attempt.fixed_by_tooling[:LIST_LIMIT],
        findings=[f.model_dump() for f in attempt.findings[:LIST_LIMIT]],
        execution=_execution(attempt.exec_result),
        verdict_summary=verdict.summary if verdict else "",
        differences=differences,
        differences_note=differences_note,
        schema_errors=schema_errors,
        feedback=cap(attempt.feedback, FEEDBACK_LIMIT),
        usage=(
            f"{usage.tokens_in:,} in / {usage.tokens_out:,} out tokens, {usd(usage.cost_usd)}, "
            f"model {millis(usage.latency_ms)}, attempt {millis(attempt.duration_ms)}"
        ),
        warnings=attempt.generation_warnings[:LIST_LIMIT],
    )


def task_views(
    summary: BenchSummary,
    results: Sequence[CellResult],
    attempts: Mapping[str, list[Attempt]],
    colours: Mapping[str, str],
    models: Sequence[str],
) -> list[TaskView]:
    """Every task of the matrix (and any cell's prompt the summary does not list), with its cells in model order."""
    by_task: dict[str, list[CellResult]] = defaultdict(list)
    for r in results:
        by_task[r.cell.prompt_id].append(r)
    tasks: list[Task] = list(summary.tasks)
    known = {t.prompt_id for t in tasks}
    for prompt_id in sorted(by_task):
        if prompt_id not in known:
            tasks.append(Task(prompt_id=prompt_id, service="?", category="?", scenarios=[]))
    rank = {m: i for i, m in enumerate(models)}
    views = []
    for task in tasks:
        cells = sorted(by_task.get(task.prompt_id, []), key=lambda r: (rank.get(r.cell.model_id, 0), r.cell.repeat))
        view = TaskView(task.prompt_id, task.service, task.category, list(task.scenarios))
        for r in cells:
            view.cells.append(
                CellView(
                    model=r.cell.model_id,
                    colour=colours.get(r.cell.model_id, "#777"),
                    repeat=r.cell.repeat,
                    status=r.status,
                    solved=r.solved,
                    failure_class=r.failure_class,
                    passed_at=r.passed_at,
                    reason=cap(r.reason, MESSAGE_LIMIT).text,
                    run_id=r.run_id,
                    grades=list(r.grades),
                    figures=(
                        f"{r.attempts} attempt(s), {r.tokens_in:,} in / {r.tokens_out:,} out tokens, "
                        f"{usd(r.cost_usd)}, {millis(r.duration_ms)}"
                    ),
                    attempts=[attempt_view(a) for a in attempts.get(r.run_id or "", [])],
                )
            )
        views.append(view)
    return views
