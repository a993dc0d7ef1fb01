"""The benchmark end to end: two replay "models" (one replaying the canonical scripts, one replaying typical
mistakes) x three prompts x two scenarios, against real emulators and the warm sandbox pool."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cloudinspect.bench import BenchConfig, BenchStore, run_benchmark
from cloudinspect.bench.runner import ProviderLimits
from cloudinspect.catalog import load_catalog, resolve_variables
from cloudinspect.catalog.reference import run_reference
from cloudinspect.cloud import Emulator
from cloudinspect.errors import InputError
from cloudinspect.models import Provider

PROMPTS = ["lambda-functions-inventory", "s3-public-buckets", "sns-topic-encryption"]
SCENARIOS = ["startup", "baseline"]


def _fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def _replays(tmp_path: Path, startup: Emulator) -> tuple[str, str]:
    catalog = load_catalog()
    good = {pid: [_fenced(catalog[pid].reference_code())] for pid in PROMPTS}
    inventory = catalog["lambda-functions-inventory"]
    answer = run_reference(inventory, startup.env(), resolve_variables(inventory, None)).output
    bad = {
        # The right answer for the account the loop runs on, hard-coded: passes there, fails on the other one.
        "lambda-functions-inventory": [_fenced(f"import json\nprint(json.dumps(json.loads({json.dumps(answer)!r})))")],
        # A call botocore does not have, then the right script.
        "s3-public-buckets": [
            _fenced("import boto3, json\nprint(json.dumps(boto3.client('s3').list_all_buckets()))"),
            _fenced(catalog["s3-public-buckets"].reference_code()),
        ],
        # A write, then an answer of the right shape that misses a topic; then the recording runs out (the
        # provider failing under the loop): the cell is an error, and the benchmark goes on.
        "sns-topic-encryption": [
            _fenced("import boto3\nboto3.client('sns').create_topic(Name='probe')\nprint('{}')"),
            _fenced(_off_by_one(catalog["sns-topic-encryption"].reference_code())),
        ],
    }
    paths = []
    for name, replies in (("good", good), ("bad", bad)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(replies), encoding="utf-8")
        paths.append(f"replay:{path}")
    return paths[0], paths[1]


def _off_by_one(reference: str) -> str:
    """The reference script skipping the first topic of every page: the right shape, a wrong answer."""
    wrong = reference.replace('page["Topics"]', 'page["Topics"][1:]')
    assert wrong != reference
    return wrong


def test_a_small_benchmark_scores_the_canonical_model_full_and_attributes_the_mistakes(
    tmp_path: Path, emulator: Callable[[str], Emulator]
) -> None:
    good, bad = _replays(tmp_path, emulator("startup"))
    out = tmp_path / "bench"
    config = BenchConfig(models=[good, bad], prompts=PROMPTS, scenarios=SCENARIOS, max_attempts=3, concurrency=2)

    summary = run_benchmark(config, out, progress=True)

    assert summary.complete
    assert (summary.models[good].solved, summary.models[good].cells) == (3, 3)
    assert summary.models[good].first_try_pass_rate == 1.0
    assert summary.models[bad].solved == 1
    assert json.loads((out / "summary.json").read_text())["models"][bad]["solved"] == 1
    with BenchStore(out) as store:
        results = {(r.cell.model_id, r.cell.prompt_id): r for r in store.results()}
        attempts = {key: store.runs.attempts(r.run_id) for key, r in results.items() if r.run_id}
    assert len(results) == 6
    for pid in PROMPTS:
        cell = results[(good, pid)]
        assert (cell.status, cell.solved, cell.passed_at, cell.attempts) == ("solved", True, 1, 1)
        assert [(g.scenario, g.passed) for g in cell.grades] == [("startup", True), ("baseline", True)]
        assert cell.api_calls > 0
        assert cell.hallucinated_calls == 0
        assert cell.run_id is not None
        assert len(attempts[(good, pid)]) == 1

    hard_coded = results[(bad, "lambda-functions-inventory")]
    assert (hard_coded.status, hard_coded.solved, hard_coded.passed_at) == ("failed", False, None)
    assert hard_coded.attempt_error_classes == ["none"]
    assert hard_coded.failure_class == "wrong_output"
    assert [(g.scenario, g.passed, g.error_class) for g in hard_coded.grades] == [
        ("startup", True, "none"),
        ("baseline", False, "wrong_output"),
    ]
    assert "not on baseline" in hard_coded.reason

    repaired = results[(bad, "s3-public-buckets")]
    assert (repaired.status, repaired.solved, repaired.passed_at) == ("solved", True, 2)
    assert repaired.attempt_error_classes == ["hallucinated_api", "none"]
    assert repaired.hallucinated_calls == 1

    broken = results[(bad, "sns-topic-encryption")]
    assert (broken.status, broken.solved, broken.failure_class) == ("error", False, "error")
    assert "ReplayExhaustedError" in broken.reason
    assert broken.attempt_error_classes == ["read_only_violation", "wrong_output"]
    assert broken.read_only_violations == 1
    assert broken.run_id is not None

    # Resuming a finished benchmark runs nothing and changes nothing.
    again = run_benchmark(config.model_copy(update={"concurrency": 4}), out, progress=False)
    assert again.models[good].solved == 3
    with BenchStore(out) as store:
        assert {(r.cell.model_id, r.cell.prompt_id): r for r in store.results()} == results

    with pytest.raises(InputError, match="another benchmark"):
        run_benchmark(config.model_copy(update={"max_attempts": 2}), out, progress=False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"models": ["replay:/nonexistent/replies.yaml"]}, "cannot read replay file"),
        ({"models": ["no-such-model-9000"]}, "unknown model 'no-such-model-9000'"),
    ],
)
def test_what_would_fail_every_cell_is_refused_before_anything_starts(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    replay = tmp_path / "ok.yaml"
    replay.write_text(yaml.safe_dump({pid: ["print(1)"] for pid in PROMPTS}), encoding="utf-8")
    config = BenchConfig.model_validate(
        {"models": [f"replay:{replay}"], "prompts": PROMPTS, "scenarios": ["startup"], **fields}
    )
    with pytest.raises(InputError, match=message):
        run_benchmark(config, tmp_path / "bench", progress=False)
    assert not (tmp_path / "bench").exists()


def test_providers_get_their_own_concurrency_limits() -> None:
    limits = ProviderLimits(concurrency=6)

    assert limits.limit(Provider.llamacpp) == 1  # one in-process model on the CPU
    assert limits.limit(Provider.replay) is None
    assert limits.limit(Provider.openai) == 6
    with limits.slot(Provider.llamacpp):
        blocked = threading.Thread(target=lambda: limits.slot(Provider.llamacpp).__enter__())
        blocked.start()
        blocked.join(0.2)
        assert blocked.is_alive()  # a second llama.cpp cell waits for the first
        with limits.slot(Provider.replay), limits.slot(Provider.openai):
            pass  # other providers are not held up
    blocked.join(5)
    assert not blocked.is_alive()


def test_warm_pools_are_sized_to_their_load() -> None:
    from cloudinspect.bench.runner import warm_pool_sizes

    assert warm_pool_sizes(["a", "b", "c"], 4) == {"a": 4, "b": 2, "c": 2}
    assert warm_pool_sizes(["a", "b"], 1) == {"a": 2, "b": 2}
    assert warm_pool_sizes(["a"], 16) == {"a": 4}
