"""`cloudinspect generate`: ask a model for the inspection script of a catalogue prompt.

The script goes to stdout (highlighted on a terminal, plain when piped, so `> script.py` works) and the
summary line and warnings to stderr; `--json` prints the whole artifact instead; `--out` writes the script
atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax

from cloudinspect.cli._output import console, print_json

err_console = Console(stderr=True, highlight=False)


def write_atomic(path: Path, text: str) -> None:
    """Write the script to `path` atomically (`cloudinspect.fileio`): the path never holds a half-written file."""
    from cloudinspect.errors import InputError
    from cloudinspect.fileio import write_text_atomic

    path = path.expanduser()
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise InputError(f"cannot write the script: {exc.strerror or exc}", path) from exc


def generate(
    prompt_id: Annotated[str, typer.Argument(help="Catalogue prompt id.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Registry id (smollm2-135m) or replay:PATH.")],
    var: Annotated[list[str] | None, typer.Option("--var", "-v", help="Variable as NAME=VALUE; repeatable.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the script to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole artifact as JSON.")] = False,
    max_continuations: Annotated[
        int, typer.Option(min=0, help="Continuations asked for when a reply hits the token limit.")
    ] = 2,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="Override the model's max_tokens.")] = None,
    catalog: Annotated[
        list[Path] | None, typer.Option("--catalog", help="Extra catalogue directory (overrides built-ins by id).")
    ] = None,
    models_file: Annotated[
        list[Path] | None, typer.Option("--models-file", help="Extra model registry file (overrides by id).")
    ] = None,
    retries: Annotated[
        int, typer.Option("--tries", min=1, max=20, help="Tries per model call on rate limits, timeouts, 5xx.")
    ] = 4,
) -> None:
    """Generate the inspection script of a catalogue prompt with a model, and show what it cost."""
    from cloudinspect.catalog import load_catalog, parse_var_options
    from cloudinspect.config import get_settings
    from cloudinspect.generation import generate_code
    from cloudinspect.models import get_spec, spec_with
    from cloudinspect.models.resilience import RetryPolicy

    prompt = load_catalog([*get_settings().catalog_dirs, *(catalog or [])])[prompt_id]
    variables = parse_var_options(var or [])
    spec = get_spec(model, extra_files=models_file)
    if max_tokens is not None:
        spec = spec_with(spec, max_tokens=max_tokens)
    artifact = generate_code(
        prompt, variables, spec, max_continuations=max_continuations, retry=RetryPolicy(attempts=retries)
    )
    if out is not None and artifact.code:
        write_atomic(out, artifact.code)
    if as_json:
        print_json(artifact.model_dump(mode="json"))
    elif out is None and artifact.code:
        if console.is_terminal:
            console.print(Syntax(artifact.code, "python", word_wrap=True))
        else:
            sys.stdout.write(artifact.code)
            sys.stdout.flush()
    for warning in artifact.warnings:
        err_console.print(f"warning: {warning}", style="yellow", markup=False, soft_wrap=True)
    err_console.print(artifact.summary(), markup=False, soft_wrap=True)
    if not artifact.code:
        err_console.print("error: the model's reply contains no code", style="bold red", markup=False)
        raise typer.Exit(1)
    if out is not None:
        err_console.print(f"wrote {out} ({artifact.code.count(chr(10))} lines)", markup=False, soft_wrap=True)


COMMANDS = [generate]
