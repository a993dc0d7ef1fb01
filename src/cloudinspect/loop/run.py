"""`run_repair_loop`: one prompt, one model, one target, until the script passes or the budget is spent.

The run's parameters go to the results store first; every attempt is written there when it closes (committed:
a kill -9 loses at most the attempt in flight); the graph is checkpointed after every step in a LangGraph SQLite
checkpointer under the run's id, so `resume_repair_loop(run_id)` continues from the last finished step without
repeating finished attempts.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.loop.context import NO_ANSWER, LoopEvent, LoopLimits, RepairContext
from cloudinspect.loop.graph import build_repair_graph
from cloudinspect.loop.nodes import LoopError
from cloudinspect.loop.state import Attempt, AttemptSummary, RepairState, RunRecord
from cloudinspect.models.spec import ModelSpec
from cloudinspect.sandbox.result import ExecResult

CHECKPOINTS_FILE = "checkpoints.sqlite"
MEMORY_CHECKPOINTS = Path(":memory:")
"""`checkpoint_file` of a run that will never be resumed (a benchmark cell is redone as a whole): checkpoints stay
in the run's own in-memory database, and the run writes no checkpoint file."""
_COMPUTE: Any = object()
RECURSION_LIMIT_PER_ATTEMPT = 8
"""Graph steps one attempt can take (repair, review, fix, execute, evaluate, diagnose, and spare)."""


def checkpoints_path() -> Path:
    from cloudinspect.config import get_settings

    return get_settings().state_dir / CHECKPOINTS_FILE


@contextlib.contextmanager
def sqlite_checkpointer(path: Path | None = None) -> Iterator[Any]:
    """A LangGraph SqliteSaver on `path` (default: the state directory's checkpoints.sqlite; MEMORY_CHECKPOINTS: a
    private in-memory database, for runs that are never resumed). WAL with synchronous=NORMAL: a commit survives
    the process being killed (what resume is for) without an fsync per checkpoint; only a power loss can take
    the last ones back."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = path or checkpoints_path()
    if path == MEMORY_CHECKPOINTS:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def canonical_answer(prompt: InspectionPrompt, env: Mapping[str, str], variables: Mapping[str, Any]) -> Any:
    """The reference script's output on the target (the canonical answer), or NO_ANSWER if it cannot run there
    or the prompt has none (a generated prompt not yet saved with one: its output is checked against the contract
    only)."""
    from cloudinspect.catalog.reference import run_reference

    reference = prompt.reference_path
    if reference is None or not reference.is_file():
        return NO_ANSWER
    try:
        run = run_reference(prompt, env, variables)
        return run.output if run.returncode == 0 else NO_ANSWER
    except (ValueError, OSError):
        return NO_ANSWER


@contextlib.contextmanager
def open_target(
    target: str,
    prompt: InspectionPrompt,
    variables: Mapping[str, Any],
    *,
    sandbox: str = "process",
    exec_timeout_s: float = 60.0,
    on_event: Callable[[str], None] | None = None,
    expected: Any = None,
) -> Iterator[tuple[Callable[[str], ExecResult], Any]]:
    """(run_code, canonical answer) for `target`. An `emulator:` target starts one seeded emulator for the whole
    run (scripts cannot change it: only reads reach it); its canonical answer is the reference script's output
    there. An `endpoint:` target is compared with the reference too; an `aws:` account is checked against the
    contract only. `expected`: the canonical answer when the caller knows it already (a benchmark computes it once
    per prompt and scenario); None computes it."""
    expected = _COMPUTE if expected is None else expected
    from cloudinspect.cloud.target import AwsTarget, EmulatorTarget, EndpointTarget, parse_target
    from cloudinspect.sandbox import Limits, execute

    parsed = parse_target(target)
    limits = Limits(timeout_s=exec_timeout_s)
    with contextlib.ExitStack() as stack:
        exec_target: EndpointTarget | AwsTarget
        if isinstance(parsed, EmulatorTarget):
            from cloudinspect.cloud import start_emulator

            if on_event:
                on_event(f"starting the emulator with scenario {parsed.scenario}")
            emulator = stack.enter_context(start_emulator(parsed.scenario))
            exec_target = EndpointTarget(url=emulator.endpoint_url, region=emulator.region)
            if sandbox == "warm":  # the emulator dies with this run: so does its pool (others' are theirs)
                from cloudinspect.sandbox.pool import close_pools

                stack.callback(close_pools, exec_target.url)
            if expected is _COMPUTE:
                expected = canonical_answer(prompt, emulator.env(), variables)
        elif isinstance(parsed, EndpointTarget):
            exec_target = parsed
            if expected is _COMPUTE:
                expected = canonical_answer(prompt, parsed.env(), variables)
        else:
            exec_target, expected = parsed, NO_ANSWER

        def run_code(code: str) -> ExecResult:
            return execute(code, exec_target, variables=variables, limits=limits, sandbox=sandbox)

        yield run_code, expected


def record_of(run_id: str, prompt_id: str, model_id: str, target: str, state: Mapping[str, Any]) -> RunRecord:
    """The final record of a run from its graph state."""
    attempts = [Attempt.model_validate(a) for a in state.get("attempts", [])]
    passed = [a for a in attempts if a.passed]
    final = passed[-1] if passed else (attempts[-1] if attempts else None)
    output = None
    if final is not None and final.exec_result is not None:
        output = final.exec_result.get("output_json")
    return RunRecord(
        run_id=run_id,
        prompt_id=prompt_id,
        model_id=model_id,
        target=target,
        status=state.get("status") or "error",
        reason=state.get("reason", ""),
        attempts=[AttemptSummary.of(a) for a in attempts],
        final_code=final.code if final is not None else None,
        output=output,
        tokens_in=sum(a.usage.tokens_in for a in attempts),
        tokens_out=sum(a.usage.tokens_out for a in attempts),
        cost_usd=round(sum(a.usage.cost_usd for a in attempts), 6),
        duration_ms=round(sum(a.duration_ms for a in attempts), 1),
    )


def _graph_config(run_id: str, attempts: int) -> dict[str, Any]:
    """The graph's run config: its checkpoint thread, a step limit, and tracing (redacted, when switched on)."""
    from cloudinspect.observability import install_tracing, run_config

    install_tracing()  # idempotent; a no-op unless LangSmith's variables switch tracing on
    config = dict(run_config("cloudinspect.repair", ["cloudinspect", "repair"], {"cloudinspect_run_id": run_id}))
    config["configurable"] = {"thread_id": run_id}
    config["recursion_limit"] = RECURSION_LIMIT_PER_ATTEMPT * attempts + 4
    return config


