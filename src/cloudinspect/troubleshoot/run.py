"""`troubleshoot`: from a user's problem in words to a cited diagnosis and remediation, on one target.

    result = troubleshoot("our order processor Lambda keeps timing out", model="gpt-6-luna",
                          target="emulator:fault-lambda-timeout")
    print(result.diagnosis.hypotheses[0].labels)

An `emulator:NAME` target starts one seeded emulator for the whole run (every inspection's script runs against
its endpoint, read-only) and stops it at the end; `endpoint:URL` and `aws:PROFILE` targets are used as they are.
Every inspection is a repair run in the results store; the troubleshooting result itself is returned (render it
with `cloudinspect.troubleshoot.render`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel

from cloudinspect.models.spec import ModelSpec
from cloudinspect.troubleshoot.state import TroubleshootContext, TroubleshootLimits, TroubleshootState
from cloudinspect.troubleshoot.types import (
    Diagnosis,
    EvidenceBundle,
    ProblemStatement,
    TroubleshootResult,
)

RECURSION_PER_ROUND = 4
"""Graph steps of one round (plan, inspect, collect, diagnose)."""


@contextlib.contextmanager
def execution_target(target: str, sandbox: str, on_event: Callable[[str], None] | None) -> Iterator[str]:
    """Where the inspections' scripts run: for `emulator:NAME` the endpoint of one emulator started for the run
    (stopped, with its warm sandbox pool, on exit); any other target as it is (validated)."""
    from cloudinspect.cloud.target import EmulatorTarget, parse_target

    parsed = parse_target(target)
    if not isinstance(parsed, EmulatorTarget):
        yield target
        return
    from cloudinspect.cloud import start_emulator
    from cloudinspect.sandbox.pool import close_pools

    if on_event is not None:
        on_event(f"starting the emulator with scenario {parsed.scenario}")
    with contextlib.ExitStack() as stack:
        emulator = stack.enter_context(start_emulator(parsed.scenario))
        if sandbox == "warm":  # the emulator dies with this run: so does its pool
            stack.callback(close_pools, emulator.endpoint_url)
        yield f"endpoint:{emulator.endpoint_url}"


def _model(model: str | ModelSpec, chat_model: BaseChatModel | None, retry: Any) -> tuple[ModelSpec, BaseChatModel]:
    from cloudinspect.models import RetryPolicy, client_overrides, get_model, get_spec

    spec = get_spec(model) if isinstance(model, str) else model
    if chat_model is not None:
        return spec, chat_model
    return spec, get_model(spec, **client_overrides(spec, retry or RetryPolicy()))


def troubleshoot(
    problem: str,
    *,
    model: str | ModelSpec,
    planner_model: str | ModelSpec | None = None,
    target: str = "emulator:baseline",
    max_rounds: int = 2,
    max_inspections: int = 6,
    concurrency: int = 3,
    token_budget: int = 6000,
    sandbox: str = "warm",
    max_attempts: int = 3,
    store: Any = None,
    on_event: Callable[[str], None] | None = None,
    chat_model: BaseChatModel | None = None,
    planner_chat_model: BaseChatModel | None = None,
    retry: Any = None,
) -> TroubleshootResult:
    """Troubleshoot `problem` (the user's words) on `target`: understand it, plan inspections from the catalogue,
    run them with `model` writing the scripts (repair loop, contract-checked), collect the evidence under
    `token_budget`, diagnose with `planner_model` (default: `model`), plan again while inconclusive (at most
    `max_rounds` rounds of at most `max_inspections` inspections), and suggest remediation (never executed).

    `store`: a ResultStore for the inspections' repair runs (default: the user's); `chat_model` /
    `planner_chat_model` replace the models built from the registry (tests: replay models); `on_event` gets one
    line per step. Raises InputError for a bad target, model or limit, TroubleshootError when the planner model's
    provider fails for good; an unusable planner reply is not an error (see the result's warnings)."""
    from cloudinspect.catalog import load_catalog
    from cloudinspect.cloud.target import parse_target
    from cloudinspect.errors import InputError
    from cloudinspect.generation import model_label
    from cloudinspect.observability import install_tracing, run_config
    from cloudinspect.store import ResultStore
    from cloudinspect.troubleshoot.findings import load_findings
    from cloudinspect.troubleshoot.graph import build_troubleshoot_graph

    if not problem.strip():
        raise InputError("the problem is empty: describe what is wrong")
    parse_target(target)  # a bad target is refused before anything starts
    try:
        limits = TroubleshootLimits(
            max_rounds=max_rounds,
            max_inspections=max_inspections,
            concurrency=concurrency,
            token_budget=token_budget,
            max_attempts=max_attempts,
            sandbox=sandbox,
        )
    except ValueError as exc:
        raise InputError(f"invalid troubleshooting limits: {exc}") from exc
    spec, llm = _model(model, chat_model, retry)
    if planner_model is None and planner_chat_model is None:
        planner_spec, planner = spec, llm
    else:
        planner_spec, planner = _model(planner_model or spec, planner_chat_model, retry)
    started, clock = datetime.now(UTC), time.monotonic()
    with contextlib.ExitStack() as stack:
        if store is None:
            store = stack.enter_context(ResultStore())
        exec_target = stack.enter_context(execution_target(target, sandbox, on_event))
        ctx = TroubleshootContext(
            spec=spec,
            chat_model=llm,
            planner_spec=planner_spec,
            planner=planner,
            catalog=load_catalog(),
            findings=load_findings(),
            target=target,
            exec_target=exec_target,
            limits=limits,
            store=store,
            on_event=on_event,
            retry=retry,
        )
        install_tracing()  # idempotent; a no-op unless LangSmith's variables switch tracing on
        config = dict(run_config("cloudinspect.troubleshoot", ["cloudinspect", "troubleshoot"]))
        config["recursion_limit"] = RECURSION_PER_ROUND * max_rounds + 6
        initial: TroubleshootState = {"problem": ProblemStatement(text=problem.strip())}
        state = build_troubleshoot_graph().invoke(initial, config, context=ctx)
    return _result(state, model_label(spec), model_label(planner_spec), target, started, clock, limits)


def _result(
    state: dict[str, Any],
    model_id: str,
    planner_model_id: str,
    target: str,
    started: datetime,
    clock: float,
    limits: TroubleshootLimits,
) -> TroubleshootResult:
    """The run's result from the graph's final state, with the totals of every model step and inspection."""
    problem: ProblemStatement = state["problem"]
    outcomes = state.get("outcomes", [])
    steps = state.get("steps", [])
    bundle = state.get("bundle") or EvidenceBundle(problem=problem, token_budget=limits.token_budget)
    diagnosis = state.get("diagnosis") or Diagnosis(summary="No diagnosis.")
    return TroubleshootResult(
        problem=problem,
        plans=state.get("plans", []),
        inspections=outcomes,
        evidence=bundle,
        diagnosis=diagnosis,
        steps=steps,
        model_id=model_id,
        planner_model_id=planner_model_id,
        target=target,
        rounds=max(state.get("round", 1), 1),
        tokens_in=sum(s.tokens_in for s in steps) + sum(o.tokens_in for o in outcomes),
        tokens_out=sum(s.tokens_out for s in steps) + sum(o.tokens_out for o in outcomes),
        cost_usd=round(sum(s.cost_usd for s in steps) + sum(o.cost_usd for o in outcomes), 6),
        duration_ms=round((time.monotonic() - clock) * 1000, 1),
        started_at=started,
        finished_at=datetime.now(UTC),
    )
