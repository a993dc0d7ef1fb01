"""Every canonical reference script runs on every built-in scenario of the emulated account (a real moto
server), prints output valid against its prompt's contract, is deterministic, and tells scenarios apart."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.compare import compare_outputs
from cloudinspect.catalog.reference import ScriptRun, run_reference
from cloudinspect.cloud import Emulator, load_scenarios

pytestmark = pytest.mark.e2e

CATALOG = load_catalog([])
SCENARIOS = sorted(name for name, s in load_scenarios([]).items() if s.fault is None)
PROMPT_IDS = list(CATALOG)


@pytest.fixture(scope="module")
def runs(emulator: Callable[[str], Emulator]) -> dict[tuple[str, str], ScriptRun]:
    """Each prompt's reference output on each scenario, plus a second run on the first scenario."""
    emulators = {name: emulator(name) for name in SCENARIOS}

    def one(job: tuple[str, str]) -> tuple[tuple[str, str], ScriptRun]:
        prompt_id, scenario = job
        return job, run_reference(CATALOG[prompt_id], emulators[scenario.removesuffix("#2")].env())

    jobs = [*itertools.product(PROMPT_IDS, SCENARIOS), *((p, f"{SCENARIOS[0]}#2") for p in PROMPT_IDS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, jobs))


def _output(run: ScriptRun) -> Any:
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stderr[-2000:]}"
    try:
        return run.output
    except ValueError:
        pytest.fail(f"stdout is not one JSON document: {run.stdout[:500]!r}")


def test_catalogue_size_and_coverage() -> None:
    services = {s for p in CATALOG.values() for s in p.services}
    assert len(CATALOG) >= 40
    assert len(services) >= 12
    assert sum(p.category.value == "metrics" and "cloudwatch" in p.services for p in CATALOG.values()) >= 6
    assert sum(p.category.value == "logs" and "logs" in p.services for p in CATALOG.values()) >= 6
    assert sum(len(p.services) > 1 for p in CATALOG.values()) >= 4
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("prompt_id", PROMPT_IDS)
def test_reference_output_meets_contract(runs: dict[tuple[str, str], ScriptRun], prompt_id: str, scenario: str) -> None:
    output = _output(runs[prompt_id, scenario])
    problems = CATALOG[prompt_id].contract.validate_output(output)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("prompt_id", PROMPT_IDS)
def test_reference_output_is_deterministic(runs: dict[tuple[str, str], ScriptRun], prompt_id: str) -> None:
    first = _output(runs[prompt_id, SCENARIOS[0]])
    second = _output(runs[prompt_id, f"{SCENARIOS[0]}#2"])
    diffs = compare_outputs(first, second, CATALOG[prompt_id].contract.compare)
    assert diffs == [], "\n".join(d.render() for d in diffs[:20])


def test_outputs_tell_scenarios_apart(runs: dict[tuple[str, str], ScriptRun]) -> None:
    """A hard-coded answer must fail somewhere: nearly every prompt's answer differs between scenarios."""
    same = []
    for prompt_id in PROMPT_IDS:
        rules = CATALOG[prompt_id].contract.compare
        outputs = [_output(runs[prompt_id, s]) for s in SCENARIOS]
        if not any(compare_outputs(a, b, rules) for a, b in itertools.combinations(outputs, 2)):
            same.append(prompt_id)
    assert len(same) <= len(PROMPT_IDS) // 10, f"same answer on every scenario: {same}"
