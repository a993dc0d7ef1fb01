"""The troubleshooting benchmark's reports: `report.html` (self-contained: inline CSS and SVG, no URL) and
`report.md`, from its summary, its cells and each cell's troubleshooting result.

Both show the leaderboard (root cause rate, evidence cited, score, cost, time), the fault scenario x model grid, and
per cell the plan, the evidence bundle's summary and the diagnosis (hypotheses with labels and citations). The
figures are formatted once here (views); the HTML template (`templates/report/troubleshoot.html.jinja2`, with
autoescaping: model output is untrusted text) and the Markdown renderer only lay them out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal

import jinja2

from cloudinspect.bench._tsuite_types import TroubleshootCellResult, TroubleshootSummary
from cloudinspect.bench.metrics import MISSING, SUMMARY_FILE
from cloudinspect.errors import InputError
from cloudinspect.report import charts
from cloudinspect.report.markdown import _table
from cloudinspect.report.views import MESSAGE_LIMIT, cap, millis, percent, usd
from cloudinspect.troubleshoot.types import TroubleshootResult

TROUBLESHOOT_REPORT_FILES = ("report.html", "report.md")
FACT_LIMIT = 8
"""Facts shown per evidence item (the bundle may hold more)."""

Suite = Literal["code", "troubleshoot"]


# -- views -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaderRow:
    """One model's headline figures, formatted."""

    model: str
    colour: str
    found: str
    root_cause_rate: str
    ci: str
    evidence_cited: str
    mean_score: str
    cost: str
    usd_per_found: str
    duration: str
    fallback_plans: int
    errors: int


@dataclass(frozen=True)
class GridCell:
    """One model on one fault scenario: its outcome over the repeats."""

    css: str
    text: str
    title: str


@dataclass(frozen=True)
class GridRow:
    scenario: str
    fault: str
    expected: list[str]
    cells: list[GridCell]


@dataclass(frozen=True)
class HypothesisView:
    title: str
    labels: list[str]
    confidence: str
    explanation: str
    evidence: list[str]


@dataclass(frozen=True)
class PlanView:
    round: int
    fallback: bool
    rationale: str
    inspections: list[str]


@dataclass(frozen=True)
class EvidenceView:
    id: str
    kind: str
    title: str
    summary: str
    facts: list[str]
    more_facts: int
    tokens: int
    reduced: bool
    prompt_id: str


@dataclass(frozen=True)
class CellDetail:
    """One cell as the report shows it: everything capped, nothing trusted (the template escapes it all)."""

    scenario: str
    model: str
    colour: str
    repeat: int
    status: str
    score: str
    expected: list[str]
    matched: list[str]
    missing: list[str]
    unknown_citations: list[str]
    figures: str
    reason: str
    understood: str
    plans: list[PlanView] = field(default_factory=list)
    inspections: list[str] = field(default_factory=list)
    evidence: list[EvidenceView] = field(default_factory=list)
    evidence_note: str = ""
    diagnosis: str = ""
    conclusive: bool = False
    hypotheses: list[HypothesisView] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    remediations: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """An HTML id: the model id's slashes, colons and braces become dashes."""
        return "cell-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.scenario}-{self.model}-{self.repeat}")


def _models(summary: TroubleshootSummary, results: Sequence[TroubleshootCellResult]) -> list[str]:
    order = list(summary.config.models)
    for model in [*summary.models, *(r.cell.model_id for r in results)]:
        if model not in order:
            order.append(model)
    return order


def leaderboard(summary: TroubleshootSummary, colours: Mapping[str, str]) -> list[LeaderRow]:
    """Models by root cause rate (highest first), then mean score, then cost (cheapest first)."""
    ranked = sorted(
        summary.models.items(), key=lambda item: (-item[1].root_cause_rate, -item[1].mean_score, item[1].cost_usd)
    )
    rows = []
    for model, s in ranked:
        low, high = s.root_cause_rate_ci95
        rows.append(
            LeaderRow(
                model=model,
                colour=colours.get(model, "#777"),
                found=f"{s.root_cause_found}/{s.cells_expected}",
                root_cause_rate=percent(s.root_cause_rate),
                ci=f"{percent(low)}–{percent(high)}",
                evidence_cited=percent(s.evidence_cited_rate),
                mean_score=f"{s.mean_score:.2f}",
                cost=usd(s.cost_usd),
                usd_per_found=usd(s.usd_per_found),
                duration=f"{millis(s.duration_p50_ms)} / {millis(s.duration_p95_ms)}",
                fallback_plans=s.fallback_plans,
                errors=s.errors,
            )
        )
    return rows


