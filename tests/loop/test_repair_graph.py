"""The repair loop driven by recorded conversations (replay provider) against the seeded emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.reference import run_reference
from cloudinspect.loop import LoopEvent, LoopLimits, repair_graph_mermaid, run_repair_loop
from cloudinspect.loop.state import Attempt
from cloudinspect.models.replay import ReplayChatModel
from cloudinspect.store import ResultStore

FIXTURES = Path(__file__).parent.parent / "fixtures"
REPLAY = FIXTURES / "replay"
PROMPT = "ec2-instances-by-state-and-type"


def test_mermaid_drawing_matches_the_snapshot() -> None:
    expected = (FIXTURES / "graphs" / "repair.mmd").read_text()
    assert repair_graph_mermaid() == expected, "the repair graph changed: update tests/fixtures/graphs/repair.mmd"


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    return ResultStore(tmp_path / "results.sqlite")


def _run(name: str, endpoint: str, store: ResultStore, tmp_path: Path, **limits: Any) -> tuple[Any, list[LoopEvent]]:
    events: list[LoopEvent] = []
    path = REPLAY / name
    record = run_repair_loop(
        PROMPT,
        f"replay:{path}",
        target=f"endpoint:{endpoint}",
        limits=LoopLimits(**limits),
        store=store,
        checkpoint_file=tmp_path / "checkpoints.sqlite",
        chat_model=ReplayChatModel.from_file(path),
        on_event=events.append,
    )
    return record, events


def test_four_attempts_pass_at_the_fourth_with_each_failure_classified(
    emulator: Any, store: ResultStore, tmp_path: Path
) -> None:
    emu = emulator("baseline")
    record, events = _run("repair-four-attempts.yaml", emu.endpoint_url, store, tmp_path, max_attempts=5)
    assert record.status == "passed", record.reason
    assert [a.error_class for a in record.attempts] == ["syntax", "hallucinated_api", "wrong_output", "none"]
    assert [a.passed for a in record.attempts] == [False, False, False, True]
    # The output is the canonical answer on this account.
    prompt = load_catalog()[PROMPT]
    assert record.output == run_reference(prompt, emu.env(), {}).output
    # Every attempt is in the store, with the feedback the model got.
    stored = store.attempts(record.run_id)
    assert [a.n for a in stored] == [1, 2, 3, 4]
    assert "list_instances" in stored[1].error_message
    assert "describe_instances" in stored[1].feedback  # the botocore docs of the likely operation
    assert stored[2].verdict is not None
    assert stored[2].verdict.compared
    assert stored[3].diff.startswith("--- attempt-3.py")
    assert store.get_run(record.run_id).status == "passed"
    stages = [(e.n, e.stage) for e in events if e.n]
    assert (1, "generate") in stages
    assert (2, "repair") in stages
    assert (4, "finish") in stages


def test_wrong_output_feedback_does_not_leak_the_expected_answer(
    emulator: Any, store: ResultStore, tmp_path: Path
) -> None:
    emu = emulator("baseline")
    record, _ = _run("repair-four-attempts.yaml", emu.endpoint_url, store, tmp_path, max_attempts=5)
    wrong = store.attempts(record.run_id)[2]
    assert wrong.error_class == "wrong_output"
    expected = run_reference(load_catalog()[PROMPT], emu.env(), {}).output
    stopped = {state: n for state, n in expected["by_state"].items() if state != "running"}
    assert stopped, "the baseline scenario should hold instances that are not running"
    assert "by_state" in wrong.feedback
    for state, count in stopped.items():
        # the feedback says what is missing (the key) but never the expected count
        assert f'"{state}": {count}' not in wrong.feedback
        assert f"expected {count}" not in wrong.feedback


def test_the_same_error_again_and_again_stops_early_as_stuck(emulator: Any, store: ResultStore, tmp_path: Path) -> None:
    record, _ = _run("repair-stuck.yaml", emulator("baseline").endpoint_url, store, tmp_path, max_attempts=6)
    assert record.status == "stuck", record.reason
    assert len(record.attempts) == 3  # of the 6 allowed
    assert {a.error_class for a in record.attempts} == {"hallucinated_api"}
    attempts = store.attempts(record.run_id)
    # The feedback names the repeat and asks for another approach.
    assert "same mistake as in attempt 1" in attempts[1].feedback
    assert "change strategy" in attempts[1].feedback


def test_an_operation_the_emulator_cannot_serve_ends_unsupported_without_blaming_the_model(
    emulator: Any, store: ResultStore, tmp_path: Path
) -> None:
    record, _ = _run("repair-unsupported.yaml", emulator("baseline").endpoint_url, store, tmp_path, max_attempts=3)
    assert record.status == "unsupported", record.reason
    assert len(record.attempts) == 1
    assert record.attempts[0].error_class == "emulator_unsupported"
    assert "cloudtrail" in record.reason.lower() or "LookupEvents" in record.reason


def test_attempt_records_round_trip_through_json(emulator: Any, store: ResultStore, tmp_path: Path) -> None:
    record, _ = _run("repair-four-attempts.yaml", emulator("baseline").endpoint_url, store, tmp_path, max_attempts=5)
    for attempt in store.attempts(record.run_id):
        assert Attempt.model_validate_json(attempt.model_dump_json()) == attempt
