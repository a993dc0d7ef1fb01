"""Benchmark metrics on synthetic cells whose figures are computed by hand (no model, no emulator needed)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.bench.metrics import (
    bootstrap_interval,
    differs_beyond_noise,
    pass_at_k,
    percentile,
    read_summary,
    summarize,
    two_proportion_overlap,
    wilson_interval,
    write_summary,
)
from cloudinspect.bench.types import BenchConfig, Cell, CellResult, ModelSummary, Task
from cloudinspect.errors import InputError

DOCS = Path(__file__).parents[2] / "docs" / "benchmark.md"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

TASKS = [
    Task(prompt_id="ec2-a", service="ec2", category="inventory", scenarios=["baseline", "startup"]),
    Task(prompt_id="ec2-b", service="ec2", category="security", scenarios=["baseline", "startup"]),
    Task(prompt_id="s3-a", service="s3", category="security", scenarios=["baseline", "startup"]),
    Task(prompt_id="lambda-a", service="lambda", category="inventory", scenarios=["baseline", "startup"]),
]


def cell(model: str, prompt: str, repeat: int = 0, *, solved: bool, **fields: Any) -> CellResult:
    fields.setdefault("status", "solved" if solved else "failed")
    fields.setdefault("finished_at", T0)
    return CellResult(
        cell=Cell(model_id=model, prompt_id=prompt, repeat=repeat), solved=solved, started_at=T0, **fields
    )


# -- statistics ---------------------------------------------------------------------------------------------------


def test_wilson_interval_matches_published_values() -> None:
    # 7 of 10: (0.3968, 0.8922) in Newcombe (1998) / every Wilson table.
    low, high = wilson_interval(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-4)
    assert high == pytest.approx(0.8922, abs=1e-4)
    # 0 of 10 does not collapse to a point: the upper bound is z^2 / (n + z^2).
    assert wilson_interval(0, 10) == pytest.approx((0.0, 1.959964**2 / (10 + 1.959964**2)))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson_interval(3, 2)


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(5, 4, 2) == 1.0  # fewer than k failures: every draw of 2 contains a success
    assert pass_at_k(5, 0, 5) == 0.0
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 4)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([40, 10, 30, 20], 50) == 20
    assert percentile([40, 10, 30, 20], 95) == 40
    # Linear interpolation would give 19.05; nearest rank gives an observed value.
    assert percentile(range(1, 21), 95) == 19
    assert percentile([7.5], 50) == 7.5
    assert percentile([], 50) is None


def test_bootstrap_over_tasks_is_seeded_and_stays_in_the_range_of_task_rates() -> None:
    rates = [1.0, 0.0, 0.5, 1.0, 0.0, 1 / 3]
    first = bootstrap_interval(rates)
    assert first == bootstrap_interval(rates)
    assert 0.0 <= first[0] < sum(rates) / len(rates) < first[1] <= 1.0
    assert bootstrap_interval([]) == (0.0, 1.0)


def test_interval_overlap_and_differs_beyond_noise() -> None:
    assert two_proportion_overlap((0.1, 0.4), (0.4, 0.9))
    assert not two_proportion_overlap((0.1, 0.39), (0.4, 0.9))
    assert not two_proportion_overlap((0.5, 0.9), (0.1, 0.3))
    summary = summarize(
        BenchConfig(models=["good", "bad"], max_attempts=1),
        TASKS,
        [cell("good", t.prompt_id, solved=True, passed_at=1) for t in TASKS]
        + [cell("bad", t.prompt_id, solved=False, failure_class="runtime") for t in TASKS],
    )
    good, bad = summary.models["good"], summary.models["bad"]
    # 4 of 4 against 0 of 4: Wilson intervals (0.51, 1) and (0, 0.49) do not overlap.
    assert differs_beyond_noise(good, bad)
    same = ModelSummary.model_validate(good.model_dump())
    assert not differs_beyond_noise(good, same)
    # The bootstrap interval over tasks is also consulted when both have one.
    wide = ModelSummary.model_validate({**bad.model_dump(), "pass_rate_ci95_tasks": (0.0, 1.0)})
    assert not differs_beyond_noise(good, wide)


# -- summarize ----------------------------------------------------------------------------------------------------


def _one_repeat_results() -> list[CellResult]:
    return [
        cell(
            "m", "ec2-a", solved=True, passed_at=1, attempts=1, attempt_error_classes=["none"],
            cost_usd=0.1, duration_ms=1000, attempt_latencies_ms=[100], api_calls=4, tokens_in=10, tokens_out=5,
        ),
        cell(
            "m", "ec2-b", solved=True, passed_at=3, attempts=3,
            attempt_error_classes=["runtime", "hallucinated_api", "none"], cost_usd=0.2, duration_ms=3000,
            attempt_latencies_ms=[100, 200, 300], api_calls=4, hallucinated_calls=2, bandit_high=1,
            tokens_in=20, tokens_out=7,
        ),
        cell(
            "m", "s3-a", solved=False, attempts=2, attempt_error_classes=["syntax", "wrong_output"],
            failure_class="wrong_output", cost_usd=0.3, duration_ms=2000, attempt_latencies_ms=[400, 500],
            api_calls=2, read_only_violations=1, tokens_in=30, tokens_out=9,
        ),
        # lambda-a has no result: an interrupted benchmark.
    ]  # fmt: skip


def test_one_repeat_figures_with_a_missing_cell() -> None:
    summary = summarize(BenchConfig(models=["m"], max_attempts=3), TASKS, _one_repeat_results())
    m = summary.models["m"]
    assert summary.complete is False
    assert (m.tasks, m.cells, m.solved) == (4, 3, 2)
    assert m.model_extra is not None
    assert m.model_extra["missing_cells"] == 1
    assert m.pass_rate == 0.5  # the missing cell counts as not solved
    assert m.pass_at_attempt == [0.25, 0.25, 0.5]
    assert m.first_try_pass_rate == 0.25
    assert m.mean_attempts_to_pass == 2.0
    assert m.pass_at_k == {"1": 0.5}
    assert m.pass_rate_ci95 == pytest.approx(wilson_interval(2, 4))
    assert m.failure_classes == {"missing": 1, "wrong_output": 1}
    assert m.model_extra["attempt_failure_classes"] == {
        "hallucinated_api": 1, "runtime": 1, "syntax": 1, "wrong_output": 1,
    }  # fmt: skip
    assert m.model_extra["status_counts"] == {"solved": 2, "failed": 1, "missing": 1}
    assert m.hallucinated_api_rate == pytest.approx(0.2)
    assert (m.read_only_violations, m.bandit_high, m.tokens_in, m.tokens_out) == (1, 1, 60, 21)
    assert m.cost_usd == pytest.approx(0.6)
    assert m.usd_per_solved == pytest.approx(0.3)
    # Attempt latencies [100, 100, 200, 300, 400, 500]: ranks ceil(3) and ceil(5.7).
    assert (m.latency_p50_ms, m.latency_p95_ms) == (200, 500)
    # Cell durations [1000, 2000, 3000].
    assert (m.task_latency_p50_ms, m.task_latency_p95_ms) == (2000, 3000)


def test_per_service_and_per_category_split() -> None:
    m = summarize(BenchConfig(models=["m"], max_attempts=3), TASKS, _one_repeat_results()).models["m"]
    assert list(m.by_service) == ["ec2", "lambda", "s3"]
    ec2, lam, s3 = m.by_service["ec2"], m.by_service["lambda"], m.by_service["s3"]
    assert (ec2["tasks"], ec2["solved"], ec2["pass_rate"]) == (2, 2, 1.0)
    assert ec2["pass_at_attempt"] == [0.5, 0.5, 1.0]
    assert ec2["hallucinated_api_rate"] == pytest.approx(0.25)
    assert ec2["usd_per_solved"] == pytest.approx(0.15)
    assert (lam["cells"], lam["pass_rate"], lam["failure_classes"]) == (0, 0.0, {"missing": 1})
    assert lam["usd_per_solved"] is None
    assert s3["failure_classes"] == {"wrong_output": 1}
    security = m.by_category["security"]
    assert (security["tasks"], security["solved"], security["mean_attempts_to_pass"]) == (2, 1, 3.0)
    assert security["pass_rate_ci95"] == list(wilson_interval(1, 2))


def test_nothing_solved_gives_no_cost_per_solved_and_a_complete_matrix() -> None:
    results = [cell("m", t.prompt_id, solved=False, failure_class="syntax", cost_usd=0.01) for t in TASKS]
    # A cell that stopped with no failing attempt (the provider failed) is counted under its status.
    results[0] = cell("m", "ec2-a", solved=False, status="error", cost_usd=0.01)
    m = summarize(BenchConfig(models=["m"]), TASKS, results).models["m"]
    assert m.usd_per_solved is None
    assert m.mean_attempts_to_pass is None
    assert m.cost_usd == pytest.approx(0.04)
    assert m.failure_classes == {"syntax": 3, "error": 1}
    assert m.latency_p50_ms is None


def test_repeats_give_pass_at_k_and_task_bootstrap() -> None:
    tasks = TASKS[:2]
    results = [
        cell("m", "ec2-a", 0, solved=True, passed_at=1),
        cell("m", "ec2-a", 1, solved=False, failure_class="runtime"),
        cell("m", "ec2-a", 2, solved=True, passed_at=2),
        *(cell("m", "ec2-b", r, solved=False, failure_class="timeout") for r in range(3)),
    ]
    summary = summarize(BenchConfig(models=["m"], repeat=3, max_attempts=2), tasks, results)
    m = summary.models["m"]
    assert summary.complete is True
    assert (m.cells, m.solved) == (6, 2)
    assert m.pass_rate == pytest.approx(2 / 6)
    assert m.pass_at_attempt == pytest.approx([1 / 6, 2 / 6])
    # ec2-a: n=3, c=2 -> pass@1 2/3, pass@2 1 - C(1,2)/C(3,2) = 1, pass@3 1; ec2-b: 0. Averaged over 2 tasks.
    assert m.pass_at_k == pytest.approx({"1": 1 / 3, "2": 0.5, "3": 0.5})
    assert m.pass_rate_ci95 == pytest.approx(wilson_interval(2, 6))
    assert m.model_extra is not None
    # Task rates [2/3, 0]: resamples give means 0, 1/3 or 2/3; in 2000 draws both extremes occur.
    assert tuple(m.model_extra["pass_rate_ci95_tasks"]) == pytest.approx((0.0, 2 / 3))
    assert m.failure_classes == {"timeout": 3, "runtime": 1}


def test_results_outside_the_matrix_are_ignored_and_the_latest_duplicate_wins() -> None:
    tasks = TASKS[:1]
    results = [
        cell("m", "ec2-a", solved=False, failure_class="runtime", finished_at=T0),
        cell("m", "ec2-a", solved=True, passed_at=1, finished_at=T0 + timedelta(seconds=1)),
        cell("m", "ec2-a", 1, solved=False, failure_class="syntax"),  # repeat beyond config.repeat
        cell("m", "s3-a", solved=False, failure_class="syntax"),  # prompt not selected
        cell("other", "ec2-a", solved=False, failure_class="syntax"),  # model not in the config
    ]
    summary = summarize(BenchConfig(models=["m"]), tasks, results)
    assert list(summary.models) == ["m"]
    m = summary.models["m"]
    assert (m.tasks, m.cells, m.solved, m.pass_rate) == (1, 1, 1, 1.0)
    assert m.failure_classes == {}
    assert summary.complete is True


# -- summary.json -------------------------------------------------------------------------------------------------


def test_summary_json_round_trips(tmp_path: Path) -> None:
    summary = summarize(BenchConfig(models=["m"], max_attempts=3), TASKS, _one_repeat_results())
    path = write_summary(tmp_path / "bench", summary)
    assert path == tmp_path / "bench" / "summary.json"
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]  # no temporary file left
    data = json.loads(path.read_text())
    assert data["models"]["m"]["pass_at_attempt"] == [0.25, 0.25, 0.5]
    assert data["models"]["m"]["usd_per_solved"] == pytest.approx(0.3)
    back = read_summary(tmp_path / "bench")
    assert back.models["m"].pass_rate_ci95 == summary.models["m"].pass_rate_ci95
    assert back.model_dump(mode="json") == summary.model_dump(mode="json")


def test_read_summary_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"summary\.json: no benchmark summary"):
        read_summary(tmp_path)
    path = tmp_path / "summary.json"
    path.write_text('{"models": ')
    with pytest.raises(InputError, match=r"summary\.json: not valid JSON") as invalid:
        read_summary(tmp_path)
    assert invalid.value.problems[0].line == 1
    summary = summarize(BenchConfig(models=["m"]), TASKS, [])
    data = summary.model_dump(mode="json")
    del data["models"]["m"]["pass_rate"]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="not a valid benchmark summary") as bad:
        read_summary(tmp_path)
    assert bad.value.problems[0].field == "models.m.pass_rate"
    path.write_text(json.dumps({**summary.model_dump(mode="json"), "schema_version": 99}))
    with pytest.raises(InputError, match="schema version 99 is newer"):
        read_summary(tmp_path)


def test_every_summary_field_is_documented() -> None:
    summary = summarize(BenchConfig(models=["m"], repeat=2), TASKS, [])
    data = summary.model_dump(mode="json")
    documented = set(re.findall(r"`([a-z_0-9]+)`", DOCS.read_text(encoding="utf-8")))
    fields = set(data) | set(data["models"]["m"]) | set(data["models"]["m"]["by_service"]["ec2"])
    assert fields - documented == set()
