"""Issue 6's acceptance test: a benchmark of two replay "models", one replaying the canonical scripts and one
replaying scripts with typical subtle bugs (tests/fixtures/bench), scores 100% and exactly the buggy model's share
of correct scripts, and attributes each bug to its failure class (buggy-expected.yaml, verified on the emulator
by test_fixtures.py).

One benchmark run (three emulators, 24 cells) is shared by the module's tests.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.bench.types import BenchConfig, BenchSummary, CellResult
from tests.bench.test_fixtures import SCENARIOS, expectations
from tests.fixtures.bench.make_canonical import BUGGY, CANONICAL, PROMPT_IDS

pytestmark = pytest.mark.e2e

CANONICAL_MODEL = f"replay:{CANONICAL}"
BUGGY_MODEL = f"replay:{BUGGY}"


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BenchSummary, list[CellResult]]:
    """(directory, summary, cell results) of the benchmark of both replay models over the fixtures' prompts."""
    from cloudinspect.bench import BenchStore, run_benchmark

    directory = tmp_path_factory.mktemp("bench")
    config = BenchConfig(
        models=[CANONICAL_MODEL, BUGGY_MODEL],
        prompts=list(PROMPT_IDS),
        scenarios=list(SCENARIOS),
        max_attempts=1,
        concurrency=2,
    )
    summary = run_benchmark(config, directory, progress=False)
    with BenchStore(directory) as store:
        results = store.results()
    return directory, summary, results


def _cells(results: list[CellResult], model: str) -> dict[str, CellResult]:
    cells = {r.cell.prompt_id: r for r in results if r.cell.model_id == model}
    assert sorted(cells) == sorted(PROMPT_IDS), f"{model}: one cell per prompt"
    return cells


def test_every_cell_has_exactly_one_result(benchmark: tuple[Path, BenchSummary, list[CellResult]]) -> None:
    _, summary, results = benchmark
    assert len(results) == len({r.cell.key for r in results}) == 2 * len(PROMPT_IDS)
    assert summary.complete
    assert sorted(t.prompt_id for t in summary.tasks) == sorted(PROMPT_IDS)
    assert all(t.scenarios == list(SCENARIOS) for t in summary.tasks)


def test_canonical_model_scores_100_percent_at_the_first_attempt(
    benchmark: tuple[Path, BenchSummary, list[CellResult]],
) -> None:
    _, summary, results = benchmark
    for prompt_id, cell in _cells(results, CANONICAL_MODEL).items():
        assert (cell.status, cell.solved, cell.passed_at, cell.failure_class) == ("solved", True, 1, "none"), (
            prompt_id,
            cell.reason,
        )
        assert [(g.scenario, g.passed) for g in cell.grades] == [(s, True) for s in SCENARIOS], prompt_id
    scores = summary.models[CANONICAL_MODEL]
    assert (scores.tasks, scores.solved) == (len(PROMPT_IDS), len(PROMPT_IDS))
    assert scores.pass_rate == 1.0
    assert scores.first_try_pass_rate == 1.0


def test_buggy_model_scores_exactly_its_share_of_correct_scripts(
    benchmark: tuple[Path, BenchSummary, list[CellResult]],
) -> None:
    _, summary, _ = benchmark
    correct = sum(e.failure_class == "none" for e in expectations().values())
    scores = summary.models[BUGGY_MODEL]
    assert 0 < correct < len(PROMPT_IDS)
    assert (scores.tasks, scores.solved) == (len(PROMPT_IDS), correct)
    assert scores.pass_rate == pytest.approx(correct / len(PROMPT_IDS), abs=1e-4)
    assert scores.pass_rate < summary.models[CANONICAL_MODEL].pass_rate


@pytest.mark.parametrize("prompt_id", PROMPT_IDS)
def test_each_bug_is_attributed_to_its_failure_class(
    benchmark: tuple[Path, BenchSummary, list[CellResult]], prompt_id: str
) -> None:
    _, _, results = benchmark
    expected = expectations()[prompt_id]
    cell = _cells(results, BUGGY_MODEL)[prompt_id]
    assert cell.failure_class == expected.failure_class, (expected.bug, cell.reason)
    assert cell.solved == (expected.failure_class == "none"), cell.reason
    failed = [g.scenario for g in cell.grades if not g.passed]
    if expected.scenario is not None:  # the loop's scenario, or the first held-out scenario that shows the bug
        assert failed[:1] == [expected.scenario], (expected.bug, cell.grades)


def test_summary_json_reports_both_models_and_the_failure_classes(
    benchmark: tuple[Path, BenchSummary, list[CellResult]],
) -> None:
    directory, _, _ = benchmark
    written: dict[str, Any] = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    models = written["models"]
    assert set(models) == {CANONICAL_MODEL, BUGGY_MODEL}
    assert models[CANONICAL_MODEL]["pass_rate"] == 1.0
    wanted = Counter(e.failure_class for e in expectations().values() if e.failure_class != "none")
    classes = {k: v for k, v in models[BUGGY_MODEL]["failure_classes"].items() if k != "none" and v}
    assert classes == dict(wanted)
    assert not {k: v for k, v in models[CANONICAL_MODEL]["failure_classes"].items() if k != "none" and v}
