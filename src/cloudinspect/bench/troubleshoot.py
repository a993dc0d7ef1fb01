"""The troubleshooting benchmark (`cloudinspect bench --suite troubleshoot`): every model troubleshoots every fault
scenario, scored against the fault's known root cause; resumable like the code benchmark.

    from cloudinspect.bench.troubleshoot import TroubleshootBenchConfig, run_troubleshoot_benchmark

    config = TroubleshootBenchConfig(models=["gpt-6-luna"], scenarios=["fault-lambda-timeout"])
    summary = run_troubleshoot_benchmark(config, Path("out"))
    print(summary.models["gpt-6-luna"].root_cause_rate)

A cell runs `troubleshoot(fault.problem, model=M, planner_model=R or M)` against its fault scenario's seeded
emulator and scores the result (`cloudinspect.troubleshoot.score.score_result`). One emulator per scenario serves
every cell of that scenario (inspections are read-only): it starts when the scenario's first cell needs it and
stops when its last pending cell is done; cells run scenario by scenario, so only a few emulators live at once.
Cells run on a bounded thread pool with the code benchmark's per-provider limits (one in-process llama.cpp cell
at a time, replay unlimited); the inspections' repair runs go to the benchmark's store.

Resume: a cell is recorded (with its troubleshooting result, one transaction) only when it is finished, so
re-running the same benchmark skips the recorded cells and redoes the others; a cell that raises is recorded as
`error`; an interruption records nothing more and stops the emulators.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from cloudinspect.bench._tsuite_metrics import summarize_troubleshoot
from cloudinspect.bench._tsuite_store import TroubleshootBenchStore
from cloudinspect.bench._tsuite_types import (
    SCENARIO_PLACEHOLDER,
    TROUBLESHOOT_SCHEMA_VERSION,
    TROUBLESHOOT_SUITE,
    FaultFigures,
    FaultInfo,
    TroubleshootBenchConfig,
    TroubleshootCell,
    TroubleshootCellResult,
    TroubleshootModelSummary,
    TroubleshootSummary,
)
from cloudinspect.bench.metrics import SUMMARY_FILE
from cloudinspect.errors import InputError, Problem

if TYPE_CHECKING:
    from cloudinspect.bench.runner import ProviderLimits
    from cloudinspect.cloud import Emulator, Fault
    from cloudinspect.troubleshoot.score import TroubleshootScore
    from cloudinspect.troubleshoot.types import TroubleshootResult

__all__ = [
    "SCENARIO_PLACEHOLDER",
    "TROUBLESHOOT_SUITE",
    "FaultFigures",
    "FaultInfo",
    "TroubleshootBenchConfig",
    "TroubleshootBenchStore",
    "TroubleshootCell",
    "TroubleshootCellResult",
    "TroubleshootModelSummary",
    "TroubleshootSummary",
    "build_troubleshoot_cells",
    "cell_model_id",
    "fault_scenarios",
    "read_troubleshoot_summary",
    "run_troubleshoot_benchmark",
    "summarize_troubleshoot",
]


# -- the matrix --------------------------------------------------------------------------------------------------


def fault_scenarios(names: Sequence[str] = ()) -> dict[str, Fault]:
    """The fault of each named scenario (all scenarios with a fault, by name, when `names` is empty). A named
    scenario without a fault is an InputError; an unknown one an UnknownIdError."""
    from cloudinspect.cloud import get_scenario, load_scenarios

    if not names:
        found = {name: sc.fault for name, sc in load_scenarios().items() if sc.fault is not None}
        if not found:
            raise InputError("no scenario has a fault: the troubleshooting benchmark has nothing to run")
        return found
    faults: dict[str, Fault] = {}
    without: list[str] = []
    for name in dict.fromkeys(names):
        fault = get_scenario(name).fault
        if fault is None:
            without.append(name)
        else:
            faults[name] = fault
    if without:
        raise InputError(
            "the troubleshooting benchmark runs fault scenarios only (`cloudinspect scenarios list --json` shows "
            "them under `fault`)",
            problems=[Problem(f"scenario {name!r} has no fault", "scenarios") for name in without],
        )
    return faults


def fault_info(scenario: str, fault: Fault) -> FaultInfo:
    """What the reports show of a fault scenario."""
    return FaultInfo(
        scenario=scenario,
        fault=fault.name,
        problem=fault.problem,
        root_cause=fault.root_cause,
        expected_findings=list(fault.expected_findings),
        evidence_prompts=list(fault.evidence_prompts),
    )


def build_troubleshoot_cells(config: TroubleshootBenchConfig) -> list[TroubleshootCell]:
    """Every cell of the matrix, scenario by scenario (so that a scenario's emulator serves its cells together and
    stops before the next ones start), then model, then repeat."""
    return [
        TroubleshootCell(model_id=model_id, scenario=scenario, repeat=repeat)
        for scenario in config.scenarios
        for model_id in dict.fromkeys(config.models)
        for repeat in range(config.repeat)
    ]


def cell_model_id(model_id: str, scenario: str) -> str:
    """The model id a cell runs: `{scenario}` in it replaced by the cell's scenario."""
    return model_id.replace(SCENARIO_PLACEHOLDER, scenario)


