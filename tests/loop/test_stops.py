"""How runs stop: cost and time budgets, a provider that stays down, and the routers' choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudinspect.loop import LoopLimits, run_repair_loop
from cloudinspect.loop.nodes import after_diagnose, after_evaluate, after_fix, after_generation, after_review
from cloudinspect.models.replay import ReplayChatModel, replay_spec
from cloudinspect.models.resilience import RetryPolicy
from cloudinspect.models.spec import Prices
from cloudinspect.store import ResultStore
from tests.generation.fakes import FailingChatModel

PROMPT = "ec2-instances-by-state-and-type"
BROKEN = "```python\nimport json\nprint(json.dumps({'total': 0})\n```\n"  # unbalanced: a syntax error


def _replay(tmp_path: Path, replies: list[Any]) -> Path:
    path = tmp_path / "replay.yaml"
    path.write_text(yaml.safe_dump({PROMPT: replies}), encoding="utf-8")
    return path


def _run(tmp_path: Path, emulator: Any, model: Any, chat_model: Any, **options: Any) -> tuple[Any, ResultStore]:
    store = ResultStore(tmp_path / "results.sqlite")
    record = run_repair_loop(
        PROMPT,
        model,
        target=f"endpoint:{emulator('baseline').endpoint_url}",
        store=store,
        checkpoint_file=tmp_path / "checkpoints.sqlite",
        chat_model=chat_model,
        **options,
    )
    return record, store


def test_the_cost_budget_stops_a_run(tmp_path: Path, emulator: Any) -> None:
    path = _replay(tmp_path, [{"content": BROKEN, "usage": {"input_tokens": 1000, "output_tokens": 1000}}] * 5)
    priced = replay_spec(str(path)).model_copy(update={"prices": Prices(input=10.0, output=10.0)})  # $0.02 a reply
    record, store = _run(
        tmp_path,
        emulator,
        priced,
        ReplayChatModel.from_file(path),
        limits=LoopLimits(max_attempts=5, max_cost_usd=0.03, repeat_limit=10),
    )
    assert record.status == "budget", record.reason
    assert len(record.attempts) == 2  # $0.02, then $0.04 >= $0.03
    assert record.cost_usd == pytest.approx(0.04)
    assert store.get_run(record.run_id).cost_usd == pytest.approx(0.04)
    assert "cost budget" in record.reason


def test_the_time_budget_stops_a_run(tmp_path: Path, emulator: Any) -> None:
    path = _replay(tmp_path, [BROKEN] * 5)
    record, _ = _run(
        tmp_path,
        emulator,
        f"replay:{path}",
        ReplayChatModel.from_file(path),
        limits=LoopLimits(max_attempts=5, run_timeout_s=0.001, repeat_limit=10),
    )
    assert record.status == "budget"
    assert len(record.attempts) == 1
    assert "run time budget" in record.reason


def test_attempts_run_out_as_failed(tmp_path: Path, emulator: Any) -> None:
    path = _replay(tmp_path, [BROKEN] * 5)
    record, _ = _run(
        tmp_path,
        emulator,
        f"replay:{path}",
        ReplayChatModel.from_file(path),
        limits=LoopLimits(max_attempts=2, repeat_limit=10),
    )
    assert record.status == "failed"
    assert [a.error_class for a in record.attempts] == ["syntax", "syntax"]


def test_a_provider_that_stays_down_ends_the_run_with_error_and_nothing_lost(tmp_path: Path, emulator: Any) -> None:
    record, store = _run(
        tmp_path,
        emulator,
        "smollm2-135m",
        FailingChatModel(),
        limits=LoopLimits(max_attempts=4),
        retry=RetryPolicy(attempts=2, initial_wait_s=0.01, max_wait_s=0.02),
    )
    assert record.status == "error"
    assert "provider" in record.reason
    assert len(record.attempts) == 1  # not retried as attempts: the model did nothing wrong
    stored = store.get_run(record.run_id)
    assert stored.status == "error"
    assert stored.attempts[0].error_class == "generation"
    assert "unavailable after 2 tries" in stored.attempts[0].error_message


@pytest.mark.parametrize(
    ("router", "state", "expected"),
    [
        (after_generation, {"generation_error": "no code"}, "diagnose"),
        (after_generation, {"generation_error": None}, "review"),
        (after_review, {"code": "x", "review": {"ok": True, "fixed_code": None}}, "execute"),
        (after_review, {"code": "x", "review": {"ok": False, "fixed_code": None}}, "diagnose"),
        (after_review, {"code": "x", "review": {"ok": False, "fixed_code": "y"}}, "fix"),
        (after_review, {"code": "x", "review": {"ok": True, "fixed_code": "x"}}, "execute"),
        (after_fix, {"review": {"ok": True}}, "execute"),
        (after_fix, {"review": {"ok": False}}, "diagnose"),
        (after_evaluate, {"verdict": {"passed": True}}, "finish"),
        (after_evaluate, {"verdict": {"passed": False}}, "diagnose"),
        (after_evaluate, {"verdict": None}, "diagnose"),
        (after_diagnose, {"status": "stuck"}, "__end__"),
        (after_diagnose, {"status": None}, "repair"),
    ],
)
def test_routers_return_the_next_node_by_name(router: Any, state: dict[str, Any], expected: str) -> None:
    assert router(state) == expected
