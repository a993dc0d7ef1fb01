"""`cloudinspect review FILE`: through the real console entry point, and in process for --fix mechanics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from cloudinspect.cli import build_app
from cloudinspect.review import ReviewContext
from cloudinspect.review import types as review_types
from cloudinspect.review.checks.api import ApiCheck
from cloudinspect.review.checks.syntax import SyntaxCheck
from cloudinspect.review.types import Change, Finding, Severity

BROKEN = """\
import json

import boto3

logs = boto3.client("logs")
groups = logs.describe_log_groups(logGroupPrefix="/aws/lambda/")["logGroups"]
print(json.dumps([g["logGroupName"] for g in groups]))
"""
CLEAN = """\
import json

import boto3

print(json.dumps([b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]))
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cloudinspect", *args], capture_output=True, text=True, check=False, env=env
    )


def test_json_review_and_exit_code_1_on_errors(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text(BROKEN, encoding="utf-8")
    proc = cli("review", str(script), "--json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    finding = next(f for f in data["findings"] if f["rule"] == "api.unknown-parameter")
    assert (finding["line"], finding["col"], finding["severity"]) == (6, 35, "error")
    assert finding["suggestion"] == "did you mean 'logGroupNamePrefix'?"
    assert [(c["service"], c["operation"], c["valid"]) for c in data["api_calls"]] == [
        ("logs", "DescribeLogGroups", True)
    ]
    assert script.read_text(encoding="utf-8") == BROKEN


def test_table_output_and_exit_code_0_when_ok(tmp_path: Path) -> None:
    script = tmp_path / "clean.py"
    script.write_text(CLEAN, encoding="utf-8")
    proc = cli("review", str(script))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{script}: ok" in proc.stdout
    assert "ListBuckets" in proc.stdout


def test_table_shows_findings_with_suggestions(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text(BROKEN, encoding="utf-8")
    proc = cli("review", str(script), "--checks", "api")
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout
    assert "api.unknown-parameter" in proc.stdout
    assert "logGroupNamePrefix" in proc.stdout
    assert "checks syntax, api" in proc.stdout


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda d: d / "missing.py", [], "no such file"),
        (lambda d: d, [], "is a directory"),
        (lambda d: _write_bytes(d / "latin1.py", "x = 'caf\xe9'\n".encode("latin-1")), [], "not UTF-8"),
        (lambda d: _write_bytes(d / "ok.py", CLEAN.encode()), ["--checks", "api,spelling"], "unknown check 'spelling'"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, make: object, args: list[str], message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    proc = cli("review", str(path), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_fix_writes_the_fixed_code_with_the_real_fixers(tmp_path: Path) -> None:
    script = tmp_path / "unformatted.py"
    script.write_text("import os\nimport boto3\nprint( boto3.client('s3').list_buckets() )\n", encoding="utf-8")
    planned = json.loads(cli("review", str(script), "--json").stdout)
    assert planned["fixed_code"] is not None, "the registered fixers change this code"
    proc = cli("review", str(script), "--fix")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert script.read_text(encoding="utf-8") == planned["fixed_code"]
    assert "applied to" in proc.stdout


class Shout:
    """A fixer that makes an error fixable: upper-cases the word `todo`."""

    name: ClassVar[str] = "shout"
    order: ClassVar[int] = 0
    fixes: ClassVar[bool] = True
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        if "todo" not in ctx.code:
            return []
        ctx.fixed_code = ctx.code.replace("todo", "TODO")
        ctx.changes.append(Change(check=self.name, description="shouted todo", line=1))
        return [
            Finding(check=self.name, rule="shout.todo", severity=Severity.error, message="todo", line=1, fixable=True)
        ]


def test_fix_is_atomic_keeps_the_mode_and_counts_fixed_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_types, "_REGISTRY", {"syntax": SyntaxCheck, "api": ApiCheck, "shout": Shout})
    script = tmp_path / "script.py"
    script.write_text("# todo\nprint(1)\n", encoding="utf-8")
    script.chmod(0o640)
    runner = CliRunner()
    dry = runner.invoke(build_app(), ["review", str(script)])
    assert dry.exit_code == 1
    assert "available with --fix" in dry.stdout
    result = runner.invoke(build_app(), ["review", str(script), "--fix"])
    assert result.exit_code == 0, result.stdout
    assert script.read_text(encoding="utf-8") == "# TODO\nprint(1)\n"
    assert script.stat().st_mode & 0o777 == 0o640
    assert "1 fix(es) applied to" in result.stdout
    assert "shouted todo" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]


def test_review_reads_standard_input() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cloudinspect", "review", "-", "--json", "--checks", "api"],
        input=BROKEN,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["findings"][0]["rule"] == "api.unknown-parameter"


# --- --refresh-iam-data ---------------------------------------------------------------------------------------

REFERENCE = Path(__file__).parent.parent / "fixtures" / "iam" / "servicereference"


@pytest.fixture
def iam_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from cloudinspect.config import get_settings

    monkeypatch.setenv("CLOUDINSPECT_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield tmp_path / "cache" / "iam" / "service-reference.json"
    get_settings.cache_clear()


def _fixture_fetch(url: str) -> bytes:
    from cloudinspect.review.access import SERVICE_REFERENCE_URL

    files = {
        SERVICE_REFERENCE_URL: REFERENCE / "index.json",
        "https://servicereference.us-east-1.amazonaws.com/v1/s3/s3.json": REFERENCE / "s3.json",
        "https://servicereference.us-east-1.amazonaws.com/v1/sqs/sqs.json": REFERENCE / "sqs.json",
    }
    return files[url].read_bytes()


def _offline(url: str) -> bytes:
    raise OSError("[Errno 101] Network is unreachable")


def test_refresh_iam_data_alone_fills_the_cache(iam_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cloudinspect.review import access

    monkeypatch.setattr(access, "_default_fetch", _fixture_fetch)
    result = CliRunner().invoke(build_app(), ["review", "--refresh-iam-data"])
    assert result.exit_code == 0, result.output
    assert "refreshed the IAM data: 2 service(s)" in result.output
    assert iam_cache.is_file()
    assert access.operation_access("s3", "RenameObject").source == "service-reference"


def test_refresh_iam_data_offline_fails_clearly(iam_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cloudinspect.review import access

    monkeypatch.setattr(access, "_default_fetch", _offline)
    result = CliRunner().invoke(build_app(), ["review", "--refresh-iam-data"])
    assert result.exit_code == 1
    assert "cannot refresh the IAM data" in result.output
    assert "Network is unreachable" in result.output
    assert not iam_cache.exists()


def test_refresh_failure_does_not_break_the_review(
    iam_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cloudinspect.review import access

    monkeypatch.setattr(access, "_default_fetch", _offline)
    script = tmp_path / "clean.py"
    script.write_text(CLEAN, encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["review", str(script), "--json", "--refresh-iam-data"])
    assert result.exit_code == 1  # the refresh failed, although the review is ok
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["iam_policy"]["Statement"][0]["Action"] == ["s3:ListAllMyBuckets"]
    assert "cannot refresh the IAM data" in result.stderr


def test_normal_review_never_fetches(iam_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cloudinspect.review import access

    def forbidden(url: str) -> bytes:
        raise AssertionError(f"a normal review fetched {url}")

    monkeypatch.setattr(access, "_default_fetch", forbidden)
    script = tmp_path / "clean.py"
    script.write_text(CLEAN, encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["review", str(script), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True


def test_review_without_file_or_refresh_is_bad_input() -> None:
    proc = cli("review")
    assert proc.returncode == 2
    assert "no script to review" in proc.stderr