def _check_models(config: TroubleshootBenchConfig) -> None:
    """Refuse what would make every cell of a model fail (an unknown id, a missing key or package, an unreadable
    replay file) before starting anything: building each model once per distinct id says so, without calling it."""
    from cloudinspect.models import get_model, get_spec

    ids = [*config.models, *([config.planner_model] if config.planner_model else [])]
    for model_id in dict.fromkeys(cell_model_id(m, s) for m in ids for s in config.scenarios):
        get_model(get_spec(model_id))


# -- emulators ---------------------------------------------------------------------------------------------------


class _SharedEmulators:
    """One seeded emulator per scenario, started by its first cell, stopped (with its warm sandbox pool) when the
    scenario's last pending cell is done, or on `close`."""

    def __init__(self, pending: Counter[str], sandbox: str) -> None:
        self._remaining = dict(pending)
        self._sandbox = sandbox
        self.log: Callable[[str], None] | None = None
        self._emulators: dict[str, Emulator] = {}
        self._locks = {scenario: threading.Lock() for scenario in pending}

    @contextlib.contextmanager
    def use(self, scenario: str) -> Iterator[Emulator]:
        """The scenario's emulator for one cell (started now if it is not running)."""
        from cloudinspect.cloud import start_emulator

        try:
            with self._locks[scenario]:
                emulator = self._emulators.get(scenario)
                if emulator is None:
                    if self.log is not None:
                        self.log(f"starting the emulator with scenario {scenario}")
                    emulator = self._emulators[scenario] = start_emulator(scenario)
            yield emulator
        finally:
            with self._locks[scenario]:
                self._remaining[scenario] -= 1
                if self._remaining[scenario] <= 0:
                    self._stop(scenario)

    def _stop(self, scenario: str) -> None:
        emulator = self._emulators.pop(scenario, None)
        if emulator is None:
            return
        if self._sandbox == "warm":
            from cloudinspect.sandbox.pool import close_pools

            close_pools(emulator.endpoint_url)
        emulator.stop()

    def close(self) -> None:
        """Stop every emulator still running (an interruption leaves cells in flight)."""
        for scenario in list(self._emulators):
            with contextlib.suppress(Exception):
                self._stop(scenario)


# -- one cell ----------------------------------------------------------------------------------------------------


@dataclass
class _Bench:
    """What every cell shares."""

    config: TroubleshootBenchConfig
    faults: dict[str, Fault]
    store: TroubleshootBenchStore
    emulators: _SharedEmulators
    limits: ProviderLimits
    log: Callable[[str], None] | None = None


def run_troubleshoot_cell(
    bench: _Bench, cell: TroubleshootCell
) -> tuple[TroubleshootCellResult, TroubleshootResult | None]:
    """Troubleshoot and score one cell: (its result, the troubleshooting result or None). A cell that raises is an
    `error` result with the reason; it never stops the benchmark."""
    from cloudinspect.models import get_spec
    from cloudinspect.report.charts import short_label
    from cloudinspect.troubleshoot.run import troubleshoot
    from cloudinspect.troubleshoot.score import score_result

    config = bench.config
    started, clock = datetime.now(UTC), time.monotonic()
    fault = bench.faults[cell.scenario]
    try:
        spec = get_spec(cell_model_id(cell.model_id, cell.scenario))
        planner = get_spec(cell_model_id(config.planner_model, cell.scenario)) if config.planner_model else None
        log = bench.log
        who = f"{cell.scenario} | {short_label(cell.model_id)}"
        on_event = None if log is None else (lambda line: log(f"{who}: {line}"))
        with contextlib.ExitStack() as stack:
            providers = sorted({spec.provider, *([planner.provider] if planner else [])}, key=lambda p: p.value)
            for provider in providers:  # always in one order: two cells never wait for each other's slot
                stack.enter_context(bench.limits.slot(provider))
            emulator = stack.enter_context(bench.emulators.use(cell.scenario))
            result = troubleshoot(
                fault.problem,
                model=spec,
                planner_model=planner,
                target=f"endpoint:{emulator.endpoint_url}",
                max_rounds=config.max_rounds,
                max_inspections=config.max_inspections,
                concurrency=config.inspect_concurrency,
                token_budget=config.token_budget,
                sandbox=config.sandbox,
                max_attempts=config.max_attempts,
                store=bench.store.runs,
                on_event=on_event,
            )
        # the shared emulator's loopback URL means nothing once the run is over: record which account it was
        result = result.model_copy(update={"target": f"emulator:{cell.scenario}"})
        score = score_result(result, fault)
        return cell_result(cell, fault.name, result, score, started), result
    except Exception as exc:  # one cell never stops the benchmark
        from cloudinspect.redact import redact_text

        return (
            TroubleshootCellResult(
                cell=cell,
                status="error",
                fault=fault.name,
                duration_ms=round((time.monotonic() - clock) * 1000, 1),
                reason=redact_text(f"{type(exc).__name__}: {exc}")[:1000],
                started_at=started,
                finished_at=datetime.now(UTC),
            ),
            None,
        )


