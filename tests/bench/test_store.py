"""The benchmark store: one row per cell key whatever happens, the config guarding the directory."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloudinspect.bench import BenchConfig, BenchStore, Cell, CellResult
from cloudinspect.errors import InputError
from cloudinspect.store import RunInfo

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = BenchConfig(models=["replay:a.yaml", "smollm2-135m"], prompts=["service:s3"], scenarios=["startup"])


def _result(cell: Cell, *, solved: bool, minutes: int = 0) -> CellResult:
    return CellResult(
        cell=cell,
        status="solved" if solved else "failed",
        solved=solved,
        attempts=2,
        passed_at=2 if solved else None,
        attempt_error_classes=["wrong_output", "none" if solved else "wrong_output"],
        tokens_in=300,
        cost_usd=0.01,
        started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0 + timedelta(minutes=minutes, seconds=30),
    )


def test_recording_a_cell_again_replaces_it(tmp_path: Path) -> None:
    a = Cell(model_id="smollm2-135m", prompt_id="s3-public-buckets", repeat=0)
    b = Cell(model_id="smollm2-135m", prompt_id="s3-public-buckets", repeat=1)
    with BenchStore(tmp_path) as store:
        store.record(_result(a, solved=False))
        store.record(_result(b, solved=True))
        store.record(_result(a, solved=True, minutes=5))
        results = store.results()
        assert store.keys() == {a.key, b.key}

    assert [(r.cell, r.solved) for r in results] == [(a, True), (b, True)]
    assert results[0] == _result(a, solved=True, minutes=5)
    with sqlite3.connect(tmp_path / "bench.sqlite") as conn:
        rows = conn.execute("SELECT cell_key, status, solved FROM cells ORDER BY cell_key").fetchall()
    conn.close()
    assert rows == [(a.key, "solved", 1), (b.key, "solved", 1)]


def test_cells_and_repair_runs_share_one_file_and_survive_reopening(tmp_path: Path) -> None:
    cell = Cell(model_id="replay:a.yaml", prompt_id="s3-public-buckets")
    with BenchStore(tmp_path) as store:
        store.runs.create_run(
            RunInfo(
                run_id="20260301T120000-00000001",
                prompt_id="s3-public-buckets",
                model_id="replay:a.yaml",
                target="endpoint:http://127.0.0.1:1",
            )
        )
        store.record(_result(cell, solved=True))
    with BenchStore(tmp_path) as store:
        assert [r.cell for r in store.results()] == [cell]
        assert [r.run_id for r in store.runs.list_runs()] == ["20260301T120000-00000001"]
        assert store.config() is None


def test_a_different_benchmark_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    with BenchStore(tmp_path) as store:
        store.save_config(CONFIG)
        # What only changes speed may differ between resumes; the stored config follows.
        faster = CONFIG.model_copy(update={"concurrency": 8, "sandbox": "process", "cache": False})
        store.save_config(faster)
        assert store.config() == faster

        with pytest.raises(InputError, match="another benchmark") as caught:
            store.save_config(CONFIG.model_copy(update={"models": ["smollm2-135m"], "max_attempts": 5}))
        message = str(caught.value)
        assert "another --out" in message
        assert "field 'models'" in message
        assert "field 'max_attempts'" in message
        assert "field 'repeat'" not in message
        assert store.config() == faster


def test_cell_results_are_redacted_before_they_are_stored(tmp_path: Path) -> None:
    cell = Cell(model_id="replay:a.yaml", prompt_id="s3-public-buckets")
    secret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ9plant"  # split: no secret-shaped literal in the source
    leaked = _result(cell, solved=False).model_copy(update={"reason": f"boom: aws_secret_access_key = {secret}"})
    with BenchStore(tmp_path) as store:
        store.record(leaked)
        (stored,) = store.results()
    assert stored.reason.startswith("boom: aws_secret_access_key = ")
    assert secret not in stored.reason
    assert secret.encode() not in (tmp_path / "bench.sqlite").read_bytes()
