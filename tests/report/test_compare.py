"""compare_benchmarks: per-model deltas, then cell changes with regressions first; the CLI's text and JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cloudinspect.bench.metrics import write_summary
from cloudinspect.report import Comparison, compare_benchmarks, write_reports
from tests._cli import run
from tests.report.factories import OUTCOMES, Bench, make_bench


def _save(bench: Bench, directory: Path) -> Path:
    """A benchmark directory without its database: summary.json and the exported cells."""
    write_summary(directory, bench.summary)
    write_reports(directory, bench.summary, bench.results, bench.attempts)
    return directory


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    later = copy.deepcopy(OUTCOMES)
    later["gpt-test"]["lambda-error-rate"] = ["wrong_output", "wrong_output", "wrong_output"]  # regression
    later["gpt-test"]["s3-largest-buckets"] = ["syntax"]  # regression
    later["smollm2-135m"]["ec2-instances-missing-tags"] = ["timeout", "none"]  # fix
    a = _save(make_bench(), tmp_path_factory.mktemp("a"))
    b = _save(make_bench(later, held_out=frozenset()), tmp_path_factory.mktemp("b"))  # claude's held-out: fixed
    return a, b


def test_cell_changes_list_regressions_first_then_fixes(dirs: tuple[Path, Path]) -> None:
    comparison = compare_benchmarks(*dirs)
    kinds = [c.kind for c in comparison.changes]
    assert kinds == ["regression", "regression", "fix", "fix"]
    assert [(c.model_id, c.prompt_id) for c in comparison.changes] == [
        ("gpt-test", "lambda-error-rate"),
        ("gpt-test", "s3-largest-buckets"),
        ("claude-test", "lambda-error-rate"),
        ("smollm2-135m", "ec2-instances-missing-tags"),
    ]
    regression = comparison.changes[1]
    assert (regression.status_a, regression.status_b, regression.failure_class_b) == ("solved", "stuck", "syntax")
    assert (comparison.regressions, comparison.fixes, comparison.unchanged) == (2, 2, 8)
    assert comparison.cells_only_in_a == comparison.cells_only_in_b == 0


def test_model_deltas(dirs: tuple[Path, Path]) -> None:
    deltas = {m.model_id: m for m in compare_benchmarks(*dirs).models}
    assert list(deltas) == ["gpt-test", "claude-test", "smollm2-135m"]
    gpt = deltas["gpt-test"]
    assert (gpt.pass_rate_a, gpt.pass_rate_b) == (1.0, 0.5)
    assert gpt.pass_rate_delta == pytest.approx(-0.5)
    assert gpt.first_try_delta == pytest.approx(0.5 - 0.75)
    assert gpt.cost_usd_delta == pytest.approx(0.004 * (1 + 3 + 1 + 1) - 0.004 * 5)
    assert deltas["smollm2-135m"].pass_rate_delta == pytest.approx(0.25)
    assert deltas["claude-test"].pass_rate_delta == pytest.approx(0.25)
    assert not gpt.beyond_noise  # four tasks cannot tell 100% from 50%


def test_models_in_one_benchmark_only_are_named_not_compared(tmp_path: Path) -> None:
    a = _save(make_bench(), tmp_path / "a")
    b = _save(make_bench({m: OUTCOMES[m] for m in ("gpt-test", "smollm2-135m")}), tmp_path / "b")
    comparison = compare_benchmarks(a, b)
    assert comparison.only_in_a == ["claude-test"]
    assert comparison.only_in_b == []
    assert [m.model_id for m in comparison.models] == ["gpt-test", "smollm2-135m"]
    assert all(c.model_id != "claude-test" for c in comparison.changes)
    assert comparison.unchanged == 8


def test_incomplete_or_different_benchmarks_get_a_note(tmp_path: Path) -> None:
    a = _save(make_bench(), tmp_path / "a")
    b = _save(make_bench(skip=frozenset({("gpt-test", "s3-largest-buckets")})), tmp_path / "b")
    comparison = compare_benchmarks(a, b)
    assert comparison.notes == ["B is incomplete: its missing cells count as not solved"]
    assert comparison.cells_only_in_a == 1


def test_render_text_puts_regressions_before_fixes(dirs: tuple[Path, Path]) -> None:
    text = compare_benchmarks(*dirs).render_text()
    assert text.index("2 regressions") < text.index("2 fixes") < text.index("8 unchanged")
    assert "gpt-test" in text
    assert "100% -> 50%" in text
    assert "-50 pts" in text


def test_cli_compare_text_and_json(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["compare", str(dirs[0]), str(dirs[1])], capsys)
    assert code == 0
    assert "regressions (solved in A, not in B)" in out
    code, out, _ = run(["compare", str(dirs[0]), str(dirs[1]), "--json"], capsys)
    assert code == 0
    comparison = Comparison.model_validate(json.loads(out))
    assert comparison.changes[0].kind == "regression"


def test_cli_compare_refuses_a_directory_that_is_not_a_benchmark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["compare", str(tmp_path), str(tmp_path)], capsys)
    assert code == 2
    assert "not a benchmark directory" in err
