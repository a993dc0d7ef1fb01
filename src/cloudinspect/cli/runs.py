"""`cloudinspect runs list|show`: read repair runs back from the results store."""

from __future__ import annotations

import sys
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from cloudinspect.cli._output import console, print_json

NAME = "runs"
app = typer.Typer(help="Repair runs in the results store.", no_args_is_help=True)
err_console = Console(stderr=True, highlight=False)


@app.command("list")
def list_runs(
    prompt: Annotated[str | None, typer.Option("--prompt", help="Only runs of this prompt id.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only runs of this model id.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only runs with this status (running, passed...).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The most recent runs."""
    from typing import get_args

    from cloudinspect.errors import InputError
    from cloudinspect.store import ResultStore, RunState

    states: list[str] = [v for part in get_args(RunState) for v in (get_args(part) or (part,))]
    if status is not None and status not in states:
        raise InputError(f"unknown status {status!r}: expected one of {', '.join(states)}")
    with ResultStore() as store:
        runs = store.list_runs(limit=limit, prompt_id=prompt, model_id=model, status=cast(RunState | None, status))
    if as_json:
        print_json([r.model_dump(mode="json") for r in runs])
        return
    table = Table(title=f"{len(runs)} run(s)", title_justify="left")
    for name in ("run id", "prompt", "model", "target", "status", "attempts", "cost $"):
        table.add_column(name)
    for r in runs:
        table.add_row(r.run_id, r.prompt_id, r.model_id, r.target, r.status, str(r.attempt_count), f"{r.cost_usd:.4f}")
    console.print(table)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="The run's id (see `cloudinspect runs list`).")],
    code: Annotated[bool, typer.Option("--code", help="Print the final (or last) script only.")] = False,
    attempt: Annotated[int | None, typer.Option("--attempt", help="Show this attempt in full.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run (with every attempt) as JSON.")] = False,
) -> None:
    """One run: its attempts, what failed in each, and the final script."""
    from cloudinspect.errors import InputError
    from cloudinspect.loop.progress import attempts_table
    from cloudinspect.loop.run import record_of
    from cloudinspect.store import ResultStore

    with ResultStore() as store:
        stored = store.get_run(run_id)
    attempts = stored.attempts
    if as_json:
        print_json(stored.model_dump(mode="json"))
        return
    if attempt is not None:
        chosen = [a for a in attempts if a.n == attempt]
        if not chosen:
            raise InputError(f"run {run_id} has no attempt {attempt} (it has {len(attempts)})")
        a = chosen[0]
        err_console.print(Text(f"attempt {a.n}: {a.error_class} {a.error_message}", style="bold"))
        console.print(Syntax(a.code, "python", line_numbers=True))
        if a.feedback:
            err_console.print(Text("feedback sent to the model:", style="bold"))
            err_console.print(a.feedback, markup=False)
        return
    state = {
        "attempts": [a.model_dump(mode="json") for a in attempts],
        "status": None if stored.status == "running" else stored.status,
        "reason": stored.reason,
    }
    record = record_of(stored.run_id, stored.prompt_id, stored.model_id, stored.target, state)
    if code:
        if record.final_code is None:
            raise InputError(f"run {run_id} has no script yet")
        sys.stdout.write(record.final_code)
        return
    err_console.print(Text(f"{stored.prompt_id} with {stored.model_id} on {stored.target}: {stored.status}"))
    if stored.reason:
        err_console.print(Text(stored.reason))
    err_console.print(attempts_table(record))
