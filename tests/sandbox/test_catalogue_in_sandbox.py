"""Every catalogue reference script runs in the process sandbox, cold and from the warm pool (full isolation,
through the bridge), on every scenario with status ok, a valid output and no blocked call; two at a time, on one
shared emulator per scenario."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.render import resolve_variables
from cloudinspect.cloud import Emulator
from cloudinspect.cloud.loader import load_scenarios
from cloudinspect.sandbox import ExecResult, Limits, execute
from tests.sandbox.conftest import needs_sandbox

pytestmark = needs_sandbox

CATALOG = load_catalog([])
# fault scenarios are checked with their own evidence prompts in tests/troubleshoot
SCENARIOS = sorted(name for name, scenario in load_scenarios().items() if scenario.fault is None)


@pytest.mark.parametrize("sandbox", ["process", "warm"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_reference_script_runs_ok(
    scenario: str, sandbox: str, emulator: Callable[[str], Emulator], capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"endpoint:{emulator(scenario).endpoint_url}"

    def run(prompt_id: str) -> tuple[str, ExecResult]:
        prompt = CATALOG[prompt_id]
        variables = resolve_variables(prompt, None)
        return prompt_id, execute(
            prompt.reference_code(), target, variables=variables, limits=Limits(timeout_s=90), sandbox=sandbox
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(run, sorted(CATALOG)))
    elapsed = time.perf_counter() - start
    failures = []
    for prompt_id, result in results.items():
        problems = CATALOG[prompt_id].contract.validate_output(result.output_json) if result.ok else []
        if not result.ok or problems or result.blocked_calls:
            failures.append(
                f"{prompt_id}: {result.status}/{result.error_class} {result.error_message} {problems} "
                f"{[c.operation for c in result.blocked_calls]}\n{result.stderr[-600:]}"
            )
    with capsys.disabled():
        print(f"\n{scenario}: {len(results)} reference scripts in the {sandbox} sandbox in {elapsed:.1f} s (2 threads)")
    assert not failures, "\n".join(failures)
    assert len(results) == len(CATALOG)
    assert all(r.observed_iam_policy and r.observed_iam_policy["Statement"] for r in results.values())
