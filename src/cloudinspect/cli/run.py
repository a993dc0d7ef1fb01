"""`cloudinspect run PROMPT_ID --model M`: the repair loop on one prompt; `--resume RUN_ID` continues one.

Progress goes to stderr (one line per stage of each attempt, then a table); `--json` prints the final record on
stdout. Exit code 0 when the run passed, 1 otherwise.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from cloudinspect.cli._output import print_json

err_console = Console(stderr=True, highlight=False)


def run(
    prompt_id: Annotated[str | None, typer.Argument(help="Catalogue prompt id (omit with --resume).")] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Registry id (smollm2-135m, gpt-5-mini...) or replay:PATH.")
    ] = None,
    var: Annotated[list[str] | None, typer.Option("--var", "-v", help="Variable as NAME=VALUE; repeatable.")] = None,
    target: Annotated[
        str,
        typer.Option("--target", "-T", help="emulator:SCENARIO (ephemeral), endpoint:URL, aws:PROFILE[?role=ARN]."),
    ] = "emulator:baseline",
    max_attempts: Annotated[int, typer.Option("--max-attempts", "-n", min=1, max=50, help="Attempts in all.")] = 4,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0, help="Cost budget of the run, in USD.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Wall-clock budget of the run, seconds.")] = 1800,
    exec_timeout: Annotated[float, typer.Option("--exec-timeout", min=0.1, help="Limit of one execution, s.")] = 60,
    sandbox: Annotated[str, typer.Option("--sandbox", help="process, warm, docker or auto.")] = "process",
    tries: Annotated[
        int, typer.Option("--tries", min=1, max=20, help="Tries per model call on rate limits, timeouts, 5xx.")
    ] = 4,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue an interrupted run by its id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final record as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Generate, review, execute and repair a script until its output passes, or the budget is spent."""
    from cloudinspect.catalog import parse_var_options
    from cloudinspect.errors import InputError
    from cloudinspect.loop import LoopLimits, ProgressPrinter, attempts_table, resume_repair_loop, run_repair_loop
    from cloudinspect.models.resilience import RetryPolicy

    progress = None if quiet else ProgressPrinter(err_console)
    retry = RetryPolicy(attempts=tries)
    if resume is not None:
        if prompt_id is not None or model is not None:
            raise InputError("--resume continues a run with its own prompt and model: do not give them again")
        record = resume_repair_loop(resume, on_event=progress, retry=retry)
    else:
        if prompt_id is None or model is None:
            raise InputError("give a prompt id and --model (or --resume RUN_ID)")
        limits = LoopLimits(
            max_attempts=max_attempts, max_cost_usd=max_cost, run_timeout_s=timeout, exec_timeout_s=exec_timeout
        )
        record = run_repair_loop(
            prompt_id,
            model,
            variables=parse_var_options(var or []),
            target=target,
            limits=limits,
            sandbox=sandbox,
            on_event=progress,
            retry=retry,
        )
    if as_json:
        print_json(record.model_dump(mode="json"))
    elif not quiet:
        err_console.print(attempts_table(record))
        if record.final_code and record.status == "passed":
            err_console.print(f"final script: cloudinspect runs show {record.run_id} --code")
    if record.status != "passed":
        raise typer.Exit(1)


COMMANDS = [run]
