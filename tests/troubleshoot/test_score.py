"""`score_result`: the rules of the troubleshooting benchmark's scoring, on hand-made results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloudinspect.cloud import Fault
from cloudinspect.troubleshoot.score import score_result
from cloudinspect.troubleshoot.types import (
    Diagnosis,
    EvidenceBundle,
    EvidenceItem,
    Hypothesis,
    ProblemStatement,
    Provenance,
    StepUsage,
    TroubleshootResult,
)

FAULT = Fault(
    name="stale-admin-key",
    root_cause="deploy-legacy has an old, unused access key and administrator access.",
    problem="Someone could get full control of our account.",
    expected_findings=["iam-access-key-unused", "iam-user-admin-access"],
    evidence_prompts=["iam-access-keys-audit", "iam-admin-principals"],
    resources=["deploy-legacy"],
)
PROMPTS = ["iam-access-keys-audit", "iam-admin-principals", "iam-console-users-without-mfa"]


def _item(n: int, prompt_id: str) -> EvidenceItem:
    return EvidenceItem(
        id=f"E{n}",
        kind="table",
        title=prompt_id,
        summary="rows",
        facts=["a fact", "another"],
        provenance=Provenance(inspection_id=f"i{n}", prompt_id=prompt_id),
    )


def _result(*hypotheses: Hypothesis, warnings: list[str] | None = None) -> TroubleshootResult:
    problem = ProblemStatement(text=FAULT.problem)
    now = datetime.now(UTC)
    return TroubleshootResult(
        problem=problem,
        evidence=EvidenceBundle(
            problem=problem, items=[_item(n, p) for n, p in enumerate(PROMPTS, 1)], token_budget=6000
        ),
        diagnosis=Diagnosis(hypotheses=list(hypotheses), conclusive=True, warnings=warnings or []),
        steps=[StepUsage(step="troubleshoot.diagnose", model_id="m", tokens_in=100, tokens_out=20, cost_usd=0.01)],
        model_id="m",
        planner_model_id="m",
        target="emulator:x",
        tokens_in=1000,
        tokens_out=200,
        cost_usd=0.05,
        duration_ms=1234.0,
        started_at=now,
        finished_at=now,
    )


def _h(labels: list[str], evidence: list[str], confidence: float = 0.9) -> Hypothesis:
    return Hypothesis(title="h", labels=labels, confidence=confidence, evidence=evidence)


def test_the_right_labels_on_the_top_hypothesis_with_the_right_evidence_score_one() -> None:
    score = score_result(_result(_h(["iam-access-key-unused", "iam-user-admin-access"], ["E1", "E2.1"])), FAULT)
    assert score.root_cause_found
    assert score.evidence_cited_correctly
    assert score.top_cites_evidence_prompt
    assert score.score == 1.0
    assert (score.cost_usd, score.duration_ms, score.tokens) == (0.05, 1234.0, 1200)


def test_a_fact_id_counts_for_its_item() -> None:
    score = score_result(_result(_h(FAULT.expected_findings, ["E2.2"])), FAULT)
    assert score.evidence_cited_correctly


def test_half_the_labels_is_not_the_root_cause() -> None:
    score = score_result(_result(_h(["iam-access-key-unused"], ["E1"])), FAULT)
    assert not score.root_cause_found
    assert score.missing == ["iam-user-admin-access"]
    assert score.score == pytest.approx(0.5 * 0.5 + 0.2 * 1.0 + 0.3)


def test_the_right_labels_on_the_second_hypothesis_do_not_count() -> None:
    result = _result(_h(["iam-user-without-mfa"], ["E3"], 0.8), _h(FAULT.expected_findings, ["E1"], 0.3))
    score = score_result(result, FAULT)
    assert not score.root_cause_found
    assert not score.evidence_cited_correctly
    assert score.score == 0.0


def test_listing_every_label_costs_precision() -> None:
    labels = [*FAULT.expected_findings, "iam-user-without-mfa", "kms-key-rotation-disabled"]
    score = score_result(_result(_h(labels, ["E1"])), FAULT)
    assert score.root_cause_found
    assert score.score == pytest.approx(0.5 + 0.2 * 0.5 + 0.3)


def test_citing_only_other_evidence_is_not_citing_correctly() -> None:
    score = score_result(_result(_h(FAULT.expected_findings, ["E3"])), FAULT)
    assert score.root_cause_found
    assert not score.evidence_cited_correctly
    assert score.score == pytest.approx(0.7)


def test_citations_the_workflow_dropped_count_against_the_diagnosis() -> None:
    warnings = ["hypothesis 1 (h): unknown evidence id 'E9' dropped"]
    score = score_result(_result(_h(FAULT.expected_findings, ["E1"]), warnings=warnings), FAULT)
    assert score.unknown_citations == ["E9"]
    assert not score.evidence_cited_correctly


def test_a_citation_the_bundle_does_not_have_is_caught_in_an_unvalidated_result() -> None:
    score = score_result(_result(_h(FAULT.expected_findings, ["E1", "E7"])), FAULT)
    assert score.unknown_citations == ["E7"]
    assert not score.evidence_cited_correctly


def test_no_hypothesis_scores_zero() -> None:
    score = score_result(_result(), FAULT)
    assert not score.root_cause_found
    assert not score.evidence_cited_correctly
    assert score.score == 0.0
    assert score.missing == FAULT.expected_findings
