"""`cloudinspect bench --models a,b --out DIR`: the model comparison benchmark, resumable.

Two suites: `code` (the default: catalogue prompts x scenarios, graded by execution) and `troubleshoot` (every
fault scenario troubleshot by each model, scored against its known root cause). Progress (a bar) goes to stderr,
then a leaderboard table; `DIR/summary.json` holds the figures. Re-running the same command in the same DIR
resumes: finished cells are kept, the others run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

    from cloudinspect.bench.troubleshoot import TroubleshootSummary
    from cloudinspect.bench.types import BenchSummary

SUITES = ("code", "troubleshoot")

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


def troubleshoot_leaderboard(summary: TroubleshootSummary) -> Table:
    """Models by root cause rate: found cells, root cause rate, evidence cited, mean score, cost, time."""
    from rich.table import Table

    table = Table(title="troubleshooting leaderboard", title_justify="left")
    for name in ("model", "found", "root cause rate", "evidence cited", "mean score", "cost USD", "time p50"):
        table.add_column(name, justify="left" if name == "model" else "right")
    ranked = sorted(
        summary.models.items(), key=lambda item: (-item[1].root_cause_rate, -item[1].mean_score, item[1].cost_usd)
    )
    for model_id, m in ranked:
        low, high = m.root_cause_rate_ci95
        table.add_row(
            model_id,
            f"{m.root_cause_found}/{m.cells_expected}",
            f"{m.root_cause_rate:.0%} [{low:.0%}-{high:.0%}]",
            f"{m.evidence_cited_rate:.0%}",
            f"{m.mean_score:.2f}",
            f"{m.cost_usd:.4f}",
            "-" if m.duration_p50_ms is None else f"{m.duration_p50_ms / 1000:.1f} s",
        )
    return table


def bench(
    models: Annotated[
        list[str],
        typer.Option("--models", "-m", help="Models, comma-separated: registry ids or replay:PATH."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Benchmark directory (created; reused to resume).")],
    suite: Annotated[
        str, typer.Option("--suite", help="code (catalogue prompts, graded by execution) or troubleshoot (faults).")
    ] = "code",
    prompts: Annotated[
        list[str] | None,
        typer.Option(
            "--prompts", "-p", help="Selectors, comma-separated: id glob, service:NAME, tag:NAME, category:NAME."
        ),
    ] = None,
    scenarios: Annotated[
        list[str] | None,
        typer.Option(
            "--scenarios",
            "-s",
            help="Scenarios, comma-separated; code: the loop runs on the first; troubleshoot: fault scenarios "
            "(default: all).",
        ),
    ] = None,
    planner_model: Annotated[
        str | None, typer.Option("--planner-model", help="troubleshoot: the model that plans and diagnoses.")
    ] = None,
    max_rounds: Annotated[
        int | None, typer.Option("--max-rounds", min=1, max=10, help="troubleshoot: planning rounds (default 2).")
    ] = None,
    max_inspections: Annotated[
        int | None,
        typer.Option("--max-inspections", min=1, max=50, help="troubleshoot: inspections per round (default 6)."),
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
    """Compare models: on catalogue prompts x scenarios (suite code: repair loop on the first scenario, graded on
    all), or on fault scenarios (suite troubleshoot: root cause found, evidence cited, cost, time)."""
    from cloudinspect.errors import InputError

    if suite not in SUITES:
        raise InputError(f"unknown suite {suite!r}: expected {' or '.join(SUITES)}")
    if sandbox not in ("warm", "process"):
        raise InputError(f"unknown sandbox {sandbox!r}: expected warm or process")
    fields: dict[str, object] = {
        "models": _split(models),
        "repeat": repeat,
        "max_attempts": max_attempts,
        "concurrency": concurrency,
        "sandbox": sandbox,
    }
    if scenarios:
        fields["scenarios"] = _split(scenarios)
    if suite == "troubleshoot":
        code_only = {
            "--prompts": bool(prompts),
            "--max-cost": max_cost is not None,
            "--executor": executor != "local",
            "--no-cache": no_cache,
        }
        _refuse_options(suite, [name for name, given in code_only.items() if given])
        extra = {"planner_model": planner_model, "max_rounds": max_rounds, "max_inspections": max_inspections}
        fields.update({name: value for name, value in extra.items() if value is not None})
        _run_troubleshoot(fields, out, quiet=quiet)
        return
    troubleshoot_only = {
        "--planner-model": planner_model,
        "--max-rounds": max_rounds,
        "--max-inspections": max_inspections,
    }
    _refuse_options(suite, [name for name, value in troubleshoot_only.items() if value is not None])
    if executor not in ("local", "ray"):
        raise InputError(f"unknown executor {executor!r}: expected local or ray")
    fields.update({"max_cost_usd": max_cost, "executor": executor, "cache": not no_cache})
    if prompts:
        fields["prompts"] = _split(prompts)
    _run_code(fields, out, quiet=quiet)


def _refuse_options(suite: str, given: list[str]) -> None:
    """Options of the other suite are an error, not silently ignored."""
    if given:
        from cloudinspect.errors import InputError

        raise InputError(f"{', '.join(given)}: not an option of the {suite} suite")


def _run_code(fields: dict[str, object], out: Path, *, quiet: bool) -> None:
    from pydantic import ValidationError

    from cloudinspect.bench.runner import run_benchmark
    from cloudinspect.bench.types import BenchConfig
    from cloudinspect.errors import InputError
    from cloudinspect.yamlfiles import problems_from_validation

    try:
        config = BenchConfig.model_validate(fields)
    except ValidationError as exc:
        raise InputError("invalid benchmark options", None, problems_from_validation(exc)) from None
    summary = run_benchmark(config, out, progress=not quiet)
    err_console.print(leaderboard(summary))
    _print_footer(summary.complete, out)


def _run_troubleshoot(fields: dict[str, object], out: Path, *, quiet: bool) -> None:
    from pydantic import ValidationError

    from cloudinspect.bench.troubleshoot import TroubleshootBenchConfig, run_troubleshoot_benchmark
    from cloudinspect.errors import InputError
    from cloudinspect.yamlfiles import problems_from_validation

    try:
        config = TroubleshootBenchConfig.model_validate(fields)
    except ValidationError as exc:
        raise InputError("invalid benchmark options", None, problems_from_validation(exc)) from None
    summary = run_troubleshoot_benchmark(config, out, progress=not quiet)
    err_console.print(troubleshoot_leaderboard(summary))
    _print_footer(summary.complete, out)


def _print_footer(complete: bool, out: Path) -> None:
    if not complete:
        err_console.print("[yellow]incomplete[/]: some cells have no result; run the same command again to finish")
    err_console.print(f"summary: {out / 'summary.json'}")


COMMANDS = [bench]
