"""`cloudinspect troubleshoot "PROBLEM" --model M`: from a problem in words to a cited diagnosis and remediation.

Progress goes to stderr, one line per step; the result goes to stdout (or `--out FILE`): `text` is the diagnosis,
the remediation and an evidence summary; `json` and `markdown` are the whole result. Exit code 0 when the run
finished (whatever it concluded), 1 when the planner model's provider failed, 2 for bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

err_console = Console(stderr=True, highlight=False)


def _progress(console: Console) -> Callable[[str], None]:
    def show(line: str) -> None:
        indent = line.startswith("  ")
        console.print(Text("  " if indent else "• ", style="cyan") + Text(line.strip(), style="dim" if indent else ""))

    return show


def troubleshoot(
    problem: Annotated[str, typer.Argument(help="What is wrong, in your words (quote it).")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="Model writing the inspection scripts (registry id or replay:PATH).")
    ],
    planner_model: Annotated[
        str | None,
        typer.Option("--planner-model", "-r", help="Model that plans and diagnoses (default: --model)."),
    ] = None,
    target: Annotated[
        str, typer.Option("--target", "-T", help="emulator:SCENARIO (ephemeral), endpoint:URL, aws:PROFILE[?role=ARN].")
    ] = "emulator:baseline",
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or markdown.")] = "text",
    max_rounds: Annotated[int, typer.Option("--max-rounds", min=1, max=10, help="Plan-inspect-diagnose rounds.")] = 2,
    max_inspections: Annotated[
        int, typer.Option("--max-inspections", min=1, max=30, help="Inspections per round.")
    ] = 6,
    budget: Annotated[
        int, typer.Option("--budget", min=200, help="Token budget of the evidence the diagnosis reads.")
    ] = 6000,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=32, help="Inspections at once.")] = 3,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", "-n", min=1, max=50, help="Repair attempts per inspection.")
    ] = 3,
    sandbox: Annotated[str, typer.Option("--sandbox", help="process, warm, docker or auto.")] = "warm",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the result to FILE instead of stdout.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Troubleshoot a problem: plan inspections, run them, and diagnose the root cause from cited evidence."""
    import sys

    from cloudinspect.errors import InputError
    from cloudinspect.fileio import write_text_atomic
    from cloudinspect.troubleshoot.render import FORMATS, render_result
    from cloudinspect.troubleshoot.run import troubleshoot as run_troubleshoot

    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r} (one of: {', '.join(FORMATS)})")
    result = run_troubleshoot(
        problem,
        model=model,
        planner_model=planner_model,
        target=target,
        max_rounds=max_rounds,
        max_inspections=max_inspections,
        concurrency=concurrency,
        token_budget=budget,
        sandbox=sandbox,
        max_attempts=max_attempts,
        on_event=None if quiet else _progress(err_console),
    )
    rendered = render_result(result, fmt)
    if out is not None:
        write_text_atomic(out, rendered)
        if not quiet:
            err_console.print(f"wrote {out}")
    else:
        sys.stdout.write(rendered)
        sys.stdout.flush()


COMMANDS = [troubleshoot]
