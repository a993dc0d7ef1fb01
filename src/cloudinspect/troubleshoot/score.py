"""Scoring a troubleshooting result against a fault scenario's known root cause.

The rules (the troubleshooting benchmark reports these):

- **root cause found**: every expected label of the fault is among the labels of the *top* hypothesis (the most
  confident one). A right label on the second hypothesis does not count: a diagnosis is judged by what it puts
  first, as a user acting on it would be.
- **evidence cited correctly**: every evidence id the diagnosis cites exists in the bundle, counting the citations
  the workflow dropped because they did not (a model that invents `E9` is not rescued by the validation), and the
  top hypothesis cites at least one item (or one of its facts) that came from one of the fault's evidence prompts.
- **score** in 0..1: `0.5 * recall + 0.2 * precision + 0.3 * evidence`, where recall is the share of expected
  labels on the top hypothesis, precision the share of the top hypothesis's labels that are expected (listing every
  label is not a diagnosis), and evidence is 1 when the evidence is cited correctly. A correct, well-cited,
  precise diagnosis scores 1.0; no hypothesis scores 0.
- cost, duration and tokens are the result's totals (model steps and inspections).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.cloud.scenario import Fault
from cloudinspect.troubleshoot._replies import dropped_citations
from cloudinspect.troubleshoot.types import TroubleshootResult

RECALL_WEIGHT = 0.5
PRECISION_WEIGHT = 0.2
EVIDENCE_WEIGHT = 0.3


class TroubleshootScore(BaseModel):
    """How a troubleshooting result fares against a fault's known root cause (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fault: str
    expected: list[str]
    top_labels: list[str] = Field(default_factory=list, description="Labels of the top hypothesis.")
    matched: list[str] = Field(default_factory=list, description="Expected labels on the top hypothesis.")
    missing: list[str] = Field(default_factory=list, description="Expected labels not on the top hypothesis.")
    root_cause_found: bool
    evidence_cited_correctly: bool
    cited: list[str] = Field(default_factory=list, description="Every id the diagnosis cites (kept ones).")
    unknown_citations: list[str] = Field(default_factory=list, description="Cited ids the bundle does not have.")
    top_cites_evidence_prompt: bool = False
    score: float = Field(ge=0.0, le=1.0)
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    tokens: int = 0
    rounds: int = 1
    inspections: int = 0


def score_result(result: TroubleshootResult, fault: Fault) -> TroubleshootScore:
    """Score `result` against `fault` (a fault scenario's `fault`)."""
    expected = list(dict.fromkeys(fault.expected_findings))
    hypotheses = result.diagnosis.hypotheses
    top = hypotheses[0] if hypotheses else None
    top_labels = list(top.labels) if top is not None else []
    matched = [label for label in expected if label in top_labels]
    missing = [label for label in expected if label not in top_labels]
    known = result.evidence.ids()
    cited = list(dict.fromkeys(ident for h in hypotheses for ident in h.evidence))
    unknown = [ident for ident in cited if ident not in known] + dropped_citations(result.diagnosis)
    from_prompts = {item.id for item in result.evidence.items if item.provenance.prompt_id in fault.evidence_prompts}
    top_cites = top is not None and any(ident.split(".")[0] in from_prompts for ident in top.evidence)
    evidence_ok = bool(cited) and not unknown and top_cites
    recall = len(matched) / len(expected) if expected else 0.0
    precision = len(matched) / len(top_labels) if top_labels else 0.0
    score = RECALL_WEIGHT * recall + PRECISION_WEIGHT * precision + EVIDENCE_WEIGHT * float(evidence_ok)
    return TroubleshootScore(
        fault=fault.name,
        expected=expected,
        top_labels=top_labels,
        matched=matched,
        missing=missing,
        root_cause_found=top is not None and not missing,
        evidence_cited_correctly=evidence_ok,
        cited=cited,
        unknown_citations=unknown,
        top_cites_evidence_prompt=top_cites,
        score=round(min(max(score, 0.0), 1.0), 4),
        cost_usd=result.cost_usd,
        duration_ms=result.duration_ms,
        tokens=result.tokens_in + result.tokens_out,
        rounds=result.rounds,
        inspections=len(result.inspections),
    )
