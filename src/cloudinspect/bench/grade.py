"""Grading a final script on a scenario: run it sandboxed on that scenario's emulator and compare its output with
the canonical script's output there, with the prompt contract's rules (no LLM judge).

The canonical output of a (prompt, scenario) pair is computed once per benchmark process and kept in memory: the
emulators are read-only for the whole benchmark, so it cannot change, and every model's cell reuses it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from cloudinspect.bench.types import ScenarioGrade
from cloudinspect.catalog import InspectionPrompt
from cloudinspect.cloud import Emulator

DETAIL_CHARS = 500


class CanonicalAnswers:
    """The canonical outputs per (prompt, scenario), computed on first use, once, even when threads ask together.

    `sandbox` None runs the reference script as a plain subprocess (`catalog.reference.run_reference`: a cold
    interpreter importing boto3, ~0.35 s); a sandbox name (the benchmark's own, normally "warm") runs it there,
    against the same endpoint and with the same variables, like the scripts it grades: from a warm pool that is
    a child already past its imports. Either way the output is the same document (tests/bench/test_grade.py)."""

    def __init__(self, sandbox: str | None = None, *, exec_timeout_s: float = 120.0) -> None:
        self._answers: dict[tuple[str, str], Any] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.sandbox = sandbox
        self.exec_timeout_s = exec_timeout_s

    def get(self, prompt: InspectionPrompt, scenario: str, emulator: Emulator, variables: Mapping[str, Any]) -> Any:
        """The reference script's output on `emulator` (seeded with `scenario`), or loop.context.NO_ANSWER when it
        cannot run there."""
        from cloudinspect.loop.run import canonical_answer

        key = (prompt.id, scenario)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._answers:
                if self.sandbox is None:
                    self._answers[key] = canonical_answer(prompt, emulator.env(), variables)
                else:
                    self._answers[key] = self._in_sandbox(self.sandbox, prompt, emulator, variables)
            return self._answers[key]

    def _in_sandbox(
        self, sandbox: str, prompt: InspectionPrompt, emulator: Emulator, variables: Mapping[str, Any]
    ) -> Any:
        from cloudinspect.catalog import resolve_variables
        from cloudinspect.cloud.target import EndpointTarget
        from cloudinspect.loop.context import NO_ANSWER
        from cloudinspect.sandbox import Limits, execute

        try:
            code = prompt.reference_code()
        except (ValueError, OSError):
            return NO_ANSWER
        target = EndpointTarget(url=emulator.endpoint_url, region=emulator.region)
        result = execute(
            code,
            target,
            variables=resolve_variables(prompt, variables),
            limits=Limits(timeout_s=self.exec_timeout_s),
            sandbox=sandbox,
        )
        return result.output_json if result.status == "ok" and result.output_json is not None else NO_ANSWER

    def known(self) -> dict[tuple[str, str], Any]:
        """The canonical outputs computed so far, by (prompt id, scenario)."""
        with self._guard:
            return dict(self._answers)


def grade_script(
    code: str,
    prompt: InspectionPrompt,
    scenario: str,
    emulator: Emulator,
    variables: Mapping[str, Any],
    expected: Any,
    *,
    sandbox: str = "warm",
    exec_timeout_s: float = 60.0,
) -> ScenarioGrade:
    """Execute `code` in the sandbox against `emulator` and judge its output as the repair loop would: the
    sandbox's error class when it did not run cleanly, else the contract (`contract`) and the canonical answer
    `expected` (`wrong_output`)."""
    from cloudinspect.cloud.target import EndpointTarget
    from cloudinspect.loop.evaluate import evaluate_output
    from cloudinspect.sandbox import Limits, execute

    start = time.perf_counter()
    target = EndpointTarget(url=emulator.endpoint_url, region=emulator.region)
    result = execute(code, target, variables=variables, limits=Limits(timeout_s=exec_timeout_s), sandbox=sandbox)
    elapsed = (time.perf_counter() - start) * 1000
    if result.status != "ok":
        error_class = result.error_class if result.error_class != "none" else "runtime"
        detail = result.error_message or result.status
        return ScenarioGrade(
            scenario=scenario, passed=False, error_class=error_class, detail=detail[:DETAIL_CHARS], duration_ms=elapsed
        )
    verdict = evaluate_output(prompt, result.output_json, expected)
    if verdict.passed:
        return ScenarioGrade(scenario=scenario, passed=True, detail=verdict.summary, duration_ms=elapsed)
    return ScenarioGrade(
        scenario=scenario,
        passed=False,
        error_class="contract" if verdict.schema_errors else "wrong_output",
        detail=verdict.summary[:DETAIL_CHARS],
        duration_ms=elapsed,
    )
