"""The review pipeline: run every registered check over one script and assemble the `Review`.

Semantics
---------
- Checks run in registry order (`registered_checks()`: fixers first, then by `order`). Fixers may rewrite the code
  (`ctx.fixed_code`, `ctx.changes`); every other check analyses the code **as submitted**, so line numbers refer
  to what the author wrote. A finding that a fixer resolves has `fixable: true`.
- `syntax` always runs. When the code does not parse, checks that need the AST (`needs_ast`) are skipped: the
  syntax finding is the review.
- A check that crashes becomes one finding `review.internal-error` (warning) naming the exception; the review
  goes on.
- `ok` is true when no finding has error severity.

Review JSON (stable; `Review.model_dump(mode="json")`, what `cloudinspect review --json` prints)
-----------------------------------------------------------------------------------------------
```
{
  "ok": bool,                      # no error-severity finding
  "findings": [                    # sorted by line, column
    {"check": str,                 # syntax | format | imports | import | api | read_only | bandit | iam | review
     "rule": str,                  # stable id, e.g. "api.unknown-operation", "syntax.truncated"
     "severity": "error" | "warning" | "info",
     "line": int | null,           # 1-based, in the submitted code
     "col": int | null,            # 1-based
     "message": str,
     "suggestion": str | null,     # e.g. "did you mean 'describe_instances'?"
     "fixable": bool}              # a fixer resolved it in fixed_code
  ],
  "api_calls": [                   # every AWS call found (client, paginator, waiter, boto3 resource)
    {"service": str,               # botocore service name: "logs", "s3", "cloudwatch", "elbv2"
     "operation": str,             # model operation name (PascalCase), or as written when unknown
     "method": str,                # the Python method as written: "describe_instances", "paginate", "stop"
     "kind": "client" | "paginator" | "waiter" | "resource",
     "line": int, "col": int,      # 1-based location of the method name
     "valid": bool,                # service and operation exist in botocore's models
     "read_only": bool | null,     # judged by the read_only check (null if not judged)
     "params": [str]}              # keyword parameter names passed, where known
  ],
  "iam_policy": {...} | null,      # least-privilege IAM policy document for the calls (iam check)
  "fixed_code": str | null,        # the code after fixers, when they changed something
  "changes": [{"check": str, "description": str, "line": int | null}],
  "checks_run": [str],             # in the order they ran
  "duration_ms": float
}
```
"""

from __future__ import annotations

import time
from pathlib import Path

from cloudinspect.errors import InputError, Problem
from cloudinspect.review.types import (
    ApiCall,
    Check,
    Finding,
    Review,
    ReviewContext,
    ReviewOptions,
    Severity,
    registered_checks,
)

__all__ = ["read_source", "review_code", "review_file", "select_checks"]

INTERNAL_ERROR = "review.internal-error"
ALWAYS = "syntax"


def select_checks(names: list[str] | None) -> dict[str, type[Check]]:
    """The checks to run, in pipeline order: all registered ones, or `names` (plus `syntax`, which always runs).

    Raises InputError naming unknown checks and the known ones.
    """
    available = registered_checks()
    if names is None:
        return available
    unknown = [n for n in names if n not in available]
    if unknown:
        known = ", ".join(available)
        raise InputError(
            "unknown review check(s)",
            problems=[Problem(f"unknown check {n!r} (known: {known})", field="checks") for n in unknown],
        )
    wanted = {*names, ALWAYS}
    return {name: cls for name, cls in available.items() if name in wanted}


def _run_check(name: str, cls: type[Check], ctx: ReviewContext) -> list[Finding]:
    try:
        return list(cls().run(ctx))
    except Exception as exc:  # a broken check must not break the review
        return [
            Finding(
                check=name,
                rule=INTERNAL_ERROR,
                severity=Severity.warning,
                message=f"the {name} check failed: {type(exc).__name__}: {exc}",
            )
        ]


def review_code(code: str, options: ReviewOptions | None = None, *, timings: dict[str, float] | None = None) -> Review:
    """Review one script with every registered check (or `options.checks`) and return the `Review`.

    `timings`, when given, receives each check's duration in milliseconds (for benchmarks).
    """
    started = time.perf_counter()
    options = options or ReviewOptions()
    checks = select_checks(options.checks)
    ctx = ReviewContext(code, options)
    findings: list[Finding] = []
    ran: list[str] = []
    for name, cls in checks.items():
        if cls.needs_ast and ctx.tree is None:
            continue
        began = time.perf_counter()
        findings += _run_check(name, cls, ctx)
        if timings is not None:
            timings[name] = (time.perf_counter() - began) * 1000
        ran.append(name)
    findings.sort(key=lambda f: (f.line is None, f.line or 0, f.col or 0))
    api_calls: list[ApiCall] = list(ctx.__dict__.get("api_calls", []))
    changed = options.fix and ctx.fixed_code is not None and ctx.fixed_code != code
    return Review(
        ok=not any(f.severity is Severity.error for f in findings),
        findings=findings,
        api_calls=api_calls,
        iam_policy=ctx.iam_policy,
        fixed_code=ctx.fixed_code if changed else None,
        changes=list(ctx.changes) if changed else [],
        checks_run=ran,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


def read_source(path: Path) -> str:
    """A script's text; InputError when it is missing, not a file, or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", source=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a Python file", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            "not UTF-8 text",
            source=path,
            problems=[Problem(f"byte {exc.start}: {exc.reason}")],
        ) from None


def review_file(path: Path, options: ReviewOptions | None = None) -> Review:
    """Review the script in `path` (see `review_code`)."""
    return review_code(read_source(path), options)
