"""Errors that cloudinspect reports to users.

Every error a user can cause by bad input (a malformed file, an unknown id, a wrong variable) is an
`InputError`: it names where the problem is (file, field, line when the parser knows it) and what was
expected, and the CLI turns it into exit code 2 without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    message: str
    field: str | None = None
    line: int | None = None

    def render(self) -> str:
        where = []
        if self.field:
            where.append(f"field '{self.field}'")
        if self.line is not None:
            where.append(f"line {self.line}")
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"


class CloudInspectError(Exception):
    """Base class of every error cloudinspect raises on purpose."""

    exit_code = 1


@dataclass
class InputError(CloudInspectError):
    """Bad input from the user: a file, an id, a variable. Exit code 2."""

    summary: str
    source: Path | str | None = None
    problems: list[Problem] = field(default_factory=list)

    exit_code = 2

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.source}: {self.summary}" if self.source else self.summary
        if not self.problems:
            return head
        body = "\n".join(f"  - {p.render()}" for p in self.problems)
        return f"{head}\n{body}"


class UnknownIdError(InputError):
    """An id (prompt, model, scenario) that no registry knows."""

    @classmethod
    def of(cls, kind: str, wanted: str, known: list[str]) -> UnknownIdError:
        import difflib

        close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = "" if close else f" (known: {', '.join(sorted(known)[:20])}{' ...' if len(known) > 20 else ''})"
        return cls(f"unknown {kind} '{wanted}'{hint}{listing}")


class MissingDependencyError(CloudInspectError):
    """An optional dependency or setting that a feature needs is missing."""

    exit_code = 3