def grid(summary: TroubleshootSummary, models: Sequence[str]) -> list[GridRow]:
    """Per fault scenario, each model's outcome: found k of n repeats and the mean score."""
    rows = []
    for fault in summary.faults:
        cells = []
        for model in models:
            m = summary.models.get(model)
            figures = m.by_fault.get(fault.scenario) if m is not None else None
            if figures is None or figures.cells == 0:
                cells.append(GridCell(MISSING, "–", f"{model}: no result yet"))
                continue
            if figures.root_cause_found == figures.cells_expected:
                css = "found"
            elif figures.statuses.get("error", 0) == figures.cells:
                css = "error"
            else:
                css = "not_found"
            statuses = ", ".join(f"{k} {v}" for k, v in figures.statuses.items())
            cells.append(
                GridCell(
                    css,
                    f"{figures.root_cause_found}/{figures.cells_expected} · {figures.mean_score:.2f}",
                    f"{model} on {fault.scenario}: {statuses}; evidence cited {percent(figures.evidence_cited_rate)}",
                )
            )
        rows.append(GridRow(fault.scenario, fault.fault, list(fault.expected_findings), cells))
    return rows


def _capped(text: str) -> str:
    return cap(text, MESSAGE_LIMIT).text


def cell_detail(result: TroubleshootCellResult, detail: TroubleshootResult | None, colour: str) -> CellDetail:
    """A cell with its plan, evidence and diagnosis (when its troubleshooting result is known)."""
    scoring = result.scoring
    view = CellDetail(
        scenario=result.cell.scenario,
        model=result.cell.model_id,
        colour=colour,
        repeat=result.cell.repeat,
        status=result.status,
        score=f"{result.score:.2f}",
        expected=list(scoring.expected) if scoring else [],
        matched=list(scoring.matched) if scoring else [],
        missing=list(scoring.missing) if scoring else [],
        unknown_citations=list(scoring.unknown_citations) if scoring else [],
        figures=(
            f"{result.inspections_passed}/{result.inspections} inspection(s) passed, {result.rounds} round(s), "
            f"{result.fallback_plans} fallback plan(s), {result.tokens_in:,} in / {result.tokens_out:,} out tokens, "
            f"{usd(result.cost_usd)}, {millis(result.duration_ms)}"
        ),
        reason=_capped(result.reason),
        understood="",
    )
    if detail is None:
        return view
    problem = detail.problem
    understood = problem.summary or problem.text
    if problem.services:
        understood += f" [services: {', '.join(problem.services)}; window {problem.window_hours} h]"
    bundle = detail.evidence
    note = f"{len(bundle.items)} item(s), ~{bundle.tokens:,} of {bundle.token_budget:,} tokens"
    if bundle.redactions:
        note += f", {bundle.redactions} secret(s) redacted"
    if bundle.dropped:
        note += f", left out to fit: {', '.join(bundle.dropped)}"
    diagnosis = detail.diagnosis
    return replace(
        view,
        understood=_capped(understood),
        plans=[
            PlanView(
                round=plan.round,
                fallback=plan.fallback,
                rationale=_capped(plan.rationale),
                inspections=[
                    f"{i.id} {i.prompt_id}{' (generated)' if i.generated else ''}"
                    + (f": {_capped(i.reason)}" if i.reason else "")
                    for i in plan.inspections
                ],
            )
            for plan in detail.plans
        ],
        inspections=[
            f"{o.inspection.id} {o.inspection.prompt_id}: {o.status} after {o.attempts} attempt(s)"
            + (f" ({_capped(o.error)})" if o.error else "")
            for o in detail.inspections
        ],
        evidence=[
            EvidenceView(
                id=item.id,
                kind=item.kind,
                title=_capped(item.title),
                summary=_capped(item.summary),
                facts=[_capped(fact) for fact in item.facts[:FACT_LIMIT]],
                more_facts=max(0, len(item.facts) - FACT_LIMIT),
                tokens=item.tokens,
                reduced=item.reduced,
                prompt_id=item.provenance.prompt_id,
            )
            for item in bundle.items
        ],
        evidence_note=note,
        diagnosis=_capped(diagnosis.summary),
        conclusive=diagnosis.conclusive,
        hypotheses=[
            HypothesisView(
                title=_capped(h.title),
                labels=list(h.labels),
                confidence=f"{h.confidence:.2f}",
                explanation=_capped(h.explanation),
                evidence=list(h.evidence),
            )
            for h in diagnosis.hypotheses
        ],
        warnings=[_capped(w) for w in diagnosis.warnings],
        remediations=[f"{_capped(r.title)} ({', '.join(r.labels)})" for r in diagnosis.remediations],
    )