def _execute_graph(
    ctx: RepairContext, initial: RepairState, resume: bool, checkpoint_file: Path | None
) -> dict[str, Any]:
    """Run the graph from `initial`, or on resume from the run's last checkpoint (from `initial` when the run
    died before its first one)."""
    ctx.started_monotonic = time.monotonic()
    with sqlite_checkpointer(checkpoint_file) as saver:
        graph = build_repair_graph(saver)
        config = _graph_config(ctx.run_id, ctx.limits.max_attempts)
        checkpoint = saver.get_tuple({"configurable": {"thread_id": ctx.run_id}}) if resume else None
        state = graph.invoke(None if checkpoint is not None else initial, config, context=ctx, durability="sync")
    return dict(state)


@dataclass
class _Plan:
    """Everything a run needs besides its graph state: what run_repair_loop resolves, or resume reads back."""

    run_id: str
    prompt: InspectionPrompt
    spec: ModelSpec
    llm: BaseChatModel
    variables: dict[str, Any]
    target: str
    limits: LoopLimits
    sandbox: str
    store: Any
    checkpoint_file: Path | None
    on_event: Callable[[LoopEvent], None] | None
    retry: Any
    expected: Any = None


def _chat_model(spec: ModelSpec, chat_model: BaseChatModel | None, retry: Any) -> BaseChatModel:
    """`chat_model`, or the spec's model with its client's timeout and retries governed by the retry policy."""
    from cloudinspect.models import get_model
    from cloudinspect.models.resilience import RetryPolicy, client_overrides

    if chat_model is not None:
        return chat_model
    return get_model(spec, **client_overrides(spec, retry or RetryPolicy()))


def run_repair_loop(
    prompt: str | InspectionPrompt,
    model: str | ModelSpec,
    *,
    variables: Mapping[str, Any] | None = None,
    target: str = "emulator:baseline",
    limits: LoopLimits | None = None,
    sandbox: str = "process",
    store: Any = None,
    checkpoint_file: Path | None = None,
    chat_model: BaseChatModel | None = None,
    on_event: Callable[[LoopEvent], None] | None = None,
    run_id: str | None = None,
    retry: Any = None,
    expected: Any = None,
) -> RunRecord:
    """Generate, review, execute and repair a script for `prompt` with `model` against `target`.

    `store`: a ResultStore (default: the user's results store); `chat_model` replaces the model built from the
    registry (tests: one replay or fake model); `retry`: a RetryPolicy for model calls; `expected`: the canonical
    answer on the target when already known (default: the reference script runs there first). Returns the final
    record; the store holds every attempt."""
    from cloudinspect.catalog import load_catalog
    from cloudinspect.catalog.render import resolve_variables
    from cloudinspect.generation import model_label
    from cloudinspect.models import get_spec
    from cloudinspect.store import ResultStore, RunInfo, new_run_id

    entry = load_catalog()[prompt] if isinstance(prompt, str) else prompt
    spec = get_spec(model) if isinstance(model, str) else model
    values = resolve_variables(entry, variables)
    limits = limits or LoopLimits()
    llm = _chat_model(spec, chat_model, retry)
    with contextlib.ExitStack() as stack:
        if store is None:
            store = stack.enter_context(ResultStore())
        plan = _Plan(
            run_id or new_run_id(),
            entry,
            spec,
            llm,
            values,
            target,
            limits,
            sandbox,
            store,
            checkpoint_file,
            on_event,
            retry,
            expected,
        )
        store.create_run(
            RunInfo(
                run_id=plan.run_id,
                kind="repair",
                prompt_id=entry.id,
                model_id=model_label(spec),
                target=target,
                variables=values,
                options={"limits": limits.model_dump(mode="json"), "sandbox": sandbox},
            )
        )
        return _run(plan, resume=False)


