"""The troubleshooting workflow's records: a problem, the plan, the evidence and the diagnosis.

Every boundary of the workflow is one of these frozen models, so a run can be stored, replayed, scored and handed
to another agent as JSON. Evidence ids are stable within a bundle ("E1", "E2", ... in the order the inspections
were planned, then "E1.2" for the second fact of E1) and the diagnosis cites them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemStatement(_Frozen):
    """The user's problem as the workflow understood it (node `understand`)."""

    text: str = Field(description="The problem as the user wrote it.")
    summary: str = Field("", description="One sentence: what is wrong, in the model's words.")
    symptoms: list[str] = Field(default_factory=list, description="Observable symptoms (timeouts, 5xx, cost...).")
    services: list[str] = Field(default_factory=list, description="Services involved, as botocore names them.")
    resources: list[str] = Field(default_factory=list, description="Resource names or ids the user mentioned.")
    window_hours: int = Field(24, ge=1, le=24 * 14, description="How far back to look.")
    keywords: list[str] = Field(default_factory=list)


class PlannedInspection(_Frozen):
    """One inspection to run: a catalogue prompt (or one the planner generated) with its variables."""

    id: str = Field(description="Stable id within the run: 'i1', 'i2', ... (evidence 'E1' comes from 'i1').")
    prompt_id: str
    variables: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field("", description="Why this inspection helps with the problem.")
    generated: bool = Field(False, description="The prompt was written by the planner model for this problem.")
    round: int = Field(1, ge=1)


class Plan(_Frozen):
    """One planning round's inspections."""

    round: int = Field(ge=1)
    inspections: list[PlannedInspection] = Field(default_factory=list)
    rationale: str = ""
    fallback: bool = Field(False, description="The planner's reply was unusable: this is the shortlist.")


class InspectionOutcome(_Frozen):
    """What one inspection produced: the repair loop's final state for that prompt on the target."""

    inspection: PlannedInspection
    status: str = Field(description="The repair run's status: passed, failed, stuck, unsupported, error...")
    run_id: str | None = None
    model_id: str = ""
    output: Any = None
    error: str = ""
    code_sha256: str = ""
    api_calls: list[str] = Field(default_factory=list, description="'service:Operation' the script called.")
    target: str = ""
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    finished_at: datetime | None = None


class Provenance(_Frozen):
    """Where a piece of evidence came from."""

    inspection_id: str
    prompt_id: str
    run_id: str | None = None
    model_id: str = ""
    code_sha256: str = ""
    api_calls: list[str] = Field(default_factory=list)
    target: str = ""
    collected_at: datetime | None = None


EvidenceKind = Literal["table", "timeseries", "object", "scalar", "text", "error"]


class EvidenceItem(_Frozen):
    """One inspection's output as evidence: a short summary, notable facts, and the (capped) data."""

    id: str = Field(description="'E1', 'E2'...: stable within the bundle; the diagnosis cites it.")
    kind: EvidenceKind
    title: str
    summary: str = Field(description="One or two sentences: what the output says.")
    facts: list[str] = Field(default_factory=list, description="Notable facts (anomalies, outliers), cited 'E1.2'.")
    data: Any = Field(None, description="The output, or a reduction of it when it is too large for the budget.")
    reduced: bool = Field(False, description="`data` is a reduction (rows cut, series reduced to stats).")
    tokens: int = Field(0, ge=0, description="Estimated tokens of this item as rendered in the bundle.")
    provenance: Provenance


class EvidenceBundle(_Frozen):
    """Every fact the diagnosis may use, with provenance, under a token budget, secrets redacted."""

    problem: ProblemStatement
    items: list[EvidenceItem] = Field(default_factory=list)
    token_budget: int = Field(ge=1)
    tokens: int = Field(0, ge=0, description="Estimated tokens of the whole bundle as rendered in Markdown.")
    redactions: int = Field(0, ge=0, description="Secrets replaced by placeholders.")
    dropped: list[str] = Field(default_factory=list, description="Evidence left out to fit the budget (ids).")

    def ids(self) -> set[str]:
        """Every citable id: items and their facts."""
        found: set[str] = set()
        for item in self.items:
            found.add(item.id)
            found.update(f"{item.id}.{n}" for n in range(1, len(item.facts) + 1))
        return found


class Hypothesis(_Frozen):
    """A candidate root cause, citing the evidence that supports it."""

    title: str
    labels: list[str] = Field(default_factory=list, description="Finding labels (troubleshoot vocabulary).")
    confidence: float = Field(0.5, ge=0.0, le=1.0)
    explanation: str = ""
    evidence: list[str] = Field(default_factory=list, description="Evidence ids ('E2', 'E2.1') it rests on.")


class Remediation(_Frozen):
    """What to do about a hypothesis: commands and console steps, never executed by cloudinspect."""

    title: str
    labels: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    console_steps: list[str] = Field(default_factory=list)
    caution: str = ""


class Diagnosis(_Frozen):
    """Root-cause hypotheses, most likely first, and whether the evidence settles it."""

    summary: str = ""
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    conclusive: bool = False
    next_steps: list[str] = Field(default_factory=list, description="What to look at next when not conclusive.")
    remediations: list[Remediation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="What was dropped: unknown ids, labels...")


class StepUsage(_Frozen):
    """One model call of the workflow (understand, plan, diagnose, remediate, prompt generation)."""

    step: str
    model_id: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    ok: bool = True
    error: str = ""


class TroubleshootResult(_Frozen):
    """A whole troubleshooting run."""

    problem: ProblemStatement
    plans: list[Plan] = Field(default_factory=list)
    inspections: list[InspectionOutcome] = Field(default_factory=list)
    evidence: EvidenceBundle
    diagnosis: Diagnosis
    steps: list[StepUsage] = Field(default_factory=list)
    model_id: str
    planner_model_id: str
    target: str
    rounds: int = 1
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    started_at: datetime
    finished_at: datetime
