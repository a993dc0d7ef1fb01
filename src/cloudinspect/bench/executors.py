"""Where a benchmark's cells run: `local` (a thread pool in this process) or `ray` (each cell a Ray task).

Both executors hand finished `CellResult`s back to the driver (`run_benchmark`), which alone records them in the
benchmark store: the `cells` table has one writer, whatever runs the cells. Both honour the per-provider limits
(`ProviderLimits`: one llama.cpp cell at a time, hosted providers `concurrency` each, replay unlimited), and both
stop on an interruption (Ctrl-C) without handing back anything more: cells not started are cancelled, cells in
flight are abandoned, and the recorded ones stay for the next run (resume).

The Ray executor. Ray is an optional extra (`pip install 'cloudinspect[ray]'`). With RAY_ADDRESS set, the driver
joins that cluster; otherwise it starts a local instance with `concurrency` CPUs (so `--concurrency` is still the
number of cells at once), without the dashboard, and shuts it down at the end. A task needs one CPU. What a worker
gets (`WorkerContext`, put in the object store once): the config, the prompts, each scenario's emulator endpoint
and region, the benchmark directory, and the canonical answers, computed on the driver (workers never re-run the
reference scripts). A worker runs the repair loop into the same `bench.sqlite` (runs and attempts; SQLite WAL with a
busy timeout serialises the processes of one machine), the same checkpoints file and the same response cache.

The per-provider limits are kept by the driver, which submits a cell only when its provider has a free slot: one
process submits, so its count is exact across every worker and node, needs no custom Ray resource declared on the
cluster, and cannot leak a slot when a worker dies. Tasks are not retried (a retry would redo a cell whose repair
run may have half-written its attempts): a worker that dies makes its cell an `error` result.

On a cluster (RAY_ADDRESS): every node needs cloudinspect installed (same version), the model's API keys in its
own environment (the driver never ships credentials), replay files at the same paths, and the emulators'
endpoints reachable from the nodes: the driver's emulators listen on loopback, so start them for the cluster
(`cloudinspect emulator up --host 0.0.0.0`) or use a shared endpoint. The run details (attempts, checkpoints) are
written where the workers see the benchmark directory: unless it is on a filesystem shared by the nodes, they stay
on the workers, and the driver's store and reports have the cells' results without their attempts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.bench.grade import CanonicalAnswers
from cloudinspect.bench.types import BenchConfig, Cell, CellResult
from cloudinspect.catalog import InspectionPrompt
from cloudinspect.cloud import Emulator
from cloudinspect.errors import InputError, Problem

if TYPE_CHECKING:
    from cloudinspect.bench.runner import ProviderLimits, _Bench
    from cloudinspect.models.spec import Provider

RAY_ADDRESS_ENV = "RAY_ADDRESS"
RAY_OBJECT_STORE_BYTES = 128 * 1024 * 1024
"""Object store of a local instance: the context and the results are kilobytes; Ray's default (30 % of the memory)
would reserve gigabytes of shared memory for nothing."""


class CellExecutor(Protocol):
    """Runs cells and yields their results as they finish, in any order. Closing the iterator early (an exception
    in the consumer, Ctrl-C) cancels what has not started and yields nothing more."""

    def results(self, cells: Sequence[Cell]) -> Generator[CellResult]: ...


# -- local -------------------------------------------------------------------------------------------------------


class LocalExecutor:
    """Today's behaviour: `concurrency` threads of this process; `run` applies the per-provider limits itself
    (runner.run_cell holds a ProviderLimits slot around the repair loop)."""

    def __init__(self, run: Callable[[Cell], CellResult], concurrency: int) -> None:
        self._run = run
        self._concurrency = concurrency

    def results(self, cells: Sequence[Cell]) -> Generator[CellResult]:
        stopping = threading.Event()

        def work(cell: Cell) -> CellResult | None:
            return None if stopping.is_set() else self._run(cell)

        pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="bench-cell")
        try:
            futures: set[Future[CellResult | None]] = {pool.submit(work, cell) for cell in cells}
            while futures:
                finished, futures = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    result = future.result()
                    if result is not None:
                        yield result
        except BaseException:  # Ctrl-C or the consumer closing us: do not wait for the cells in flight
            stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


# -- ray ---------------------------------------------------------------------------------------------------------


class Endpoint(BaseModel):
    """Where a worker reaches one scenario's emulator."""

    model_config = ConfigDict(frozen=True)

    url: str
    region: str