def cell_result(
    cell: TroubleshootCell, fault: str, result: TroubleshootResult, score: TroubleshootScore, started: datetime
) -> TroubleshootCellResult:
    """A cell's result from its troubleshooting result and its score."""
    hypotheses = result.diagnosis.hypotheses
    top = hypotheses[0] if hypotheses else None
    return TroubleshootCellResult(
        cell=cell,
        status="found" if score.root_cause_found else "not_found",
        fault=fault,
        root_cause_found=score.root_cause_found,
        evidence_cited_correctly=score.evidence_cited_correctly,
        score=score.score,
        scoring=score,
        model_id=result.model_id,
        planner_model_id=result.planner_model_id,
        rounds=result.rounds,
        inspections=len(result.inspections),
        inspections_passed=sum(1 for o in result.inspections if o.status == "passed"),
        plans=len(result.plans),
        fallback_plans=sum(1 for plan in result.plans if plan.fallback),
        failed_steps=sum(1 for step in result.steps if not step.ok),
        evidence_items=len(result.evidence.items),
        evidence_tokens=result.evidence.tokens,
        top_hypothesis="" if top is None else f"{top.title} [{', '.join(top.labels) or 'no label'}]",
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost_usd=result.cost_usd,
        duration_ms=result.duration_ms,
        reason="; ".join(result.diagnosis.warnings)[:1000],
        started_at=started,
        finished_at=datetime.now(UTC),
    )


# -- the benchmark -----------------------------------------------------------------------------------------------


