"""The `bandit` check: Bandit's security tests, run as a library on the submitted code.

Bandit's command line costs ~135 ms per file (interpreter start and plugin discovery); as a library, with its
test set built once per process, a 200-line script takes a few milliseconds. `# nosec` comments are ignored: the
code under review must not be able to silence its reviewer. Severities map as `resources/review/bandit.yaml`
says (HIGH -> error, MEDIUM -> warning, LOW -> info, milder at LOW confidence, with per-test overrides); rule ids
are `bandit.<test id>` (bandit.B602).
"""

from __future__ import annotations

import io
import threading
import warnings
from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.config import resources_dir
from cloudinspect.review.types import Finding, ReviewContext, Severity, register_check
from cloudinspect.yamlfiles import load_model

SeverityName = Literal["error", "warning", "info"]
_MILDER = {Severity.error: Severity.warning, Severity.warning: Severity.info, Severity.info: Severity.info}
# Bandit derives a module name from the file path by looking for __init__.py files upwards; a path at the root
# needs no file system access and no warning.
_FILENAME = "/script.py"


class BanditPolicy(BaseModel):
    """`resources/review/bandit.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: dict[Literal["HIGH", "MEDIUM", "LOW"], SeverityName]
    overrides: dict[str, SeverityName] = Field(default_factory=dict)
    skip: list[str] = Field(default_factory=list)


@cache
def bandit_policy() -> BanditPolicy:
    """The severity mapping (loaded once)."""
    return load_model(resources_dir() / "review" / "bandit.yaml", BanditPolicy)


@cache
def _test_set() -> Any:
    # Importing bandit discovers its plugins (~0.3 s): once per process. Its plugin loader passes an argument
    # that stevedore deprecates; that warning is bandit's business, not the reviewer's.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The verify_requirements argument", category=DeprecationWarning)
        from bandit.core import config as b_config  # type: ignore[import-untyped]
        from bandit.core import test_set

        return test_set.BanditTestSet(b_config.BanditConfig(), {"exclude": bandit_policy().skip})


_lock = threading.Lock()


def bandit_issues(code: str) -> list[Any]:
    """Bandit's issues (bandit.core.issue.Issue) for `code`; raises SyntaxError when it does not parse."""
    with _lock:
        tests = _test_set()
    from bandit.core import meta_ast, metrics, node_visitor

    data = code.encode("utf-8")
    stats = metrics.Metrics()
    stats.begin(_FILENAME)
    visitor = node_visitor.BanditNodeVisitor(
        _FILENAME, io.BytesIO(data), meta_ast.BanditMetaAst(), tests, False, {}, stats
    )
    visitor.process(data)
    return list(visitor.tester.results)


def map_severity(test_id: str, severity: str, confidence: str) -> Severity:
    """The review severity of a Bandit result (see resources/review/bandit.yaml)."""
    policy = bandit_policy()
    if test_id in policy.overrides:
        return Severity(policy.overrides[test_id])
    mapped = Severity(policy.severity.get(severity.upper(), "info"))  # type: ignore[call-overload]
    return _MILDER[mapped] if confidence.upper() == "LOW" else mapped


@register_check
class BanditCheck:
    """Bandit's findings, located in the submitted code."""

    name: ClassVar[str] = "bandit"
    order: ClassVar[int] = 60
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Run Bandit's tests on the submitted code."""
        if ctx.tree is None:
            return []
        try:
            issues = bandit_issues(ctx.code)
        except (SyntaxError, ValueError):
            return []
        findings = [
            Finding(
                check=self.name,
                rule=f"bandit.{issue.test_id}",
                severity=map_severity(issue.test_id, str(issue.severity), str(issue.confidence)),
                message=f"{issue.text} [{issue.test}; severity {issue.severity}, confidence {issue.confidence}]",
                line=issue.lineno,
                col=issue.col_offset + 1 if issue.col_offset >= 0 else None,
            )
            for issue in issues
            if issue.test_id not in bandit_policy().skip
        ]
        return sorted(findings, key=lambda f: (f.line or 0, f.col or 0, f.rule))
