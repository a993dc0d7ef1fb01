"""Validating variables and rendering a prompt's template into the request sent to a model."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import jinja2

from cloudinspect.catalog.schema import InspectionPrompt, Variable, VarType
from cloudinspect.errors import InputError, Problem

# Prompts are plain text sent to a model, never HTML: escaping would corrupt them.
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _coerce(name: str, var: Variable, raw: Any) -> Any:
    """Convert a raw value (a CLI string or a YAML/JSON value) to the variable's type, or raise ValueError."""
    kind = var.type
    if kind is VarType.string:
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise ValueError(f"expected a string, got {type(raw).__name__}")
        return str(raw)
    if kind is VarType.integer:
        if isinstance(raw, bool):
            raise ValueError("expected an integer, got a boolean")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"[+-]?\d+", raw.strip()):
            return int(raw)
        raise ValueError(f"expected an integer, got {raw!r}")
    if kind is VarType.number:
        if isinstance(raw, bool):
            raise ValueError("expected a number, got a boolean")
        if isinstance(raw, int | float):
            return raw
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {raw!r}") from None
        return int(value) if value.is_integer() and "." not in str(raw) else value
    if kind is VarType.boolean:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise ValueError(f"expected a boolean (true/false), got {raw!r}")
    if kind is VarType.string_list:
        if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            return raw
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError(
                        f"expected a JSON list of strings or comma-separated values, got {raw!r}"
                    ) from None
                return _coerce(name, var, parsed)
            return [part.strip() for part in text.split(",") if part.strip()]
        raise ValueError(f"expected a list of strings, got {raw!r}")
    raise ValueError(f"unsupported variable type {kind}")  # pragma: no cover - enum is exhaustive


def _check(var: Variable, value: Any) -> None:
    if var.enum is not None and value not in var.enum:
        raise ValueError(f"must be one of {var.enum}, got {value!r}")
    if var.pattern is not None:
        for item in value if isinstance(value, list) else [value]:
            if not re.fullmatch(var.pattern, str(item)):
                raise ValueError(f"{item!r} does not match the pattern {var.pattern!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if var.minimum is not None and value < var.minimum:
            raise ValueError(f"must be >= {var.minimum:g}, got {value}")
        if var.maximum is not None and value > var.maximum:
            raise ValueError(f"must be <= {var.maximum:g}, got {value}")


def resolve_variables(prompt: InspectionPrompt, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate the given values against the prompt's variables and fill in defaults.

    Raises InputError listing every unknown, missing or invalid variable, each with what is expected.
    """
    given = dict(given or {})
    problems: list[Problem] = []
    for name in sorted(set(given) - set(prompt.variables)):
        known = ", ".join(sorted(prompt.variables)) or "none"
        problems.append(Problem(f"unknown variable (this prompt takes: {known})", field=name))
    values: dict[str, Any] = {}
    for name, var in prompt.variables.items():
        if name not in given:
            if var.required:
                problems.append(Problem(f"missing required variable ({var.type.value}: {var.description})", field=name))
            else:
                values[name] = var.default
            continue
        try:
            value = _coerce(name, var, given[name])
            _check(var, value)
        except ValueError as exc:
            problems.append(Problem(f"{exc} ({var.type.value}: {var.description})", field=name))
            continue
        values[name] = value
    if problems:
        raise InputError(f"invalid variables for prompt '{prompt.id}'", prompt.source, problems)
    return values


def render_prompt(
    prompt: InspectionPrompt, given: Mapping[str, Any] | None = None, *, family: str | None = None
) -> str:
    """Render the prompt's template with validated variables and the adjustments for a model family."""
    values = resolve_variables(prompt, given)

    def render(template: str) -> str:
        try:
            return _ENV.from_string(template).render(**values)
        except jinja2.TemplateError as exc:
            raise InputError(f"prompt '{prompt.id}' template failed to render: {exc}", prompt.source) from exc

    text = render(prompt.template)
    for adj in prompt.adjustments:
        if family is not None and family in adj.families:
            parts = (render(adj.prepend).strip(), text.strip(), render(adj.append).strip())
            text = "\n\n".join(part for part in parts if part)
    return text.strip() + "\n"


def parse_var_options(options: list[str]) -> dict[str, str]:
    """Parse CLI `--var k=v` options into a mapping (values are coerced later, per variable type)."""
    out: dict[str, str] = {}
    for opt in options:
        key, sep, value = opt.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--var expects NAME=VALUE, got {opt!r}")
        out[key.strip()] = value
    return out
