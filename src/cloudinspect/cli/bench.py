"""`cloudinspect bench --models a,b --out DIR`: the model comparison benchmark, resumable.

Progress (a bar with ETA) goes to stderr, then a leaderboard table; `DIR/summary.json` holds the figures.
Re-running the same command in the same DIR resumes: finished cells are kept, the others run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

    from cloudinspect.bench.types import BenchSummary

err_console = Console(stderr=True, highlight=False)


def _split(values: list[str] | None) -> list[str]:
    """Comma-separated and/or repeated option values, in order, without blanks."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def leaderboard(summary: BenchSummary) -> Table:
    """Models by pass rate: solved cells, pass rate, first-try pass rate, cost, USD per solved cell."""
    from rich.table import Table

    table = Table(title="leaderboard", title_justify="left")
    for name in ("model", "solved", "pass rate", "first try", "cost USD", "USD/solved"):
        table.add_column(name, justify="left" if name == "model" else "right")
    ranked = sorted(summary.models.items(), key=lambda item: (-item[1].pass_rate, item[1].cost_usd, item[0]))
    for model_id, m in ranked:
        low, high = m.pass_rate_ci95
        table.add_row(
            model_id,
            f"{m.solved}/{m.cells}",
            f"{m.pass_rate:.0%} [{low:.0%}-{high:.0%}]",
            f"{m.first_try_pass_rate:.0%}",
            f"{m.cost_usd:.4f}",
            "-" if m.usd_per_solved is None else f"{m.usd_per_solved:.4f}",
        )
    return table


def bench(
    models: Annotated[
        list[str],
        typer.Option("--models", "-m", help="Models, comma-separated: registry ids or replay:PATH."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Benchmark directory (created; reused to resume).")],
    prompts: Annotated[
        list[str] | None,
        typer.Option(
            "--prompts", "-p", help="Selectors, comma-separated: id glob, service:NAME, tag:NAME, category:NAME."
        ),
    ] = None,
    scenarios: Annotated[
        list[str] | None,
        typer.Option("--scenarios", "-s", help="Scenarios, comma-separated; the loop runs on the first."),
    ] = None,
    repeat: Annotated[int, typer.Option("--repeat", "-k", min=1, max=100, help="Runs of each cell.")] = 1,
    max_attempts: Annotated[int, typer.Option("--max-attempts", "-n", min=1, max=50, help="Attempts per cell.")] = 3,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help="Cost budget per cell, in USD.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=64, help="Cells at once.")] = 2,
    executor: Annotated[str, typer.Option("--executor", help="local (threads) or ray.")] = "local",
    sandbox: Annotated[str, typer.Option("--sandbox", help="warm (default) or process.")] = "warm",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached model responses.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Compare models on catalogue prompts x scenarios: repair loop on the first scenario, graded on all."""
    from pydantic import ValidationError

    from cloudinspect.bench.runner import run_benchmark
    from cloudinspect.bench.types import BenchConfig
    from cloudinspect.errors import InputError
    from cloudinspect.yamlfiles import problems_from_validation

    if executor not in ("local", "ray"):
        raise InputError(f"unknown executor {executor!r}: expected local or ray")
    if sandbox not in ("warm", "process"):
        raise InputError(f"unknown sandbox {sandbox!r}: expected warm or process")
    fields: dict[str, object] = {
        "models": _split(models),
        "repeat": repeat,
        "max_attempts": max_attempts,
        "max_cost_usd": max_cost,
        "concurrency": concurrency,
        "executor": executor,
        "sandbox": sandbox,
        "cache": not no_cache,
    }
    if prompts:
        fields["prompts"] = _split(prompts)
    if scenarios:
        fields["scenarios"] = _split(scenarios)
    try:
        config = BenchConfig.model_validate(fields)
    except ValidationError as exc:
        raise InputError("invalid benchmark options", None, problems_from_validation(exc)) from None
    summary = run_benchmark(config, out, progress=not quiet)
    err_console.print(leaderboard(summary))
    if not summary.complete:
        err_console.print("[yellow]incomplete[/]: some cells have no result; run the same command again to finish")
    err_console.print(f"summary: {out / 'summary.json'}")


COMMANDS = [bench]
