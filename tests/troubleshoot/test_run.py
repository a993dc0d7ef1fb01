"""`troubleshoot()` end to end on every fault scenario: the recorded conversation (replay provider) on the real moto
server reaches the fault's labels and the scoring counts it; a deliberately wrong diagnosis is scored wrong; the
evidence stays under its budget and no canary secret reaches the bundle or the result."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudinspect.cloud import Emulator, Scenario, get_scenario
from cloudinspect.errors import InputError
from cloudinspect.store import ResultStore
from cloudinspect.troubleshoot.findings import load_findings
from cloudinspect.troubleshoot.run import troubleshoot
from cloudinspect.troubleshoot.score import score_result
from cloudinspect.troubleshoot.types import TroubleshootResult
from tests.fixtures.troubleshoot.make_replays import CONVERSATIONS, WRONG, expected_files, fault_scenarios

FIXTURES = Path(__file__).parent.parent / "fixtures" / "troubleshoot"
FAULTS = sorted(fault_scenarios())


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The repair loop's checkpoints (and any default store) go to a temporary state directory."""
    from cloudinspect.config import get_settings

    monkeypatch.setenv("CLOUDINSPECT_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "state"
    get_settings.cache_clear()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultStore]:
    with ResultStore(tmp_path / "results.sqlite") as opened:
        yield opened


