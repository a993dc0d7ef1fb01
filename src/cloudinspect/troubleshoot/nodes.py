"""The troubleshooting graph's nodes and routers.

    understand -> plan -> inspect -> collect -> diagnose -> (plan again | remediate) -> end

Each node reads the state and the runtime context (`TroubleshootContext`) and returns a partial update. Model
steps go through `cloudinspect.llmjson.ask_json` with a replay key per step (`troubleshoot.understand`,
`troubleshoot.plan`, `troubleshoot.diagnose`) and record a `StepUsage`; an unusable reply is never fatal (a keyword
parse, the retrieval's shortlist, an inconclusive diagnosis stand in, and the step says so), a provider that fails
for good is (`TroubleshootError`, naming the step).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel

from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.llmjson import JsonReply
from cloudinspect.troubleshoot._errors import TroubleshootError
from cloudinspect.troubleshoot._replies import (
    DiagnosisReply,
    PlanItem,
    PlanReply,
    ProblemReply,
    checked_diagnosis,
)
from cloudinspect.troubleshoot.planner import (
    Candidate,
    normalise_service,
    parse_problem,
    services_in,
    shortlist,
    valid_variables,
)
from cloudinspect.troubleshoot.state import TroubleshootContext, TroubleshootState
from cloudinspect.troubleshoot.types import (
    Diagnosis,
    EvidenceBundle,
    InspectionOutcome,
    Plan,
    PlannedInspection,
    ProblemStatement,
    StepUsage,
)

T = TypeVar("T", bound=BaseModel)

UNDERSTAND_KEY = "troubleshoot.understand"
PLAN_KEY = "troubleshoot.plan"
DIAGNOSE_KEY = "troubleshoot.diagnose"
PROMPTGEN_STEP = "troubleshoot.promptgen"


# -- model steps -------------------------------------------------------------------------------------------------


def _messages(ctx: TroubleshootContext, template: str, **values: Any) -> list[BaseMessage]:
    from cloudinspect.generation import render_template

    system = render_template("troubleshoot/system")
    body = render_template(f"troubleshoot/{template}", **values)
    if not ctx.planner_spec.capabilities.chat:  # a base model has no turns: one document
        return [HumanMessage(f"{system}\n{body}")]
    return [SystemMessage(system), HumanMessage(body)]


def _ask(
    ctx: TroubleshootContext, key: str, messages: Sequence[BaseMessage], schema: type[T]
) -> tuple[JsonReply[T], StepUsage]:
    """Ask the planner model for a JSON reply of `schema`; TroubleshootError when the provider fails for good."""
    from cloudinspect.generation import model_label
    from cloudinspect.llmjson import ask_json
    from cloudinspect.models.replay import ReplayExhaustedError
    from cloudinspect.models.resilience import ProviderError
    from cloudinspect.observability import run_config

    label = model_label(ctx.planner_spec)
    config = run_config(key, ["cloudinspect", "troubleshoot"], {"cloudinspect_model_id": label})
    try:
        reply = ask_json(ctx.planner, ctx.planner_spec, messages, schema, key=key, retry=ctx.retry, config=config)
    except (ProviderError, ReplayExhaustedError) as exc:
        raise TroubleshootError(f"step {key}: the planner model failed: {exc}") from exc
    usage = StepUsage(
        step=key,
        model_id=label,
        tokens_in=reply.tokens_in,
        tokens_out=reply.tokens_out,
        cost_usd=round(reply.cost_usd, 6),
        latency_ms=round(reply.latency_ms, 1),
        ok=reply.ok,
        error=reply.error[:500],
    )
    return reply, usage


# -- understand --------------------------------------------------------------------------------------------------


def _statement(text: str, reply: ProblemReply) -> ProblemStatement:
    services = [s for s in (normalise_service(name) for name in reply.services) if s is not None]
    return ProblemStatement(
        text=text,
        summary=reply.summary.strip(),
        symptoms=[s for s in reply.symptoms if s.strip()],
        services=list(dict.fromkeys(services)) or services_in(text),
        resources=[r for r in reply.resources if r.strip()],
        window_hours=reply.window_hours,
        keywords=[k for k in reply.keywords if k.strip()],
    )


def understand(state: TroubleshootState, runtime: Runtime[TroubleshootContext]) -> dict[str, Any]:
    """The user's words as a ProblemStatement (planner model), or a keyword parse when its reply is unusable."""
    ctx = runtime.context
    text = state["problem"].text
    ctx.emit("understanding the problem")
    services = sorted({s for p in ctx.catalog.values() for s in p.services} | set(_known_services()))
    reply, usage = _ask(
        ctx, UNDERSTAND_KEY, _messages(ctx, "understand", problem=text, services=services), ProblemReply
    )
    warnings: list[str] = []
    if reply.value is not None:
        problem = _statement(text, reply.value)
    else:
        problem = parse_problem(text)
        warnings.append(f"{UNDERSTAND_KEY}: the planner's reply was unusable ({reply.error}); used a keyword parse")
        usage = usage.model_copy(update={"error": f"{usage.error}; fell back to a keyword parse of the problem"})
    ctx.emit(
        f"problem: {problem.summary or problem.text} [services: {', '.join(problem.services) or '?'}; "
        f"window {problem.window_hours} h]"
    )
    return {"problem": problem, "round": 0, "steps": [usage], "warnings": warnings}


