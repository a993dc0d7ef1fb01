"""The troubleshooting graph's state and its runtime context.

The state holds the workflow's records (frozen pydantic models from `types.py`); list fields only grow (reducer:
concatenation). The graph runs without a checkpointer: a troubleshooting run is short, and each of its
inspections is a repair run that the results store and the repair loop's checkpoints keep on their own. What
cannot or should not travel in the state (models, the catalogue, the finding vocabulary, the execution target,
limits, the store, the progress callback) lives in `TroubleshootContext`, LangGraph's runtime context.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.models.spec import ModelSpec
from cloudinspect.troubleshoot.types import (
    Diagnosis,
    EvidenceBundle,
    InspectionOutcome,
    Plan,
    ProblemStatement,
    StepUsage,
)

if TYPE_CHECKING:
    from cloudinspect.catalog.loader import Catalog
    from cloudinspect.troubleshoot.findings import FindingLabel


def _merged(left: dict[str, InspectionPrompt], right: dict[str, InspectionPrompt]) -> dict[str, InspectionPrompt]:
    return {**left, **right}


class TroubleshootState(TypedDict, total=False):
    """The graph state: the problem, every plan and outcome so far, the latest bundle and diagnosis."""

    problem: ProblemStatement
    round: int
    plans: Annotated[list[Plan], operator.add]
    outcomes: Annotated[list[InspectionOutcome], operator.add]
    generated: Annotated[dict[str, InspectionPrompt], _merged]
    """Prompts the planner model wrote for this problem, by id (they are not in the catalogue)."""
    bundle: EvidenceBundle
    diagnosis: Diagnosis
    concluded: bool
    """The last diagnosis was conclusive, or the rounds are spent: remediate and end."""
    steps: Annotated[list[StepUsage], operator.add]
    warnings: Annotated[list[str], operator.add]
    """What the workflow dropped or replaced (unknown prompt ids, bad variables, fallbacks...)."""


class TroubleshootLimits(BaseModel):
    """How much one troubleshooting run may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rounds: int = Field(2, ge=1, le=10, description="Plan-inspect-diagnose rounds.")
    max_inspections: int = Field(6, ge=1, le=30, description="Inspections per round.")
    concurrency: int = Field(3, ge=1, le=32, description="Inspections running at once.")
    token_budget: int = Field(6000, ge=200, description="Tokens of the evidence bundle as the diagnosis sees it.")
    max_attempts: int = Field(3, ge=1, le=50, description="Repair-loop attempts per inspection.")
    sandbox: str = Field("warm", description="The sandbox of the inspections' scripts: process, warm, docker, auto.")
    shortlist_size: int = Field(12, ge=1, le=60, description="Catalogue prompts the planner chooses from.")


@dataclass
class TroubleshootContext:
    """The runtime context of one troubleshooting run (LangGraph `context_schema`)."""

    spec: ModelSpec
    """The model that writes the inspections' scripts."""
    chat_model: BaseChatModel
    planner_spec: ModelSpec
    """The model that understands, plans, diagnoses (and writes new prompts)."""
    planner: BaseChatModel
    catalog: Catalog
    findings: Mapping[str, FindingLabel]
    target: str
    """The target as the user named it (recorded in the result and the evidence)."""
    exec_target: str
    """Where the scripts run: the user's target, or `endpoint:URL` of the emulator started for the run."""
    limits: TroubleshootLimits
    store: Any
    """A `cloudinspect.store.ResultStore`: every inspection's repair run is recorded there."""
    on_event: Callable[[str], None] | None = None
    retry: Any = None
    """A `cloudinspect.models.resilience.RetryPolicy` for model calls (None: the default policy)."""

    def emit(self, text: str) -> None:
        if self.on_event is not None:
            self.on_event(text)

    def knows(self, prompt_id: str, generated: Mapping[str, InspectionPrompt]) -> bool:
        """The prompt is in the catalogue, or the planner generated it in this run."""
        return prompt_id in generated or prompt_id in self.catalog.prompts

    def prompt(self, prompt_id: str, generated: Mapping[str, InspectionPrompt]) -> InspectionPrompt:
        """A catalogue prompt, or one the planner generated in this run."""
        if prompt_id in generated:
            return generated[prompt_id]
        return self.catalog[prompt_id]
