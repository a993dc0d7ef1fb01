"""Evaluate an execution's output: against the prompt's output contract, then against the canonical answer.

The verdict's differences are rendered without expected values, so that a repair prompt built from them tells
the model where it is wrong (a missing item, an extra one, a wrong field) without handing it the answer.
"""

from __future__ import annotations

from typing import Any

from cloudinspect.catalog.compare import compare_outputs
from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.loop.context import NO_ANSWER
from cloudinspect.loop.state import Verdict

MAX_LISTED = 12
"""Differences or schema errors listed in a verdict; the count says how many there were."""


def evaluate_output(prompt: InspectionPrompt, output: Any, expected: Any = NO_ANSWER) -> Verdict:
    """The verdict on `output` (the script's parsed JSON): schema first; then, when `expected` is given, the
    contract's comparison rules."""
    schema_errors = prompt.contract.validate_output(output)
    if schema_errors:
        return Verdict(
            passed=False,
            schema_errors=schema_errors[:MAX_LISTED],
            summary=f"{len(schema_errors)} schema error(s): {schema_errors[0]}",
        )
    if expected is NO_ANSWER:
        return Verdict(passed=True, summary="valid against the output contract (no canonical answer to compare)")
    differences = compare_outputs(expected, output, prompt.contract.compare)
    if differences:
        rendered = [d.render(show_expected=False) for d in differences]
        return Verdict(
            passed=False,
            compared=True,
            differences=rendered[:MAX_LISTED],
            difference_count=len(rendered),
            summary=f"{len(rendered)} difference(s) from the canonical answer: {rendered[0]}",
        )
    return Verdict(passed=True, compared=True, summary="matches the canonical answer")
