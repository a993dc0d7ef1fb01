"""Benchmark harness overhead: what `run_benchmark` costs per cell apart from the model, and its peak memory.

Two replay models over the selected catalogue prompts (default: the whole catalogue) x three scenarios
(baseline, startup, scale), built in a temp dir: `right` replays each prompt's reference script (one attempt,
then graded on the two other scenarios), `repair` replays a wrong first reply (a script that runs and prints an
output the contract rejects) then the reference script (the loop repairs once). Both are replay models, so the
model time is ~0 and what a cell costs is the harness: the canonical reference runs, the review, the sandbox
executions, grading, the checkpointer and the stores.

Runs, in one process, after a small warm-up benchmark (one prompt, one scenario; not measured):

(1) the measured configuration: concurrency 4, sandbox `warm`, max_attempts 2;
(2) the baseline: the same cells with concurrency 1 (sequential). A cell's time at concurrency 1 is its own cost
    without contention, so (1) against (2) says what running cells side by side buys (cells/s) and what it costs
    each cell (waiting for the 2 cores, the pools and the locks); the harness is "cheap" when the sequential
    per-cell overhead is small next to the sandbox executions it has to do anyway.

Per cell: wall time (run_cell + the BenchStore.record of its result) and the time inside ReplayChatModel._generate
(the model); overhead = cell - model. The overhead is split with timing wrappers (exclusive time: a wrapped call
inside another is subtracted from the outer one) attributed to the cell by a context variable (LangGraph copies
the context into its worker threads). Memory: a thread samples every 0.2 s the RSS (and PSS, which counts shared
pages once) of this process and all its descendants (/proc), by kind: runner (this process), emulators (moto
servers), reference (the canonical reference scripts, plain subprocesses), sandbox (warm-pool children, bwrap,
bridges).

Prints a markdown section for BENCHMARKS.md.

    .venv/bin/python benchmarks/bench_harness.py [--prompts 'ec2-*' ...] [--no-baseline]
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import functools
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from langgraph.checkpoint.sqlite import SqliteSaver

from cloudinspect import generation, review, sandbox
from cloudinspect.bench import BenchStore, run_benchmark, runner, select_tasks
from cloudinspect.bench import grade as bench_grade
from cloudinspect.bench.types import BenchConfig, BenchSummary
from cloudinspect.catalog import load_catalog
from cloudinspect.loop import evaluate, nodes
from cloudinspect.loop import run as loop_run
from cloudinspect.models.replay import ReplayChatModel
from cloudinspect.sandbox import pool
from cloudinspect.sandbox.result import ExecResult
from cloudinspect.store import ResultStore

SCENARIOS = ["baseline", "startup", "scale"]
WRONG_REPLY = 'Here is the script:\n\n```python\nimport json\n\nprint(json.dumps({"not": "the contract"}))\n```\n'
CELL: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_harness_cell", default=None)

# (owner, attribute, component): exclusive time per component, attributed to the current cell
WRAPPED: list[tuple[Any, str, str]] = [
    (ReplayChatModel, "_generate", "model"),
    (generation, "generate_code", "generation"),
    (review, "review_code", "review"),
    (sandbox, "execute", "sandbox"),
    (pool.WarmPool, "_acquire", "pool wait"),
    (evaluate, "evaluate_output", "evaluate"),
    (nodes, "evaluate_output", "evaluate"),
    (loop_run, "canonical_answer", "reference"),
    (bench_grade.CanonicalAnswers, "_in_sandbox", "reference"),
    (bench_grade.CanonicalAnswers, "get", "answers lock"),
    (runner, "grade_script", "grading"),
    (runner, "tally_attempts", "tally"),
    (runner, "_new_model", "model build"),
    (loop_run, "build_repair_graph", "graph build"),
    (SqliteSaver, "put", "checkpointer"),
    (SqliteSaver, "put_writes", "checkpointer"),
    (SqliteSaver, "get_tuple", "checkpointer"),
    (ResultStore, "create_run", "store"),
    (ResultStore, "record_attempt", "store"),
    (ResultStore, "finish_run", "store"),
    (ResultStore, "attempts", "store"),
    (BenchStore, "record", "store"),
]
COMPONENTS = [
    "reference",
    "answers lock",
    "review",
    "sandbox",
    "pool wait",
    "grading",
    "evaluate",
    "generation",
    "tally",
    "checkpointer",
    "store",
    "graph build",
    "model build",
]
"""Columns of the breakdown. `sandbox` = the loop's executions, `pool wait` = waiting for a ready warm child inside
them; `grading` = grade_script on the other scenarios, everything inside it included (its sandbox executions and
their pool waits); `tally` likewise (its review); `generation` = generate_code minus the model (prompt rendering,
parsing); `answers lock` = waiting for another cell's reference run of the same prompt and scenario."""
FOLDED = frozenset({"grading", "tally"})