class WorkerContext(BaseModel):
    """Everything a Ray worker needs to run cells of one benchmark, shipped once through the object store.

    `answers[prompt_id][scenario]` is the canonical output there; a pair in `no_answer` has none (its reference
    script cannot run there); a pair in neither is computed by the worker (it should not happen)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    token: str = Field(description="Identifies the benchmark run: a worker reuses its store and cache for it.")
    config: BenchConfig
    directory: str
    endpoints: dict[str, Endpoint]
    prompts: dict[str, InspectionPrompt]
    answers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    no_answer: list[tuple[str, str]] = Field(default_factory=list)


class ShippedAnswers(CanonicalAnswers):
    """The driver's canonical answers on a worker (the loop's NO_ANSWER sentinel is an identity: it is shipped as
    membership of `no_answer`, and restored here)."""

    def __init__(self, answers: dict[str, dict[str, Any]], no_answer: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._shipped = answers
        self._none = set(no_answer)

    def get(self, prompt: InspectionPrompt, scenario: str, emulator: Emulator, variables: Any) -> Any:
        from cloudinspect.loop.context import NO_ANSWER

        if scenario in self._shipped.get(prompt.id, {}):
            return self._shipped[prompt.id][scenario]
        if (prompt.id, scenario) in self._none:
            return NO_ANSWER
        return super().get(prompt, scenario, emulator, variables)


def worker_context(bench: _Bench, cells: Sequence[Cell], token: str) -> WorkerContext:
    """The context of `bench` for workers, with the canonical answers of `cells`' prompts on every scenario
    computed here first (in parallel, `concurrency` at a time)."""
    from cloudinspect.catalog import resolve_variables
    from cloudinspect.loop.context import NO_ANSWER

    pairs = sorted({(cell.prompt_id, scenario) for cell in cells for scenario in bench.config.scenarios})

    def answer(pair: tuple[str, str]) -> Any:
        prompt = bench.prompts[pair[0]]
        return bench.answers.get(prompt, pair[1], bench.emulators[pair[1]], resolve_variables(prompt, None))

    with ThreadPoolExecutor(max_workers=bench.config.concurrency, thread_name_prefix="bench-answer") as pool:
        values = list(pool.map(answer, pairs))
    answers: dict[str, dict[str, Any]] = {}
    no_answer: list[tuple[str, str]] = []
    for (prompt_id, scenario), value in zip(pairs, values, strict=True):
        if value is NO_ANSWER:
            no_answer.append((prompt_id, scenario))
        else:
            answers.setdefault(prompt_id, {})[scenario] = value
    return WorkerContext(
        token=token,
        config=bench.config,
        directory=str(bench.directory),
        endpoints={name: Endpoint(url=e.endpoint_url, region=e.region) for name, e in bench.emulators.items()},
        prompts=dict(bench.prompts),
        answers=answers,
        no_answer=no_answer,
    )


_WORKER_LOCK = threading.Lock()
_WORKER_BENCH: dict[str, _Bench] = {}
"""A worker process's bench, by context token: Ray reuses worker processes, so the store, the response cache and
the warm sandbox pools are opened once per process and benchmark, not once per cell."""


def _worker_bench(context: WorkerContext) -> _Bench:
    from cloudinspect.bench.runner import CACHE_FILE, ProviderLimits, _Bench
    from cloudinspect.bench.store import BenchStore

    with _WORKER_LOCK:
        if context.token in _WORKER_BENCH:
            return _WORKER_BENCH[context.token]
        for old in _WORKER_BENCH.values():  # a worker serves one benchmark at a time
            _close_bench(old)
        _WORKER_BENCH.clear()
        directory = Path(context.directory)
        store = BenchStore(directory)
        cache = None
        if context.config.cache:
            from cloudinspect.bench.cache import ResponseCache

            cache = ResponseCache(directory / CACHE_FILE)
        bench = _Bench(
            config=context.config,
            directory=directory,
            store=store,
            prompts=context.prompts,
            emulators={
                name: Emulator(endpoint_url=e.url, region=e.region, scenario=None)  # not ours: never stopped here
                for name, e in context.endpoints.items()
            },
            limits=ProviderLimits(context.config.concurrency),  # the driver already limits; this one never waits
            cache=cache,
            answers=ShippedAnswers(context.answers, context.no_answer),
        )
        _WORKER_BENCH[context.token] = bench
        return bench


def _close_bench(bench: _Bench) -> None:
    bench.store.close()
    if bench.cache is not None:
        bench.cache.close()


def run_remote_cell(context: WorkerContext, cell: Cell, run_id: str) -> CellResult:
    """A Ray task's body: run `cell` with the run id the driver chose (so that the driver finds the attempts of a
    cell whose worker died)."""
    from cloudinspect.bench.runner import run_cell

    return run_cell(_worker_bench(context), cell, run_id=run_id)


def ray_available() -> bool:
    """Whether the optional `ray` package is importable."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def require_ray() -> None:
    """Refuse `executor: ray` without the extra (InputError naming the fix)."""
    if not ray_available():
        raise InputError(
            "the ray executor needs the 'ray' package",
            None,
            [Problem("install it: pip install 'cloudinspect[ray]', or use --executor local", "executor")],
        )


