"""The evidence bundle: every inspection's output as a cited, redacted, budgeted piece of evidence.

A diagnosis model reads the bundle as Markdown (`bundle_to_markdown`); tools read it as JSON (`bundle_to_json`).
Each outcome becomes one `EvidenceItem` (`E1`, `E2`, ... in the order of the outcomes) with its kind detected
from the data's shape, a deterministic summary, a few facts citable as `E1.1`, `E1.2`..., the data (or a
reduction of it) and its provenance. The same outcomes give the same bundle, byte for byte.

Fitting the token budget (the estimate of the rendered Markdown, `estimate_tokens`), in this order, each step
only while the bundle is still over:

1. reduce the largest item's data one level (`_reduce`: fewer rows, series to statistics and anomalies...),
   again and again, always the largest item at that moment;
2. drop the data of the least informative items first (errors, empty tables, scalars, text, objects, then
   tables and series), keeping summaries and facts; their ids are listed in `dropped`;
3. keep fewer facts (3, then 1) of the items with the most tokens;
4. shorten the longest summaries (300, then 160 characters), then drop the remaining facts and cut summaries to
   80 characters: a summary is never removed.

Every bundle has a floor: the problem (about 150 tokens by the estimate) and, per item, its heading, provenance
line and a cut summary (about 160). Under that floor (a dozen items under a budget of 1,500) the bundle is
returned as small as it gets and its `tokens` says by how much it is over the budget.

Secrets: outputs, errors, titles, provenance and the problem go through `cloudinspect.redact`, and every value
of an environment-variable map is replaced whatever its name (`_evidence_redact`); `redactions` counts them.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloudinspect.troubleshoot._evidence_describe import (
    Description,
    SeriesFacts,
    columns_of,
    describe_error,
    describe_object,
    describe_scalar,
    describe_series,
    describe_table,
    describe_text,
)
from cloudinspect.troubleshoot._evidence_redact import redact_output
from cloudinspect.troubleshoot._evidence_shapes import SeriesSet, Table, detect
from cloudinspect.troubleshoot._evidence_stats import fmt_time
from cloudinspect.troubleshoot._reduce import reduce
from cloudinspect.troubleshoot.types import (
    EvidenceBundle,
    EvidenceItem,
    EvidenceKind,
    InspectionOutcome,
    ProblemStatement,
    Provenance,
)

__all__ = ["DATA_LEFT_OUT", "build_bundle", "bundle_to_json", "bundle_to_markdown", "estimate_tokens", "render_item"]

_NON_ASCII = bytes(range(128, 256))
_DIGITS = b"0123456789"
_LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SPACES = b" \t\n\r\x0b\x0c"
# Tokens per character of each class, fitted so that no measured tokenizer exceeds the estimate, then a margin.
_PER_LETTER, _PER_DIGIT, _PER_PUNCTUATION, _PER_SPACE, _PER_OTHER = 0.4, 1.0, 0.5, 0.55, 1.0
_MARGIN = 1.1


def estimate_tokens(text: str) -> int:
    """A conservative estimate of the tokens `text` takes in a diagnosis model's context.

    `ceil(1.1 * (0.4 * ASCII letters + digits + 0.5 * ASCII punctuation + 0.55 * whitespace + other characters))`.
    Fitted on 10 documents (rendered evidence bundles at five budgets, a raw table's and a series' JSON, Lambda
    log text, the README's prose, Python source) against 10 tokenizers read offline from GGUF vocabularies
    (GPT-2, Llama 3, Llama 2, Phi-3, Qwen 2, Command R, DeepSeek coder, Gemma 4, and the local models Gemma 3
    270M and SmolLM2 135M): for every document the most expensive tokenizer used 0.61 to 0.91 of the estimate
    (bundles: 0.78 to 0.89; raw JSON and logs: 0.80 to 0.91; prose, where letters merge most: 0.61).
    Evidence is dense: those tokenizers give it 2.0 to 2.7 characters per token, so chars / 4 would underestimate
    it by half. Digits count one token each because Llama 2, Phi-3 and Gemma split numbers into digits;
    hexadecimal ids and JSON punctuation are what make letters and punctuation expensive.

    No tokenizer is loaded (tiktoken would download its encodings at run time), it runs at C speed (bytes
    translations: about 2 ms per megabyte), and it is additive: the estimate of a concatenation is at most the
    sum of its parts', which the budget fitting relies on.
    """
    if not text:
        return 0
    ascii_only = text.encode("utf-8", "surrogatepass").translate(None, _NON_ASCII)
    other = len(text) - len(ascii_only)
    letters = len(ascii_only) - len(ascii_only.translate(None, _LETTERS))
    digits = len(ascii_only) - len(ascii_only.translate(None, _DIGITS))
    spaces = len(ascii_only) - len(ascii_only.translate(None, _SPACES))
    punctuation = len(ascii_only) - letters - digits - spaces
    weighted = (
        _PER_LETTER * letters
        + _PER_DIGIT * digits
        + _PER_PUNCTUATION * punctuation
        + _PER_SPACE * spaces
        + _PER_OTHER * other
    )
    return math.ceil(_MARGIN * weighted)


# ---------------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------------

DATA_LEFT_OUT = "Data: left out to fit the budget."
"""What an item whose data was dropped says in place of its data."""
_MAX_CALLS_SHOWN = 6
_FENCE = "`" * 3


def render_item(item: EvidenceItem) -> str:
    """One item as Markdown: heading, provenance line, summary, numbered facts, data (a table or fenced JSON)."""
    parts = [f"### {item.id} — {item.title}\n\n", _provenance_line(item.provenance), "\n\n", item.summary, "\n\n"]
    if item.facts:
        parts.append("Facts:\n")
        parts.extend(f"- {item.id}.{n}: {fact}\n" for n, fact in enumerate(item.facts, 1))
        parts.append("\n")
    if item.data is not None:
        parts.append(_render_data(item))
    elif item.reduced:
        parts.append(DATA_LEFT_OUT + "\n\n")
    return "".join(parts)


def _provenance_line(p: Provenance) -> str:
    """Prompt, API calls and time: what a diagnosis weighs. Model, run, code hash and target are in the JSON."""
    parts = [f"Source: prompt `{p.prompt_id}` (inspection {p.inspection_id})"]
    calls = list(dict.fromkeys(p.api_calls))
    if calls:
        shown = ", ".join(calls[:_MAX_CALLS_SHOWN])
        more = f" and {len(calls) - _MAX_CALLS_SHOWN} more" if len(calls) > _MAX_CALLS_SHOWN else ""
        parts.append(f"API calls: {shown}{more}")
    if p.collected_at is not None:
        parts.append(f"collected {fmt_time(p.collected_at)}")
    return " · ".join(parts) + "."


def _render_data(item: EvidenceItem) -> str:
    data = item.data
    if item.kind == "table":
        table = _table_of(data, item.reduced)
        if table is not None:
            rows, meta, note = table
            heading = f"Data (reduced: {note}):\n\n" if item.reduced else "Data:\n\n"
            totals = f"{_json(meta)}\n\n" if meta else ""
            return heading + totals + _markdown_table(rows)
    if isinstance(data, str):
        heading = "Data (reduced):" if item.reduced else "Data:"
        # A fence inside the text would end the block early.
        fenced = data.replace(_FENCE, "'" * 3)
        return f"{heading}\n\n{_FENCE}text\n{fenced}\n{_FENCE}\n\n"
    said = data.get("note") if item.reduced and isinstance(data, Mapping) else None
    heading = f"Data (reduced: {said}):" if isinstance(said, str) else "Data:"
    return f"{heading}\n\n{_FENCE}json\n{_json(data)}\n{_FENCE}\n\n"


def _table_of(data: Any, reduced: bool) -> tuple[list[dict[str, Any]], dict[str, Any], str] | None:
    if reduced and isinstance(data, Mapping) and data.get("reduction") == "table":
        return data["rows"], data["meta"], str(data["note"])
    kind, shape = detect(data)
    if kind == "table" and isinstance(shape, Table):
        return shape.rows, shape.meta, ""
    return None


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def _markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "(no rows)\n\n"
    columns = columns_of(rows)
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines.extend("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows)
    return "\n".join(lines) + "\n\n"


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else _json(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _problem_section(problem: ProblemStatement) -> str:
    quoted = "\n".join(f"> {line}" if line else ">" for line in problem.text.splitlines()) or "> (no text)"
    lines = ["# Evidence\n\n## Problem\n\n", quoted, "\n\n"]
    listed = [
        ("Summary", problem.summary),
        ("Symptoms", "; ".join(problem.symptoms)),
        ("Services", ", ".join(problem.services)),
        ("Resources", ", ".join(problem.resources)),
        ("Keywords", ", ".join(problem.keywords)),
        ("Window", f"the last {problem.window_hours} hours"),
    ]
    lines.extend(f"- {name}: {value}\n" for name, value in listed if value)
    lines.append("\n## Evidence items\n\nCite an item as E1 and its facts as E1.1, E1.2.\n\n")
    return "".join(lines)


def bundle_to_markdown(bundle: EvidenceBundle) -> str:
    """The bundle as the diagnosis model reads it: the problem, then every item (`render_item`)."""
    items = "".join(render_item(item) for item in bundle.items)
    return _problem_section(bundle.problem) + (items or "No evidence.\n\n")


def bundle_to_json(bundle: EvidenceBundle) -> str:
    """The bundle as indented JSON (deterministic: fields in declaration order, data as the outputs had it)."""
    return bundle.model_dump_json(indent=2)


# ---------------------------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------------------------

# Whose data goes first when dropping: what the summary already says in full, then what is least structured.
_INFORMATIVE: dict[str, int] = {"error": 0, "scalar": 1, "text": 2, "object": 3, "table": 4, "timeseries": 4}


@dataclass
class _Draft:
    """An item while the budget is being fitted: its full analysis, and how far it has been cut."""

    item: EvidenceItem
    output: Any
    shape: Table | SeriesSet | None = None
    notable: list[int] = field(default_factory=list)
    analysed: list[SeriesFacts] = field(default_factory=list)
    level: int = 0
    exhausted: bool = False
    tokens: int = 0

    def update(self, **changes: Any) -> None:
        self.item = self.item.model_copy(update=changes)
        self.tokens = estimate_tokens(render_item(self.item))

    @property
    def empty(self) -> bool:
        return isinstance(self.shape, Table) and not self.shape.rows


def build_bundle(
    problem: ProblemStatement,
    outcomes: Sequence[InspectionOutcome],
    *,
    token_budget: int = 6000,
    titles: Mapping[str, str] | None = None,
) -> EvidenceBundle:
    """One evidence item per outcome (`E1`... in their order), redacted, fitted to `token_budget` tokens of
    Markdown (see the module docstring for how). `titles` maps prompt ids to their catalogue titles."""
    redacted_problem, redactions = redact_output(problem.model_dump(mode="json"))
    problem = ProblemStatement.model_validate(redacted_problem)
    drafts = []
    for index, outcome in enumerate(outcomes, 1):
        draft, found = _draft(f"E{index}", outcome, titles or {}, token_budget)
        drafts.append(draft)
        redactions += found
    header = estimate_tokens(_problem_section(problem))
    dropped: list[str] = []

    def total() -> int:
        return header + sum(d.tokens for d in drafts)

    _reduce_largest(drafts, token_budget, total)
    _drop_data(drafts, dropped, token_budget, total)
    for step in _LAST_RESORTS:
        _shrink(drafts, token_budget, total, step)
    items = [d.item.model_copy(update={"tokens": estimate_tokens(render_item(d.item))}) for d in drafts]
    bundle = EvidenceBundle(
        problem=problem, items=items, token_budget=token_budget, redactions=redactions, dropped=dropped
    )
    return bundle.model_copy(update={"tokens": estimate_tokens(bundle_to_markdown(bundle))})


def _draft(item_id: str, outcome: InspectionOutcome, titles: Mapping[str, str], budget: int) -> tuple[_Draft, int]:
    inspection = outcome.inspection
    raw_provenance = Provenance(
        inspection_id=inspection.id,
        prompt_id=inspection.prompt_id,
        run_id=outcome.run_id,
        model_id=outcome.model_id,
        code_sha256=outcome.code_sha256,
        api_calls=list(dict.fromkeys(outcome.api_calls)),
        target=outcome.target,
        collected_at=outcome.finished_at,
    )
    provenance_data, redactions = redact_output(raw_provenance.model_dump(mode="json"))
    title, found = redact_output(titles.get(inspection.prompt_id) or inspection.prompt_id)
    redactions += found
    base: dict[str, Any] = {
        "id": item_id,
        "title": " ".join(str(title).split()),
        "provenance": Provenance.model_validate(provenance_data),
    }
    if outcome.status != "passed":
        error, found = redact_output(outcome.error)
        failure = describe_error(outcome.status, str(error), outcome.attempts, outcome.output is not None)
        draft = _Draft(EvidenceItem(kind="error", summary=failure.summary, **base), None)
        draft.update()
        return draft, redactions + found
    output, found = redact_output(outcome.output)
    kind, shape = detect(output)
    analysed: list[SeriesFacts] = []
    description: Description
    if kind == "table" and isinstance(shape, Table):
        description = describe_table(shape)
    elif kind == "timeseries" and isinstance(shape, SeriesSet):
        description, analysed = describe_series(shape)
    elif kind == "text":
        description = describe_text(str(output))
    elif kind == "scalar":
        description = describe_scalar(output)
    else:
        description = describe_object(output)
    evidence_kind: EvidenceKind = kind
    item = EvidenceItem(kind=evidence_kind, summary=description.summary, facts=description.facts, data=output, **base)
    draft = _Draft(item, output, shape, description.notable_rows, analysed)
    leaves = _leaves(output, budget + 1)
    if leaves > budget:
        # Rendering 10,000 rows to learn that they do not fit would take most of the time: every value renders
        # as at least one token, so the count of values is a lower bound that already says "reduce me".
        draft.tokens = estimate_tokens(render_item(item.model_copy(update={"data": None}))) + leaves
    else:
        draft.update()
    return draft, redactions + found


def _leaves(data: Any, limit: int) -> int:
    """How many scalar values `data` holds, counting no further than `limit`."""
    count = 0
    stack = [data]
    while stack and count < limit:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        else:
            count += 1
    return count


def _reduce_largest(drafts: list[_Draft], budget: int, total: Callable[[], int]) -> None:
    while total() > budget:
        candidates = [d for d in drafts if not d.exhausted and d.item.data is not None]
        if not candidates:
            return
        draft = max(candidates, key=lambda d: (d.tokens, -drafts.index(d)))
        before = draft.tokens
        while True:
            draft.level += 1
            data = reduce(
                draft.item.kind,
                draft.output,
                draft.level,
                shape=draft.shape,
                notable=draft.notable,
                analysed=draft.analysed,
            )
            if data is None:
                draft.exhausted = True
                break
            previous = draft.item
            draft.update(data=data, reduced=True)
            if draft.tokens < before:
                break
            # A level that does not shrink this item (a short table gains a note): keep what it had.
            draft.item = previous
            draft.tokens = before


def _drop_data(drafts: list[_Draft], dropped: list[str], budget: int, total: Callable[[], int]) -> None:
    order = sorted(
        (d for d in drafts if d.item.data is not None),
        key=lambda d: (_INFORMATIVE[d.item.kind] if not d.empty else 0, -d.tokens, drafts.index(d)),
    )
    for draft in order:
        if total() <= budget:
            return
        draft.update(data=None, reduced=True)
        dropped.append(draft.item.id)
    dropped.sort(key=lambda item_id: int(item_id[1:]))


def _shrink(drafts: list[_Draft], budget: int, total: Callable[[], int], step: Callable[[_Draft], None]) -> None:
    for draft in sorted(drafts, key=lambda d: (-d.tokens, drafts.index(d))):
        if total() <= budget:
            return
        step(draft)


def _fewer_facts(draft: _Draft, *, limit: int) -> None:
    if len(draft.item.facts) > limit:
        draft.update(facts=draft.item.facts[:limit])


def _shorter_summary(draft: _Draft, *, width: int) -> None:
    summary = draft.item.summary
    if len(summary) > width:
        draft.update(summary=summary[: width - 1] + "…")


_LAST_RESORTS: tuple[Callable[[_Draft], None], ...] = (
    functools.partial(_fewer_facts, limit=3),
    functools.partial(_fewer_facts, limit=1),
    functools.partial(_shorter_summary, width=300),
    functools.partial(_shorter_summary, width=160),
    functools.partial(_fewer_facts, limit=0),
    functools.partial(_shorter_summary, width=80),
)
"""After the data: fewer facts and shorter summaries, item by item (largest first), until the bundle fits."""
