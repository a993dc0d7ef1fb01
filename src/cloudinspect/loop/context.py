"""What the repair graph's nodes need besides the state: the prompt, the model, the way to run code, the
canonical answer, the limits, the store and the progress callback. Not checkpointed: rebuilt on resume."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.models.spec import ModelSpec
from cloudinspect.sandbox.result import ExecResult

NO_ANSWER: Any = object()
"""`RepairContext.expected` when the target has no canonical answer (a real account): schema checks only."""


class LoopLimits(BaseModel):
    """When a run stops trying."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(4, ge=1, le=50, description="Attempts (first generation included).")
    max_cost_usd: float | None = Field(None, ge=0, description="Stop once the run's model cost reaches this.")
    run_timeout_s: float = Field(
        1800.0, gt=0, description="Wall-clock budget of the whole run (checked between attempts)."
    )
    exec_timeout_s: float = Field(60.0, gt=0, description="Wall-clock limit of one execution in the sandbox.")
    max_continuations: int = Field(
        2, ge=0, le=10, description="Continuations asked for when a reply stops at the output token limit."
    )
    repeat_limit: int = Field(
        3,
        ge=2,
        description="Consecutive attempts failing the same way that make a run `stuck`. One repeat fewer changes "
        "the strategy first: the model starts afresh from the request and a list of what failed.",
    )


@dataclass(frozen=True)
class LoopEvent:
    """Progress of a run, for terminals and logs: one per stage of each attempt, and one at the end."""

    run_id: str
    n: int
    stage: str
    detail: str = ""
    error_class: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    status: str | None = None


@dataclass
class RepairContext:
    """The runtime context of one run (LangGraph `context_schema`)."""

    run_id: str
    prompt: InspectionPrompt
    variables: dict[str, Any]
    spec: ModelSpec
    chat_model: BaseChatModel
    run_code: Callable[[str], ExecResult]
    """Runs a script in the sandbox against the run's target (bound to its endpoint, limits and variables)."""
    expected: Any = NO_ANSWER
    limits: LoopLimits = field(default_factory=LoopLimits)
    store: Any = None
    """A `cloudinspect.store.ResultStore` (or None: nothing persisted but the checkpoints)."""
    on_event: Callable[[LoopEvent], None] | None = None
    retry: Any = None
    """A `cloudinspect.models.resilience.RetryPolicy` for model calls (None: generate_code's default)."""
    started_monotonic: float = 0.0
    elapsed_before_s: float = 0.0
    """Run time spent before a resume (the run budget counts it)."""

    def emit(self, n: int, stage: str, detail: str = "", **fields: Any) -> None:
        if self.on_event is not None:
            self.on_event(LoopEvent(self.run_id, n, stage, detail, **fields))