def canaries(scenario: Scenario) -> list[str]:
    """Every string of the scenario that contains 'canary' (seeded secrets: Lambda environment values...)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and "canary" in value.lower():
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(scenario.model_dump(mode="json"))
    return found


def run_replay(
    name: str, emulator: Callable[[str], Emulator], store: ResultStore, replay: Path | None = None
) -> TroubleshootResult:
    fault = get_scenario(name).fault
    assert fault is not None
    events: list[str] = []
    result = troubleshoot(
        fault.problem,
        model=f"replay:{replay or FIXTURES / f'{name}.yaml'}",
        target=f"endpoint:{emulator(name).endpoint_url}",
        store=store,
        on_event=events.append,
    )
    assert any("diagnosis" in e for e in events)
    return result


def test_the_replay_files_are_up_to_date() -> None:
    stale = [p.name for p, text in expected_files().items() if not p.is_file() or p.read_text() != text]
    assert not stale, f"run tests/fixtures/troubleshoot/make_replays.py: {stale} are out of date"


def test_there_are_at_least_ten_fault_scenarios_each_with_a_conversation() -> None:
    assert len(FAULTS) >= 10
    assert set(FAULTS) <= set(CONVERSATIONS)


@pytest.mark.parametrize("name", FAULTS)
def test_the_recorded_conversation_reaches_the_root_cause(
    name: str, emulator: Callable[[str], Emulator], store: ResultStore
) -> None:
    scenario = get_scenario(name)
    fault = scenario.fault
    assert fault is not None
    result = run_replay(name, emulator, store)

    # every planned inspection ran its script to a contract-valid output, recorded with its provenance
    assert [o.status for o in result.inspections] == ["passed"] * len(result.inspections)
    assert set(fault.evidence_prompts) <= {o.inspection.prompt_id for o in result.inspections}
    assert all(o.run_id and store.get_run(o.run_id).status == "passed" for o in result.inspections)
    assert all(o.api_calls for o in result.inspections)
    assert [i.id for i in result.evidence.items] == [f"E{n}" for n in range(1, len(result.inspections) + 1)]
    assert all(i.provenance.api_calls and i.provenance.code_sha256 for i in result.evidence.items)

    score = score_result(result, fault)
    assert score.root_cause_found, score
    assert score.evidence_cited_correctly, score
    assert score.score == 1.0
    assert result.diagnosis.conclusive
    assert result.rounds == 1
    assert not result.diagnosis.warnings
    assert [s.step for s in result.steps] == ["troubleshoot.understand", "troubleshoot.plan", "troubleshoot.diagnose"]
    assert {r.labels[0] for r in result.diagnosis.remediations} >= set(fault.expected_findings)

    # the evidence fits its budget, and no seeded secret reaches the bundle or the result
    assert result.evidence.tokens <= result.evidence.token_budget
    text = result.model_dump_json() + json.dumps(result.evidence.model_dump(mode="json"))
    for canary in canaries(scenario):
        assert canary not in text, f"{name}: a canary secret leaked"


def test_a_wrong_diagnosis_is_scored_wrong(store: ResultStore) -> None:
    """Also the `emulator:` target: one emulator started for the whole run, every inspection against it."""
    fault = get_scenario(WRONG).fault
    assert fault is not None
    events: list[str] = []
    result = troubleshoot(
        fault.problem,
        model=f"replay:{FIXTURES / f'{WRONG}.wrong.yaml'}",
        target=f"emulator:{WRONG}",
        store=store,
        on_event=events.append,
    )

    assert [e for e in events if "starting the emulator" in e] == [f"starting the emulator with scenario {WRONG}"]
    assert result.target == f"emulator:{WRONG}"
    assert {o.target for o in result.inspections} == {f"emulator:{WRONG}"}
    assert [o.status for o in result.inspections] == ["passed"] * 4

    score = score_result(result, fault)
    assert result.diagnosis.hypotheses[0].labels == ["lambda-errors-after-deploy"]
    assert not score.root_cause_found
    assert score.missing == ["lambda-timeout"]
    assert not score.top_cites_evidence_prompt  # it cites only the distractor's evidence
    assert not score.evidence_cited_correctly
    assert score.score == 0.0


def test_a_failing_script_that_prints_environment_secrets_leaks_nothing(
    emulator: Callable[[str], Emulator], store: ResultStore, tmp_path: Path
) -> None:
    """A script that dumps a Lambda's environment into its error message: the error reaches the evidence and the
    result, the canary secret does not."""
    name = "fault-lambda-timeout"
    scenario = get_scenario(name)
    secrets = canaries(scenario)
    assert secrets, "the scenario seeds no canary: this test would prove nothing"
    leaky = (
        "import boto3\n\nfor fn in boto3.client('lambda').list_functions()['Functions']:\n"
        "    if fn.get('Environment'):\n"
        "        raise RuntimeError(f\"bad config: {fn['Environment']['Variables']}\")\n"
    )
    step = CONVERSATIONS[name]
    replies = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())
    first = step.plan[0][0]
    replies[first] = [f"```python\n{leaky}```"]
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(replies))
    fault = scenario.fault
    assert fault is not None

    result = troubleshoot(
        fault.problem,
        model=f"replay:{path}",
        target=f"endpoint:{emulator(name).endpoint_url}",
        store=store,
        max_attempts=1,
    )

    failed = result.inspections[0]
    assert failed.status != "passed"
    assert "bad config" in failed.error
    assert result.evidence.items[0].kind == "error"
    text = result.model_dump_json()
    assert "FRAUD_API_TOKEN" in text  # the error is there, its value is not
    for canary in secrets:
        assert canary not in text


def test_the_finding_vocabulary_covers_every_expected_label() -> None:
    labels = load_findings()
    for name in FAULTS:
        fault = get_scenario(name).fault
        assert fault is not None
        assert set(fault.expected_findings) <= set(labels)


def test_bad_input_is_refused_before_anything_starts() -> None:
    with pytest.raises(InputError, match="empty"):
        troubleshoot("  ", model="replay:/nonexistent.yaml")
    with pytest.raises(InputError, match="target"):
        troubleshoot("slow", model=f"replay:{FIXTURES / f'{WRONG}.yaml'}", target="nowhere")
    with pytest.raises(InputError, match="max_rounds"):
        troubleshoot("slow", model=f"replay:{FIXTURES / f'{WRONG}.yaml'}", max_rounds=0)