def cell_details(
    summary: TroubleshootSummary,
    results: Sequence[TroubleshootCellResult],
    details: Mapping[str, TroubleshootResult],
    colours: Mapping[str, str],
) -> list[CellDetail]:
    """Every cell in a stable order: fault scenario (as the summary lists them), model (as configured), repeat."""
    scenario_rank = {fault.scenario: i for i, fault in enumerate(summary.faults)}
    model_rank = {m: i for i, m in enumerate(_models(summary, results))}
    ordered = sorted(
        results,
        key=lambda r: (
            scenario_rank.get(r.cell.scenario, len(scenario_rank)),
            r.cell.scenario,
            model_rank[r.cell.model_id],
            r.cell.repeat,
        ),
    )
    return [cell_detail(r, details.get(r.cell.key), colours.get(r.cell.model_id, "#777")) for r in ordered]


def _heatmap(summary: TroubleshootSummary, models: Sequence[str]) -> str:
    values: dict[tuple[str, str], tuple[float, int] | None] = {}
    for model in models:
        m = summary.models.get(model)
        for fault in summary.faults:
            figures = m.by_fault.get(fault.scenario) if m is not None else None
            values[(model, fault.scenario)] = (
                None if figures is None else (figures.root_cause_rate, figures.cells_expected)
            )
    return str(
        charts.heatmap_chart(
            models,
            [f.scenario for f in summary.faults],
            values,
            label="root cause found per model and fault scenario",
            empty="no cells",
        )
    )


