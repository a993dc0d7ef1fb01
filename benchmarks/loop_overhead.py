"""Repair loop overhead: what the loop's machinery costs per attempt, apart from the model and the sandbox.

One replayed conversation for `ec2-instances-by-state-and-type` (the three failing replies of
tests/fixtures/replay/repair-four-attempts.yaml: a syntax error, a hallucinated paginator, a wrong filter; then
the catalogue's reference script), against one seeded emulator (`baseline`), in three configurations measured
in the same process, interleaved run by run:

(a) baseline: the same stages called directly, routed as the graph routes them (a script the review rejects is
    not run; one the review fixes is reviewed again; only an output is evaluated), after the same reference run
    for the canonical answer: generate_code -> review_code -> execute (sandbox `process`) -> evaluate_output;
(b) `run_repair_loop` with its store and SQLite checkpointer in a temp dir: the graph, a checkpoint after every
    step (durability "sync"), one committed store transaction per attempt, the failure feedback and the repair
    conversation;
(c) (b) with sandbox `warm` (the run starts its warm pool and closes it at the end, as `run_repair_loop` does).

Each configuration is timed end to end (wall clock, median of N runs after one warm-up run each), and every call
of each stage is timed by wrapping it, so the time splits into model (replay), review, sandbox, evaluation,
reference run, feedback (failure_feedback and repair_messages), checkpointer (SqliteSaver.put and put_writes),
store (ResultStore.create_run, record_attempt and finish_run), graph build (compiled once per run), pool close
(the warm pool's shutdown at the end of a run) and the rest (graph steps, state validation, events, set-up).
The wall-time difference (b) - (a) is within the sandbox's run-to-run spread, so the loop's own cost is also
given as measured inside the runs: machinery = a run minus its model, review, sandbox, evaluate and reference
time.

Prints a markdown section for BENCHMARKS.md.

    .venv/bin/python benchmarks/loop_overhead.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from langgraph.checkpoint.sqlite import SqliteSaver

from cloudinspect import generation, review, sandbox
from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.render import resolve_variables
from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.cloud import start_emulator
from cloudinspect.cloud.target import EndpointTarget, parse_target
from cloudinspect.loop import LoopLimits, conversation, evaluate, feedback, nodes, run_repair_loop
from cloudinspect.loop import run as loop_run
from cloudinspect.models.replay import ReplayChatModel, replay_spec
from cloudinspect.sandbox import pool
from cloudinspect.store import ResultStore

PROMPT_ID = "ec2-instances-by-state-and-type"
FAILING = Path(__file__).resolve().parent.parent / "tests/fixtures/replay/repair-four-attempts.yaml"
ATTEMPTS = 4

# (owner, attribute, component): every call is timed; a call inside another timed call counts for the outer one
WRAPPED: list[tuple[Any, str, str]] = [
    (generation, "generate_code", "model"),
    (review, "review_code", "review"),
    (sandbox, "execute", "sandbox"),
    (evaluate, "evaluate_output", "evaluate"),
    (nodes, "evaluate_output", "evaluate"),
    (loop_run, "canonical_answer", "reference"),
    (feedback, "failure_feedback", "feedback"),
    (conversation, "repair_messages", "feedback"),
    (SqliteSaver, "put", "put"),
    (SqliteSaver, "put_writes", "put_writes"),
    (ResultStore, "create_run", "store_run"),
    (ResultStore, "record_attempt", "record_attempt"),
    (ResultStore, "finish_run", "store_run"),
    (loop_run, "build_repair_graph", "graph build"),
    (pool, "close_pools", "pool close"),
]
COLUMNS = [
    "model",
    "review",
    "sandbox",
    "evaluate",
    "reference",
    "feedback",
    "checkpointer",
    "store",
    "graph build",
    "pool close",
]
GROUPS = {"checkpointer": ("put", "put_writes"), "store": ("store_run", "record_attempt")}


class Clock:
    """Seconds and calls per component in the current run (outermost timed call only, so nothing counts twice)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._local = threading.local()  # LangGraph may write checkpoints from a worker thread

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def wrap(self, fn: Callable[..., Any], component: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._local, "busy", False):
                return fn(*args, **kwargs)
            self._local.busy = True
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[component] += time.perf_counter() - start
                    self.calls[component] += 1
                self._local.busy = False

        return call

    def component(self, name: str) -> float:
        return sum(self.seconds[part] for part in GROUPS.get(name, (name,)))


