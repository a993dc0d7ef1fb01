"""The benchmark's acceptance fixtures are what they claim, checked without the benchmark runner.

`canonical.yaml` must replay each chosen prompt's reference script (and stay in sync with the catalogue);
`buggy.yaml` holds one plausible script per prompt with the single bug that `buggy-expected.yaml` describes.
The end-to-end tests run every reply the way the benchmark does (static review and its fixes, then the
sandbox on each scenario's emulator, then evaluation against the canonical answer there) and check that every
canonical reply passes everywhere and every bug shows, with its failure class, exactly where it is said to.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.render import resolve_variables
from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.cloud import Emulator
from cloudinspect.cloud.target import EndpointTarget
from cloudinspect.generation import extract_code
from cloudinspect.loop.evaluate import evaluate_output
from cloudinspect.loop.nodes import _review_class
from cloudinspect.loop.run import canonical_answer
from cloudinspect.loop.state import AttemptErrorClass, FindingRecord
from cloudinspect.models.replay import load_replay_file
from cloudinspect.review import review_code
from cloudinspect.sandbox import execute
from tests.fixtures.bench.make_canonical import BUGGY, BUGGY_EXPECTED, CANONICAL, PROMPT_IDS, render

SCENARIOS = ("baseline", "startup", "scale")
"""In the benchmark's order: the repair loop runs on the first; the others are held out."""

REQUIRED_KINDS = {
    "missing-pagination",
    "wrong-region",
    "wrong-filter",
    "wrong-units",
    "hallucinated-operation",
    "bad-parameter",
    "mutating-call",
    "runtime-key-error",
    "contract",
    "hard-coded-answer",
}
CATALOG = load_catalog([])


class BugExpectation(BaseModel):
    """One entry of buggy-expected.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bug: str | None
    kind: str
    failure_class: str
    scenario: str | None
    fails_on: list[str]


def expectations() -> dict[str, BugExpectation]:
    data = yaml.safe_load(BUGGY_EXPECTED.read_text(encoding="utf-8"))
    return {prompt_id: BugExpectation.model_validate(entry) for prompt_id, entry in data.items()}


def replies(path: Any) -> dict[str, list[str]]:
    """The replay file's replies, by prompt id (it must use the mapping form)."""
    as_list, by_prompt = load_replay_file(path)
    assert as_list is None, f"{path} must map prompt ids to replies"
    assert by_prompt is not None
    return {prompt_id: [reply.content for reply in queue] for prompt_id, queue in by_prompt.items()}


# -- the files, statically ---------------------------------------------------------------------------------------


def test_canonical_fixture_is_in_sync_with_the_reference_scripts() -> None:
    assert CANONICAL.read_text(encoding="utf-8") == render(), (
        "canonical.yaml is out of date: run python tests/fixtures/bench/make_canonical.py"
    )


def test_canonical_replies_are_the_reference_scripts() -> None:
    for prompt_id, queue in replies(CANONICAL).items():
        assert [extract_code(reply).code.strip() for reply in queue] == [CATALOG[prompt_id].reference_code().strip()]


def test_fixtures_cover_the_same_catalogue_prompts_once_each() -> None:
    assert len(PROMPT_IDS) == len(set(PROMPT_IDS)) >= 10
    assert set(PROMPT_IDS) <= set(CATALOG)
    assert len({CATALOG[p].services[0] for p in PROMPT_IDS}) >= 8
    for path in (CANONICAL, BUGGY):
        recorded = replies(path)
        assert list(recorded) == list(PROMPT_IDS), path
        assert all(len(queue) == 1 for queue in recorded.values()), f"{path}: one reply per prompt (max_attempts=1)"
    assert list(expectations()) == list(PROMPT_IDS)


def test_expectations_cover_every_bug_kind_and_are_consistent() -> None:
    known_classes = {c for arg in typing.get_args(AttemptErrorClass) for c in typing.get_args(arg) or (arg,)}
    expected = expectations()
    assert {e.kind for e in expected.values()} >= REQUIRED_KINDS
    assert any(e.bug is None for e in expected.values()), "some buggy replies are correct, so the score is not 0"
    for prompt_id, e in expected.items():
        assert e.failure_class in known_classes, prompt_id
        assert e.fails_on == [s for s in SCENARIOS if s in e.fails_on], prompt_id
        assert e.scenario == (e.fails_on[0] if e.fails_on else None), prompt_id
        assert (e.bug is None) == (e.kind == "none") == (e.failure_class == "none") == (not e.fails_on), prompt_id
    (pagination,) = [e for e in expected.values() if e.kind == "missing-pagination"]
    assert pagination.fails_on == ["scale"], "only scale paginates at AWS page sizes"