# -- renderers ---------------------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    from cloudinspect.config import resources_dir

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(resources_dir() / "templates" / "report"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_troubleshoot_html(
    summary: TroubleshootSummary,
    results: Sequence[TroubleshootCellResult],
    details: Mapping[str, TroubleshootResult],
) -> str:
    """The whole report page as a string."""
    from markupsafe import Markup

    from cloudinspect import __version__

    models = _models(summary, results)
    colours = charts.model_colours(models)
    expected = len(summary.faults) * summary.config.repeat * len(summary.config.models)
    return (
        _environment()
        .get_template("troubleshoot.html.jinja2")
        .render(
            summary=summary,
            config=summary.config,
            version=__version__,
            generated_at=summary.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
            cells_present=len(results),
            cells_expected=expected,
            leaderboard=leaderboard(summary, colours),
            models=models,
            grid=grid(summary, models),
            heatmap=Markup(_heatmap(summary, models)),  # noqa: S704 (built by charts from escaped pieces)
            cells=cell_details(summary, results, details, colours),
        )
    )


def render_troubleshoot_markdown(
    summary: TroubleshootSummary,
    results: Sequence[TroubleshootCellResult],
    details: Mapping[str, TroubleshootResult],
    *,
    html_name: str = "report.html",
) -> str:
    """The Markdown report: leaderboard, grid, and per cell its plan, evidence and diagnosis in short."""
    config = summary.config
    models = _models(summary, results)
    colours = charts.model_colours(models)
    expected = len(summary.faults) * config.repeat * len(config.models)
    state = "complete" if summary.complete else "incomplete"
    lines = [
        "# cloudinspect troubleshooting benchmark",
        "",
        f"Generated {summary.generated_at.strftime('%Y-%m-%d %H:%M UTC')}; {state}: {len(results)} of {expected} "
        f"cells. Models: {', '.join(config.models)}. Planner: {config.planner_model or 'each model itself'}. "
        f"Fault scenarios: {len(summary.faults)}; repeat {config.repeat}; up to {config.max_rounds} round(s) of "
        f"{config.max_inspections} inspection(s), {config.max_attempts} attempt(s) each; evidence budget "
        f"{config.token_budget:,} tokens.",
        "",
        f"Every cell's plan, evidence and diagnosis in full: [{html_name}]({html_name}).",
        "",
        "## Leaderboard",
        "",
    ]
    lines += _table(
        [
            "model",
            "found / cells",
            "root cause rate",
            "95% CI",
            "evidence cited",
            "mean score",
            "cost",
            "USD / found",
            "time p50 / p95",
            "fallback plans",
            "errors",
        ],
        [
            [
                r.model,
                r.found,
                r.root_cause_rate,
                r.ci,
                r.evidence_cited,
                r.mean_score,
                r.cost,
                r.usd_per_found,
                r.duration,
                r.fallback_plans,
                r.errors,
            ]
            for r in leaderboard(summary, colours)
        ],
        right=range(1, 11),
    )
    lines += ["", "## Per fault scenario", "", "Root cause found in k of n repeats · mean score.", ""]
    lines += _table(
        ["fault scenario", "expected findings", *models],
        [[row.scenario, ", ".join(row.expected), *(c.text for c in row.cells)] for row in grid(summary, models)],
    )
    lines += ["", "## Cells", ""]
    for cell in cell_details(summary, results, details, colours):
        repeat = f" (repeat {cell.repeat})" if config.repeat > 1 else ""
        status = cell.status.replace("_", " ")
        lines += [f"### {cell.scenario} · {cell.model}{repeat}: {status}, score {cell.score}", ""]
        lines.append(f"- {cell.figures}")
        if cell.reason:
            lines.append(f"- note: {_one_line(cell.reason)}")
        if cell.expected:
            lines.append(f"- expected: {', '.join(cell.expected)}; missing: {', '.join(cell.missing) or 'none'}")
        for plan in cell.plans:
            fallback = " (fallback: the planner's reply was unusable)" if plan.fallback else ""
            prompts = ", ".join(i.split(":")[0] for i in plan.inspections) or "nothing"
            lines.append(f"- plan, round {plan.round}{fallback}: {prompts}")
        if cell.evidence_note:
            lines.append(f"- evidence: {cell.evidence_note}")
            lines += [f"  - {e.id} {e.title}: {_one_line(e.summary)}" for e in cell.evidence]
        if cell.diagnosis or cell.hypotheses:
            conclusive = "conclusive" if cell.conclusive else "not conclusive"
            lines.append(f"- diagnosis ({conclusive}): {_one_line(cell.diagnosis)}")
            for n, h in enumerate(cell.hypotheses, start=1):
                labels = ", ".join(h.labels) or "no label"
                cites = ", ".join(h.evidence) or "nothing"
                lines.append(f"  {n}. {_one_line(h.title)} ({h.confidence}; {labels}); cites {cites}")
        lines.append("")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- files -------------------------------------------------------------------------------------------------------


def write_troubleshoot_reports(
    directory: Path,
    summary: TroubleshootSummary,
    results: Sequence[TroubleshootCellResult],
    details: Mapping[str, TroubleshootResult],
) -> list[Path]:
    """Write report.html and report.md into `directory` (each atomically) and return their paths. `details` maps a
    cell key to its troubleshooting result; cells without one are shown with their figures only."""
    from cloudinspect.fileio import write_text_atomic

    directory = directory.expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the report directory: {exc.strerror}", directory) from exc
    texts = {
        "report.html": render_troubleshoot_html(summary, results, details),
        "report.md": render_troubleshoot_markdown(summary, results, details),
    }
    return [write_text_atomic(directory / name, texts[name]) for name in TROUBLESHOOT_REPORT_FILES]


def benchmark_suite(directory: Path) -> Suite:
    """Which benchmark a directory holds: summary.json's `suite` (a summary without one is the code benchmark's),
    or, before a summary exists, the configuration in its store."""
    from cloudinspect.bench.store import STORE_FILE

    directory = directory.expanduser()
    path = directory / SUMMARY_FILE
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return "code"  # the code benchmark's reader says what is wrong with the file
        return "troubleshoot" if isinstance(data, dict) and data.get("suite") == "troubleshoot" else "code"
    if (directory / STORE_FILE).is_file():
        from cloudinspect.bench._tsuite_store import TroubleshootBenchStore

        with TroubleshootBenchStore(directory) as store:
            if store.config() is not None:
                return "troubleshoot"
    return "code"


def load_troubleshoot_benchmark(
    directory: Path,
) -> tuple[TroubleshootSummary, list[TroubleshootCellResult], dict[str, TroubleshootResult]]:
    """The summary, cells and troubleshooting results of the troubleshooting benchmark in `directory` (summarised
    from its store when it was interrupted before writing summary.json)."""
    from cloudinspect.bench._tsuite_store import TroubleshootBenchStore
    from cloudinspect.bench.store import STORE_FILE
    from cloudinspect.bench.troubleshoot import fault_info, fault_scenarios, read_troubleshoot_summary

    directory = directory.expanduser()
    if not (directory / STORE_FILE).is_file():
        raise InputError(f"not a troubleshooting benchmark directory: no {STORE_FILE} here", directory)
    with TroubleshootBenchStore(directory) as store:
        config = store.config()
        results = store.results()
        details = store.details()
    if (directory / SUMMARY_FILE).is_file():
        summary = read_troubleshoot_summary(directory)
    elif config is not None:
        from cloudinspect.bench._tsuite_metrics import summarize_troubleshoot

        faults = [fault_info(name, fault) for name, fault in fault_scenarios(config.scenarios).items()]
        summary = summarize_troubleshoot(config, faults, results)
    else:
        raise InputError(f"no {SUMMARY_FILE} and no troubleshooting benchmark configuration here", directory)
    return summary, results, details
