"""The troubleshooting benchmark's data: its configuration, its cells (model x fault scenario x repeat), each cell's
scored result, and the summary (`DIR/summary.json`, `"suite": "troubleshoot"`) that reports read.

A *cell* is one model troubleshooting one fault scenario once: `troubleshoot(fault.problem, ...)` against that
scenario's seeded emulator, scored with `cloudinspect.troubleshoot.score.score_result` against the fault's known
root cause. The cell's whole `TroubleshootResult` is kept next to it in the store (the reports show its plan,
evidence and diagnosis).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.troubleshoot.score import TroubleshootScore

TROUBLESHOOT_SUITE: Literal["troubleshoot"] = "troubleshoot"
TROUBLESHOOT_SCHEMA_VERSION = 1
SCENARIO_PLACEHOLDER = "{scenario}"
"""In a model id, replaced by each cell's scenario: `replay:fixtures/{scenario}.yaml` replays the recorded
conversation of the cell's fault scenario (one replay file holds one conversation)."""

TroubleshootCellStatus = Literal["found", "not_found", "error"]
"""`found`: the top hypothesis names every expected label; `not_found`: the run finished without it; `error`: the
machinery (not the model's diagnosis) failed: the emulator, the provider, a bug."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TroubleshootBenchConfig(_Frozen):
    """What a troubleshooting benchmark runs: stored in the benchmark directory so that re-running resumes it."""

    suite: Literal["troubleshoot"] = TROUBLESHOOT_SUITE
    models: list[str] = Field(
        min_length=1, description="Registry ids or replay:PATH; '{scenario}' in an id is each cell's scenario."
    )
    planner_model: str | None = Field(None, description="Plans and diagnoses for every model (default: the model).")
    scenarios: list[str] = Field(
        default_factory=list, description="Fault scenarios; empty: every scenario that has a fault (resolved on run)."
    )
    repeat: int = Field(1, ge=1, le=100)
    max_rounds: int = Field(2, ge=1, le=10)
    max_inspections: int = Field(6, ge=1, le=50)
    max_attempts: int = Field(3, ge=1, le=50)
    token_budget: int = Field(6000, ge=500)
    concurrency: int = Field(2, ge=1, le=64, description="Cells at once.")
    inspect_concurrency: int = Field(3, ge=1, le=32, description="Inspections at once within a cell.")
    sandbox: str = "warm"


class TroubleshootCell(_Frozen):
    """One unit of work: `model_id` on fault scenario `scenario`, repeat number `repeat` (0-based)."""

    model_id: str
    scenario: str
    repeat: int = Field(0, ge=0)

    @property
    def key(self) -> str:
        return f"{self.model_id}|{self.scenario}|{self.repeat}"


class TroubleshootCellResult(_Frozen):
    """A finished cell: written once, atomically (with its troubleshooting result); re-running skips it."""

    cell: TroubleshootCell
    status: TroubleshootCellStatus
    fault: str = Field(description="The fault's name (the scenario's `fault.name`).")
    root_cause_found: bool = False
    evidence_cited_correctly: bool = False
    score: float = Field(0.0, ge=0.0, le=1.0)
    scoring: TroubleshootScore | None = Field(None, description="The whole score (None for an `error` cell).")
    model_id: str = Field("", description="The model as the run named it (the scenario filled in).")
    planner_model_id: str = ""
    rounds: int = 0
    inspections: int = 0
    inspections_passed: int = 0
    plans: int = 0
    fallback_plans: int = Field(0, description="Plans that are the shortlist because the planner's reply was unusable.")
    failed_steps: int = Field(0, description="Model steps (understand, plan, diagnose...) whose reply was unusable.")
    evidence_items: int = 0
    evidence_tokens: int = 0
    top_hypothesis: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    reason: str = Field("", description="Why an `error` cell failed, or the diagnosis's warnings.")
    started_at: datetime
    finished_at: datetime


class FaultInfo(_Frozen):
    """A fault scenario of the matrix, as the reports show it."""

    scenario: str
    fault: str
    problem: str
    root_cause: str
    expected_findings: list[str]
    evidence_prompts: list[str]


class FaultFigures(BaseModel):
    """One model's figures on one fault scenario (over its repeats)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fault: str
    cells: int
    cells_expected: int
    root_cause_found: int
    root_cause_rate: float
    evidence_cited_rate: float
    mean_score: float
    cost_usd: float
    duration_p50_ms: float | None
    statuses: dict[str, int]


class TroubleshootModelSummary(BaseModel):
    """Metrics of one model over the troubleshooting benchmark (definitions: `_tsuite_metrics`, docs/benchmark.md)."""

    model_config = ConfigDict(extra="allow")

    scenarios: int
    cells: int
    cells_expected: int
    missing_cells: int
    root_cause_found: int
    root_cause_rate: float
    root_cause_rate_ci95: tuple[float, float]
    evidence_cited: int
    evidence_cited_rate: float
    evidence_cited_rate_ci95: tuple[float, float]
    mean_score: float
    cost_usd: float
    usd_per_found: float | None
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    tokens_in: int
    tokens_out: int
    fallback_plans: int
    failed_steps: int
    errors: int
    status_counts: dict[str, int]
    by_fault: dict[str, FaultFigures] = Field(default_factory=dict)


class TroubleshootSummary(BaseModel):
    """`DIR/summary.json` of a troubleshooting benchmark."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = TROUBLESHOOT_SCHEMA_VERSION
    suite: Literal["troubleshoot"] = TROUBLESHOOT_SUITE
    config: TroubleshootBenchConfig
    faults: list[FaultInfo]
    models: dict[str, TroubleshootModelSummary]
    generated_at: datetime
    complete: bool = Field(description="Every cell of the matrix has a result.")
    methods: dict[str, Any] = Field(default_factory=dict)
