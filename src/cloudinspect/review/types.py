"""Core types of the static review: findings, API calls, the review result, and the check plugin protocol.

A review runs a pipeline of checks over one script. Fixers (checks with `fixes = True`) may rewrite the code
(formatting, unused imports, missing imports); every other check analyses the code **as submitted** so that
line numbers always refer to what the author wrote. Findings that a fixer resolves carry `fixable = True`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How bad a finding is. Only `error` makes a review fail (`ok = False`)."""

    error = "error"
    warning = "warning"
    info = "info"


class Finding(BaseModel):
    """One problem found by a check, located in the submitted code."""

    model_config = ConfigDict(frozen=True)

    check: str = Field(description="Name of the check that found it (syntax, api, read_only, ...).")
    rule: str = Field(description="Stable rule id, e.g. 'api.unknown-operation'.")
    severity: Severity
    message: str
    line: int | None = None
    col: int | None = None
    suggestion: str | None = Field(default=None, description="A fix to try ('did you mean ...').")
    fixable: bool = Field(default=False, description="A fixer of the review resolves it (see fixed_code).")


ApiKind = Literal["client", "paginator", "waiter", "resource"]


class ApiCall(BaseModel):
    """One AWS API call the script makes, as resolved against botocore's service models."""

    model_config = ConfigDict(frozen=True)

    service: str = Field(description="botocore service name (e.g. 'logs', 's3', 'cloudwatch').")
    operation: str = Field(description="Operation name as in the service model (PascalCase), or as written if unknown.")
    method: str = Field(description="The Python method as written (e.g. 'describe_instances', 'paginate').")
    kind: ApiKind = "client"
    line: int
    col: int = 0
    valid: bool = Field(description="Service and operation exist in botocore's models.")
    read_only: bool | None = Field(default=None, description="Set by the read_only check; None if not judged.")
    params: list[str] = Field(default_factory=list, description="Keyword parameter names passed, where literal.")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Literal values of keyword parameters where known (str, number, bool, None, lists of those), "
        "e.g. {'WithDecryption': True}.",
    )


class Change(BaseModel):
    """One change a fixer made to the code."""

    model_config = ConfigDict(frozen=True)

    check: str
    description: str
    line: int | None = None


class Review(BaseModel):
    """The result of reviewing one script. Serialised as the stable review JSON (see docs in README)."""

    ok: bool
    findings: list[Finding] = Field(default_factory=list)
    api_calls: list[ApiCall] = Field(default_factory=list)
    iam_policy: dict[str, Any] | None = None
    fixed_code: str | None = Field(default=None, description="The code after fixers, when they changed anything.")
    changes: list[Change] = Field(default_factory=list)
    checks_run: list[str] = Field(default_factory=list)
    duration_ms: float = 0.0

    def errors(self) -> list[Finding]:
        """Error-severity findings."""
        return [f for f in self.findings if f.severity is Severity.error]


class ReviewOptions(BaseModel):
    """Knobs of a review."""

    fix: bool = Field(default=True, description="Run fixers and return fixed_code.")
    checks: list[str] | None = Field(default=None, description="Only these checks (default: all registered).")
    region: str = "us-east-1"
    partition: str = "aws"


class ReviewContext:
    """What every check sees: the submitted code, its AST (None on a syntax error), options, shared results.

    `api_calls` is computed once, on first use, by the api analysis and shared by the checks that need it
    (api, read_only, iam). Fixers store their output in `fixed_code` and `changes`.
    """

    def __init__(self, code: str, options: ReviewOptions | None = None) -> None:
        self.code = code
        self.options = options or ReviewOptions()
        self.fixed_code: str | None = None
        self.changes: list[Change] = []
        self.iam_policy: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}

    @cached_property
    def tree(self) -> ast.Module | None:
        """The parsed module, or None when the code does not parse."""
        try:
            return ast.parse(self.code)
        except (SyntaxError, ValueError):
            return None

    @cached_property
    def api_calls(self) -> list[ApiCall]:
        """Every AWS API call found in the code (empty when it does not parse)."""
        if self.tree is None:
            return []
        from cloudinspect.review.api import extract_api_calls

        return extract_api_calls(self.tree)


@runtime_checkable
class Check(Protocol):
    """A review check plugin. Register implementations with `@register_check`."""

    name: ClassVar[str]
    order: ClassVar[int]
    fixes: ClassVar[bool]
    needs_ast: ClassVar[bool]

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Analyse (or, for fixers, fix) the code in `ctx`; return findings."""
        ...


_REGISTRY: dict[str, type[Check]] = {}


def register_check(cls: type[Any]) -> type[Any]:
    """Class decorator: add a check to the registry under its `name`."""
    for attr in ("name", "order", "fixes", "needs_ast"):
        if not hasattr(cls, attr):
            raise TypeError(f"check {cls.__name__} lacks class attribute {attr!r}")
    _REGISTRY[cls.name] = cls
    return cls


def registered_checks() -> dict[str, type[Check]]:
    """Every registered check by name, in pipeline order (fixers first, then by `order`)."""
    import cloudinspect.review.checks  # noqa: F401 - importing registers the built-in checks

    return dict(sorted(_REGISTRY.items(), key=lambda kv: (not kv[1].fixes, kv[1].order, kv[0])))


FindingFactory = Callable[..., Finding]
