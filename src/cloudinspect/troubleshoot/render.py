"""A troubleshooting result as text (for a terminal), Markdown (for a person or an agent) or JSON (for tools).

Text is the short answer: the diagnosis, the remediation and a line per piece of evidence. Markdown and JSON hold
the whole result: the problem as understood, the plans, every inspection, the evidence bundle, the diagnosis, the
remediation and what each model step cost.
"""

from __future__ import annotations

import json
from typing import Literal

from cloudinspect.troubleshoot.types import Diagnosis, Remediation, TroubleshootResult

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[str, ...] = ("text", "markdown", "json")


def render_result(result: TroubleshootResult, fmt: str = "text") -> str:
    """`result` in `fmt` (text, markdown or json)."""
    if fmt == "json":
        return render_json(result)
    if fmt == "markdown":
        return render_markdown(result)
    if fmt == "text":
        return render_text(result)
    from cloudinspect.errors import InputError

    raise InputError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")


def render_json(result: TroubleshootResult) -> str:
    """The whole result as one JSON document."""
    return json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def _hypotheses(diagnosis: Diagnosis, *, markdown: bool) -> list[str]:
    lines: list[str] = []
    for n, h in enumerate(diagnosis.hypotheses, start=1):
        labels = ", ".join(f"`{label}`" if markdown else label for label in h.labels) or "no label"
        cites = ", ".join(h.evidence) or "no evidence cited"
        lines.append(
            f"{n}. {'**' if markdown else ''}{h.title}{'**' if markdown else ''} ({h.confidence:.2f}; {labels})"
        )
        if h.explanation:
            lines.append(f"   {h.explanation}")
        lines.append(f"   evidence: {cites}")
    return lines or ["(no hypothesis)"]


def _remediation(fixes: list[Remediation], *, markdown: bool) -> list[str]:
    lines: list[str] = []
    for fix in fixes:
        lines.append(f"{'### ' if markdown else '- '}{fix.title} ({', '.join(fix.labels)})")
        if fix.commands:
            lines.append("" if markdown else "  commands:")
            if markdown:
                lines += ["```sh", *fix.commands, "```"]
            else:
                lines += [f"    {c}" for c in fix.commands]
        if fix.console_steps:
            lines.append("Console:" if markdown else "  console:")
            lines += [f"{k}. {s}" if markdown else f"    {k}. {s}" for k, s in enumerate(fix.console_steps, 1)]
        if fix.caution:
            lines.append(f"Caution: {fix.caution}" if markdown else f"  caution: {fix.caution}")
        if markdown:
            lines.append("")
    return lines


def render_text(result: TroubleshootResult) -> str:
    """Diagnosis, remediation (never executed) and an evidence summary, for a terminal."""
    d = result.diagnosis
    verdict = "conclusive" if d.conclusive else "not conclusive"
    lines = [
        f"Problem: {result.problem.summary or result.problem.text}",
        f"Diagnosis ({verdict}, {result.rounds} round(s)): {d.summary}",
        *_hypotheses(d, markdown=False),
    ]
    if d.next_steps:
        lines += ["", "Next steps:", *(f"- {s}" for s in d.next_steps)]
    if d.remediations:
        lines += ["", "Remediation (suggested commands: cloudinspect never runs them):"]
        lines += _remediation(d.remediations, markdown=False)
    lines += ["", "Evidence:"]
    for item in result.evidence.items:
        lines.append(f"  {item.id} [{item.provenance.prompt_id}] {item.summary}")
    if result.evidence.dropped:
        lines.append(f"  (left out to fit the budget: {', '.join(result.evidence.dropped)})")
    if d.warnings:
        lines += ["", "Warnings:", *(f"- {w}" for w in d.warnings)]
    lines += [
        "",
        f"{len(result.inspections)} inspection(s), {result.tokens_in + result.tokens_out} tokens, "
        f"${result.cost_usd:.4f}, {result.duration_ms / 1000:.1f} s; model {result.model_id}, "
        f"planner {result.planner_model_id}, target {result.target}",
    ]
    return "\n".join(lines) + "\n"


def render_markdown(result: TroubleshootResult) -> str:
    """The whole result as a Markdown report (the evidence bundle as `bundle_to_markdown` renders it)."""
    from cloudinspect.troubleshoot.evidence import bundle_to_markdown

    p, d = result.problem, result.diagnosis
    lines = [
        "# Troubleshooting report",
        "",
        f"> {p.text}",
        "",
        f"- Summary: {p.summary or '(none)'}",
        f"- Symptoms: {', '.join(p.symptoms) or '(none)'}",
        f"- Services: {', '.join(p.services) or '(none)'}",
        f"- Resources: {', '.join(p.resources) or '(none)'}",
        f"- Window: {p.window_hours} h",
        f"- Target: {result.target}; model {result.model_id}; planner {result.planner_model_id}",
        "",
        f"## Diagnosis ({'conclusive' if d.conclusive else 'not conclusive'}, {result.rounds} round(s))",
        "",
        d.summary or "(no summary)",
        "",
        *_hypotheses(d, markdown=True),
        "",
    ]
    if d.next_steps:
        lines += ["Next steps:", "", *(f"- {s}" for s in d.next_steps), ""]
    if d.remediations:
        lines += ["## Remediation", "", "Suggested only: cloudinspect never runs these.", ""]
        lines += _remediation(d.remediations, markdown=True)
    lines += ["## Plans", ""]
    for plan in result.plans:
        lines.append(
            f"Round {plan.round}{' (fallback: the retrieval shortlist)' if plan.fallback else ''}: {plan.rationale}"
        )
        lines.append("")
        for i in plan.inspections:
            variables = json.dumps(i.variables, sort_keys=True) if i.variables else ""
            lines.append(f"- {i.id} `{i.prompt_id}` {variables} {'(generated) ' if i.generated else ''}— {i.reason}")
        lines.append("")
    lines += [
        "## Inspections",
        "",
        "| id | prompt | status | attempts | tokens | cost $ | seconds | run |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for o in result.inspections:
        lines.append(
            f"| {o.inspection.id} | {o.inspection.prompt_id} | {o.status} | {o.attempts} | "
            f"{o.tokens_in + o.tokens_out} | {o.cost_usd:.4f} | {o.duration_ms / 1000:.1f} | {o.run_id or ''} |"
        )
    lines += ["", bundle_to_markdown(result.evidence).strip(), ""]
    lines += [
        "## Model steps",
        "",
        "| step | model | ok | tokens in | tokens out | cost $ | ms |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for s in result.steps:
        lines.append(
            f"| {s.step} | {s.model_id} | {'yes' if s.ok else 'no'} | {s.tokens_in} | {s.tokens_out} | "
            f"{s.cost_usd:.4f} | {s.latency_ms:.0f} |"
        )
    lines += [
        "",
        f"Totals: {result.tokens_in} tokens in, {result.tokens_out} out, ${result.cost_usd:.4f}, "
        f"{result.duration_ms / 1000:.1f} s.",
    ]
    if d.warnings:
        lines += ["", "## Warnings", "", *(f"- {w}" for w in d.warnings)]
    return "\n".join(lines) + "\n"
