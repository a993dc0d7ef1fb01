"""`executor: ray`: the same benchmark on a real local Ray instance (cells as Ray tasks in worker processes) gives
the same results as the local thread pool, resumes like it, and keeps the per-provider limits across workers."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudinspect.bench import BenchConfig, BenchStore, run_benchmark
from cloudinspect.bench.runner import ProviderLimits
from cloudinspect.bench.types import CellResult
from cloudinspect.catalog import load_catalog, resolve_variables
from cloudinspect.catalog.reference import run_reference
from cloudinspect.cloud import Emulator
from cloudinspect.errors import InputError
from cloudinspect.models import Provider

ray = pytest.importorskip("ray", reason="the ray executor needs the optional 'ray' package (cloudinspect[ray])")

PROMPTS = ["lambda-functions-inventory", "s3-public-buckets"]
SCENARIOS = ["startup", "baseline"]


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """One small local Ray instance for the module (run_benchmark uses an initialised Ray as it is)."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 1024 * 1024, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def _models(tmp_path: Path, startup: Emulator) -> list[str]:
    """A replay of the canonical scripts, and one that hard-codes the loop scenario's answer (passes there, fails
    on the other) and repairs a hallucinated call."""
    catalog = load_catalog()
    good = {pid: [_fenced(catalog[pid].reference_code())] for pid in PROMPTS}
    inventory = catalog["lambda-functions-inventory"]
    answer = run_reference(inventory, startup.env(), resolve_variables(inventory, None)).output
    bad = {
        "lambda-functions-inventory": [_fenced(f"import json\nprint(json.dumps(json.loads({json.dumps(answer)!r})))")],
        "s3-public-buckets": [
            _fenced("import boto3, json\nprint(json.dumps(boto3.client('s3').list_all_buckets()))"),
            _fenced(catalog["s3-public-buckets"].reference_code()),
        ],
    }
    models = []
    for name, replies in (("good", good), ("bad", bad)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(replies), encoding="utf-8")
        models.append(f"replay:{path}")
    return models


def _outcome(result: CellResult) -> tuple[Any, ...]:
    """What a cell measured, without its timings or run id."""
    return (
        result.status,
        result.solved,
        result.passed_at,
        result.attempt_error_classes,
        result.failure_class,
        [(g.scenario, g.passed, g.error_class) for g in result.grades],
        result.hallucinated_calls,
    )


def _results(directory: Path) -> dict[str, CellResult]:
    with BenchStore(directory) as store:
        return {r.cell.key: r for r in store.results()}


@pytest.mark.e2e
@pytest.mark.usefixtures("ray_instance")
def test_ray_resumes_a_local_benchmark_with_the_same_results_within_the_provider_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Callable[[str], Emulator]
) -> None:
    models = _models(tmp_path, emulator("startup"))
    config = BenchConfig(models=models, prompts=PROMPTS, scenarios=SCENARIOS, max_attempts=2, concurrency=2)
    local = run_benchmark(config, tmp_path / "local", progress=False)
    local_cells = _results(tmp_path / "local")
    assert len(local_cells) == 4  # 2 models x 2 prompts, each graded on 2 scenarios
    assert (local.models[models[0]].solved, local.models[models[1]].solved) == (2, 1)

    # The same benchmark, of which only one cell is recorded: Ray runs the three others (the executor may change
    # between runs of a benchmark), each on a worker, one replay cell at a time (the driver gates submissions by
    # provider: as it does for llama.cpp, here made to apply to replay).
    kept = f"{models[0]}|s3-public-buckets|0"
    shutil.copytree(tmp_path / "local", tmp_path / "ray", ignore=shutil.ignore_patterns("*.sqlite-*"))
    with contextlib.closing(sqlite3.connect(tmp_path / "ray" / "bench.sqlite")) as conn, conn:
        conn.execute("DELETE FROM cells WHERE cell_key != ?", (kept,))
    monkeypatch.setattr(ProviderLimits, "limit", lambda self, provider: 1 if provider is Provider.replay else None)
    remote = run_benchmark(config.model_copy(update={"executor": "ray"}), tmp_path / "ray", progress=False)

    assert remote.complete
    ray_cells = _results(tmp_path / "ray")
    assert {k: _outcome(r) for k, r in ray_cells.items()} == {k: _outcome(r) for k, r in local_cells.items()}
    assert {m: s.solved for m, s in remote.models.items()} == {m: s.solved for m, s in local.models.items()}
    hard_coded = ray_cells[f"{models[1]}|lambda-functions-inventory|0"]
    assert (hard_coded.status, hard_coded.failure_class) == ("failed", "wrong_output")
    assert [(g.scenario, g.passed) for g in hard_coded.grades] == [("startup", True), ("baseline", False)]
    repaired = ray_cells[f"{models[1]}|s3-public-buckets|0"]
    assert (repaired.solved, repaired.passed_at, repaired.attempt_error_classes) == (
        True,
        2,
        ["hallucinated_api", "none"],
    )
    for key, result in ray_cells.items():
        assert (result.run_id == local_cells[key].run_id) is (key == kept), key  # only the missing cells ran
    # The workers wrote their repair runs into the benchmark's store: the driver has every attempt.
    with BenchStore(tmp_path / "ray") as store:
        for result in ray_cells.values():
            assert result.run_id is not None
            assert len(store.runs.attempts(result.run_id)) == result.attempts > 0
    rerun = sorted((r for k, r in ray_cells.items() if k != kept), key=lambda r: r.started_at)
    for before, after in itertools.pairwise(rerun):
        assert before.finished_at <= after.started_at, "two replay cells ran at once"


def test_the_ray_executor_without_ray_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = tmp_path / "ok.yaml"
    replay.write_text(yaml.safe_dump({pid: ["print(1)"] for pid in PROMPTS}), encoding="utf-8")
    config = BenchConfig(models=[f"replay:{replay}"], prompts=PROMPTS, scenarios=["startup"], executor="ray")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError

    with pytest.raises(InputError, match="needs the 'ray' package") as raised:
        run_benchmark(config, tmp_path / "bench", progress=False)
    assert "cloudinspect[ray]" in str(raised.value.problems)
    assert not (tmp_path / "bench").exists()