class Clock:
    """Exclusive seconds per (cell, component), and each cell's wall time and model time."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.cells: dict[str, float] = defaultdict(float)
        self.cloud: dict[str, float] = defaultdict(float)
        """Per cell: seconds the scripts spent waiting for the emulator's answers (the API calls' own durations,
        as the sandbox's runtime guard timed them), in every execution of the cell: loop, grading, reference."""
        self.first_start: float | None = None
        self.last_end: float | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def wrap(self, fn: Callable[..., Any], component: str) -> Callable[..., Any]:
        @functools.wraps(fn)  # LangChain passes run_manager (the prompt id's metadata) only if the signature has it
        def call(*args: Any, **kwargs: Any) -> Any:
            stack: list[list[Any]] = self._local.__dict__.setdefault("stack", [])
            if stack and stack[-1][0] in FOLDED:
                return self._cloud_time(fn(*args, **kwargs))  # counts for the enclosing grading / tally
            stack.append([component, 0.0])  # time spent in wrapped calls inside this one
            start = time.perf_counter()
            try:
                return self._cloud_time(fn(*args, **kwargs))
            finally:
                elapsed = time.perf_counter() - start
                inner = stack.pop()[1]
                if stack:
                    stack[-1][1] += elapsed
                key = CELL.get()
                if key is None and component == "store" and args and hasattr(args[-1], "cell"):
                    key = args[-1].cell.key  # BenchStore.record(result) runs after run_cell, outside its context
                with self._lock:
                    self.parts[key or "-"][component] += elapsed - inner
                    if key is not None and component == "store" and CELL.get() is None:
                        self.cells[key] += elapsed

        return call

    def _cloud_time(self, result: Any) -> Any:
        """Add an ExecResult's API-call time to the current cell's emulator time; return the result."""
        calls = result.api_calls if isinstance(result, ExecResult) else None
        if calls and CELL.get() is not None:
            timed = [c.duration_ms for c in calls if c.source == "guard" and c.duration_ms is not None]
            if not timed:
                timed = [c.duration_ms for c in calls if c.duration_ms is not None]
            with self._lock:
                self.cloud[CELL.get() or "-"] += sum(timed) / 1000
        return result

    def wrap_cell(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(bench: Any, cell: Any, *args: Any, **kwargs: Any) -> Any:
            token = CELL.set(cell.key)
            start = time.perf_counter()
            with self._lock:
                self.first_start = start if self.first_start is None else min(self.first_start, start)
            try:
                return fn(bench, cell, *args, **kwargs)
            finally:
                end = time.perf_counter()
                CELL.reset(token)
                with self._lock:
                    self.cells[cell.key] += end - start
                    self.last_end = end if self.last_end is None else max(self.last_end, end)

        return call


@contextlib.contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for owner, attribute, component in WRAPPED:
            original = getattr(owner, attribute)
            stack.enter_context(mock.patch.object(owner, attribute, clock.wrap(original, component)))
        stack.enter_context(mock.patch.object(runner, "run_cell", clock.wrap_cell(runner.run_cell)))
        yield


# -- memory ------------------------------------------------------------------------------------------------------


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        children[ppid].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _kib(path: str, field_name: str) -> int:
    with open(path, encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith(field_name):
                return int(line.split()[1])
    return 0


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "runner"
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        argv = handle.read().split(b"\0")
    if any(b"cloudinspect.cloud._server" in a for a in argv):
        return "emulators"
    if len(argv) > 2 and argv[1:3] == [b"-I", b"-c"]:
        return "reference"
    return "sandbox"


@dataclass
class MemorySampler:
    """Peak RSS (and PSS) of this process and its descendants, in total and per kind, sampled every `period` s."""

    period: float = 0.2
    peak_rss: int = 0
    peak_pss: int = 0
    peak_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak_processes: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        root = os.getpid()
        rss_total = pss_total = 0
        by_kind: dict[str, int] = defaultdict(int)
        pids = _descendants(root)
        for pid in pids:
            try:
                rss = _kib(f"/proc/{pid}/status", "VmRSS:")
                pss = _kib(f"/proc/{pid}/smaps_rollup", "Pss:")
                kind = _kind(pid, root)
            except (OSError, ValueError):
                continue  # gone meanwhile
            rss_total += rss
            pss_total += pss
            by_kind[kind] += rss
        self.samples += 1
        self.peak_rss = max(self.peak_rss, rss_total)
        self.peak_pss = max(self.peak_pss, pss_total)
        self.peak_processes = max(self.peak_processes, len(pids))
        for kind, rss in by_kind.items():
            self.peak_by_kind[kind] = max(self.peak_by_kind[kind], rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# -- runs --------------------------------------------------------------------------------------------------------


def write_replays(directory: Path, prompt_ids: list[str]) -> tuple[Path, Path]:
    """`right.json`: each prompt's reference script; `repair.json`: a wrong reply, then the reference script."""
    catalog = load_catalog()
    right, repair = {}, {}
    for prompt_id in prompt_ids:
        reply = f"Here is the script:\n\n```python\n{catalog[prompt_id].reference_code().rstrip()}\n```\n"
        right[prompt_id] = [reply]
        repair[prompt_id] = [WRONG_REPLY, reply]
    paths = directory / "right.json", directory / "repair.json"
    paths[0].write_text(json.dumps(right), encoding="utf-8")
    paths[1].write_text(json.dumps(repair), encoding="utf-8")
    return paths


@dataclass
class Measured:
    label: str
    concurrency: int
    wall: float
    startup: float
    cells_phase: float
    finish: float
    summary: BenchSummary
    clock: Clock
    memory: MemorySampler
    directory: Path


def measure(label: str, config: BenchConfig, directory: Path) -> Measured:
    clock = Clock()
    with MemorySampler() as memory, instrumented(clock):
        start = time.perf_counter()
        summary = run_benchmark(config, directory, progress=False)
        end = time.perf_counter()
    first, last = clock.first_start or start, clock.last_end or end
    return Measured(
        label,
        config.concurrency,
        end - start,
        first - start,
        last - first,
        end - last,
        summary,
        clock,
        memory,
        directory,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", nargs="*", default=["*"], help="prompt selectors (default: the whole catalogue)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-baseline", action="store_true", help="skip the sequential baseline")
    parser.add_argument(
        "--baseline-every", type=int, default=4, help="the baseline runs every Nth selected prompt (1: all of them)"
    )
    args = parser.parse_args()
    os.environ.pop("LANGSMITH_TRACING", None)  # measure the harness, not a tracing client
    tasks = select_tasks(args.prompts, SCENARIOS, load_catalog())
    prompt_ids = [task.prompt_id for task in tasks]
    runs: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        work = Path(tmp)
        right, repair = write_replays(work, prompt_ids)
        models = [f"replay:{right}", f"replay:{repair}"]

        def config(concurrency: int, prompts: list[str], scenarios: list[str]) -> BenchConfig:
            return BenchConfig(
                models=models,
                prompts=prompts,
                scenarios=scenarios,
                concurrency=concurrency,
                sandbox="warm",
                max_attempts=2,
            )

        # warm-up: imports, review models, first pool; not measured
        run_benchmark(config(2, [prompt_ids[0]], SCENARIOS[:1]), work / "warmup", progress=False)
        runs.append(measure("concurrency 4", config(args.concurrency, prompt_ids, SCENARIOS), work / "c4"))
        if not args.no_baseline:
            sample = prompt_ids[:: max(1, args.baseline_every)]
            runs.append(measure("concurrency 1 (baseline)", config(1, sample, SCENARIOS), work / "c1"))
        for run in runs:
            check(run, len(run.summary.tasks))
    print_section(runs, args, len(prompt_ids))


def check(run: Measured, prompts: int) -> None:
    """Every cell must be solved: the right model at attempt 1, the repair model at attempt 2."""
    for model_id, model in run.summary.models.items():
        if model.solved != prompts:
            with BenchStore(run.directory) as store:
                reasons = sorted({r.reason for r in store.results() if not r.solved and r.cell.model_id == model_id})
            raise SystemExit(
                f"{run.label}: {model_id} solved {model.solved}/{prompts}: {model.failure_classes}; "
                f"reasons: {reasons[:3]}"
            )


# -- report ------------------------------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def per_cell(run: Measured) -> dict[str, dict[str, float]]:
    """Per cell: total, model, overhead and each component (ms); `generation` excludes the model's time."""
    rows: dict[str, dict[str, float]] = {}
    for key, total in run.clock.cells.items():
        parts = run.clock.parts[key]
        row = {c: ms(parts.get(c, 0.0)) for c in COMPONENTS}
        row["total"], row["model"] = ms(total), ms(parts.get("model", 0.0))
        row["overhead"] = row["total"] - row["model"]
        row["emulator"] = ms(run.clock.cloud.get(key, 0.0))
        row["harness"] = row["overhead"] - row["emulator"]
        row["rest"] = row["total"] - row["model"] - sum(row[c] for c in COMPONENTS)
        rows[key] = row
    return rows


def breakdown_runs(runs: list[Measured]) -> list[Measured]:
    """The runs, plus the first run restricted to the baseline's cells when the baseline ran a sample of them."""
    if len(runs) < 2 or set(runs[0].clock.cells) == set(runs[1].clock.cells):
        return runs
    first, keys = runs[0], set(runs[1].clock.cells)
    clock = Clock()
    clock.cells.update({k: v for k, v in first.clock.cells.items() if k in keys})
    clock.parts.update({k: v for k, v in first.clock.parts.items() if k in keys})
    clock.cloud.update({k: v for k, v in first.clock.cloud.items() if k in keys})
    same = Measured(
        f"{first.label}, the baseline's cells",
        first.concurrency,
        first.wall,
        first.startup,
        first.cells_phase,
        first.finish,
        first.summary,
        clock,
        first.memory,
        first.directory,
    )
    return [runs[0], same, *runs[1:]]


def print_section(runs: list[Measured], args: argparse.Namespace, prompts: int) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    selection = "the whole catalogue" if args.prompts == ["*"] else f"prompts {' '.join(args.prompts)}"
    print("## Benchmark harness overhead\n")
    print(
        f"`benchmarks/bench_harness.py{'' if args.prompts == ['*'] else ' --prompts ' + ' '.join(args.prompts)}`, "
        f"{datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()} (load average {load} at the end: other work shared the machine). "
        f"{selection.capitalize()} ({prompts} prompts) x scenarios {', '.join(SCENARIOS)} x 2 replay models "
        f"(`right`: the reference script, 1 attempt; `repair`: a wrong reply then the reference, 2 attempts) = "
        f"{2 * prompts} cells, sandbox `warm`, max_attempts 2, one warm-up benchmark before. Cell = `run_cell` + "
        "the `BenchStore.record` of its result; overhead = cell - time in `ReplayChatModel._generate`.\n"
    )
    print(
        "| run | wall s | start-up s | cells s | reports s | cells/s | overhead/cell median ms | p95 ms | "
        "emulator/cell median ms | harness/cell median ms | peak RSS MiB (PSS) | runner | emulators | sandbox | "
        "reference | processes |"
    )
    print("|---|" + "---:|" * 16)
    for run in runs:
        rows = per_cell(run)
        overhead = [r["overhead"] for r in rows.values()]
        mem = run.memory
        kinds = " | ".join(mib(mem.peak_by_kind.get(k, 0)) for k in ("runner", "emulators", "sandbox", "reference"))
        print(
            f"| {run.label} | {run.wall:.1f} | {run.startup:.1f} | {run.cells_phase:.1f} | {run.finish:.1f} | "
            f"{len(rows) / run.cells_phase:.2f} | {statistics.median(overhead):.0f} | {pct(overhead, 0.95):.0f} | "
            f"{statistics.median(r['emulator'] for r in rows.values()):.0f} | "
            f"{statistics.median(r['harness'] for r in rows.values()):.0f} | "
            f"{mib(mem.peak_rss)} ({mib(mem.peak_pss)}) | {kinds} | {mem.peak_processes} |"
        )
    print()
    print("Per-cell breakdown, ms (median over cells; exclusive time; `total p95` is the 95th percentile):\n")
    columns = ["total", "model", "overhead", "emulator", "harness", *COMPONENTS, "rest"]
    print(f"| run | cells | {' | '.join(columns[:1])} | total p95 | {' | '.join(columns[1:])} |")
    print("|---|---|" + "---:|" * (len(columns) + 1))
    for run in breakdown_runs(runs):
        rows = per_cell(run)
        for which, select in (("right", "right.json"), ("repair", "repair.json"), ("all", "")):
            chosen = [r for key, r in rows.items() if select in key.split("|")[0]]
            if not chosen:
                continue
            values = " | ".join(f"{statistics.median(r[c] for r in chosen):.1f}" for c in columns[1:])
            totals = [r["total"] for r in chosen]
            print(
                f"| {run.label} | {which} ({len(chosen)}) | {statistics.median(totals):.0f} | {pct(totals, 0.95):.0f} "
                f"| {values} |"
            )
    print()
    print(
        "Mean per cell, ms (sums over all cells / cells: the amortised costs, such as the reference runs that "
        "only the first cell of a prompt pays, show here):\n"
    )
    print(f"| run | {' | '.join(['overhead', 'emulator', 'harness', *COMPONENTS, 'rest'])} |")
    print("|---|" + "---:|" * (len(COMPONENTS) + 4))
    for run in breakdown_runs(runs):
        rows = per_cell(run)
        names = ["overhead", "emulator", "harness", *COMPONENTS, "rest"]
        means = [statistics.fmean(r[c] for r in rows.values()) for c in names]
        print(f"| {run.label} | {' | '.join(f'{m:.1f}' for m in means)} |")
    outside = dict(runs[0].clock.parts.get("-", {}))
    if outside:
        print()
        print(
            f"Outside the cells in {runs[0].label} (start-up, summary, reports), s: "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(outside.items()))
        )
    if len(runs) > 1:
        a, b = runs[0], runs[1]
        ca, cb = len(a.clock.cells) / a.cells_phase, len(b.clock.cells) / b.cells_phase
        print()
        print(f"Throughput {a.label} / {b.label}: {ca / cb:.2f}x ({ca:.2f} vs {cb:.2f} cells/s).")


if __name__ == "__main__":
    main()