@contextlib.contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for owner, attribute, component in WRAPPED:
            original = getattr(owner, attribute)
            stack.enter_context(mock.patch.object(owner, attribute, clock.wrap(original, component)))
        yield


def write_replay(directory: Path, entry: InspectionPrompt) -> Path:
    """The three failing replies of the fixture, then the catalogue's reference script (JSON is valid YAML)."""
    failing = yaml.safe_load(FAILING.read_text(encoding="utf-8"))[PROMPT_ID][: ATTEMPTS - 1]
    right = f"Here is the script:\n\n```python\n{entry.reference_code().rstrip()}\n```\n"
    path = directory / "replay.json"
    path.write_text(json.dumps({PROMPT_ID: [*failing, right]}), encoding="utf-8")
    return path


def direct_stages(entry: InspectionPrompt, replay: Path, target: EndpointTarget) -> None:
    """(a): the stages without the graph, the checkpointer, the store or the feedback."""
    spec = replay_spec(str(replay))
    model = ReplayChatModel.from_file(replay)
    values = resolve_variables(entry, {})
    limits = sandbox.Limits(timeout_s=60.0)
    expected = loop_run.canonical_answer(entry, target.env(), values)
    passed = False
    for _ in range(ATTEMPTS):
        code = generation.generate_code(entry, {}, spec, chat_model=model, history=[]).code
        result = review.review_code(code)
        if result.fixed_code and result.fixed_code != code:
            code = result.fixed_code
            result = review.review_code(code)
        if not result.ok:
            continue
        executed = sandbox.execute(code, target, variables=values, limits=limits, sandbox="process")
        if executed.status == "ok":
            passed = evaluate.evaluate_output(entry, executed.output_json, expected).passed
    if not passed:
        raise SystemExit("baseline: the last reply did not pass")


def loop_run_once(entry: InspectionPrompt, replay: Path, url: str, store: ResultStore, state: Path, box: str) -> None:
    """(b) and (c): the whole loop."""
    record = run_repair_loop(
        entry,
        f"replay:{replay}",
        target=f"endpoint:{url}",
        limits=LoopLimits(max_attempts=ATTEMPTS),
        sandbox=box,
        store=store,
        checkpoint_file=state / "checkpoints.sqlite",
        chat_model=ReplayChatModel.from_file(replay),
    )
    if record.status != "passed" or len(record.attempts) != ATTEMPTS:
        raise SystemExit(f"loop ({box}): {record.status} after {len(record.attempts)} attempt(s): {record.reason}")


Run = tuple[float, dict[str, float], dict[str, int]]


def timed(clock: Clock, once: Callable[[], None]) -> Run:
    clock.reset()
    start = time.perf_counter()
    once()
    return time.perf_counter() - start, dict(clock.seconds), dict(clock.calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("LANGSMITH_TRACING", None)  # measure the loop, not a tracing client
    entry = load_catalog()[PROMPT_ID]
    clock = Clock()
    runs: dict[str, list[Run]] = defaultdict(list)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="loop-overhead-")))
        replay = write_replay(work, entry)
        emulator = stack.enter_context(start_emulator("baseline"))
        target = parse_target(f"endpoint:{emulator.endpoint_url}")
        if not isinstance(target, EndpointTarget):
            raise SystemExit(f"expected an endpoint target, got {target!r}")
        store = stack.enter_context(ResultStore(work / "results.sqlite"))
        stack.enter_context(instrumented(clock))
        configs: dict[str, Callable[[], None]] = {
            "a": lambda: direct_stages(entry, replay, target),
            "b": lambda: loop_run_once(entry, replay, emulator.endpoint_url, store, work, "process"),
            "c": lambda: loop_run_once(entry, replay, emulator.endpoint_url, store, work, "warm"),
        }
        for once in configs.values():  # warm-up: review models, graph imports, first sandbox
            timed(clock, once)
        for _ in range(args.runs):
            for name, once in configs.items():
                runs[name].append(timed(clock, once))
    print_section(runs, args.runs)


