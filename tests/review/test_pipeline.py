"""The review pipeline: check order, skipping on syntax errors, crash isolation, fixers, the review JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from cloudinspect.errors import InputError
from cloudinspect.review import Review, ReviewContext, ReviewOptions, review_code, review_file
from cloudinspect.review import types as review_types
from cloudinspect.review.checks.api import ApiCheck
from cloudinspect.review.checks.syntax import SyntaxCheck
from cloudinspect.review.types import Change, Finding, Severity

BROKEN = """\
import boto3

ec2 = boto3.client("ec2")
ec2.list_instances()
"""


class Boom:
    name: ClassVar[str] = "boom"
    order: ClassVar[int] = 50
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        raise RuntimeError("kaput")


class Upper:
    """A fixer that upper-cases comments, to see the fixed code and changes travel."""

    name: ClassVar[str] = "upper"
    order: ClassVar[int] = 0
    fixes: ClassVar[bool] = True
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        ctx.fixed_code = ctx.code.replace("# note", "# NOTE")
        ctx.changes.append(Change(check=self.name, description="upper-cased a comment", line=1))
        return [
            Finding(check=self.name, rule="upper.lower", severity=Severity.info, message="lower", line=1, fixable=True)
        ]


@pytest.fixture
def only_mine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry with only the syntax and api checks (the pipeline must not need the others)."""
    monkeypatch.setattr(review_types, "_REGISTRY", {"syntax": SyntaxCheck, "api": ApiCheck})


def test_review_finds_and_locates(only_mine: None) -> None:
    review = review_code(BROKEN)
    assert not review.ok
    assert review.checks_run == ["syntax", "api"]
    (finding,) = review.findings
    assert (finding.check, finding.rule, finding.line, finding.col) == ("api", "api.unknown-operation", 4, 5)
    assert [(c.service, c.operation, c.valid) for c in review.api_calls] == [("ec2", "list_instances", False)]
    assert review.errors() == [finding]
    assert review.duration_ms > 0


def test_clean_code_is_ok(only_mine: None) -> None:
    review = review_code('import boto3\nprint(boto3.client("s3").list_buckets()["Buckets"])\n')
    assert review.ok
    assert review.findings == []
    assert [c.operation for c in review.api_calls] == ["ListBuckets"]
    assert review.fixed_code is None
    assert review.changes == []


def test_syntax_error_skips_the_ast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(review_types._REGISTRY, "boom", Boom)
    review = review_code("import boto3\nboto3.client('s3').list_buckets(\n")
    assert not review.ok
    assert [f.rule for f in review.findings] == ["syntax.truncated"]
    assert "api" not in review.checks_run
    assert "boom" not in review.checks_run
    assert "syntax" in review.checks_run
    assert review.api_calls == []


def test_a_crashing_check_becomes_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_types, "_REGISTRY", {"syntax": SyntaxCheck, "api": ApiCheck, "boom": Boom})
    review = review_code(BROKEN)
    crash = [f for f in review.findings if f.check == "boom"]
    assert [(f.rule, f.severity) for f in crash] == [("review.internal-error", Severity.warning)]
    assert "RuntimeError: kaput" in crash[0].message
    assert review.checks_run == ["syntax", "api", "boom"]
    assert any(f.rule == "api.unknown-operation" for f in review.findings)


def test_fixers_run_first_and_their_output_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_types, "_REGISTRY", {"syntax": SyntaxCheck, "api": ApiCheck, "upper": Upper})
    code = "# note\nimport boto3\nboto3.client('ec2').list_instances()\n"
    review = review_code(code)
    assert review.checks_run == ["upper", "syntax", "api"]
    assert review.fixed_code == code.replace("# note", "# NOTE")
    assert [c.description for c in review.changes] == ["upper-cased a comment"]
    # Analysers saw the submitted code: the line numbers are the author's.
    assert [f.line for f in review.findings if f.check == "api"] == [3]
    no_fix = review_code(code, ReviewOptions(fix=False))
    assert no_fix.fixed_code is None
    assert no_fix.changes == []


def test_selected_checks_and_syntax_always_runs(only_mine: None) -> None:
    review = review_code(BROKEN, ReviewOptions(checks=["api"]))
    assert review.checks_run == ["syntax", "api"]
    syntax_only = review_code(BROKEN, ReviewOptions(checks=["syntax"]))
    assert syntax_only.checks_run == ["syntax"]
    assert syntax_only.ok
    assert syntax_only.api_calls == []


def test_unknown_check_is_an_input_error(only_mine: None) -> None:
    with pytest.raises(InputError) as raised:
        review_code(BROKEN, ReviewOptions(checks=["api", "spelling"]))
    assert "unknown check 'spelling'" in str(raised.value)
    assert "known: syntax, api" in str(raised.value)


def test_timings_per_check(only_mine: None) -> None:
    timings: dict[str, float] = {}
    review_code(BROKEN, timings=timings)
    assert set(timings) == {"syntax", "api"}
    assert all(t >= 0 for t in timings.values())


def test_review_json_is_stable() -> None:
    data = json.loads(review_code(BROKEN).model_dump_json())
    assert set(data) == {
        "ok",
        "findings",
        "api_calls",
        "iam_policy",
        "fixed_code",
        "changes",
        "checks_run",
        "duration_ms",
    }
    finding = next(f for f in data["findings"] if f["check"] == "api")
    assert set(finding) == {"check", "rule", "severity", "line", "col", "message", "suggestion", "fixable"}
    call = data["api_calls"][0]
    assert {"service", "operation", "method", "kind", "line", "valid", "read_only"} <= set(call)
    assert Review.model_validate(data).findings[0].rule == data["findings"][0]["rule"]


def test_all_registered_checks_run_on_a_reference_style_script() -> None:
    review = review_code(
        'import json\n\nimport boto3\n\nprint(json.dumps(boto3.client("s3").list_buckets()["Buckets"], default=str))\n'
    )
    assert {"syntax", "api"} <= set(review.checks_run)
    assert review.ok, review.findings


def test_review_file_reads_utf8(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(BROKEN, encoding="utf-8")
    assert not review_file(script).ok
    with pytest.raises(InputError, match="no such file"):
        review_file(tmp_path / "missing.py")
    (tmp_path / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        review_file(tmp_path / "latin1.py")
