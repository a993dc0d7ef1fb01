"""The repair graph's nodes and routers.

Each node reads the state and the runtime context and returns a partial state update; routers return the literal
name of the next node. One attempt is: generate (or repair) -> review -> [fix] -> execute -> evaluate, closed by
`finish` (it passed) or `diagnose` (it failed: record it, decide whether and how to try again).
"""

from __future__ import annotations

import difflib
import time
from datetime import UTC, datetime
from typing import Any, Literal, cast

from langgraph.runtime import Runtime

from cloudinspect.errors import CloudInspectError
from cloudinspect.loop.context import RepairContext
from cloudinspect.loop.evaluate import evaluate_output
from cloudinspect.loop.state import (
    NOT_THE_MODELS_FAULT,
    Attempt,
    AttemptErrorClass,
    FindingRecord,
    RepairState,
    RunStatus,
    Usage,
    Verdict,
)

# Review rules that say the same thing as a sandbox error class: the attempt is classified the same way
# whether the review caught the mistake before execution or the interpreter/botocore after.
_RULE_CLASSES: tuple[tuple[str, AttemptErrorClass], ...] = (
    ("syntax.", "syntax"),
    ("modules.not-found", "import"),
    ("imports.undefined-name", "runtime"),
    ("api.unknown-service", "hallucinated_api"),
    ("api.unknown-operation", "hallucinated_api"),
    ("api.unknown-paginator", "hallucinated_api"),
    ("api.unknown-waiter", "hallucinated_api"),
    ("api.unknown-attribute", "hallucinated_api"),
    ("api.unknown-exception", "hallucinated_api"),
    ("api.unknown-parameter", "parameter_validation"),
    ("api.missing-parameter", "parameter_validation"),
    ("read_only.", "read_only_violation"),
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _attempts(state: RepairState) -> list[Attempt]:
    return [Attempt.model_validate(a) for a in state.get("attempts", [])]


def _review_class(findings: list[FindingRecord]) -> AttemptErrorClass:
    errors = [f for f in findings if f.severity == "error"]
    for finding in errors:
        for prefix, error_class in _RULE_CLASSES:
            if finding.rule.startswith(prefix):
                return error_class
    return "review"


# -- generate / repair -------------------------------------------------------------------------------------------


def _ask(state: RepairState, ctx: RepairContext, stage: Literal["generate", "repair"]) -> dict[str, Any]:
    from cloudinspect.generation import GenerationError, build_messages, generate_code

    attempts = _attempts(state)
    n = len(attempts) + 1
    ctx.emit(n, stage, "asking the model" if stage == "generate" else "asking the model for a corrected script")
    history: list[Any] = []
    if attempts:
        from cloudinspect.loop.conversation import repair_messages

        initial = build_messages(ctx.prompt, ctx.variables, ctx.spec)
        messages = repair_messages(
            initial,
            attempts,
            # llama.cpp serves a window of n_ctx tokens, often smaller than what the model was trained for
            context_tokens=ctx.spec.n_ctx or ctx.spec.context_window,
            reserve_tokens=ctx.spec.parameters.max_tokens or 1024,
            fresh=state.get("strategy") == "fresh",
        )
        history = messages[len(initial) :]
    update: dict[str, Any] = {
        "n": n,
        "started_at": _now(),
        "code": "",
        "usage": Usage().model_dump(),
        "generation_warnings": [],
        "generation_error": None,
        "provider_down": False,
        "review": None,
        "fixed_by_tooling": [],
        "exec_result": None,
        "verdict": None,
    }
    options: dict[str, Any] = {
        "chat_model": ctx.chat_model,
        "history": history,
        "max_continuations": ctx.limits.max_continuations,
    }
    if ctx.retry is not None:
        options["retry"] = ctx.retry
    try:
        artifact = generate_code(ctx.prompt, ctx.variables, ctx.spec, **options)
    except GenerationError as exc:
        # The provider failed (down after the retries, key refused, request rejected): trying again with the same
        # provider cannot help, and the model wrote nothing wrong. The run ends with status `error`.
        update["generation_error"] = str(exc)
        update["provider_down"] = True
        ctx.emit(n, stage, str(exc), error_class="generation")
        return update
    usage = Usage(
        tokens_in=artifact.usage.input_tokens,
        tokens_out=artifact.usage.output_tokens,
        cost_usd=artifact.cost_usd,
        latency_ms=artifact.latency_ms,
        replies=len(artifact.replies),
    )
    update.update(code=artifact.code, usage=usage.model_dump(), generation_warnings=list(artifact.warnings))
    if not artifact.code.strip():
        update["generation_error"] = "the reply holds no Python code" + (
            f" ({artifact.warnings[0]})" if artifact.warnings else ""
        )
    ctx.emit(
        n,
        stage,
        f"{len(artifact.code.splitlines())} lines",
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        cost_usd=usage.cost_usd,
    )
    return update


def generate(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """First attempt: ask the model for the script."""
    return _ask(state, runtime.context, "generate")


def repair(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """Next attempt: the conversation so far plus the last attempt's feedback (or a fresh start)."""
    return _ask(state, runtime.context, "repair")


def after_generation(state: RepairState) -> Literal["review", "diagnose"]:
    return "diagnose" if state.get("generation_error") else "review"


# -- review / fix ------------------------------------------------------------------------------------------------


def _review(code: str) -> dict[str, Any]:
    from cloudinspect.review import review_code

    review = review_code(code)
    keep = FindingRecord.model_fields
    findings = [
        FindingRecord.model_validate({k: v for k, v in f.model_dump(mode="json").items() if k in keep}).model_dump()
        for f in review.findings
    ]
    return {
        "ok": review.ok,
        "findings": findings,
        "fixed_code": review.fixed_code,
        "changes": [c.description for c in review.changes],
    }


def review(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """Static review: syntax, imports, hallucinated API, read-only, Bandit (see cloudinspect.review)."""
    result = _review(state["code"])
    errors = [f for f in result["findings"] if f["severity"] == "error"]
    runtime.context.emit(state["n"], "review", f"{len(errors)} error(s)" if errors else "clean")
    return {"review": result}


def after_review(state: RepairState) -> Literal["fix", "execute", "diagnose"]:
    result = state.get("review") or {}
    fixed = result.get("fixed_code")
    if fixed and fixed != state["code"]:
        return "fix"
    return "execute" if result.get("ok") else "diagnose"


def fix(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """Apply the review's own fixes (formatting, imports), then review the fixed code again."""
    result = state.get("review") or {}
    code = result["fixed_code"]
    again = _review(code)
    runtime.context.emit(state["n"], "fix", "; ".join(result.get("changes", [])) or "fixed by tooling")
    return {"code": code, "review": again, "fixed_by_tooling": list(result.get("changes", []))}


def after_fix(state: RepairState) -> Literal["execute", "diagnose"]:
    return "execute" if (state.get("review") or {}).get("ok") else "diagnose"


# -- execute / evaluate ------------------------------------------------------------------------------------------


def execute(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """Run the script in the sandbox against the run's target."""
    ctx = runtime.context
    ctx.emit(state["n"], "execute", "running in the sandbox")
    result = ctx.run_code(state["code"])
    ctx.emit(
        state["n"],
        "execute",
        f"{result.status} in {result.duration_ms:.0f} ms, {len(result.api_calls)} call(s)",
        error_class=None if result.error_class == "none" else result.error_class,
    )
    return {"exec_result": result.model_dump(mode="json")}


def evaluate(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """Judge the output: contract schema, then the canonical answer (when the target has one)."""
    ctx = runtime.context
    result = state.get("exec_result") or {}
    if result.get("status") != "ok":
        return {"verdict": None}
    verdict = evaluate_output(ctx.prompt, result.get("output_json"), ctx.expected)
    ctx.emit(state["n"], "evaluate", verdict.summary, error_class=None if verdict.passed else _verdict_class(verdict))
    return {"verdict": verdict.model_dump()}


def _verdict_class(verdict: Verdict) -> AttemptErrorClass:
    return "contract" if verdict.schema_errors else "wrong_output"


def after_evaluate(state: RepairState) -> Literal["finish", "diagnose"]:
    verdict = state.get("verdict")
    return "finish" if verdict and verdict.get("passed") else "diagnose"


# -- closing an attempt ------------------------------------------------------------------------------------------


def _classify(state: RepairState) -> tuple[AttemptErrorClass, str, list[FindingRecord], list[str]]:
    """(error class, one-line message, error findings, differences) of the attempt in flight."""
    if state.get("generation_error"):
        return "generation", str(state["generation_error"]), [], []
    result = state.get("review") or {}
    findings = [FindingRecord.model_validate(f) for f in result.get("findings", [])]
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        first = errors[0]
        where = f" (line {first.line})" if first.line else ""
        return _review_class(errors), f"{first.rule}{where}: {first.message}", errors, []
    executed = state.get("exec_result")
    if executed is not None and executed.get("status") != "ok":
        error_class = cast(AttemptErrorClass, executed.get("error_class") or "runtime")
        if error_class == "none":
            error_class = "runtime"
        message = executed.get("error_message") or executed.get("status", "")
        return error_class, str(message), [], []
    verdict = Verdict.model_validate(state["verdict"]) if state.get("verdict") else None
    if verdict is not None and not verdict.passed:
        return _verdict_class(verdict), verdict.summary, [], [*verdict.schema_errors, *verdict.differences]
    return "none", "", [], []


def _close_attempt(state: RepairState, ctx: RepairContext, feedback: bool) -> Attempt:
    from cloudinspect.loop.feedback import failure_feedback, failure_signature

    previous = _attempts(state)
    error_class, message, findings, differences = _classify(state)
    code = state.get("code", "")
    diff = ""
    if previous:
        diff = "".join(
            difflib.unified_diff(
                previous[-1].code.splitlines(keepends=True),
                code.splitlines(keepends=True),
                f"attempt-{previous[-1].n}.py",
                f"attempt-{state['n']}.py",
            )
        )
    started = datetime.fromisoformat(state.get("started_at") or _now())
    finished = datetime.now(UTC)
    review_result = state.get("review") or {}
    attempt = Attempt(
        n=state["n"],
        code=code,
        diff=diff,
        fixed_by_tooling=list(state.get("fixed_by_tooling", [])),
        findings=[FindingRecord.model_validate(f) for f in review_result.get("findings", [])],
        review_ok=bool(review_result.get("ok", False)) if review_result else False,
        exec_result=state.get("exec_result"),
        verdict=Verdict.model_validate(state["verdict"]) if state.get("verdict") else None,
        error_class=error_class,
        error_message=message[:500],
        signature=failure_signature(error_class, message, findings, differences) if error_class != "none" else "",
        usage=Usage.model_validate(state.get("usage") or {}),
        generation_warnings=list(state.get("generation_warnings", [])),
        duration_ms=round((finished - started).total_seconds() * 1000, 1),
        started_at=started,
        finished_at=finished,
    )
    if feedback and error_class != "none":
        attempt = attempt.model_copy(update={"feedback": failure_feedback(attempt, previous=previous)})
    if ctx.store is not None:
        ctx.store.record_attempt(ctx.run_id, attempt)
    return attempt


def finish(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """The attempt passed: record it; the run is over."""
    ctx = runtime.context
    attempt = _close_attempt(state, ctx, feedback=False)
    ctx.emit(attempt.n, "finish", "passed", status="passed")
    return {"attempts": [attempt.model_dump(mode="json")], "status": "passed", "reason": "the output passed"}


def _repeats(attempts: list[Attempt]) -> int:
    """How many attempts at the end of `attempts` failed the same way (1 when the last differs from the one
    before it). Identical code counts as the same failure."""
    last = attempts[-1]
    count = 1
    for earlier in reversed(attempts[:-1]):
        if earlier.signature == last.signature or (earlier.code.strip() and earlier.code == last.code):
            count += 1
        else:
            break
    return count


def _decide(attempts: list[Attempt], state: RepairState, ctx: RepairContext) -> tuple[RunStatus | None, str, str]:
    """(status or None to go on, reason, strategy) after the failed attempt `attempts[-1]`."""
    last = attempts[-1]
    strategy = state.get("strategy", "continue")
    if state.get("provider_down"):
        return "error", f"the model provider failed: {last.error_message}", strategy
    if last.error_class in NOT_THE_MODELS_FAULT:
        if last.error_class == "emulator_unsupported":
            return (
                "unsupported",
                f"the target cannot serve an operation the script needs: {last.error_message}",
                strategy,
            )
        return (
            "error",
            f"{last.error_class.replace('_', ' ')} on the target (not the script's fault): {last.error_message}",
            strategy,
        )
    spent = sum(a.usage.cost_usd for a in attempts)
    limits = ctx.limits
    if limits.max_cost_usd is not None and spent >= limits.max_cost_usd:
        return "budget", f"cost budget spent: ${spent:.4f} of ${limits.max_cost_usd:.4f}", strategy
    elapsed = ctx.elapsed_before_s + (time.monotonic() - ctx.started_monotonic if ctx.started_monotonic else 0.0)
    if elapsed >= limits.run_timeout_s:
        return "budget", f"run time budget spent: {elapsed:.0f} s of {limits.run_timeout_s:.0f} s", strategy
    repeats = _repeats(attempts)
    if repeats >= limits.repeat_limit:
        return "stuck", f"the same failure {repeats} times in a row: {last.error_class}: {last.error_message}", strategy
    if len(attempts) >= limits.max_attempts:
        return "failed", f"no passing script after {len(attempts)} attempt(s); last: {last.error_class}", strategy
    if repeats == limits.repeat_limit - 1:
        return None, "", "fresh"
    return None, "", "continue"


def diagnose(state: RepairState, runtime: Runtime[RepairContext]) -> dict[str, Any]:
    """The attempt failed: record it with its feedback, then stop (budget, stuck, not the model's fault...) or
    send the feedback to the model."""
    ctx = runtime.context
    attempt = _close_attempt(state, ctx, feedback=True)
    attempts = [*_attempts(state), attempt]
    status, reason, strategy = _decide(attempts, state, ctx)
    ctx.emit(attempt.n, "diagnose", attempt.error_message, error_class=attempt.error_class, status=status)
    update: dict[str, Any] = {"attempts": [attempt.model_dump(mode="json")], "strategy": strategy}
    if status is not None:
        update.update(status=status, reason=reason)
    return update


def after_diagnose(state: RepairState) -> Literal["repair", "__end__"]:
    return "__end__" if state.get("status") else "repair"


class LoopError(CloudInspectError):
    """A run cannot start or resume (unknown run, finished run, target unusable)."""