STAGES = ("model", "review", "sandbox", "evaluate", "reference")
LABELS = {
    "a": "(a) stages called directly",
    "b": "(b) `run_repair_loop`, sandbox process",
    "c": "(c) `run_repair_loop`, sandbox warm",
}
CALLS = {
    "put": "`SqliteSaver.put`",
    "put_writes": "`SqliteSaver.put_writes`",
    "record_attempt": "`ResultStore.record_attempt`",
    "store_run": "`ResultStore.create_run` + `finish_run`",
}


def med(values: list[float]) -> float:
    """Median in ms."""
    return statistics.median(values) * 1000


def breakdown(run: Run) -> dict[str, float]:
    """A run's time per column, plus `rest` (untimed) and `machinery` (everything but the stages)."""
    total, seconds, _ = run
    parts = {c: sum(seconds.get(p, 0.0) for p in GROUPS.get(c, (c,))) for c in COLUMNS}
    parts["rest"] = total - sum(seconds.values())
    parts["machinery"] = total - sum(parts[c] for c in STAGES)
    parts["total"] = total
    return parts


def print_section(runs: dict[str, list[Run]], count: int) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print("## Repair loop overhead\n")
    print(
        f"`benchmarks/loop_overhead.py --runs {count}`, median of {count} runs after one warm-up, "
        f"{datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()} (load average {load} at the end: other work shared the machine). "
        f"One replayed run of `{PROMPT_ID}`, {ATTEMPTS} attempts (syntax error and hallucinated paginator: "
        "rejected by the review, not run; wrong filter: run, wrong output; reference script: passes) against the "
        "seeded `baseline` emulator, the canonical answer's reference run included in every configuration; one "
        "store and one checkpoint file for all runs. Times in ms per run; each component is the median over runs "
        "of the time inside that stage's calls; machinery = the run minus model, review, sandbox, evaluate and "
        "reference. Ratios within a run are the reliable part.\n"
    )
    print(f"| configuration | per run (min-max) | {' | '.join(COLUMNS)} | rest | machinery per attempt |")
    print("|---|" + "---:|" * (len(COLUMNS) + 3))
    parts = {name: [breakdown(run) for run in runs[name]] for name in LABELS}

    def column(name: str, key: str) -> float:
        return med([p[key] for p in parts[name]])

    for name, label in LABELS.items():
        totals = [p["total"] * 1000 for p in parts[name]]
        cells = " | ".join(f"{column(name, c):.1f}" for c in COLUMNS)
        print(
            f"| {label} | {column(name, 'total'):.0f} ({min(totals):.0f}-{max(totals):.0f}) | {cells} | "
            f"{column(name, 'rest'):.1f} | {column(name, 'machinery') / ATTEMPTS:.1f} |"
        )
    a, b = column("a", "total"), column("b", "total")
    in_process = {name: column(name, "total") - column(name, "sandbox") - column(name, "reference") for name in "ab"}
    print()
    print(
        f"Wall time: (b)/(a) = {b / a:.2f}x, ((b) - (a)) / {ATTEMPTS} = {(b - a) / ATTEMPTS:.1f} ms per attempt "
        f"({a / ATTEMPTS:.0f} vs {b / ATTEMPTS:.0f} ms per attempt). Measured inside the runs: machinery "
        f"{(column('b', 'machinery') - column('a', 'machinery')) / ATTEMPTS:.1f} ms per attempt more in (b) than "
        f"in (a); everything but the sandbox and the reference run: (b)/(a) = "
        f"{in_process['b'] / in_process['a']:.2f}x ({in_process['a']:.0f} vs {in_process['b']:.0f} ms per run).\n"
    )
    print("Checkpointer and store during (b) (median over runs):\n")
    print("| call | calls per run | ms per call | ms per attempt |")
    print("|---|---:|---:|---:|")
    for part, label in CALLS.items():
        seconds = [s.get(part, 0.0) for _, s, _ in runs["b"]]
        calls = statistics.median(c.get(part, 0) for _, _, c in runs["b"])
        per_call = med([s.get(part, 0.0) / max(c.get(part, 0), 1) for _, s, c in runs["b"]])
        print(f"| {label} | {calls:.0f} | {per_call:.2f} | {med(seconds) / ATTEMPTS:.2f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
