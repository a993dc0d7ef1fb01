"""The benchmark's data: its configuration, its cells (model x task x repeat), each cell's graded result, and the
summary that reports read.

A *task* is one catalogue prompt over the selected scenarios. A *cell* is one model's attempt at one task, once
(repeat index r): the repair loop runs against the first scenario (the model sees its feedback there); its final
script is then graded on every selected scenario against the canonical script's output on that scenario. The
task is solved only if the script passes on all of them, so an answer hard-coded from one account fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BENCH_SCHEMA_VERSION = 1

CellStatus = Literal["solved", "failed", "stuck", "unsupported", "budget", "error"]
"""`solved`: passed on every scenario; otherwise the repair loop's status, or `failed` when the loop passed on the
first scenario but the script failed on another."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BenchConfig(_Frozen):
    """What a benchmark runs: stored in the benchmark directory so that re-running resumes the same matrix."""

    models: list[str] = Field(min_length=1, description="Registry ids or replay:PATH.")
    prompts: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Selectors: an id glob ('lambda-*'), 'service:ec2', 'tag:pagination', 'category:security'. "
        "A prompt is selected when any selector matches.",
    )
    scenarios: list[str] = Field(default_factory=lambda: ["baseline", "startup"], min_length=1)
    repeat: int = Field(1, ge=1, le=100)
    max_attempts: int = Field(3, ge=1, le=50)
    max_cost_usd: float | None = Field(None, ge=0, description="Per cell.")
    concurrency: int = Field(2, ge=1, le=64)
    executor: Literal["local", "ray"] = "local"
    sandbox: str = "warm"
    exec_timeout_s: float = Field(60.0, gt=0)
    max_continuations: int = Field(2, ge=0)
    cache: bool = Field(True, description="Reuse model responses for identical requests (model, parameters, messages).")


class Task(_Frozen):
    """A catalogue prompt over the benchmark's scenarios."""

    prompt_id: str
    service: str = Field(description="The prompt's first service (for per-service metrics).")
    category: str
    scenarios: list[str]


class Cell(_Frozen):
    """One unit of work: `model_id` on `prompt_id`, repeat number `repeat` (0-based)."""

    model_id: str
    prompt_id: str
    repeat: int = Field(0, ge=0)

    @property
    def key(self) -> str:
        return f"{self.model_id}|{self.prompt_id}|{self.repeat}"


class ScenarioGrade(_Frozen):
    """The final script on one scenario, against the canonical output there."""

    scenario: str
    passed: bool
    error_class: str = Field("none", description="As the repair loop's attempt classes ('wrong_output'...).")
    detail: str = ""
    duration_ms: float = 0.0


class CellResult(_Frozen):
    """A finished cell: written once, atomically; re-running the benchmark skips it."""

    cell: Cell
    status: CellStatus
    solved: bool
    run_id: str | None = Field(None, description="The repair run in the benchmark's store (its attempts).")
    attempts: int = Field(0, ge=0)
    passed_at: int | None = Field(None, description="Attempt whose script was solved on every scenario.")
    attempt_error_classes: list[str] = Field(default_factory=list, description="One per attempt, 'none' if passed.")
    failure_class: str = Field("none", description="What stopped it: the last attempt's class, or a held-out grade's.")
    grades: list[ScenarioGrade] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    attempt_latencies_ms: list[float] = Field(default_factory=list, description="Model latency of each attempt.")
    api_calls: int = Field(0, description="AWS calls in the scripts, as the review found them (all attempts).")
    hallucinated_calls: int = Field(0, description="Of those, calls the botocore check flagged as non-existent.")
    read_only_violations: int = Field(0, description="Mutating calls attempted (review findings or blocked calls).")
    bandit_high: int = Field(0, description="Bandit findings of high severity (all attempts).")
    reason: str = ""
    started_at: datetime
    finished_at: datetime


class ModelSummary(BaseModel):
    """Metrics of one model over the benchmark (see cloudinspect.bench.metrics for definitions)."""

    model_config = ConfigDict(extra="allow")

    tasks: int
    cells: int
    solved: int
    pass_rate: float
    pass_rate_ci95: tuple[float, float]
    first_try_pass_rate: float
    pass_at_attempt: list[float]
    pass_at_k: dict[str, float] = Field(default_factory=dict)
    mean_attempts_to_pass: float | None
    failure_classes: dict[str, int]
    hallucinated_api_rate: float
    read_only_violations: int
    bandit_high: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    usd_per_solved: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    task_latency_p50_ms: float | None
    task_latency_p95_ms: float | None
    by_service: dict[str, dict[str, Any]] = Field(default_factory=dict)
    by_category: dict[str, dict[str, Any]] = Field(default_factory=dict)


class BenchSummary(BaseModel):
    """`DIR/summary.json`."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = BENCH_SCHEMA_VERSION
    config: BenchConfig
    tasks: list[Task]
    models: dict[str, ModelSummary]
    generated_at: datetime
    complete: bool = Field(description="Every cell of the matrix has a result.")
