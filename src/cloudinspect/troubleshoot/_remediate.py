"""Remediation of a diagnosis from the finding vocabulary: commands and console steps, never executed.

Each label of the leading hypotheses (the first, and those at least half as confident, three at most) brings its
vocabulary entry's remediation. Its `{placeholders}` (`{function_name}`, `{group_id}`) are filled from the evidence
that hypothesis cites when the evidence shows the resource: a field of the cited output whose name is the
placeholder's (`FunctionName`, `function_name`, `function`; a bare `name` when no field is more specific).
Several candidate values are narrowed to the ones the hypothesis (or the user) names; when that leaves more than
one, or none, the placeholder stays for the user to fill: a wrong resource in a command is worse than a blank.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cloudinspect.troubleshoot.types import Diagnosis, EvidenceBundle, Hypothesis, ProblemStatement, Remediation

MAX_HYPOTHESES = 3
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_SUFFIXES = ("name", "id", "arn", "url")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _fields(data: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every (field name, scalar value) of a JSON document, at any depth (bounded)."""
    if depth > 6:
        return
    if isinstance(data, Mapping):
        for name, value in data.items():
            if isinstance(value, str | int) and not isinstance(value, bool):
                yield str(name), str(value)
            else:
                yield from _fields(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from _fields(value, depth + 1)


def _matches(placeholder: str, field: str, *, loose: bool) -> bool:
    """`function_name` matches FunctionName, function_name, function; loosely also a bare `name` (rows of a
    per-function table name their function `name`)."""
    wanted, key = _key(placeholder), _key(field)
    if key == wanted:
        return True
    parts = placeholder.split("_")
    if len(parts) >= 2 and parts[-1] in _SUFFIXES:
        stem = _key("_".join(parts[:-1]))
        return key in (stem, f"{stem}{parts[-1]}") or (loose and key == parts[-1])
    return False


def _candidates(placeholder: str, items: Sequence[Any]) -> list[str]:
    """Values of the fields that name the placeholder's resource: exact names first, a bare `name`/`id` only
    when no field is named after the resource."""
    for loose in (False, True):
        values: dict[str, None] = {}
        for item in items:
            for field, value in _fields(item.data):
                if value and _matches(placeholder, field, loose=loose):
                    values.setdefault(value, None)
        if values:
            return list(values)
    return []


def _choose(values: list[str], hypothesis: Hypothesis, problem: ProblemStatement) -> str | None:
    if len(values) == 1:
        return values[0]
    said = f"{hypothesis.title} {hypothesis.explanation}"
    named = [v for v in values if v in said] or [v for v in values if v in problem.resources]
    return named[0] if len(named) == 1 else None


def placeholder_values(hypothesis: Hypothesis, bundle: EvidenceBundle, placeholders: Sequence[str]) -> dict[str, str]:
    """Values for `placeholders` from the evidence the hypothesis cites (see the module docstring)."""
    cited = {ident.split(".")[0] for ident in hypothesis.evidence}
    items = [item for item in bundle.items if item.id in cited]
    values: dict[str, str] = {}
    for placeholder in placeholders:
        chosen = _choose(_candidates(placeholder, items), hypothesis, bundle.problem)
        if chosen is not None:
            values[placeholder] = chosen
    return values


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def remediations(diagnosis: Diagnosis, bundle: EvidenceBundle, vocabulary: Mapping[str, Any]) -> list[Remediation]:
    """One remediation per label of the leading hypotheses, placeholders filled where the evidence allows."""
    if not diagnosis.hypotheses:
        return []
    top = diagnosis.hypotheses[0].confidence
    leading = [h for h in diagnosis.hypotheses if h.confidence >= top / 2][:MAX_HYPOTHESES]
    out: list[Remediation] = []
    seen: set[str] = set()
    for hypothesis in leading:
        for label in hypothesis.labels:
            finding = vocabulary.get(label)
            if finding is None or label in seen:
                continue
            seen.add(label)
            guide = finding.remediation
            placeholders = list(
                dict.fromkeys(
                    [
                        *guide.placeholders(),
                        *(m.group(1) for s in guide.console_steps for m in _PLACEHOLDER.finditer(s)),
                    ]
                )
            )
            values = placeholder_values(hypothesis, bundle, placeholders)
            out.append(
                Remediation(
                    title=finding.title,
                    labels=[label],
                    commands=guide.render(values),
                    console_steps=[_fill(step, values) for step in guide.console_steps],
                    caution=guide.caution,
                )
            )
    return out