def _known_services() -> list[str]:
    from cloudinspect.troubleshoot.planner import SERVICE_WORDS

    return sorted(set(SERVICE_WORDS.values()))


# -- plan --------------------------------------------------------------------------------------------------------


def _key(prompt_id: str, variables: dict[str, Any]) -> str:
    return f"{prompt_id} {json.dumps(variables, sort_keys=True, default=str)}"


def _fallback(
    candidates: Sequence[Candidate], done: set[str], limit: int, round_: int, first: int
) -> list[PlannedInspection]:
    chosen = [c for c in candidates if _key(c.prompt.id, c.variables) not in done][:limit]
    return [
        PlannedInspection(
            id=f"i{first + n}",
            prompt_id=c.prompt.id,
            variables=c.variables,
            reason=f"retrieval shortlist (matched: {', '.join(c.matched)})",
            round=round_,
        )
        for n, c in enumerate(chosen)
    ]


def _chosen(
    ctx: TroubleshootContext,
    items: Sequence[PlanItem],
    generated: dict[str, InspectionPrompt],
    done: set[str],
    round_: int,
    first: int,
) -> tuple[list[PlannedInspection], list[str]]:
    """The planner's inspections that can run: known ids, valid variables, not already run, within the limit."""
    planned: list[PlannedInspection] = []
    warnings: list[str] = []
    seen = set(done)
    for item in items:
        prompt_id = item.prompt_id.strip()
        if not ctx.knows(prompt_id, generated):
            warnings.append(f"{PLAN_KEY}: unknown prompt id {prompt_id!r} dropped")
            continue
        prompt = ctx.prompt(prompt_id, generated)
        try:
            values, dropped = valid_variables(prompt, item.variables)
        except ValueError as exc:
            warnings.append(f"{PLAN_KEY}: {prompt_id} dropped: {exc}")
            continue
        warnings.extend(f"{PLAN_KEY}: {w}" for w in dropped)
        key = _key(prompt_id, values)
        if key in seen:
            warnings.append(f"{PLAN_KEY}: {prompt_id} with the same variables already planned or run: dropped")
            continue
        if len(planned) >= ctx.limits.max_inspections:
            warnings.append(f"{PLAN_KEY}: {prompt_id} dropped (at most {ctx.limits.max_inspections} per round)")
            continue
        seen.add(key)
        planned.append(
            PlannedInspection(
                id=f"i{first + len(planned)}",
                prompt_id=prompt_id,
                variables=values,
                reason=item.reason,
                generated=prompt_id in generated,
                round=round_,
            )
        )
    return planned, warnings


def _new_prompt(ctx: TroubleshootContext, question: str) -> tuple[InspectionPrompt | None, StepUsage | None, list[str]]:
    """A prompt the planner model writes for `question` (cloudinspect.catalog.generate), or why there is none."""
    from cloudinspect.catalog.generate import generate_prompts
    from cloudinspect.errors import CloudInspectError
    from cloudinspect.generation import model_label
    from cloudinspect.models.resilience import ProviderError

    ctx.emit(f"writing a new inspection prompt: {question}")
    try:
        result = generate_prompts(
            model=model_label(ctx.planner_spec), problem=question, count=1, catalog=ctx.catalog, chat_model=ctx.planner
        )
    except ProviderError as exc:
        raise TroubleshootError(f"step {PROMPTGEN_STEP}: the planner model failed: {exc}") from exc
    except CloudInspectError as exc:
        return None, None, [f"{PROMPTGEN_STEP}: no new prompt for {question!r}: {exc}"]
    usage = StepUsage(
        step=PROMPTGEN_STEP,
        model_id=result.usage.model_id,
        tokens_in=result.usage.tokens_in,
        tokens_out=result.usage.tokens_out,
        cost_usd=result.usage.cost_usd,
        latency_ms=result.usage.latency_ms,
        ok=bool(result.accepted),
        error=result.error[:500],
    )
    if not result.accepted:
        reasons = "; ".join(r for d in result.rejected for r in d.reasons)[:500] or result.error
        return None, usage, [f"{PROMPTGEN_STEP}: no usable prompt for {question!r}: {reasons}"]
    return result.accepted[0].prompt, usage, []


