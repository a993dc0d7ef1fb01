"""The `syntax` check: does the code compile? Errors carry the compiler's message, line and 1-based column.

A script that does not compile gets no other AST check (the pipeline skips them), so this is the one finding
about it. Code that stops at its end in the middle of a statement (a reply cut at the token limit) is reported
as `syntax.truncated`; indentation errors as `syntax.indentation`; anything else as `syntax.error`. Compiler
warnings (invalid escape sequences, `is` with a literal) are `syntax.warning`.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

from cloudinspect.review.types import Finding, ReviewContext, Severity, register_check

_AT_EOF = ("unexpected eof", "unterminated triple-quoted", "incomplete input")


def _last_line(code: str) -> int:
    lines = code.splitlines()
    for number in range(len(lines), 0, -1):
        if lines[number - 1].strip():
            return number
    return 0


def syntax_findings(code: str, filename: str = "<review>") -> list[Finding]:
    """Compile `code` (without running it); the compile error and warnings as findings."""
    findings: list[Finding] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compile(code, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            findings.append(_error_finding(exc, code))
        except ValueError as exc:  # source code string cannot contain null bytes
            findings.append(
                Finding(check="syntax", rule="syntax.error", severity=Severity.error, message=str(exc), line=None)
            )
    for warning in caught:
        if issubclass(warning.category, SyntaxWarning | DeprecationWarning):
            findings.append(
                Finding(
                    check="syntax",
                    rule="syntax.warning",
                    severity=Severity.warning,
                    message=str(warning.message),
                    line=warning.lineno,
                    suggestion="use a raw string (r'...') for regular expressions"
                    if "escape sequence" in str(warning.message)
                    else None,
                )
            )
    return findings


def _error_finding(exc: SyntaxError, code: str) -> Finding:
    message: str = exc.msg or "invalid syntax"
    line = exc.lineno
    lowered = message.lower()
    last = _last_line(code)
    at_end = line is not None and line >= last - 1 and last > 0
    if any(marker in lowered for marker in _AT_EOF) or (
        at_end and ("never closed" in lowered or "expected an indented block" in lowered or lowered == "invalid syntax")
    ):
        rule = "syntax.truncated"
        suggestion: str | None = (
            "the code stops in the middle of a statement: it looks truncated (token limit?); complete it"
        )
    elif isinstance(exc, IndentationError):  # includes TabError
        rule = "syntax.indentation"
        suggestion = "indent with 4 spaces consistently (no tabs) and align each block"
    else:
        rule = "syntax.error"
        suggestion = "close the bracket opened here" if "never closed" in lowered else None
    if exc.text and line is not None:
        message = f"{message}: {exc.text.strip()[:80]}"
    return Finding(
        check="syntax",
        rule=rule,
        severity=Severity.error,
        message=message,
        line=line,
        col=exc.offset if exc.offset and exc.offset > 0 else None,
        suggestion=suggestion,
    )


@register_check
class SyntaxCheck:
    """Compile errors (with line and column) and compiler warnings."""

    name: ClassVar[str] = "syntax"
    order: ClassVar[int] = 0
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = False

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Compile the submitted code."""
        return syntax_findings(ctx.code)
