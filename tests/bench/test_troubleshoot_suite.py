"""`cloudinspect bench --suite troubleshoot`: two replay "models" over three fault scenarios on the real moto server,
through the command line (the recorded conversations reach the root cause; a wrong diagnosis is scored wrong; the
summary's figures are exact; the reports are self-contained), a killed run resumed with one result per cell, and
the figures, guards and errors on hand-made data."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudinspect.bench._tsuite_metrics import summarize_troubleshoot
from cloudinspect.bench._tsuite_types import TroubleshootCellStatus
from cloudinspect.bench.metrics import wilson_interval
from cloudinspect.bench.store import BenchStore
from cloudinspect.bench.troubleshoot import (
    FaultInfo,
    TroubleshootBenchConfig,
    TroubleshootBenchStore,
    TroubleshootCell,
    TroubleshootCellResult,
    TroubleshootSummary,
    cell_model_id,
    fault_scenarios,
)
from cloudinspect.bench.types import BenchConfig
from cloudinspect.errors import InputError
from cloudinspect.report.troubleshoot import benchmark_suite
from cloudinspect.troubleshoot.types import TroubleshootResult
from tests._cli import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "troubleshoot"
SCENARIOS = ["fault-ebs-unencrypted-prod", "fault-rds-storage-full", "fault-sg-ssh-open"]
RIGHT = f"replay:{FIXTURES}/{{scenario}}.yaml"
SERVER_MODULE = b"cloudinspect.cloud._server"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The inspections' checkpoints go to a temporary state directory."""
    from cloudinspect.config import get_settings

    monkeypatch.setenv("CLOUDINSPECT_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "state"
    get_settings.cache_clear()


def _diagnosis_of(replies: dict[str, Any]) -> dict[str, Any]:
    text = replies["troubleshoot.diagnose"][0]
    body = re.sub(r"^```json\s*|\s*```$", "", text.strip())
    diagnosis: dict[str, Any] = json.loads(body)
    return diagnosis


def write_replays(directory: Path, *, wrong: bool = False) -> str:
    """Each scenario's recorded conversation, copied to `directory`: with `wrong`, the diagnosis puts the
    conversation's distractor (its second hypothesis, which cites a distractor's evidence) first and drops the right
    one. Returns the model id (`replay:DIR/{scenario}.yaml`)."""
    directory.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS:
        replies = yaml.safe_load((FIXTURES / f"{scenario}.yaml").read_text(encoding="utf-8"))
        if wrong:
            diagnosis = _diagnosis_of(replies)
            distractor = {**diagnosis["hypotheses"][1], "confidence": 0.8}
            diagnosis.update(summary=distractor["title"], hypotheses=[distractor], conclusive=True)
            replies["troubleshoot.diagnose"] = [f"```json\n{json.dumps(diagnosis, indent=2)}\n```"]
        (directory / f"{scenario}.yaml").write_text(yaml.safe_dump(replies, sort_keys=False), encoding="utf-8")
    return f"replay:{directory}/{{scenario}}.yaml"


def _rows(db: Path) -> list[tuple[str, str, str, int]]:
    """(cell key, status, recorded_at, has detail) of every recorded cell ([] before the table exists)."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
            return list(
                conn.execute(
                    "SELECT cell_key, status, recorded_at, detail IS NOT NULL FROM troubleshoot_cells ORDER BY cell_key"
                )
            )
    except sqlite3.OperationalError:  # not migrated yet
        return []


# -- end to end ------------------------------------------------------------------------------------------------------


def test_two_replay_models_on_three_fault_scenarios_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = write_replays(tmp_path / "wrong", wrong=True)
    out = tmp_path / "bench"
    args = ["bench", "--suite", "troubleshoot", "--models", f"{RIGHT},{wrong}", "--scenarios", ",".join(SCENARIOS)]
    args += ["--max-rounds", "1", "--concurrency", "3", "--quiet", "--out", str(out)]

    code, _, err = run(args, capsys)
    assert code == 0, err
    assert "troubleshooting leaderboard" in err

    # one row per cell, each with its troubleshooting result
    rows = _rows(out / "bench.sqlite")
    assert [(key, status, detail) for key, status, _, detail in rows] == sorted(
        [(f"{RIGHT}|{s}|0", "found", 1) for s in SCENARIOS] + [(f"{wrong}|{s}|0", "not_found", 1) for s in SCENARIOS]
    )
    with TroubleshootBenchStore(out) as store:
        results = {r.cell.key: r for r in store.results()}
        details = store.details()
    faults = fault_scenarios(SCENARIOS)
    for scenario, fault in faults.items():
        right, bad = results[f"{RIGHT}|{scenario}|0"], results[f"{wrong}|{scenario}|0"]
        assert (right.root_cause_found, right.evidence_cited_correctly, right.score) == (True, True, 1.0)
        assert (bad.root_cause_found, bad.evidence_cited_correctly, bad.score) == (False, False, 0.0)
        assert bad.scoring is not None
        assert bad.scoring.missing == fault.expected_findings
        assert right.model_id == cell_model_id(RIGHT, scenario)
        assert right.inspections == right.inspections_passed == 3
        kept = details[f"{RIGHT}|{scenario}|0"]
        assert isinstance(kept, TroubleshootResult)
        assert kept.diagnosis.hypotheses[0].labels == fault.expected_findings
        assert kept.evidence.tokens <= kept.evidence.token_budget

    # the summary's figures, exactly
    summary = json.loads((out / "summary.json").read_text())
    assert summary["suite"] == "troubleshoot"
    assert summary["complete"] is True
    assert summary["config"]["scenarios"] == SCENARIOS
    good, bad_model = summary["models"][RIGHT], summary["models"][wrong]
    durations = sorted(results[f"{RIGHT}|{s}|0"].duration_ms for s in SCENARIOS)
    assert {k: good[k] for k in ("scenarios", "cells", "root_cause_found", "evidence_cited", "fallback_plans")} == {
        "scenarios": 3,
        "cells": 3,
        "root_cause_found": 3,
        "evidence_cited": 3,
        "fallback_plans": 0,
    }
    assert (good["root_cause_rate"], good["evidence_cited_rate"], good["mean_score"]) == (1.0, 1.0, 1.0)
    assert good["root_cause_rate_ci95"] == list(wilson_interval(3, 3))
    assert (good["cost_usd"], good["usd_per_found"], good["errors"]) == (0.0, 0.0, 0)
    assert good["duration_p50_ms"] == durations[1]
    assert good["tokens_in"] == sum(results[f"{RIGHT}|{s}|0"].tokens_in for s in SCENARIOS)
    assert {s: f["root_cause_found"] for s, f in good["by_fault"].items()} == dict.fromkeys(SCENARIOS, 1)
    assert (bad_model["root_cause_found"], bad_model["root_cause_rate"], bad_model["mean_score"]) == (0, 0.0, 0.0)
    assert (bad_model["evidence_cited_rate"], bad_model["usd_per_found"]) == (0.0, None)
    assert bad_model["root_cause_rate_ci95"] == list(wilson_interval(0, 3))
    assert bad_model["status_counts"] == {"not_found": 3}

    # the reports: self-contained, with every cell's plan, evidence and diagnosis
    html = (out / "report.html").read_text()
    assert not re.search(r"https?://|<link\b|\bsrc=", html)
    for scenario, fault in faults.items():
        assert f'id="cell-{scenario}-' in html
        assert fault.expected_findings[0] in html
    assert "Evidence bundle" in html
    assert "E1" in html
    assert "round 1" in html
    markdown = (out / "report.md").read_text()
    assert "| fault-rds-storage-full | rds-low-free-storage | 1/1 · 1.00 | 0/1 · 0.00 |" in markdown
    assert "plan, round 1: i1 rds-free-storage-headroom" in markdown

    # `cloudinspect report DIR` knows the suite; the same command again has nothing left to run
    (out / "report.html").unlink()
    code, stdout, err = run(["report", str(out)], capsys)
    assert code == 0, err
    assert stdout.split() == [str(out / "report.html"), str(out / "report.md")]
    assert not re.search(r"https?://", (out / "report.html").read_text())
    code, _, err = run(args, capsys)
    assert code == 0, err
    assert _rows(out / "bench.sqlite") == rows  # nothing re-run, nothing re-recorded

    # the code suite refuses this directory
    code, _, err = run(["bench", "--models", f"replay:{FIXTURES}/{SCENARIOS[0]}.yaml", "--out", str(out)], capsys)
    assert code != 0
    assert "holds a troubleshooting benchmark" in " ".join(err.split())


def _emulator_servers(parent: int) -> list[int]:
    """The emulator servers `parent` started (they run in their own session: a kill of the benchmark's process
    group leaves them behind, and the test stops them itself)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == parent and SERVER_MODULE in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _wait_for(predicate: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"the benchmark ended before {what}: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_benchmark_resumes_with_exactly_one_result_per_cell(tmp_path: Path) -> None:
    model = RIGHT
    scenarios = SCENARIOS[1:]
    out = tmp_path / "bench"
    db = out / "bench.sqlite"
    env = {**os.environ, "CLOUDINSPECT_STATE_DIR": str(tmp_path / "state")}
    args = [sys.executable, "-m", "cloudinspect", "bench", "--suite", "troubleshoot", "--models", model]
    args += ["--scenarios", ",".join(scenarios), "--max-rounds", "1", "--concurrency", "1", "--out", str(out)]

    first = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    servers: list[int] = []
    try:
        _wait_for(lambda: _rows(db), 180, "a cell to be recorded", first)
        # cells run scenario by scenario: the first scenario's emulator is stopped, the second's is starting
        servers = _wait_for(lambda: _emulator_servers(first.pid), 60, "the second emulator", first)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        before = _rows(db)
        assert [key for key, *_ in before] == [f"{model}|{scenarios[0]}|0"]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        for pid in servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert second.returncode == 0, second.stderr
    assert "1 already done, 1 to run" in " ".join(second.stderr.split())
    rows = _rows(db)
    assert [key for key, *_ in rows] == [f"{model}|{s}|0" for s in scenarios]  # each cell once, none missing
    assert rows[0] == before[0]  # the finished cell was kept as it was
    assert {status for _, status, *_ in rows} == {"found"}
    assert json.loads((out / "summary.json").read_text())["complete"] is True


# -- figures, guards and errors on hand-made data ----------------------------------------------------------------


def _cell(
    model: str, scenario: str, repeat: int, status: TroubleshootCellStatus, *, score: float, cost: float, ms: float
) -> TroubleshootCellResult:
    start = datetime(2026, 11, 25, tzinfo=UTC)
    return TroubleshootCellResult(
        cell=TroubleshootCell(model_id=model, scenario=scenario, repeat=repeat),
        status=status,
        fault=f"{scenario}-fault",
        root_cause_found=status == "found",
        evidence_cited_correctly=status == "found" or score >= 0.3,
        score=score,
        fallback_plans=1 if status == "not_found" else 0,
        cost_usd=cost,
        duration_ms=ms,
        started_at=start,
        finished_at=start + timedelta(milliseconds=ms),
    )


def _faults(*scenarios: str) -> list[FaultInfo]:
    return [
        FaultInfo(
            scenario=s,
            fault=f"{s}-fault",
            problem="something is wrong",
            root_cause="the known root cause",
            expected_findings=["x"],
            evidence_prompts=["p"],
        )
        for s in scenarios
    ]


def test_missing_and_error_cells_count_against_the_model() -> None:
    config = TroubleshootBenchConfig(models=["a", "b"], scenarios=["s1", "s2"], repeat=2)
    results = [
        _cell("a", "s1", 0, "found", score=1.0, cost=0.02, ms=1000),
        _cell("a", "s1", 1, "not_found", score=0.3, cost=0.02, ms=3000),
        _cell("a", "s2", 0, "found", score=0.9, cost=0.04, ms=2000),
        _cell("a", "s2", 1, "error", score=0.0, cost=0.0, ms=500),
        _cell("b", "s1", 0, "not_found", score=0.0, cost=0.01, ms=4000),
        _cell("x", "s1", 0, "found", score=1.0, cost=9.0, ms=1),  # outside the matrix: ignored
    ]
    summary = summarize_troubleshoot(config, _faults("s1", "s2"), results)

    assert isinstance(summary, TroubleshootSummary)
    assert not summary.complete
    a, b = summary.models["a"], summary.models["b"]
    assert (a.cells, a.cells_expected, a.missing_cells, a.root_cause_found) == (4, 4, 0, 2)
    assert (a.root_cause_rate, a.root_cause_rate_ci95) == (0.5, wilson_interval(2, 4))
    assert (a.evidence_cited, a.evidence_cited_rate) == (3, 0.75)
    assert a.mean_score == pytest.approx((1.0 + 0.3 + 0.9) / 4)
    assert (a.cost_usd, a.usd_per_found) == (pytest.approx(0.08), pytest.approx(0.04))
    assert (a.duration_p50_ms, a.duration_p95_ms) == (1000, 3000)
    assert (a.fallback_plans, a.errors) == (1, 1)
    assert a.status_counts == {"found": 2, "error": 1, "not_found": 1}
    assert a.by_fault["s1"].root_cause_rate == 0.5
    assert a.by_fault["s2"].statuses == {"error": 1, "found": 1}
    assert (b.cells, b.missing_cells, b.root_cause_rate, b.mean_score) == (1, 3, 0.0, 0.0)
    assert b.usd_per_found is None
    assert b.status_counts == {"missing": 3, "not_found": 1}
    assert b.by_fault["s2"].cells == 0
    assert b.by_fault["s2"].statuses == {"missing": 2}


def test_only_fault_scenarios_are_benchmarked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    every = fault_scenarios()
    assert len(every) >= 10
    assert all(name.startswith("fault-") for name in every)
    with pytest.raises(InputError) as caught:
        fault_scenarios(["fault-sg-ssh-open", "baseline"])
    assert "'baseline' has no fault" in str(caught.value.problems)

    args = ["bench", "--suite", "troubleshoot", "--models", RIGHT, "--out", str(tmp_path / "b")]
    code, _, err = run([*args, "--scenarios", "baseline"], capsys)
    assert code != 0
    assert "has no fault" in err
    code, _, err = run([*args, "--prompts", "s3-*"], capsys)
    assert code != 0
    assert "--prompts: not an option of the troubleshoot suite" in " ".join(err.split())
    code, _, err = run([*args[:-2], "--max-rounds", "1", "--suite", "code", "--out", str(tmp_path / "c")], capsys)
    assert code != 0
    assert "--max-rounds: not an option of the code suite" in " ".join(err.split())
    assert not (tmp_path / "b").exists()


def test_a_directory_holds_one_benchmark_of_one_suite(tmp_path: Path) -> None:
    config = TroubleshootBenchConfig(models=["a"], scenarios=["fault-sg-ssh-open"])
    with TroubleshootBenchStore(tmp_path / "t") as store:
        store.save_config(config)
        store.save_config(config.model_copy(update={"concurrency": 5, "sandbox": "process"}))  # may differ
        with pytest.raises(InputError, match="another troubleshooting benchmark"):
            store.save_config(config.model_copy(update={"max_rounds": 1}))
    with BenchStore(tmp_path / "t") as code_store, pytest.raises(InputError, match="troubleshooting benchmark"):
        code_store.save_config(BenchConfig(models=["a"]))
    with BenchStore(tmp_path / "c") as code_store:
        code_store.save_config(BenchConfig(models=["a"]))
    with TroubleshootBenchStore(tmp_path / "c") as store, pytest.raises(InputError, match="holds a code benchmark"):
        store.save_config(config)
    assert (benchmark_suite(tmp_path / "t"), benchmark_suite(tmp_path / "c")) == ("troubleshoot", "code")