def _shown(state: TroubleshootState) -> dict[str, str]:
    """What each inspection so far showed (its evidence summary), by inspection id."""
    bundle = state.get("bundle")
    return {item.provenance.inspection_id: item.summary for item in bundle.items} if bundle is not None else {}


def plan(state: TroubleshootState, runtime: Runtime[TroubleshootContext]) -> dict[str, Any]:
    """The round's inspections: the planner model's choice from the retrieval's shortlist (validated), a prompt it
    asks to be written, or the shortlist's best when its reply is unusable."""
    ctx = runtime.context
    problem = state["problem"]
    round_ = state.get("round", 0) + 1
    outcomes = state.get("outcomes", [])
    generated = dict(state.get("generated", {}))
    done = {_key(o.inspection.prompt_id, o.inspection.variables) for o in outcomes}
    first = sum(len(p.inspections) for p in state.get("plans", [])) + 1
    ran = {o.inspection.prompt_id for o in outcomes}
    candidates = shortlist(problem, ctx.catalog, size=ctx.limits.shortlist_size, exclude=ran)
    ctx.emit(f"round {round_}: planning from {len(candidates)} candidate prompt(s)")
    messages = _messages(
        ctx,
        "plan",
        problem=problem,
        candidates=candidates,
        done=outcomes,
        shown=_shown(state),
        diagnosis=state.get("diagnosis"),
        round=round_,
        max_rounds=ctx.limits.max_rounds,
        max_inspections=ctx.limits.max_inspections,
    )
    reply, usage = _ask(ctx, PLAN_KEY, messages, PlanReply)
    steps, warnings = [usage], []
    new: dict[str, InspectionPrompt] = {}
    inspections: list[PlannedInspection] = []
    rationale, fallback = "", False
    if reply.value is None:
        warnings.append(f"{PLAN_KEY}: the planner's reply was unusable ({reply.error}); planned the shortlist")
        fallback = True
    else:
        rationale = reply.value.rationale
        inspections, dropped = _chosen(ctx, reply.value.inspections, generated, done, round_, first)
        warnings += dropped
        question = (reply.value.new_prompt or "").strip()
        if question and len(inspections) < ctx.limits.max_inspections:
            prompt, step, notes = _new_prompt(ctx, question)
            steps += [step] if step is not None else []
            warnings += notes
            if prompt is not None:
                new[prompt.id] = prompt
                values, _ = valid_variables(prompt, {})
                inspections.append(
                    PlannedInspection(
                        id=f"i{first + len(inspections)}",
                        prompt_id=prompt.id,
                        variables=values,
                        reason=question,
                        generated=True,
                        round=round_,
                    )
                )
        asked = bool(reply.value.inspections) or bool(question)
        if not inspections and (round_ == 1 or asked):
            warnings.append(f"{PLAN_KEY}: the planner's reply left nothing to run; planned the shortlist")
            fallback = True
    if fallback:
        inspections = _fallback(candidates, done, ctx.limits.max_inspections, round_, first)
    names = ", ".join(i.prompt_id for i in inspections) or "nothing more to inspect"
    ctx.emit(f"round {round_} plan{' (fallback)' if fallback else ''}: {names}")
    result = Plan(round=round_, inspections=inspections, rationale=rationale, fallback=fallback)
    return {"round": round_, "plans": [result], "generated": new, "steps": steps, "warnings": warnings}


def after_plan(state: TroubleshootState) -> Literal["inspect", "collect", "remediate"]:
    """Inspect what was planned; with nothing new to inspect, conclude (or diagnose what there is)."""
    if state["plans"][-1].inspections:
        return "inspect"
    return "remediate" if "diagnosis" in state else "collect"


# -- inspect, collect --------------------------------------------------------------------------------------------


def inspect(state: TroubleshootState, runtime: Runtime[TroubleshootContext]) -> dict[str, Any]:
    """Run the round's inspections through the repair loop, in parallel (bounded by the context's limits)."""
    from cloudinspect.troubleshoot._inspect import run_inspections

    ctx = runtime.context
    planned = state["plans"][-1].inspections
    generated = state.get("generated", {})
    ctx.emit(f"inspecting: {len(planned)} inspection(s)")
    outcomes = run_inspections(ctx, planned, [ctx.prompt(i.prompt_id, generated) for i in planned])
    return {"outcomes": outcomes}


