"""What the store takes and gives back: a run's parameters and outcome (`RunInfo`), and the run with its attempts."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect import __version__
from cloudinspect.loop.state import Attempt, RunStatus

RunState = RunStatus | Literal["running"]
"""A stored run's status: 'running' until `finish_run` gives it its `RunStatus`."""


def utc_now() -> datetime:
    """The current time, in UTC, the only time zone the store writes."""
    return datetime.now(UTC)


class _RunIds:
    """Run ids: the UTC second, then a 32-bit number that starts at random in each second and counts up.

    Counting up makes ids unique and sorted within a process however many runs start in a second (a benchmark with
    a fast model starts hundreds; random suffixes alone would collide, by the birthday paradox); the random start
    keeps two processes apart. A forked child starts afresh, so that it does not repeat its parent's sequence.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()  # anew: in a forked child, the parent's lock may have been held by a thread
        self._second = ""
        self._next = 0

    def new(self) -> str:
        second = f"{utc_now():%Y%m%dT%H%M%S}"
        with self._lock:
            if second != self._second:
                # below 2**31, so that counting up cannot overflow eight hex digits
                self._second, self._next = second, secrets.randbelow(2**31)
            suffix = self._next
            self._next += 1
        return f"{second}-{suffix:08x}"


_run_ids = _RunIds()


def new_run_id() -> str:
    """A fresh run id, `20260131T235959-1a2b3c4d`: sortable by creation time and unique."""
    return _run_ids.new()


class RunInfo(BaseModel):
    """A run's parameters (what was asked, of which model, against which target, with which limits) and its status
    and running totals. The totals are the sums over the run's recorded attempts; the store keeps them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str = Field(default_factory=new_run_id, min_length=1)
    kind: str = Field("repair", description="What produced the run: 'repair' (the repair loop); benchmarks add more.")
    prompt_id: str
    model_id: str
    target: str = Field(description="Where the scripts ran, as `parse_target` reads it ('emulator:baseline').")
    variables: dict[str, Any] = Field(default_factory=dict, description="The prompt's variables, resolved.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The run's limits and choices (max_attempts, max_cost_usd, timeouts, sandbox...), as JSON.",
    )
    status: RunState = "running"
    reason: str = Field("", description="Why the run ended as it did ('' while running).")
    final_code: str | None = None
    output: Any = Field(None, description="The final script's JSON output.")
    attempt_count: int = Field(0, ge=0)
    tokens_in: int = Field(0, ge=0)
    tokens_out: int = Field(0, ge=0)
    cost_usd: float = Field(0.0, ge=0)
    duration_ms: float | None = Field(None, description="Wall-clock time of the whole run; None while running.")
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime | None = Field(None, description="Set by the store on every write.")
    finished_at: datetime | None = None
    cloudinspect_version: str = __version__


class StoredRun(RunInfo):
    """A run as stored, with its attempts in order."""

    attempts: list[Attempt] = Field(default_factory=list)
