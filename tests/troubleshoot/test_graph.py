"""The troubleshooting graph's wiring and its behaviour when the planner model's replies are unusable, name unknown
prompts, variables, evidence ids or labels, stay inconclusive, or ask for a new prompt; on the real moto server."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudinspect.catalog import Catalog, load_catalog
from cloudinspect.cloud import Emulator, get_scenario
from cloudinspect.store import ResultStore
from cloudinspect.troubleshoot._remediate import remediations
from cloudinspect.troubleshoot._replies import DiagnosisReply, PlanReply, checked_diagnosis, dropped_citations
from cloudinspect.troubleshoot.findings import load_findings
from cloudinspect.troubleshoot.graph import troubleshoot_graph_mermaid
from cloudinspect.troubleshoot.planner import parse_problem, shortlist, valid_variables
from cloudinspect.troubleshoot.run import troubleshoot
from cloudinspect.troubleshoot.score import score_result
from cloudinspect.troubleshoot.types import (
    EvidenceBundle,
    EvidenceItem,
    ProblemStatement,
    Provenance,
    TroubleshootResult,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCENARIO = "fault-lambda-timeout"
INVENTORY = "lambda-functions-inventory"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from cloudinspect.config import get_settings

    monkeypatch.setenv("CLOUDINSPECT_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "state"
    get_settings.cache_clear()


def _json(value: Any) -> str:
    return f"```json\n{json.dumps(value)}\n```"


@functools.cache
def catalog() -> Catalog:
    return load_catalog()


def _code(prompt_id: str) -> str:
    return f"```python\n{catalog()[prompt_id].reference_code()}\n```"


def _problem() -> str:
    fault = get_scenario(SCENARIO).fault
    assert fault is not None
    return fault.problem


def _run(
    replies: dict[str, list[str]], emulator: Callable[[str], Emulator], tmp_path: Path, **options: Any
) -> TroubleshootResult:
    path = tmp_path / "replay.yaml"
    path.write_text(yaml.safe_dump(replies), encoding="utf-8")
    with ResultStore(tmp_path / "results.sqlite") as store:
        return troubleshoot(
            _problem(),
            model=f"replay:{path}",
            target=f"endpoint:{emulator(SCENARIO).endpoint_url}",
            store=store,
            **options,
        )


def _diagnosis(labels: list[str], evidence: list[str], *, conclusive: bool = True) -> str:
    hypothesis = {"title": "t", "labels": labels, "confidence": 0.8, "explanation": "", "evidence": evidence}
    return _json({"summary": "s", "hypotheses": [hypothesis], "conclusive": conclusive, "next_steps": ["look"]})


def test_mermaid_drawing_matches_the_snapshot() -> None:
    expected = (FIXTURES / "graphs" / "troubleshoot.mmd").read_text()
    assert troubleshoot_graph_mermaid() == expected, "the graph changed: update tests/fixtures/graphs/troubleshoot.mmd"


def test_unusable_replies_fall_back_to_a_keyword_parse_and_the_shortlist(
    emulator: Callable[[str], Emulator], tmp_path: Path
) -> None:
    shortlisted = [c.prompt.id for c in shortlist(parse_problem(_problem()), catalog())[:2]]
    replies = {
        # each unusable reply is followed by an unusable answer to the fix turn
        "troubleshoot.understand": ["The order processor is slow.", "Sorry, I cannot produce JSON."],
        "troubleshoot.plan": ['```json\n{"inspections": "all of them"}\n```', "no"],
        "troubleshoot.diagnose": [_diagnosis(["lambda-timeout", "cosmic-rays"], ["E1", "E9", "e2"])],
        **{prompt_id: [_code(prompt_id)] for prompt_id in shortlisted},
    }

    result = _run(replies, emulator, tmp_path, max_inspections=2)

    assert result.problem.services == ["lambda"]  # the keyword parse
    plan = result.plans[0]
    assert plan.fallback
    assert [i.prompt_id for i in plan.inspections] == shortlisted
    assert [(s.step, s.ok) for s in result.steps] == [
        ("troubleshoot.understand", False),
        ("troubleshoot.plan", False),
        ("troubleshoot.diagnose", True),
    ]
    assert "keyword parse" in result.steps[0].error
    hypothesis = result.diagnosis.hypotheses[0]
    assert hypothesis.labels == ["lambda-timeout"]
    assert hypothesis.evidence == ["E1", "E2"]
    warnings = "\n".join(result.diagnosis.warnings)
    assert "unknown evidence id 'E9' dropped" in warnings
    assert "unknown label 'cosmic-rays' dropped" in warnings
    assert "keyword parse" in warnings
    assert "planned the shortlist" in warnings
    score = score_result(result, get_scenario(SCENARIO).fault)  # type: ignore[arg-type]
    assert score.unknown_citations == ["E9"]
    assert not score.evidence_cited_correctly


def test_rounds_stop_at_max_rounds_and_bad_plan_entries_are_dropped(
    emulator: Callable[[str], Emulator], tmp_path: Path
) -> None:
    round_1 = {"inspections": [{"prompt_id": INVENTORY, "variables": {}, "reason": "what runs here"}]}
    round_2 = {
        "inspections": [
            {"prompt_id": INVENTORY, "variables": {}, "reason": "again"},  # already run: dropped
            {"prompt_id": "no-such-prompt", "reason": "invented"},  # unknown: dropped
            {"prompt_id": "lambda-duration-near-timeout", "variables": {"hours": "soon", "colour": "red"}},
        ]
    }
    replies = {
        "troubleshoot.understand": [_json({"summary": "timeouts", "services": ["AWS Lambda"]})],
        "troubleshoot.plan": [_json(round_1), _json(round_2)],
        "troubleshoot.diagnose": [
            _diagnosis(["lambda-timeout"], ["E1"], conclusive=False),
            _diagnosis(["lambda-timeout"], ["E2"], conclusive=False),
        ],
        INVENTORY: [_code(INVENTORY)],
        "lambda-duration-near-timeout": [_code("lambda-duration-near-timeout")],
    }
    events: list[str] = []

    result = _run(replies, emulator, tmp_path, max_rounds=2, on_event=events.append)

    assert result.rounds == 2
    assert len(result.plans) == 2
    assert not result.diagnosis.conclusive
    assert result.problem.services == ["lambda"]  # 'AWS Lambda' as botocore names it
    second = result.plans[1].inspections
    assert [(i.id, i.prompt_id, i.round) for i in second] == [("i2", "lambda-duration-near-timeout", 2)]
    assert second[0].variables == {"hours": 24, "threshold_percent": 80}  # bad values dropped to the defaults
    warnings = "\n".join(result.diagnosis.warnings)
    assert "unknown prompt id 'no-such-prompt' dropped" in warnings
    assert "already planned or run" in warnings
    assert "'hours'='soon' dropped" in warnings
    assert "'colour'='red' dropped" in warnings
    assert [s.step for s in result.steps].count("troubleshoot.diagnose") == 2
    assert [i.id for i in result.evidence.items] == ["E1", "E2"]
    assert result.diagnosis.remediations
    assert result.diagnosis.remediations[0].labels == ["lambda-timeout"]
    assert any("round 2" in e for e in events)


def test_an_empty_plan_after_the_first_round_concludes(emulator: Callable[[str], Emulator], tmp_path: Path) -> None:
    replies = {
        "troubleshoot.understand": [_json({"summary": "timeouts", "services": ["lambda"]})],
        "troubleshoot.plan": [
            _json({"inspections": [{"prompt_id": INVENTORY}]}),
            _json({"rationale": "nothing more to look at", "inspections": [], "new_prompt": None}),
        ],
        "troubleshoot.diagnose": [_diagnosis(["lambda-timeout"], ["E1"], conclusive=False)],
        INVENTORY: [_code(INVENTORY)],
    }

    result = _run(replies, emulator, tmp_path, max_rounds=3)

    assert result.rounds == 2
    assert [len(p.inspections) for p in result.plans] == [1, 0]
    assert not result.plans[1].fallback
    assert [s.step for s in result.steps].count("troubleshoot.diagnose") == 1


def test_the_planner_may_ask_for_a_new_prompt(emulator: Callable[[str], Emulator], tmp_path: Path) -> None:
    """No catalogue prompt fits: the planner asks for one, the prompt generator writes it, and it runs."""
    generated = yaml.safe_load((FIXTURES / "promptgen" / "good.yaml").read_text())
    question = "Which SQS queues have a visibility timeout shorter than the consumer's processing time?"
    replies = {
        "troubleshoot.understand": [_json({"summary": "timeouts", "services": ["lambda", "sqs"]})],
        "troubleshoot.plan": [_json({"inspections": [], "new_prompt": question})],
        "troubleshoot.diagnose": [_diagnosis(["lambda-timeout"], ["E1"])],
        **generated,
    }

    result = _run(replies, emulator, tmp_path)

    (planned,) = result.plans[0].inspections
    assert planned.generated
    assert planned.prompt_id == "sqs-queue-timeouts"
    assert planned.reason == question
    assert result.inspections[0].status == "passed"
    assert result.evidence.items[0].provenance.prompt_id == "sqs-queue-timeouts"
    assert "troubleshoot.promptgen" in [s.step for s in result.steps]


# -- the pure parts: retrieval, reply checking, remediation ------------------------------------------------------


def test_the_keyword_parse_finds_services_resources_and_window() -> None:
    problem = parse_problem("The security group of prod-api-1 is open and our S3 bucket exports leak, last 3 days")
    assert problem.services == ["ec2", "s3"]
    assert "prod-api-1" in problem.resources
    assert problem.window_hours == 72
    assert "open" in problem.symptoms


def test_the_shortlist_is_deterministic_and_puts_the_fitting_prompts_first() -> None:
    problem = ProblemStatement(
        text="Lambda keeps timing out", services=["lambda"], symptoms=["timeouts"], keywords=["timeout"]
    )
    first = [c.prompt.id for c in shortlist(problem, catalog(), size=5)]
    assert first == [c.prompt.id for c in shortlist(problem, catalog(), size=5)]
    assert first[0] == "lambda-duration-near-timeout"
    assert "logs-lambda-timeouts" in [c.prompt.id for c in shortlist(problem, catalog(), size=6)]
    hours = {
        c.prompt.id: c.variables.get("hours")
        for c in shortlist(problem.model_copy(update={"window_hours": 48}), catalog())
    }
    assert hours["lambda-duration-near-timeout"] == 48  # the look-back follows the problem's window
    assert "logs-lambda-timeouts" not in [
        c.prompt.id for c in shortlist(problem, catalog(), exclude=["logs-lambda-timeouts"])
    ]


def test_bad_variables_are_dropped_to_their_defaults() -> None:
    prompt = catalog()["lambda-error-rate"]
    values, warnings = valid_variables(prompt, {"hours": "48", "threshold_percent": "lots", "colour": "red"})
    assert values == {"hours": 48, "threshold_percent": 5}
    assert len(warnings) == 2
    assert all("dropped" in w for w in warnings)


def test_the_diagnosis_is_checked_against_the_bundle_and_the_vocabulary() -> None:
    problem = ProblemStatement(text="slow")
    item = EvidenceItem(
        id="E1",
        kind="table",
        title="t",
        summary="s",
        facts=["f"],
        data=[{"function_name": "orders", "timeout_s": 6}, {"function_name": "cart", "timeout_s": 10}],
        provenance=Provenance(inspection_id="i1", prompt_id="lambda-duration-near-timeout"),
    )
    bundle = EvidenceBundle(problem=problem, items=[item], token_budget=1000)
    reply = DiagnosisReply.model_validate(
        {
            "hypotheses": [
                {"title": "low", "labels": ["Lambda_Throttling"], "confidence": 0.2, "evidence": "E1"},
                {
                    "title": "orders times out",
                    "labels": ["lambda-timeout", "gremlins"],
                    "confidence": 1.7,
                    "evidence": ["[E1.1]", "E1.2", "E3"],
                },
            ],
            "conclusive": True,
            "ignored": "extra keys are fine",
        }
    )
    diagnosis = checked_diagnosis(reply, bundle, load_findings())
    assert [h.title for h in diagnosis.hypotheses] == ["orders times out", "low"]  # by confidence
    top = diagnosis.hypotheses[0]
    assert (top.labels, top.evidence, top.confidence) == (["lambda-timeout"], ["E1.1"], 1.0)
    assert diagnosis.hypotheses[1].labels == ["lambda-throttling"]
    assert dropped_citations(diagnosis) == ["E1.2", "E3"]
    assert any("unknown label 'gremlins'" in w for w in diagnosis.warnings)

    (fix, *_) = remediations(diagnosis, bundle, load_findings())
    # two functions in the evidence; the hypothesis names one of them
    assert fix.commands[0] == "aws lambda list-versions-by-function --function-name orders"
    assert "{alias}" in fix.commands[1]  # nothing in the evidence names it: left for the user


def test_a_reply_that_copies_the_format_example_says_nothing() -> None:
    """Small models copy the example of the reply format: its <placeholders> must not become a diagnosis."""
    problem = ProblemStatement(text="slow")
    item = EvidenceItem(
        id="E1", kind="text", title="t", summary="s", provenance=Provenance(inspection_id="i1", prompt_id="p")
    )
    bundle = EvidenceBundle(problem=problem, items=[item], token_budget=1000)
    example = {
        "summary": "<one sentence: the most likely root cause, naming the resource>",
        "hypotheses": [
            {
                "title": "<the cause, naming the resource>",
                "labels": ["<a label from the vocabulary>"],
                "confidence": 0.8,
                "explanation": "<why: what the cited evidence shows>",
                "evidence": ["<an item id such as E1>"],
            }
        ],
        "conclusive": True,
    }
    diagnosis = checked_diagnosis(DiagnosisReply.model_validate(example), bundle, load_findings())
    assert diagnosis.summary == ""
    assert diagnosis.hypotheses[0].labels == []
    assert diagnosis.hypotheses[0].evidence == []
    plan = PlanReply.model_validate(
        {"inspections": [{"prompt_id": "<a prompt id from the list>"}], "new_prompt": "<q>"}
    )
    assert plan.new_prompt is None
