"""Variables are validated (type, enum, pattern, bounds) before rendering; errors name each variable."""

from __future__ import annotations

from typing import Any

import pytest

from cloudinspect.catalog import InspectionPrompt, render_prompt, resolve_variables
from cloudinspect.errors import InputError


def make_prompt(**variables: dict[str, Any]) -> InspectionPrompt:
    return InspectionPrompt.model_validate(
        {
            "id": "t-prompt",
            "title": "Test prompt",
            "description": "A prompt for the renderer tests.",
            "services": ["lambda"],
            "category": "metrics",
            "variables": variables,
            "template": "hours={{ hours }} threshold={{ threshold }} names={{ names | join(',') }} on={{ on }}",
            "adjustments": [{"families": ["smollm2"], "append": "Use boto3 ({{ hours }} h)."}],
            "contract": {"schema": {"type": "object"}},
        }
    )


PROMPT = make_prompt(
    hours={"type": "integer", "description": "Window", "default": 24, "minimum": 1, "maximum": 336},
    threshold={"type": "number", "description": "Percent", "default": 5.0},
    names={"type": "string_list", "description": "Names", "default": ["a"]},
    on={"type": "boolean", "description": "Flag", "default": False},
)


def test_defaults_are_filled() -> None:
    assert resolve_variables(PROMPT) == {"hours": 24, "threshold": 5.0, "names": ["a"], "on": False}


def test_cli_strings_are_coerced() -> None:
    values = resolve_variables(PROMPT, {"hours": "48", "threshold": "2.5", "names": "x, y", "on": "yes"})
    assert values == {"hours": 48, "threshold": 2.5, "names": ["x", "y"], "on": True}


@pytest.mark.parametrize(
    ("given", "field", "expected"),
    [
        ({"hours": "abc"}, "hours", "expected an integer"),
        ({"hours": "0"}, "hours", "must be >= 1"),
        ({"hours": 1000}, "hours", "must be <= 336"),
        ({"threshold": "lots"}, "threshold", "expected a number"),
        ({"on": "maybe"}, "on", "expected a boolean"),
        ({"nope": "1"}, "nope", "unknown variable"),
    ],
)
def test_bad_values_name_the_variable(given: dict[str, Any], field: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        resolve_variables(PROMPT, given)
    assert info.value.exit_code == 2
    problem = next(p for p in info.value.problems if p.field == field)
    assert expected in problem.message


def test_enum_and_pattern() -> None:
    prompt = make_prompt(
        hours={"type": "integer", "description": "h", "default": 24, "enum": [24, 48]},
        threshold={"type": "number", "description": "t", "default": 1},
        names={"type": "string_list", "description": "n", "default": ["a"], "pattern": "^[a-z]+$"},
        on={"type": "boolean", "description": "o", "default": True},
    )
    with pytest.raises(InputError, match="must be one of"):
        resolve_variables(prompt, {"hours": 12})
    with pytest.raises(InputError, match="does not match the pattern"):
        resolve_variables(prompt, {"names": "ok,NOT-OK"})


def test_required_variable_missing() -> None:
    prompt = make_prompt(
        hours={"type": "integer", "description": "Window", "required": True},
        threshold={"type": "number", "description": "t", "default": 1},
        names={"type": "string_list", "description": "n", "default": []},
        on={"type": "boolean", "description": "o", "default": True},
    )
    with pytest.raises(InputError, match="missing required variable"):
        render_prompt(prompt)


def test_render_applies_family_adjustments_only_to_that_family() -> None:
    plain = render_prompt(PROMPT, {"hours": 6})
    small = render_prompt(PROMPT, {"hours": 6}, family="smollm2")
    assert plain.startswith("hours=6 threshold=5.0 names=a on=False")
    assert "Use boto3" not in plain
    assert small.rstrip().endswith("Use boto3 (6 h).")
