"""`cloudinspect exec FILE --target TARGET`: run a script in the sandbox against a target.

Without `--json` the script's stdout goes to stdout and a one-line summary (status, error class, duration,
calls) to stderr; with `--json` the whole ExecResult is printed. Either way, on a real account, a note on stderr
says when the credentials could not be scoped to the script (and how to scope them: `?role=ARN`). Exit code 0
when the status is `ok`, 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from cloudinspect.cli._output import print_json

err_console = Console(stderr=True, highlight=False)


def exec(  # the command is `cloudinspect exec`
    file: Annotated[Path, typer.Argument(help="Python script to run ('-' reads stdin).")],
    target: Annotated[
        str,
        typer.Option(
            "--target", "-T", help="emulator:SCENARIO (ephemeral), endpoint:URL, aws:PROFILE[?role=ARN&region=REGION]."
        ),
    ] = "emulator:baseline",
    var: Annotated[
        list[str] | None, typer.Option("--var", "-v", help="Variable NAME=VALUE for CLOUDINSPECT_VARS; repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole execution result as JSON.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Wall-clock limit in seconds.", min=0.1)] = 60.0,
    isolation: Annotated[
        str,
        typer.Option("--isolation", help="full (no network but the bridge to the endpoint) or none (host network)."),
    ] = "full",
    sandbox: Annotated[
        str,
        typer.Option("--sandbox", help="process (default), docker, or auto (process where it works, else docker)."),
    ] = "process",
) -> None:
    """Run a script in a sandbox against a target: read-only, isolated, limited, measured."""
    from cloudinspect.catalog import parse_var_options
    from cloudinspect.errors import InputError, Problem
    from cloudinspect.sandbox import Limits, execute, scope_notes

    if isolation not in ("full", "none"):
        raise InputError(f"bad isolation {isolation!r}", None, [Problem("expected 'full' or 'none'", "isolation")])
    if str(file) == "-":
        code = sys.stdin.read()
    else:
        try:
            code = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the script: {exc.strerror}", file) from exc
    variables = parse_var_options(var or [])
    result = execute(
        code,
        target,
        variables=variables,
        limits=Limits(timeout_s=timeout),
        isolation="full" if isolation == "full" else "none",
        sandbox=sandbox,
    )
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        style = "green" if result.ok else "bold red"
        summary = Text(result.status, style=style) + Text(
            f" in {result.duration_ms:.0f} ms, {len(result.api_calls)} API call(s)"
            + (f", {len(result.blocked_calls)} blocked" if result.blocked_calls else "")
        )
        if result.error_class != "none":
            summary += Text(f": {result.error_class}: {result.error_message or ''}")
        err_console.print(summary, soft_wrap=True)
        if result.traceback:
            err_console.print(Text(result.traceback), soft_wrap=True)
    for note in scope_notes(result):
        err_console.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)


COMMANDS = [exec]