def _run(plan: _Plan, *, resume: bool, elapsed_before_s: float = 0.0) -> RunRecord:
    from cloudinspect.generation import model_label

    def note(text: str) -> None:
        if plan.on_event is not None:
            plan.on_event(LoopEvent(plan.run_id, 0, "setup", text))

    start = time.monotonic()
    state: dict[str, Any]
    try:
        with open_target(
            plan.target,
            plan.prompt,
            plan.variables,
            sandbox=plan.sandbox,
            exec_timeout_s=plan.limits.exec_timeout_s,
            on_event=note,
            expected=plan.expected,
        ) as (run_code, expected):
            ctx = RepairContext(
                run_id=plan.run_id,
                prompt=plan.prompt,
                variables=plan.variables,
                spec=plan.spec,
                chat_model=plan.llm,
                run_code=run_code,
                expected=expected,
                limits=plan.limits,
                store=plan.store,
                on_event=plan.on_event,
                retry=plan.retry,
                elapsed_before_s=elapsed_before_s,
            )
            initial: RepairState = {
                "run_id": plan.run_id,
                "prompt_id": plan.prompt.id,
                "variables": plan.variables,
                "attempts": [],
                "strategy": "continue",
            }
            state = _execute_graph(ctx, initial, resume, plan.checkpoint_file)
    except Exception as exc:
        if isinstance(exc, LoopError):
            raise
        # A failure of the machinery (sandbox, emulator...): the run ends as an error with what is known. An
        # interruption (KeyboardInterrupt, kill) leaves it 'running', to be resumed.
        plan.store.finish_run(
            plan.run_id,
            status="error",
            reason=f"{type(exc).__name__}: {exc}"[:1000],
            final_code=None,
            output=None,
            duration_ms=(time.monotonic() - start) * 1000,
        )
        raise
    record = record_of(plan.run_id, plan.prompt.id, model_label(plan.spec), plan.target, state)
    plan.store.finish_run(
        plan.run_id,
        status=record.status,
        reason=record.reason,
        final_code=record.final_code,
        output=record.output,
        duration_ms=record.duration_ms,
    )
    if plan.on_event is not None:
        plan.on_event(LoopEvent(plan.run_id, len(record.attempts), "done", record.reason, status=record.status))
    return record


def resume_repair_loop(
    run_id: str,
    *,
    store: Any = None,
    checkpoint_file: Path | None = None,
    chat_model: BaseChatModel | None = None,
    on_event: Callable[[LoopEvent], None] | None = None,
    retry: Any = None,
) -> RunRecord:
    """Continue an interrupted run from its last checkpoint, with the parameters it was started with; finished
    attempts are not repeated."""
    from cloudinspect.catalog import load_catalog
    from cloudinspect.models import get_spec
    from cloudinspect.models.replay import ReplayChatModel
    from cloudinspect.store import ResultStore

    with contextlib.ExitStack() as stack:
        if store is None:
            store = stack.enter_context(ResultStore())
        stored = store.get_run(run_id)
        if stored.status != "running":
            raise LoopError(f"run {run_id} already ended with status {stored.status!r}: nothing to resume")
        entry = load_catalog()[stored.prompt_id]
        spec = get_spec(stored.model_id)
        options = dict(stored.options or {})
        llm = _chat_model(spec, chat_model, retry)
        if isinstance(llm, ReplayChatModel):  # a recorded conversation continues where the run stood
            llm.advance(entry.id, sum(a.usage.replies for a in stored.attempts))
        plan = _Plan(
            run_id,
            entry,
            spec,
            llm,
            dict(stored.variables),
            stored.target,
            LoopLimits.model_validate(options.get("limits", {})),
            str(options.get("sandbox", "process")),
            store,
            checkpoint_file,
            on_event,
            retry,
        )
        return _run(plan, resume=True, elapsed_before_s=sum(a.duration_ms for a in stored.attempts) / 1000)


def record_json(record: RunRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2)
