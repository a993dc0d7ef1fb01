"""One planned inspection through the repair loop, as an `InspectionOutcome`.

The script is judged against the prompt's output contract only (`expected=NO_ANSWER`): a troubleshooter on a real
account has no canonical answer, so it does not use one on the emulator either, and what it reports is what the
account shows. A failure of the machinery (sandbox, endpoint) ends that inspection as `error` evidence; the run
goes on with the others. Outputs and error messages are redacted as the evidence is (environment variable values,
secret-shaped strings, values of secret-named keys): the result is handed to other agents whole.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.loop.context import LoopEvent
from cloudinspect.loop.state import Attempt, RunRecord
from cloudinspect.troubleshoot.state import TroubleshootContext
from cloudinspect.troubleshoot.types import InspectionOutcome, PlannedInspection


def api_calls_of(code: str | None, attempt: Attempt | None) -> list[str]:
    """'service:Operation' the script called: what the sandbox recorded when it ran, else what the review's
    botocore analysis finds in the code."""
    recorded = (attempt.exec_result or {}).get("api_calls") if attempt is not None else None
    if recorded:
        return list(dict.fromkeys(f"{c['service']}:{c['operation']}" for c in recorded))
    if not code or not code.strip():
        return []
    from cloudinspect.review import review_code
    from cloudinspect.review.types import ReviewOptions

    review = review_code(code, ReviewOptions(fix=False, checks=["api"]))
    return list(dict.fromkeys(f"{call.service}:{call.operation}" for call in review.api_calls))


def _final_attempt(record: RunRecord, attempts: Sequence[Attempt]) -> Attempt | None:
    chosen = [a for a in attempts if a.code == record.final_code]
    return chosen[-1] if chosen else None


def _progress(ctx: TroubleshootContext, planned: PlannedInspection) -> Any:
    def note(event: LoopEvent) -> None:
        if event.error_class and event.error_class != "none":
            ctx.emit(f"  {planned.id} {planned.prompt_id}: attempt {event.n} {event.stage}: {event.error_class}")

    return note


def run_inspection(ctx: TroubleshootContext, planned: PlannedInspection, prompt: InspectionPrompt) -> InspectionOutcome:
    """Generate, review, run and repair the script of one inspection on the run's target."""
    from cloudinspect.generation import model_label
    from cloudinspect.loop import LoopLimits, run_repair_loop
    from cloudinspect.loop.context import NO_ANSWER
    from cloudinspect.redact import redact_text
    from cloudinspect.troubleshoot._evidence_redact import redact_output

    clock = time.monotonic()
    model_id = model_label(ctx.spec)
    try:
        record = run_repair_loop(
            prompt,
            ctx.spec,
            variables=planned.variables,
            target=ctx.exec_target,
            limits=LoopLimits(max_attempts=ctx.limits.max_attempts),
            sandbox=ctx.limits.sandbox,
            store=ctx.store,
            chat_model=ctx.chat_model,
            on_event=_progress(ctx, planned),
            retry=ctx.retry,
            expected=NO_ANSWER,
        )
    except Exception as exc:  # the machinery failed, not the model: this inspection is an error, the run goes on
        error = redact_text(f"{type(exc).__name__}: {exc}")[:1000]
        ctx.emit(f"{planned.id} {planned.prompt_id}: error: {error[:200]}")
        return InspectionOutcome(
            inspection=planned,
            status="error",
            model_id=model_id,
            error=error,
            target=ctx.target,
            duration_ms=round((time.monotonic() - clock) * 1000, 1),
            finished_at=datetime.now(UTC),
        )
    attempts = ctx.store.attempts(record.run_id)
    passed = record.status == "passed"
    error = record.reason
    if not passed and attempts and attempts[-1].error_message and attempts[-1].error_message not in error:
        error = f"{error}: {attempts[-1].error_message}"
    code = record.final_code or ""
    ctx.emit(f"{planned.id} {planned.prompt_id}: {record.status} after {len(record.attempts)} attempt(s)")
    return InspectionOutcome(
        inspection=planned,
        status=record.status,
        run_id=record.run_id,
        model_id=model_id,
        output=redact_output(record.output)[0] if passed else None,
        error="" if passed else redact_text(error)[:1000],
        code_sha256=hashlib.sha256(code.encode()).hexdigest() if code else "",
        api_calls=api_calls_of(code, _final_attempt(record, attempts)),
        target=ctx.target,
        attempts=len(record.attempts),
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        cost_usd=record.cost_usd,
        duration_ms=round((time.monotonic() - clock) * 1000, 1),
        finished_at=datetime.now(UTC),
    )


def run_inspections(
    ctx: TroubleshootContext, planned: Sequence[PlannedInspection], prompts: Sequence[InspectionPrompt]
) -> list[InspectionOutcome]:
    """Every planned inspection, at most `ctx.limits.concurrency` at once (one at a time for an in-process
    llama.cpp model: one model object on the CPU, not safe to share between threads); outcomes in plan order."""
    from cloudinspect.models.spec import Provider

    if not planned:
        return []
    limit = 1 if ctx.spec.provider is Provider.llamacpp else ctx.limits.concurrency
    workers = min(limit, len(planned))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="troubleshoot-inspect") as pool:
        return list(pool.map(lambda pair: run_inspection(ctx, *pair), zip(planned, prompts, strict=True)))