# -- the replies, on the emulator --------------------------------------------------------------------------------

Outcome = dict[str, tuple[str, str]]
"""Scenario -> (error class or 'none', what happened)."""


def _review(code: str) -> tuple[str, str | None, str]:
    """(the code the sandbox would run, its review class or None when clean, the first error) as the repair loop
    does: the review's own fixes are applied, then the code is reviewed again."""
    review = review_code(code)
    if review.fixed_code and review.fixed_code != code:
        code, review = review.fixed_code, review_code(review.fixed_code)
    errors = review.errors()
    if not errors:
        return code, None, ""
    keep = FindingRecord.model_fields
    records = [FindingRecord.model_validate({k: v for k, v in f.model_dump().items() if k in keep}) for f in errors]
    # The loop's own mapping from review rules to failure classes, so that this check cannot drift from it.
    return code, _review_class(records), f"{errors[0].rule}: {errors[0].message}"


def _grade(code: str, prompt: InspectionPrompt, emulator: Emulator, expected: Any) -> tuple[str, str]:
    """(class, detail) of `code` on one emulator: the sandbox's class when it fails, else evaluate's verdict."""
    variables = resolve_variables(prompt, None)
    target = EndpointTarget(url=emulator.endpoint_url, region=emulator.region)
    result = execute(code, target, variables=variables, sandbox="process")
    if result.status != "ok":
        error_class = result.error_class if result.error_class != "none" else "runtime"
        return error_class, f"{result.status}: {result.error_message}"
    verdict = evaluate_output(prompt, result.output_json, expected)
    if verdict.passed:
        return "none", verdict.summary
    return ("contract" if verdict.schema_errors else "wrong_output"), verdict.summary


@pytest.fixture(scope="module")
def outcomes(emulator: Callable[[str], Emulator]) -> dict[tuple[str, str], Outcome]:
    """(model, prompt id) -> its reply's outcome on each scenario, for the canonical and the buggy model."""
    emulators = {name: emulator(name) for name in SCENARIOS}
    recorded = {"canonical": replies(CANONICAL), "buggy": replies(BUGGY)}
    reviewed = {
        (model, prompt_id): _review(extract_code(queue[0]).code)
        for model, by_prompt in recorded.items()
        for prompt_id, queue in by_prompt.items()
    }

    def answer(job: tuple[str, str]) -> Any:
        prompt_id, scenario = job
        prompt = CATALOG[prompt_id]
        return canonical_answer(prompt, emulators[scenario].env(), resolve_variables(prompt, None))

    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = list(itertools.product(PROMPT_IDS, SCENARIOS))
        answers: Mapping[tuple[str, str], Any] = dict(zip(jobs, pool.map(answer, jobs), strict=True))
        runs = [(key, s) for key, (_, review_class, _) in reviewed.items() if review_class is None for s in SCENARIOS]

        def run(job: tuple[tuple[str, str], str]) -> tuple[str, str]:
            (model, prompt_id), scenario = job
            return _grade(
                reviewed[model, prompt_id][0], CATALOG[prompt_id], emulators[scenario], answers[prompt_id, scenario]
            )

        graded = dict(zip(runs, pool.map(run, runs), strict=True))
    result: dict[tuple[str, str], Outcome] = {}
    for key, (_, review_class, detail) in reviewed.items():
        if review_class is not None:  # the loop stops at the review: the bug shows whatever the scenario
            result[key] = dict.fromkeys(SCENARIOS, (review_class, detail))
        else:
            result[key] = {scenario: graded[key, scenario] for scenario in SCENARIOS}
    return result


@pytest.mark.e2e
@pytest.mark.parametrize("prompt_id", PROMPT_IDS)
def test_canonical_reply_passes_on_every_scenario(outcomes: dict[tuple[str, str], Outcome], prompt_id: str) -> None:
    outcome = outcomes["canonical", prompt_id]
    assert {s: c for s, (c, _) in outcome.items()} == dict.fromkeys(SCENARIOS, "none"), outcome


@pytest.mark.e2e
@pytest.mark.parametrize("prompt_id", PROMPT_IDS)
def test_buggy_reply_fails_where_and_how_expected(outcomes: dict[tuple[str, str], Outcome], prompt_id: str) -> None:
    expected = expectations()[prompt_id]
    outcome = outcomes["buggy", prompt_id]
    failing = [s for s in SCENARIOS if outcome[s][0] != "none"]
    assert failing == expected.fails_on, outcome
    assert {outcome[s][0] for s in failing} <= {expected.failure_class}, outcome
