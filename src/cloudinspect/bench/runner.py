"""`run_benchmark`: every model x task x repeat cell of a `BenchConfig`, resumable, into a benchmark directory.

For a cell, the repair loop runs against the first scenario's emulator (the model sees its feedback there); when it
passes, its final script is graded on every other scenario. Cells run on a bounded thread pool; a semaphore per
provider keeps in-process models to one cell at a time (one llama.cpp model on the CPU) and hosted ones to the
pool's size; replay models are unlimited. One emulator per scenario serves every cell, read-only. Where cells run is
the executor's business (executors.py: `local` threads, or `ray` tasks on a local instance or a cluster); either
way the results come back here, and this process alone records them.

Resume: a cell is recorded (one transaction) only when it is finished, so re-running the same benchmark skips the
recorded cells and redoes the others. A cell that raises is recorded as `error` with the reason; an interruption
(Ctrl-C) records nothing more, stops the emulators and leaves the unfinished cells for next time. Repair runs of
abandoned cells stay in the store as they are (status `running` or `error`); the cell's rerun makes a new run.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from rich.console import Console

from cloudinspect.bench.executors import CellExecutor, make_executor
from cloudinspect.bench.grade import CanonicalAnswers, grade_script
from cloudinspect.bench.store import BenchStore
from cloudinspect.bench.tasks import build_cells, select_tasks
from cloudinspect.bench.types import BenchConfig, BenchSummary, Cell, CellResult, CellStatus, ScenarioGrade
from cloudinspect.catalog import InspectionPrompt
from cloudinspect.cloud import Emulator
from cloudinspect.loop.state import Attempt, RunRecord
from cloudinspect.models.spec import ModelSpec, Provider

CACHE_FILE = "responses.sqlite"

HALLUCINATION_RULES = frozenset(
    {
        "api.unknown-service",
        "api.unknown-operation",
        "api.unknown-paginator",
        "api.unknown-waiter",
        "api.unknown-attribute",
        "api.unknown-exception",
    }
)
"""Review rules that flag a call of something botocore does not have (api.unknown-parameter is a bad parameter
of a real call, not a hallucinated call: the loop classes it parameter_validation)."""
MUTATING_RULE = "read_only.mutating-call"
_BANDIT_HIGH = re.compile(r"severity HIGH\b")
"""Bandit's own severity is in the finding's message ('[...; severity HIGH, confidence ...]'); the review severity
is a mapping of it with per-test overrides, so it is not the measure."""


# -- per-provider limits -----------------------------------------------------------------------------------------


class ProviderLimits:
    """A semaphore per provider: llama.cpp 1 (one in-process model shares the CPU), replay unlimited, others the
    benchmark's concurrency (providers have rate limits; the pool's size is the intended load)."""

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._semaphores: dict[Provider, threading.Semaphore] = {}
        self._guard = threading.Lock()

    def limit(self, provider: Provider) -> int | None:
        """How many cells of `provider` may run at once (None: no limit)."""
        if provider is Provider.replay:
            return None
        if provider is Provider.llamacpp:
            return 1
        return self._concurrency

    @contextlib.contextmanager
    def slot(self, provider: Provider) -> Iterator[None]:
        limit = self.limit(provider)
        if limit is None:
            yield
            return
        with self._guard:
            semaphore = self._semaphores.setdefault(provider, threading.Semaphore(limit))
        with semaphore:
            yield


# -- one cell ----------------------------------------------------------------------------------------------------


@dataclass
class _Bench:
    """What every cell shares: the config, the directory, the store, the emulators and the canonical answers."""

    config: BenchConfig
    directory: Path
    store: BenchStore
    prompts: Mapping[str, InspectionPrompt]
    emulators: dict[str, Emulator]
    limits: ProviderLimits
    cache: Any = None
    answers: CanonicalAnswers = field(default_factory=CanonicalAnswers)


def _new_model(bench: _Bench, spec: ModelSpec, repeat: int) -> BaseChatModel:
    """A fresh chat model for one cell (a replay model's cursors are per instance), answering from the response
    cache when there is one. Replay models are never cached: they cost nothing, and a hit would not advance their
    cursor, so a resumed cell would get its replies out of order."""
    from cloudinspect.models import RetryPolicy, client_overrides, get_model

    model = get_model(spec, **client_overrides(spec, RetryPolicy()))
    if bench.cache is None or spec.provider is Provider.replay:
        return model
    from cloudinspect.bench.cache import with_cache

    return with_cache(model, bench.cache.with_namespace(f"r{repeat}"))


def run_cell(bench: _Bench, cell: Cell, *, run_id: str | None = None) -> CellResult:
    """Run, grade and summarise one cell; a cell that raises becomes an `error` result with the reason. `run_id`:
    the repair run's id (default: a new one)."""
    from cloudinspect.catalog import resolve_variables
    from cloudinspect.loop import LoopLimits, run_repair_loop
    from cloudinspect.loop.run import MEMORY_CHECKPOINTS
    from cloudinspect.models import get_spec
    from cloudinspect.store import new_run_id

    config = bench.config
    started, clock = datetime.now(UTC), time.monotonic()
    run_id = run_id or new_run_id()
    scenarios = config.scenarios
    try:
        prompt = bench.prompts[cell.prompt_id]
        variables = resolve_variables(prompt, None)
        spec = get_spec(cell.model_id)
        first = bench.emulators[scenarios[0]]
        limits = LoopLimits(
            max_attempts=config.max_attempts,
            max_cost_usd=config.max_cost_usd,
            exec_timeout_s=config.exec_timeout_s,
            max_continuations=config.max_continuations,
        )
        with bench.limits.slot(spec.provider):
            record = run_repair_loop(
                prompt,
                spec,
                variables=variables,
                target=f"endpoint:{first.endpoint_url}",
                limits=limits,
                sandbox=config.sandbox,
                store=bench.store.runs,
                checkpoint_file=MEMORY_CHECKPOINTS,  # a cell is redone whole, never resumed mid-run
                chat_model=_new_model(bench, spec, cell.repeat),
                run_id=run_id,
                expected=bench.answers.get(prompt, scenarios[0], first, variables),
            )
        attempts = bench.store.runs.attempts(record.run_id)
        grades = [_loop_grade(scenarios[0], record, attempts)]
        if record.status == "passed" and record.final_code is not None:
            for scenario in scenarios[1:]:
                emulator = bench.emulators[scenario]
                expected = bench.answers.get(prompt, scenario, emulator, variables)
                grades.append(
                    grade_script(
                        record.final_code,
                        prompt,
                        scenario,
                        emulator,
                        variables,
                        expected,
                        sandbox=config.sandbox,
                        exec_timeout_s=config.exec_timeout_s,
                    )
                )
        return cell_result(cell, record, attempts, grades, started, (time.monotonic() - clock) * 1000)
    except Exception as exc:  # one cell never stops the benchmark
        return _error_result(bench, cell, run_id, exc, started, (time.monotonic() - clock) * 1000)


def _loop_grade(scenario: str, record: RunRecord, attempts: Sequence[Attempt]) -> ScenarioGrade:
    """The first scenario's grade: the repair loop's verdict on its final attempt there."""
    final = next((a for a in attempts if a.passed), attempts[-1] if attempts else None)
    exec_ms = float((final.exec_result or {}).get("duration_ms", 0.0)) if final is not None else 0.0
    if record.status == "passed" and final is not None:
        return ScenarioGrade(scenario=scenario, passed=True, detail=f"passed in the repair loop (attempt {final.n})")
    error_class = final.error_class if final is not None else "error"
    detail = record.reason or (final.error_message if final is not None else "")
    return ScenarioGrade(
        scenario=scenario, passed=False, error_class=error_class, detail=detail[:500], duration_ms=exec_ms
    )


@dataclass
class _Tally:
    """Counts over a cell's attempts, from the stored review findings and execution results."""

    api_calls: int = 0
    hallucinated_calls: int = 0
    read_only_violations: int = 0
    bandit_high: int = 0


def tally_attempts(attempts: Sequence[Attempt]) -> _Tally:
    """API calls (the review's botocore analysis of each attempt's code), calls of things botocore lacks,
    mutating calls (review findings, and calls the sandbox blocked) and Bandit HIGH findings, over all attempts."""
    from cloudinspect.review import review_code
    from cloudinspect.review.types import ReviewOptions

    tally = _Tally()
    calls_of: dict[str, int] = {}
    for attempt in attempts:
        if attempt.code.strip():
            if attempt.code not in calls_of:
                review = review_code(attempt.code, ReviewOptions(fix=False, checks=["api"]))
                calls_of[attempt.code] = len(review.api_calls)
            tally.api_calls += calls_of[attempt.code]
        for finding in attempt.findings:
            if finding.rule in HALLUCINATION_RULES:
                tally.hallucinated_calls += 1
            elif finding.rule == MUTATING_RULE:
                tally.read_only_violations += 1
            elif finding.rule.startswith("bandit.") and _BANDIT_HIGH.search(finding.message):
                tally.bandit_high += 1
        tally.read_only_violations += len((attempt.exec_result or {}).get("blocked_calls") or [])
    return tally


def cell_result(
    cell: Cell,
    record: RunRecord,
    attempts: Sequence[Attempt],
    grades: Sequence[ScenarioGrade],
    started: datetime,
    duration_ms: float,
) -> CellResult:
    """The cell's result from its repair run and grades: solved only if the loop passed and every grade did."""
    loop_passed = record.status == "passed"
    solved = loop_passed and all(g.passed for g in grades)
    failed_grade = next((g for g in grades if not g.passed), None)
    status: CellStatus
    if solved:
        status, failure_class, reason = "solved", "none", record.reason
    elif loop_passed and failed_grade is not None:
        status, failure_class = "failed", failed_grade.error_class
        reason = f"passed on {grades[0].scenario} but not on {failed_grade.scenario}: {failed_grade.detail}"
    else:
        run_status = record.status
        status = "failed" if run_status == "passed" else run_status  # 'passed' cannot reach here
        failure_class = attempts[-1].error_class if attempts else "error"
        reason = record.reason
    passed_at = next((a.n for a in attempts if a.passed), None) if solved else None
    tally = tally_attempts(attempts)
    return CellResult(
        cell=cell,
        status=status,
        solved=solved,
        run_id=record.run_id,
        attempts=len(attempts),
        passed_at=passed_at,
        attempt_error_classes=[a.error_class for a in attempts],
        failure_class=failure_class,
        grades=list(grades),
        tokens_in=sum(a.usage.tokens_in for a in attempts),
        tokens_out=sum(a.usage.tokens_out for a in attempts),
        cost_usd=round(sum(a.usage.cost_usd for a in attempts), 6),
        duration_ms=round(duration_ms, 1),
        attempt_latencies_ms=[a.usage.latency_ms for a in attempts],
        api_calls=tally.api_calls,
        hallucinated_calls=tally.hallucinated_calls,
        read_only_violations=tally.read_only_violations,
        bandit_high=tally.bandit_high,
        reason=reason[:1000],
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def _error_result(
    bench: _Bench, cell: Cell, run_id: str, exc: Exception, started: datetime, duration_ms: float
) -> CellResult:
    """An `error` cell: what the machinery (not the model) failed with, and the attempts that had finished."""
    from cloudinspect.redact import redact_text

    attempts: list[Attempt] = []
    with contextlib.suppress(Exception):  # the run may not exist (the failure came before it started)
        attempts = bench.store.runs.attempts(run_id)
    tally = tally_attempts(attempts) if attempts else _Tally()
    return CellResult(
        cell=cell,
        status="error",
        solved=False,
        run_id=run_id if attempts else None,
        attempts=len(attempts),
        attempt_error_classes=[a.error_class for a in attempts],
        failure_class="error",
        tokens_in=sum(a.usage.tokens_in for a in attempts),
        tokens_out=sum(a.usage.tokens_out for a in attempts),
        cost_usd=round(sum(a.usage.cost_usd for a in attempts), 6),
        duration_ms=round(duration_ms, 1),
        attempt_latencies_ms=[a.usage.latency_ms for a in attempts],
        api_calls=tally.api_calls,
        hallucinated_calls=tally.hallucinated_calls,
        read_only_violations=tally.read_only_violations,
        bandit_high=tally.bandit_high,
        reason=redact_text(f"{type(exc).__name__}: {exc}")[:1000],
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def lost_cell_result(bench: _Bench, cell: Cell, run_id: str, exc: BaseException, started: datetime) -> CellResult:
    """An `error` cell whose runner was lost (a Ray worker that died): the attempts it had stored, if any."""
    duration_ms = (datetime.now(UTC) - started).total_seconds() * 1000
    return _error_result(bench, cell, run_id, RuntimeError(f"the cell's worker was lost: {exc}"), started, duration_ms)


# -- the benchmark -----------------------------------------------------------------------------------------------


def warm_pool_sizes(scenarios: Sequence[str], concurrency: int) -> dict[str, int]:
    """Children of each scenario's warm pool: the first scenario's pool serves every cell's repair loop (one or
    more runs per cell, `concurrency` cells at once), so it gets one child per concurrent cell (at least 2, at
    most 4: beyond that the refill, not the pool, is the limit); the others run a prompt's reference script and
    then its grading back to back, so two children each (children warm without preloading: ~35 MiB each)."""
    return {name: (max(2, min(concurrency, 4)) if i == 0 else 2) for i, name in enumerate(scenarios)}


@contextlib.contextmanager
def _emulators(
    scenarios: Sequence[str], console: Console | None, *, warm_pools: Mapping[str, int] | None = None
) -> Iterator[dict[str, Emulator]]:
    """One seeded emulator per scenario, started in parallel, stopped (with their warm pools) on exit.
    `warm_pools`: children per scenario's warm pool; those pools are sized so and start warming at once."""
    from cloudinspect.cloud import start_emulator
    from cloudinspect.sandbox.pool import close_pools, pool_sizes

    if console is not None:
        console.print(f"starting {len(scenarios)} emulator(s): {', '.join(scenarios)}")
    clock = time.monotonic()
    with contextlib.ExitStack() as stack:
        started: dict[str, Emulator] = {}
        with ThreadPoolExecutor(max_workers=len(scenarios), thread_name_prefix="bench-emulator") as pool:
            futures = {name: pool.submit(start_emulator, name) for name in scenarios}
            for name, future in futures.items():
                with contextlib.suppress(Exception):  # the loop below re-raises the first failure
                    emulator = future.result()
                    stack.enter_context(emulator)
                    stack.callback(close_pools, emulator.endpoint_url)
                    started[name] = emulator
        for future in futures.values():
            future.result()
        if warm_pools:
            from cloudinspect.sandbox.base import Endpoint
            from cloudinspect.sandbox.pool import get_pool

            sizes = {started[name].endpoint_url: size for name, size in warm_pools.items()}
            stack.enter_context(pool_sizes(sizes, preload=()))
            for url, size in sizes.items():  # the same pool the cells' runs get: they start warming now
                get_pool(Endpoint(url), size=size, preload=())
        if console is not None:
            console.print(f"emulators ready in {time.monotonic() - clock:.1f} s")
        yield {name: started[name] for name in scenarios}


def _progress(console: Console) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]cells"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("solved {task.fields[solved]}, errors {task.fields[errors]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _execute_cells(
    bench: _Bench, executor: CellExecutor, pending: Sequence[Cell], done: Sequence[CellResult], console: Console | None
) -> None:
    """Run `pending` on `executor`, recording each result as it comes back (here only: one writer of the cells);
    Ctrl-C records nothing more and returns without waiting for the cells in flight."""
    progress = _progress(console) if console is not None else None
    solved = sum(1 for r in done if r.solved)
    errors = sum(1 for r in done if r.status == "error")
    with progress if progress is not None else contextlib.nullcontext():
        task_id = None
        if progress is not None:
            total = len(pending) + len(done)
            task_id = progress.add_task("cells", total=total, completed=len(done), solved=solved, errors=errors)
        with contextlib.closing(executor.results(pending)) as results:
            for result in results:
                bench.store.record(result)
                solved += int(result.solved)
                errors += int(result.status == "error")
                if progress is not None and task_id is not None:
                    progress.update(task_id, advance=1, solved=solved, errors=errors)


def _check_config(config: BenchConfig) -> None:
    """Refuse what would make every cell of a model fail (an unknown id, a missing API key or package, an
    unreadable replay file) before starting anything: building each model once says so, without calling it."""
    from cloudinspect.models import get_model, get_spec

    if config.executor == "ray":
        from cloudinspect.bench.executors import require_ray

        require_ray()
    for model_id in config.models:
        get_model(get_spec(model_id))


def run_benchmark(config: BenchConfig, directory: Path, *, progress: bool = True) -> BenchSummary:
    """Run (or resume) the benchmark `config` in `directory` and return its summary, also written to
    `directory/summary.json`. Cells already recorded there are not run again; a directory holding another
    benchmark is refused (InputError)."""
    from cloudinspect.bench.metrics import summarize, write_summary
    from cloudinspect.catalog import load_catalog

    _check_config(config)
    catalog = load_catalog()
    tasks = select_tasks(config.prompts, config.scenarios, catalog)
    cells = build_cells(config, tasks)
    keys = {cell.key for cell in cells}
    console = Console(stderr=True, highlight=False) if progress else None
    with BenchStore(directory) as store:
        store.save_config(config)
        done = [r for r in store.results() if r.cell.key in keys]
        recorded = {r.cell.key for r in done}
        pending = [cell for cell in cells if cell.key not in recorded]
        if console is not None:
            console.print(
                f"benchmark {directory}: {len(config.models)} model(s) x {len(tasks)} task(s) x {config.repeat} "
                f"repeat(s) = {len(cells)} cells; {len(done)} already done, {len(pending)} to run"
            )
        answers: dict[tuple[str, str], Any] = {}
        if pending:
            with contextlib.ExitStack() as stack:
                cache = None
                if config.cache:
                    from cloudinspect.bench.cache import ResponseCache

                    cache = ResponseCache(directory / CACHE_FILE)
                    stack.callback(cache.close)
                warm = warm_pool_sizes(config.scenarios, config.concurrency) if config.sandbox == "warm" else None
                emulators = stack.enter_context(_emulators(config.scenarios, console, warm_pools=warm))
                bench = _Bench(
                    config=config,
                    directory=directory,
                    store=store,
                    prompts={task.prompt_id: catalog[task.prompt_id] for task in tasks},
                    emulators=emulators,
                    limits=ProviderLimits(config.concurrency),
                    cache=cache,
                    answers=CanonicalAnswers("warm" if config.sandbox == "warm" else None),
                )
                executor = make_executor(bench, pending, lambda cell: run_cell(bench, cell))
                _execute_cells(bench, executor, pending, done, console)
                answers = bench.answers.known()
        results = [r for r in store.results() if r.cell.key in keys]
    summary = summarize(config, tasks, results)
    write_summary(directory, summary)
    _write_reports(directory, summary, results)
    _publish(directory, config, tasks, results, catalog, answers, console)  # after the results are on disk
    return summary


def _publish(
    directory: Path,
    config: BenchConfig,
    tasks: list[Any],
    results: list[CellResult],
    catalog: Any,
    answers: dict[tuple[str, str], Any],
    console: Console | None,
) -> None:
    """Upload the tasks as a LangSmith dataset and each model's cells as an experiment, when configured."""
    from cloudinspect.bench.langsmith import publish_to_langsmith

    published = publish_to_langsmith(directory, config, tasks, results, catalog=catalog, answers=answers)
    if published is None or console is None:
        return
    for warning in published.warnings:
        console.print(f"[yellow]LangSmith[/]: {warning}", markup=True)
    names = ", ".join(e.name for e in published.experiments)
    console.print(f"LangSmith: dataset {published.dataset_name}; experiments {names}", markup=False)


def _write_reports(directory: Path, summary: BenchSummary, results: list[CellResult]) -> None:
    """report.html, report.md, cells.csv and cells.json next to summary.json, with every attempt of every cell."""
    from cloudinspect.report import write_reports

    with BenchStore(directory) as store:
        attempts = {r.run_id: store.runs.attempts(r.run_id) for r in results if r.run_id is not None}
    write_reports(directory, summary, results, attempts)
