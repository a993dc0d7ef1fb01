"""The repair loop's data: one immutable record per attempt, the graph state, and the run's final record.

The graph state is checkpointed after every step (LangGraph SQLite checkpointer), so everything in it is plain
JSON: attempts travel as `Attempt.model_dump(mode="json")` dicts, appended by a reducer and never changed. Nodes
read them back with `Attempt.model_validate`. What cannot be serialised (the chat model, the sandbox, the store)
lives in the runtime context (`cloudinspect.loop.context.RepairContext`), rebuilt on resume from the run's row in
the results store.
"""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.sandbox.result import ErrorClass as ExecErrorClass

RunStatus = Literal["passed", "failed", "stuck", "unsupported", "budget", "error"]
"""How a run ended: its script passed; attempts ran out; the same failure repeated; the target cannot serve an
operation the (correct) script needs; the cost or time budget ran out; the provider or the run itself failed."""

AttemptErrorClass = Literal[
    ExecErrorClass,
    "generation",  # no usable code in the reply (empty, truncated, no code block), or the provider failed
    "review",  # the static review found errors (findings say which; hallucinated_api when they are api.*)
    "contract",  # the output is JSON but does not satisfy the prompt's output contract (JSON Schema)
    "wrong_output",  # the output satisfies the contract but differs from the canonical answer
]
"""What went wrong in an attempt: the sandbox's taxonomy plus the loop's own stages. 'none' when it passed."""

Stage = Literal["generate", "repair", "review", "fix", "execute", "evaluate", "diagnose", "finish"]

NOT_THE_MODELS_FAULT: frozenset[str] = frozenset({"emulator_unsupported", "access_denied", "throttling"})
"""Failure classes that say nothing about the script: the loop reports them instead of spending attempts."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Usage(_Frozen):
    """Tokens, cost and time of the model calls of one attempt."""

    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    replies: int = Field(0, description="Model responses received (continuations included).")


class Verdict(_Frozen):
    """Evaluate's judgement of an output: against the contract's schema, then against the canonical answer."""

    passed: bool
    schema_errors: list[str] = Field(default_factory=list, description="Where the output breaks the JSON Schema.")
    differences: list[str] = Field(
        default_factory=list,
        description="Differences from the canonical answer, rendered without the expected values (no leak).",
    )
    difference_count: int = Field(0, description="All differences; `differences` may hold only the first ones.")
    compared: bool = Field(False, description="A canonical answer existed and was compared.")
    summary: str = ""


class FindingRecord(_Frozen):
    """A review finding as the loop keeps it (see cloudinspect.review.types.Finding)."""

    check: str
    rule: str
    severity: str
    message: str
    line: int | None = None
    suggestion: str | None = None
    fixable: bool = False


class Attempt(_Frozen):
    """One attempt: the code a model wrote (after tooling fixes), what the review, the sandbox and evaluate said,
    and what it cost. Immutable; the run's history is the list of these."""

    n: int = Field(ge=1)
    code: str
    diff: str = Field("", description="Unified diff against the previous attempt's code ('' for the first).")
    fixed_by_tooling: list[str] = Field(default_factory=list, description="Changes the review's fixers made.")
    findings: list[FindingRecord] = Field(default_factory=list)
    review_ok: bool = True
    exec_result: dict[str, Any] | None = Field(
        None, description="The sandbox's ExecResult as JSON; None when the attempt stopped before execution."
    )
    verdict: Verdict | None = None
    error_class: AttemptErrorClass = "none"
    error_message: str = Field("", description="One line: what failed (exception and message, first finding...).")
    signature: str = Field("", description="Fingerprint of the failure: equal signatures are the same error.")
    feedback: str = Field("", description="The repair message sent to the model after this attempt ('' if none).")
    usage: Usage = Field(default_factory=Usage)
    generation_warnings: list[str] = Field(default_factory=list)
    duration_ms: float = 0.0
    started_at: datetime
    finished_at: datetime

    @property
    def passed(self) -> bool:
        return self.error_class == "none" and self.verdict is not None and self.verdict.passed


class RepairState(TypedDict, total=False):
    """The graph state. `attempts` only grows (reducer: concatenation); the rest is the attempt in flight."""

    run_id: str
    prompt_id: str
    variables: dict[str, Any]
    attempts: Annotated[list[dict[str, Any]], operator.add]
    # the attempt in flight (reset by generate/repair)
    n: int
    started_at: str
    code: str
    usage: dict[str, Any]
    generation_warnings: list[str]
    generation_error: str | None
    provider_down: bool
    review: dict[str, Any] | None
    fixed_by_tooling: list[str]
    exec_result: dict[str, Any] | None
    verdict: dict[str, Any] | None
    # the run's outcome
    status: RunStatus | None
    reason: str
    strategy: Literal["continue", "fresh"]


class AttemptSummary(_Frozen):
    """One attempt in the final record (`cloudinspect run --json`)."""

    n: int
    error_class: str
    error_message: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    duration_ms: float
    passed: bool

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptSummary:
        return cls(
            n=attempt.n,
            error_class=attempt.error_class,
            error_message=attempt.error_message,
            tokens_in=attempt.usage.tokens_in,
            tokens_out=attempt.usage.tokens_out,
            cost_usd=attempt.usage.cost_usd,
            duration_ms=attempt.duration_ms,
            passed=attempt.passed,
        )


class RunRecord(_Frozen):
    """The final record of a run: `{"run_id", "status", "attempts": [...], "final_code", "output"}` and more."""

    run_id: str
    prompt_id: str
    model_id: str
    target: str
    status: RunStatus
    reason: str = ""
    attempts: list[AttemptSummary] = Field(default_factory=list)
    final_code: str | None = None
    output: Any = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
