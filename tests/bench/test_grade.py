"""Grading a final script on a scenario: sandboxed execution on the seeded emulator, compared with the canonical
script's output there by the contract's rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudinspect.bench import CanonicalAnswers, grade_script
from cloudinspect.catalog import load_catalog, resolve_variables
from cloudinspect.cloud import Emulator

PROMPT = "sns-topic-encryption"


@pytest.fixture(scope="module")
def answers() -> CanonicalAnswers:
    return CanonicalAnswers()


def _grade(code: str, emulator: Emulator, answers: CanonicalAnswers) -> Any:
    prompt = load_catalog()[PROMPT]
    variables = resolve_variables(prompt, None)
    expected = answers.get(prompt, "startup", emulator, variables)
    return grade_script(code, prompt, "startup", emulator, variables, expected, exec_timeout_s=30)


def test_the_canonical_script_passes_and_its_answer_is_computed_once(
    emulator: Callable[[str], Emulator], answers: CanonicalAnswers
) -> None:
    emu = emulator("startup")
    prompt = load_catalog()[PROMPT]
    grade = _grade(prompt.reference_code(), emu, answers)

    assert grade.passed, grade
    assert (grade.scenario, grade.error_class) == ("startup", "none")
    assert grade.duration_ms > 0
    variables = resolve_variables(prompt, None)
    first = answers.get(prompt, "startup", emu, variables)
    assert answers.get(prompt, "startup", emu, variables) is first
    assert isinstance(first, dict)


def test_a_plausible_but_wrong_answer_is_a_wrong_output(
    emulator: Callable[[str], Emulator], answers: CanonicalAnswers
) -> None:
    emu = emulator("startup")
    prompt = load_catalog()[PROMPT]
    right = answers.get(prompt, "startup", emu, resolve_variables(prompt, None))
    # The right shape, one topic too few: valid against the contract, wrong against the account.
    items = next(key for key, value in right.items() if isinstance(value, list) and value)
    wrong = {**right, items: right[items][1:]}
    code = f"import json\nprint(json.dumps(json.loads({json.dumps(wrong)!r})))\n"

    grade = _grade(code, emu, answers)

    assert not grade.passed
    assert grade.error_class == "wrong_output"
    assert "difference" in grade.detail


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        ("import json\nprint(json.dumps({'unexpected': True}))\n", "contract"),
        ("import boto3\nboto3.client('sns').list_topics()\nraise RuntimeError('late failure')\n", "runtime"),
        ("print('not json')\n", "output_not_json"),
    ],
)
def test_failures_are_classified_like_the_repair_loop(
    code: str, error_class: str, emulator: Callable[[str], Emulator], answers: CanonicalAnswers
) -> None:
    grade = _grade(code, emulator("startup"), answers)

    assert not grade.passed
    assert grade.error_class == error_class
    assert grade.detail


@pytest.mark.parametrize("prompt_id", ["sns-topic-encryption", "ec2-open-security-groups", "iam-access-keys-audit"])
def test_reference_answers_from_the_warm_sandbox_equal_the_plain_subprocess_ones(
    emulator: Callable[[str], Emulator], prompt_id: str
) -> None:
    """A benchmark with the warm sandbox runs the reference scripts there (no cold interpreter per run): same
    document as the plain subprocess, variables included (a non-default value must reach the script)."""
    emu = emulator("startup")
    prompt = load_catalog()[prompt_id]
    variables = resolve_variables(prompt, None)
    cold = CanonicalAnswers().get(prompt, "startup", emu, variables)
    warm = CanonicalAnswers("warm").get(prompt, "startup", emu, variables)
    assert isinstance(cold, dict)
    assert warm == cold


def test_a_reference_that_fails_in_the_sandbox_has_no_answer(emulator: Callable[[str], Emulator]) -> None:
    from cloudinspect.loop.context import NO_ANSWER

    emu = emulator("startup")
    prompt = load_catalog()[PROMPT]
    broken = prompt.model_copy()
    object.__setattr__(broken, "reference_code", lambda: "raise SystemExit(3)\n")
    assert CanonicalAnswers("warm").get(broken, "startup", emu, {}) is NO_ANSWER
