"""The repair loop end to end with real models: SmolLM2 in process (llama.cpp) and SmolLM2 behind the
OpenAI-compatible server (the OpenAI provider's real path), against the seeded emulator, results in the store.

A 135M-parameter model rarely writes a passing script: these tests check that the loop runs every stage with a
real model, classifies each failure, records tokens and cost, and ends with a status, not that the model passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudinspect.loop import LoopEvent, LoopLimits, run_repair_loop
from cloudinspect.loop.state import AttemptErrorClass
from cloudinspect.store import ResultStore

PROMPT = "lambda-functions-inventory"
CLASSES = set(AttemptErrorClass.__args__)  # type: ignore[attr-defined]

pytestmark = [pytest.mark.e2e, pytest.mark.llm]


def _check_run(record: Any, store: ResultStore, events: list[LoopEvent], max_attempts: int) -> None:
    assert record.status in {"passed", "failed", "stuck", "error", "unsupported"}, record.reason
    assert 1 <= len(record.attempts) <= max_attempts
    stored = store.get_run(record.run_id)
    assert stored.status == record.status
    assert [a.n for a in stored.attempts] == [a.n for a in record.attempts]
    for attempt in stored.attempts:
        assert attempt.error_class in CLASSES
        assert attempt.usage.tokens_out > 0, "a real model produced tokens"
        assert attempt.usage.replies >= 1
        if not attempt.passed:
            assert attempt.feedback, "a failed attempt carries the feedback sent to the model"
            assert attempt.signature.startswith(attempt.error_class)
    stages = {e.stage for e in events}
    assert {"generate", "review", "diagnose"} & stages
    assert record.tokens_out == sum(a.usage.tokens_out for a in stored.attempts)


def test_local_llamacpp_model_runs_the_loop(emulator: Any, tmp_path: Path) -> None:
    events: list[LoopEvent] = []
    with ResultStore(tmp_path / "results.sqlite") as store:
        record = run_repair_loop(
            PROMPT,
            "smollm2-135m",
            target=f"endpoint:{emulator('baseline').endpoint_url}",
            limits=LoopLimits(max_attempts=2, max_continuations=0, exec_timeout_s=30),
            store=store,
            checkpoint_file=tmp_path / "checkpoints.sqlite",
            on_event=events.append,
        )
        _check_run(record, store, events, 2)
        assert record.model_id == "smollm2-135m"
        assert record.cost_usd == 0.0  # a local model is free


def test_openai_provider_runs_the_loop_against_a_real_server(
    emulator: Any, openai_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests._llama_server import KEY_ENV

    monkeypatch.setenv(KEY_ENV, openai_server.api_key)
    spec = openai_server.spec(tmp_path, max_tokens=256)
    events: list[LoopEvent] = []
    with ResultStore(tmp_path / "results.sqlite") as store:
        record = run_repair_loop(
            PROMPT,
            spec,
            target=f"endpoint:{emulator('baseline').endpoint_url}",
            limits=LoopLimits(max_attempts=2, max_continuations=0, exec_timeout_s=30),
            store=store,
            checkpoint_file=tmp_path / "checkpoints.sqlite",
            on_event=events.append,
        )
        _check_run(record, store, events, 2)
        assert record.cost_usd > 0  # the served entry has (made-up) prices: cost follows usage
        raw = (tmp_path / "results.sqlite").read_bytes()
        assert openai_server.api_key.encode() not in raw
