"""The bandit check: Bandit as a library, severities mapped, `# nosec` ignored, fast."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from cloudinspect.config import resources_dir
from cloudinspect.review.checks.bandit import BanditCheck, bandit_issues, bandit_policy, map_severity
from cloudinspect.review.pipeline import review_code
from cloudinspect.review.types import ReviewContext, Severity

from .expectations import corpus_files, expectations


def run(code: str) -> list[tuple[str, Severity, int | None]]:
    return [(f.rule, f.severity, f.line) for f in BanditCheck().run(ReviewContext(code))]


def test_shell_injection_is_an_error() -> None:
    code = "import subprocess\ngroup = input()\nsubprocess.run(f'aws logs tail {group}', shell=True)\n"
    assert ("bandit.B602", Severity.error, 3) in run(code)


def test_literal_shell_command_is_still_an_error() -> None:
    # Bandit rates this LOW ("seems safe"); in inspection code any shell is wrong.
    assert ("bandit.B602", Severity.error, 2) in run("import subprocess\nsubprocess.run('ls', shell=True)\n")
    assert ("bandit.B605", Severity.error, 2) in run("import os\nos.system('ls')\n")


def test_severity_mapping() -> None:
    assert map_severity("B501", "HIGH", "HIGH") is Severity.error
    assert map_severity("B113", "MEDIUM", "LOW") is Severity.info
    assert map_severity("B506", "MEDIUM", "HIGH") is Severity.warning
    assert map_severity("B311", "LOW", "HIGH") is Severity.info
    assert map_severity("B501", "HIGH", "LOW") is Severity.warning
    assert map_severity("B324", "HIGH", "HIGH") is Severity.warning  # override: md5 for fingerprints
    assert map_severity("B307", "MEDIUM", "HIGH") is Severity.error  # override: eval


def test_findings_are_located() -> None:
    [finding] = BanditCheck().run(
        ReviewContext("import requests\n\nr = requests.get('https://x', verify=False, timeout=5)\n")
    )
    assert (finding.rule, finding.severity, finding.line, finding.col) == ("bandit.B501", Severity.error, 3, 5)
    assert "certificate" in finding.message or "verify" in finding.message


def test_nosec_comments_do_not_silence_the_review() -> None:
    assert ("bandit.B605", Severity.error, 2) in run("import os\nos.system('ls')  # nosec\n")


def test_asserts_are_skipped() -> None:
    assert "B101" in bandit_policy().skip
    assert run("assert 1 + 1 == 2\n") == []


def test_syntax_error_gives_no_findings() -> None:
    assert run("def broken(:\n") == []
    with pytest.raises(SyntaxError):
        bandit_issues("def broken(:\n")


def test_every_reference_script_is_clean_enough() -> None:
    for path in sorted((resources_dir() / "catalog" / "aws").rglob("*.py")):
        errors = [f for f in BanditCheck().run(ReviewContext(path.read_text())) if f.severity is Severity.error]
        assert errors == [], path.name


def test_warm_run_is_fast() -> None:
    codes = [p.read_text() for p in sorted((resources_dir() / "catalog" / "aws").rglob("*.py"))[:20]]
    bandit_issues(codes[0])  # plugin discovery happens once per process
    durations = []
    for code in codes:
        began = time.perf_counter()
        bandit_issues(code)
        durations.append(time.perf_counter() - began)
    # Measured ~4 ms per reference script; the bound leaves room for a loaded machine.
    assert statistics.median(durations) < 0.05


@pytest.mark.parametrize("path", corpus_files("broken", "bandit_"), ids=lambda p: p.name)
def test_broken_corpus(path: Path) -> None:
    review = review_code(path.read_text())
    found = {(f.rule, f.severity) for f in review.findings}
    for expected in expectations(path):
        assert expected in found, f"{path.name}: {expected} not in {sorted(found)}"


@pytest.mark.parametrize("path", corpus_files("valid", "bandit_"), ids=lambda p: p.name)
def test_valid_corpus(path: Path) -> None:
    review = review_code(path.read_text())
    assert review.errors() == []
    assert any(f.check == "bandit" for f in review.findings)  # flagged, but not as an error