def _titles(
    ctx: TroubleshootContext, state: TroubleshootState, outcomes: Sequence[InspectionOutcome]
) -> dict[str, str]:
    generated = state.get("generated", {})
    titles: dict[str, str] = {}
    for outcome in outcomes:
        prompt_id = outcome.inspection.prompt_id
        if ctx.knows(prompt_id, generated):
            titles[prompt_id] = ctx.prompt(prompt_id, generated).title
    return titles


def collect(state: TroubleshootState, runtime: Runtime[TroubleshootContext]) -> dict[str, Any]:
    """Every outcome so far as an evidence bundle under the token budget (secrets redacted)."""
    from cloudinspect.troubleshoot.evidence import build_bundle

    ctx = runtime.context
    outcomes = state.get("outcomes", [])
    bundle = build_bundle(
        state["problem"], outcomes, token_budget=ctx.limits.token_budget, titles=_titles(ctx, state, outcomes)
    )
    ctx.emit(
        f"evidence: {len(bundle.items)} item(s), ~{bundle.tokens} of {bundle.token_budget} tokens"
        + (f", {bundle.redactions} secret(s) redacted" if bundle.redactions else "")
    )
    return {"bundle": bundle}


# -- diagnose, remediate -----------------------------------------------------------------------------------------


def _vocabulary_for(ctx: TroubleshootContext, state: TroubleshootState, bundle: EvidenceBundle) -> list[Any]:
    """The labels shown to the model: those of the services in play (the problem's and the inspections'), or
    every label when that leaves too few to choose from."""
    generated = state.get("generated", {})
    services = set(state["problem"].services)
    for item in bundle.items:
        prompt_id = item.provenance.prompt_id
        if ctx.knows(prompt_id, generated):
            services.update(ctx.prompt(prompt_id, generated).services)
    shown = [f for f in ctx.findings.values() if services & set(f.services)]
    return shown if len(shown) >= 5 else list(ctx.findings.values())


def diagnose(state: TroubleshootState, runtime: Runtime[TroubleshootContext]) -> dict[str, Any]:
    """Ranked root-cause hypotheses from the bundle, labels from the vocabulary, citing evidence ids (checked)."""
    from cloudinspect.troubleshoot.evidence import bundle_to_markdown

    ctx = runtime.context
    bundle = state["bundle"]
    round_ = max(state.get("round", 1), 1)
    messages = _messages(
        ctx,
        "diagnose",
        evidence=bundle_to_markdown(bundle),
        findings=_vocabulary_for(ctx, state, bundle),
        round=round_,
        max_rounds=ctx.limits.max_rounds,
    )
    reply, usage = _ask(ctx, DIAGNOSE_KEY, messages, DiagnosisReply)
    if reply.value is not None:
        diagnosis = checked_diagnosis(reply.value, bundle, ctx.findings)
    else:
        diagnosis = Diagnosis(
            summary="The planner model's diagnosis could not be used.",
            warnings=[f"{DIAGNOSE_KEY}: the planner's reply was unusable ({reply.error})"],
        )
    exhausted = round_ >= ctx.limits.max_rounds
    top = diagnosis.hypotheses[0] if diagnosis.hypotheses else None
    verdict = (
        "conclusive" if diagnosis.conclusive else ("inconclusive, rounds exhausted" if exhausted else "inconclusive")
    )
    ctx.emit(
        f"diagnosis ({verdict}): "
        + (f"{top.title} [{', '.join(top.labels) or 'no label'}] {top.confidence:.2f}" if top else "no hypothesis")
    )
    return {"diagnosis": diagnosis, "concluded": diagnosis.conclusive or exhausted, "steps": [usage]}


def after_diagnose(state: TroubleshootState) -> Literal["plan", "remediate"]:
    """Conclude when the diagnosis is conclusive or the rounds are spent; else plan another round."""
    return "remediate" if state.get("concluded") else "plan"


def remediate(state: TroubleshootState, runtime: Runtime[TroubleshootContext]) -> dict[str, Any]:
    """Remediation of the leading hypotheses from the vocabulary (never executed); the run's warnings join the
    diagnosis's."""
    from cloudinspect.troubleshoot._remediate import remediations

    ctx = runtime.context
    diagnosis = state.get("diagnosis") or Diagnosis(summary="No diagnosis.")
    bundle = state["bundle"]
    fixes = remediations(diagnosis, bundle, ctx.findings)
    if fixes:
        ctx.emit(f"remediation: {', '.join(r.title for r in fixes)} (shown, never executed)")
    final = diagnosis.model_copy(
        update={"remediations": fixes, "warnings": [*state.get("warnings", []), *diagnosis.warnings]}
    )
    return {"diagnosis": final}
