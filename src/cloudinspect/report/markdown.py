"""`report.md`: the leaderboard, the outcome breakdown and the per-service table as Markdown, for a pull request,
a wiki page or a terminal; the details (attempts, code, diffs) stay in report.html, which it links to."""

from __future__ import annotations

from collections.abc import Sequence

from cloudinspect.bench.types import BenchSummary, CellResult
from cloudinspect.report import charts, views


def _cell(text: object) -> str:
    """A table cell: pipes and line breaks would end the cell or the row."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def render_markdown(summary: BenchSummary, results: Sequence[CellResult], *, html_name: str = "report.html") -> str:
    """The Markdown summary of a benchmark."""
    config = summary.config
    models = views.model_order(summary, results)
    expected = len(summary.tasks) * config.repeat * len(config.models)
    state = "complete" if summary.complete else "incomplete"
    lines = [
        "# cloudinspect benchmark",
        "",
        f"Generated {summary.generated_at.strftime('%Y-%m-%d %H:%M UTC')}; {state}: {len(results)} of {expected} "
        f"cells. Models: {', '.join(config.models)}. Scenarios: {', '.join(config.scenarios)}. "
        f"Tasks: {len(summary.tasks)}; repeat {config.repeat}; up to {config.max_attempts} attempts.",
        "",
        f"Charts and every attempt (code, diffs, review findings, outputs): [{html_name}]({html_name}).",
        "",
        "## Leaderboard",
        "",
    ]
    board = views.leaderboard(summary, charts.model_colours(models))
    lines += _table(
        [
            "model",
            "solved / tasks",
            "pass rate",
            "95% CI",
            "first try",
            "mean attempts",
            "cost",
            "USD / solved",
            "latency p50 / p95",
            "hallucinated API",
        ],
        [
            [
                r.model,
                r.solved,
                r.pass_rate,
                r.ci,
                r.first_try,
                r.mean_attempts,
                r.cost,
                r.usd_per_solved,
                r.latency,
                r.hallucinated,
            ]
            for r in board
        ],
        right=range(1, 10),
    )
    counts = views.outcome_counts(summary, results, models)
    classes = sorted({c for row in counts.values() for c in row}, key=views.outcome_order)
    lines += ["", "## Outcomes and failure classes", "", "Cells per model by outcome (a failed cell by its class).", ""]
    lines += _table(
        ["model", *classes],
        [[m, *(counts[m].get(c, 0) for c in classes)] for m in models],
        right=range(1, len(classes) + 1),
    )
    services, values = views.service_pass_rates(summary, results, models)
    lines += ["", "## Pass rate per service", ""]
    rows = []
    for m in models:
        rows.append([m, *(views.percent(v[0]) if (v := values.get((m, s))) else "–" for s in services)])
    lines += _table(["model", *services], rows, right=range(1, len(services) + 1))
    lines += ["", f"Per task details: [{html_name}#tasks]({html_name}#tasks).", ""]
    return "\n".join(lines)