class RayExecutor:
    """Each cell a Ray task (`run_remote_cell`, 1 CPU, no retries), submitted by this driver within the
    per-provider limits; results come back to the driver as they finish.

    `address`: a cluster to join (default: RAY_ADDRESS, else a local instance this executor starts and stops).
    An already initialised Ray (a caller's `ray.init`) is used as it is and left running."""

    def __init__(
        self,
        context: WorkerContext,
        limits: ProviderLimits,
        on_lost: Callable[[Cell, str, BaseException, datetime], CellResult],
        *,
        address: str | None = None,
    ) -> None:
        self._context = context
        self._limits = limits
        self._on_lost = on_lost
        self._address = address if address is not None else os.environ.get(RAY_ADDRESS_ENV) or None
        self.init_seconds: float | None = None

    def _connect(self) -> bool:
        """Join or start Ray; True when this executor started (and so must stop) it."""
        import time

        import ray

        if ray.is_initialized():
            return False
        clock = time.monotonic()
        if self._address is not None:
            ray.init(address=self._address, log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(
                num_cpus=self._context.config.concurrency,
                include_dashboard=False,
                object_store_memory=RAY_OBJECT_STORE_BYTES,
                log_to_driver=False,  # the progress bar owns the terminal; worker logs stay in Ray's session dir
                logging_level=logging.WARNING,
            )
        self.init_seconds = time.monotonic() - clock
        return True

    def results(self, cells: Sequence[Cell]) -> Generator[CellResult]:
        import ray

        from cloudinspect.models import get_spec
        from cloudinspect.store import new_run_id

        started = self._connect()
        remote = ray.remote(num_cpus=1, max_retries=0)(run_remote_cell)
        inflight: dict[Any, tuple[Cell, str, datetime]] = {}
        try:
            context_ref = ray.put(self._context)
            queue: deque[tuple[Cell, Provider]] = deque((cell, get_spec(cell.model_id).provider) for cell in cells)
            running: dict[Provider, int] = {}
            while queue or inflight:
                waiting: deque[tuple[Cell, Provider]] = deque()
                while queue:  # submit, in order, every cell whose provider has a free slot
                    cell, provider = queue.popleft()
                    limit = self._limits.limit(provider)
                    if limit is not None and running.get(provider, 0) >= limit:
                        waiting.append((cell, provider))
                        continue
                    run_id = new_run_id()
                    ref = remote.remote(context_ref, cell, run_id)
                    inflight[ref] = (cell, run_id, datetime.now(UTC))
                    running[provider] = running.get(provider, 0) + 1
                queue = waiting
                ready, _ = ray.wait(list(inflight), num_returns=1)
                for ref in ready:
                    cell, run_id, submitted = inflight.pop(ref)
                    provider = get_spec(cell.model_id).provider
                    running[provider] -= 1
                    try:
                        result: CellResult = ray.get(ref)
                    except Exception as exc:  # the worker died (or the task could not run): the cell is an error
                        result = self._on_lost(cell, run_id, exc, submitted)
                    yield result
        finally:  # finished, interrupted, or closed early: nothing is left running for us
            for ref in inflight:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            if started:
                ray.shutdown()


def make_executor(bench: _Bench, cells: Sequence[Cell], run: Callable[[Cell], CellResult]) -> CellExecutor:
    """The executor `bench.config.executor` names; for Ray, the canonical answers of `cells` are computed here."""
    if bench.config.executor == "local":
        return LocalExecutor(run, bench.config.concurrency)
    require_ray()
    import uuid

    from cloudinspect.bench.runner import lost_cell_result

    def on_lost(cell: Cell, run_id: str, exc: BaseException, started: datetime) -> CellResult:
        return lost_cell_result(bench, cell, run_id, exc, started)

    return RayExecutor(worker_context(bench, cells, uuid.uuid4().hex), bench.limits, on_lost)