def _progress(console: Console) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]cells"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("found {task.fields[found]}, errors {task.fields[errors]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _describe(result: TroubleshootCellResult) -> str:
    outcome = {"found": "root cause found", "not_found": "root cause not found", "error": "error"}[result.status]
    detail = result.reason if result.status == "error" else (result.top_hypothesis or "no hypothesis")
    return (
        f"{result.cell.scenario} | {result.cell.model_id} | r{result.cell.repeat}: {outcome}, score "
        f"{result.score:.2f}, {result.duration_ms / 1000:.1f} s; {detail}"
    )


def _execute(
    bench: _Bench,
    pending: Sequence[TroubleshootCell],
    done: Sequence[TroubleshootCellResult],
    console: Console | None,
) -> None:
    """Run `pending` on `concurrency` threads, recording each cell as it finishes (here only: one writer); an
    interruption records nothing more and does not wait for the cells in flight."""
    progress = _progress(console) if console is not None else None
    found = sum(1 for r in done if r.root_cause_found)
    errors = sum(1 for r in done if r.status == "error")
    stopping = threading.Event()

    def work(cell: TroubleshootCell) -> tuple[TroubleshootCellResult, TroubleshootResult | None] | None:
        return None if stopping.is_set() else run_troubleshoot_cell(bench, cell)

    with progress if progress is not None else contextlib.nullcontext():
        task_id = None
        if progress is not None:
            total = len(pending) + len(done)
            task_id = progress.add_task("cells", total=total, completed=len(done), found=found, errors=errors)
            bench.log = bench.emulators.log = lambda line: progress.console.print(
                line, style="dim", markup=False, highlight=False
            )
        pool = ThreadPoolExecutor(max_workers=bench.config.concurrency, thread_name_prefix="tbench-cell")
        try:
            futures: set[Future[tuple[TroubleshootCellResult, TroubleshootResult | None] | None]] = {
                pool.submit(work, cell) for cell in pending
            }
            while futures:
                finished, futures = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome = future.result()
                    if outcome is None:
                        continue
                    result, detail = outcome
                    bench.store.record(result, detail)
                    found += int(result.root_cause_found)
                    errors += int(result.status == "error")
                    if progress is not None and task_id is not None:
                        progress.console.print(_describe(result), markup=False, highlight=False)
                        progress.update(task_id, advance=1, found=found, errors=errors)
        except BaseException:  # Ctrl-C: do not wait for the cells in flight
            stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def resolve_config(config: TroubleshootBenchConfig) -> tuple[TroubleshootBenchConfig, dict[str, Fault]]:
    """The config with its scenarios spelled out (every fault scenario when none is given), and their faults."""
    faults = fault_scenarios(config.scenarios)
    return config.model_copy(update={"scenarios": list(faults)}), faults


def run_troubleshoot_benchmark(
    config: TroubleshootBenchConfig, directory: Path, progress: bool = True
) -> TroubleshootSummary:
    """Run (or resume) the troubleshooting benchmark `config` in `directory` and return its summary, also written
    to `directory/summary.json` with report.html and report.md. Cells already recorded there are not run again;
    a directory holding another benchmark (or the code suite's) is refused with an InputError, as is a scenario
    without a fault."""
    from cloudinspect.bench.runner import ProviderLimits

    config, faults = resolve_config(config)
    _check_models(config)
    cells = build_troubleshoot_cells(config)
    keys = {cell.key for cell in cells}
    console = Console(stderr=True, highlight=False) if progress else None
    with TroubleshootBenchStore(directory) as store:
        store.save_config(config)
        done = [r for r in store.results() if r.cell.key in keys]
        recorded = {r.cell.key for r in done}
        pending = [cell for cell in cells if cell.key not in recorded]
        if console is not None:
            console.print(
                f"troubleshooting benchmark {directory}: {len(config.models)} model(s) x {len(faults)} fault "
                f"scenario(s) x {config.repeat} repeat(s) = {len(cells)} cells; {len(done)} already done, "
                f"{len(pending)} to run",
                markup=False,
            )
        if pending:
            emulators = _SharedEmulators(Counter(cell.scenario for cell in pending), config.sandbox)
            try:
                bench = _Bench(config, faults, store, emulators, ProviderLimits(config.concurrency))
                _execute(bench, pending, done, console)
            finally:
                emulators.close()
        results = [r for r in store.results() if r.cell.key in keys]
        details = {key: value for key, value in store.details().items() if key in keys}
    summary = summarize_troubleshoot(config, [fault_info(s, f) for s, f in faults.items()], results)
    write_troubleshoot_summary(directory, summary)
    from cloudinspect.report.troubleshoot import write_troubleshoot_reports

    write_troubleshoot_reports(directory, summary, results, details)
    return summary


# -- summary.json ------------------------------------------------------------------------------------------------


def write_troubleshoot_summary(directory: Path, summary: TroubleshootSummary) -> Path:
    """Write `DIR/summary.json` atomically."""
    from cloudinspect.fileio import write_text_atomic

    directory.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(directory / SUMMARY_FILE, summary.model_dump_json(indent=2) + "\n")


def read_troubleshoot_summary(directory: Path) -> TroubleshootSummary:
    """Read a troubleshooting benchmark's `DIR/summary.json`; an InputError naming the file when it is missing,
    not JSON, from a newer cloudinspect, or not a troubleshooting summary."""
    import json

    from pydantic import ValidationError

    from cloudinspect.yamlfiles import problems_from_validation

    path = directory / SUMMARY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("no benchmark summary here (run `cloudinspect bench --out DIR` first)", path) from exc
    except OSError as exc:
        raise InputError(f"cannot read the benchmark summary: {exc.strerror}", path) from exc
    except json.JSONDecodeError as exc:
        raise InputError("not valid JSON", path, [Problem(exc.msg, line=exc.lineno)]) from exc
    if not isinstance(data, dict) or data.get("suite") != TROUBLESHOOT_SUITE:
        raise InputError('not a troubleshooting benchmark summary (no "suite": "troubleshoot")', path)
    version = data.get("schema_version", TROUBLESHOOT_SCHEMA_VERSION)
    if isinstance(version, int) and version > TROUBLESHOOT_SCHEMA_VERSION:
        raise InputError(
            f"summary schema version {version} is newer than this cloudinspect reads "
            f"({TROUBLESHOOT_SCHEMA_VERSION}): upgrade cloudinspect",
            path,
        )
    try:
        return TroubleshootSummary.model_validate(data)
    except ValidationError as exc:
        raise InputError("not a valid troubleshooting benchmark summary", path, problems_from_validation(exc)) from exc
