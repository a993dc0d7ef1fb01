"""Realistic attempts and runs for the store's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cloudinspect.loop.state import Attempt, AttemptErrorClass, FindingRecord, Usage, Verdict
from cloudinspect.sandbox.result import ExecResult
from cloudinspect.store import RunInfo

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def make_attempt(
    n: int,
    *,
    passed: bool = False,
    error_class: AttemptErrorClass | None = None,
    tokens: tuple[int, int] = (100, 40),
    cost_usd: float = 0.002,
    code: str | None = None,
) -> Attempt:
    """Attempt n of a run: a failing one (a wrong output) unless `passed`."""
    started = T0 + timedelta(seconds=10 * n)
    result = ExecResult(
        status="ok",
        exit_code=0,
        stdout='{"buckets": ["acme-logs"]}',
        duration_ms=321.5,
        output_json={"buckets": ["acme-logs"]},
        target="emulator:baseline",
    )
    return Attempt(
        n=n,
        code=code if code is not None else f"import boto3\nprint({n})\n",
        diff="" if n == 1 else f"-print({n - 1})\n+print({n})\n",
        fixed_by_tooling=["added paginator"] if n == 2 else [],
        findings=[FindingRecord(check="api", rule="api.unknown-operation", severity="error", message="no such op")]
        if n == 1
        else [],
        exec_result=result.model_dump(mode="json"),
        verdict=Verdict(passed=passed, compared=True, differences=[] if passed else ["buckets: 1 missing"]),
        error_class=error_class if error_class is not None else ("none" if passed else "wrong_output"),
        error_message="" if passed else "buckets: 1 missing",
        signature="" if passed else "wrong_output:buckets",
        usage=Usage(tokens_in=tokens[0], tokens_out=tokens[1], cost_usd=cost_usd, latency_ms=900.0),
        duration_ms=1500.0 + n,
        started_at=started,
        finished_at=started + timedelta(seconds=2),
    )


def make_run(run_id: str = "20260301T120000-abcdef", **fields: Any) -> RunInfo:
    """A fresh repair run of a catalogue prompt against the emulator."""
    values: dict[str, Any] = {
        "run_id": run_id,
        "prompt_id": "s3-public-buckets",
        "model_id": "smollm2-135m",
        "target": "emulator:baseline",
        "variables": {"threshold_percent": 10},
        "options": {"max_attempts": 4, "max_cost_usd": 0.5, "timeouts": {"exec_s": 30}, "sandbox": "process"},
        "created_at": T0,
    }
    values.update(fields)
    return RunInfo(**values)
