"""The JSON shapes the planner model answers in, and turning its diagnosis into a checked `Diagnosis`.

The reply shapes are lenient on purpose (extra keys ignored, numbers clamped, nulls read as empty): a capable model
that adds a field or writes `"variables": null` has still answered. What the workflow cannot use (an evidence id
the bundle does not have, a label outside the vocabulary) is dropped here, each with a warning that the diagnosis
keeps, and the scoring counts the dropped citations against the model (`dropped_citations`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloudinspect.troubleshoot.types import Diagnosis, EvidenceBundle, Hypothesis

UNKNOWN_ID = "unknown evidence id"
UNKNOWN_LABEL = "unknown label"
_DROPPED_ID = re.compile(rf"{UNKNOWN_ID} '([^']*)' dropped")
_EVIDENCE_ID = re.compile(r"^E\d+(?:\.\d+)?$")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def is_placeholder(value: Any) -> bool:
    """A '<...>' left from the reply format's example: a model that copies the example has said nothing."""
    text = str(value).strip()
    return text.startswith("<") and text.endswith(">")


def _list(value: Any) -> Any:
    """None and '' as empty, one string as a list of it, placeholders copied from the example left out."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value] if value.strip() else []
    if isinstance(value, list):
        return [item for item in value if not is_placeholder(item)]
    return value


def _text(value: Any) -> Any:
    return "" if value is None or is_placeholder(value) else value


class ProblemReply(_Lenient):
    """The `understand` step's reply (the ProblemStatement without the user's text)."""

    summary: str = ""
    symptoms: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    window_hours: int = 24
    keywords: list[str] = Field(default_factory=list)

    _lists = field_validator("symptoms", "services", "resources", "keywords", mode="before")(_list)

    @field_validator("window_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if value is None:
            return 24
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(1, min(int(value), 24 * 14))
        return value

    _texts = field_validator("summary", mode="before")(_text)


class PlanItem(_Lenient):
    """One inspection the planner chose."""

    prompt_id: str = Field(min_length=1)
    variables: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> Any:
        return {} if value is None else value

    _texts = field_validator("reason", mode="before")(_text)


class PlanReply(_Lenient):
    """The `plan` step's reply: inspections from the catalogue, or a request for a new prompt."""

    rationale: str = ""
    inspections: list[PlanItem] = Field(default_factory=list)
    new_prompt: str | None = None

    _lists = field_validator("inspections", mode="before")(_list)

    _texts = field_validator("rationale", mode="before")(_text)

    @field_validator("new_prompt", mode="before")
    @classmethod
    def _question(cls, value: Any) -> Any:
        return None if value is None or is_placeholder(value) else value


class HypothesisReply(_Lenient):
    """One hypothesis as the model wrote it (checked by `checked_diagnosis`)."""

    title: str = ""
    labels: list[str] = Field(default_factory=list)
    confidence: float = 0.5
    explanation: str = ""
    evidence: list[str] = Field(default_factory=list)

    _lists = field_validator("labels", "evidence", mode="before")(_list)
    _texts = field_validator("title", "explanation", mode="before")(_text)

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(0.0, min(float(value), 1.0))
        return value


class DiagnosisReply(_Lenient):
    """The `diagnose` step's reply."""

    summary: str = ""
    hypotheses: list[HypothesisReply] = Field(default_factory=list)
    conclusive: bool = False
    next_steps: list[str] = Field(default_factory=list)

    _lists = field_validator("hypotheses", "next_steps", mode="before")(_list)
    _texts = field_validator("summary", mode="before")(_text)


def normalise_id(raw: str) -> str:
    """'e2', '[E2]', ' E2.1 ' -> 'E2', 'E2', 'E2.1'."""
    text = raw.strip().strip("[]()").strip()
    return text[:1].upper() + text[1:] if text[:1] in "eE" else text


def normalise_label(raw: str) -> str:
    """'Lambda_Timeout', ' lambda timeout ' -> 'lambda-timeout'."""
    return re.sub(r"[\s_]+", "-", raw.strip().lower())


def checked_diagnosis(reply: DiagnosisReply, bundle: EvidenceBundle, vocabulary: Mapping[str, Any]) -> Diagnosis:
    """The reply as a Diagnosis: evidence ids the bundle does not have and labels outside the vocabulary dropped
    (a warning each), hypotheses sorted by confidence, most likely first (ties keep the model's order)."""
    known_ids = bundle.ids()
    warnings: list[str] = []
    hypotheses: list[Hypothesis] = []
    for n, item in enumerate(reply.hypotheses, start=1):
        title = item.title.strip() or f"hypothesis {n}"
        evidence: list[str] = []
        for raw in item.evidence:
            ident = normalise_id(str(raw))
            if ident in known_ids and _EVIDENCE_ID.match(ident):
                if ident not in evidence:
                    evidence.append(ident)
            else:
                warnings.append(f"hypothesis {n} ({title}): {UNKNOWN_ID} {str(raw)!r} dropped")
        labels: list[str] = []
        for raw in item.labels:
            label = normalise_label(str(raw))
            if label in vocabulary:
                if label not in labels:
                    labels.append(label)
            else:
                warnings.append(f"hypothesis {n} ({title}): {UNKNOWN_LABEL} {str(raw)!r} dropped")
        hypotheses.append(
            Hypothesis(
                title=title,
                labels=labels,
                confidence=item.confidence,
                explanation=item.explanation,
                evidence=evidence,
            )
        )
    hypotheses.sort(key=lambda h: -h.confidence)
    return Diagnosis(
        summary=reply.summary,
        hypotheses=hypotheses,
        conclusive=reply.conclusive and bool(hypotheses),
        next_steps=list(reply.next_steps),
        warnings=warnings,
    )


def dropped_citations(diagnosis: Diagnosis) -> list[str]:
    """The evidence ids the model cited that the bundle did not have (from the diagnosis's warnings)."""
    found: list[str] = []
    for warning in diagnosis.warnings:
        found.extend(_DROPPED_ID.findall(warning))
    return found
