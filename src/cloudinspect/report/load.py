"""Read a benchmark directory back: its summary, its cells and their repair runs' attempts.

The cells come from the benchmark's store (`bench.sqlite`, through `BenchStore`); a directory that only holds
the exported files (copied from elsewhere, the database left behind) is read from `cells.json`, without attempts.
A benchmark interrupted before it wrote `summary.json` is summarised from its store on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cloudinspect.bench.metrics import SUMMARY_FILE, read_summary
from cloudinspect.bench.store import STORE_FILE, BenchStore
from cloudinspect.bench.types import BenchConfig, BenchSummary, CellResult
from cloudinspect.errors import InputError, UnknownIdError
from cloudinspect.loop.state import Attempt
from cloudinspect.report.export import cells_from_json

CELLS_FILE = "cells.json"


@dataclass(frozen=True)
class Benchmark:
    """A benchmark directory as the reports read it."""

    directory: Path
    summary: BenchSummary
    results: list[CellResult]
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    source: Literal["bench.sqlite", "cells.json"] = "bench.sqlite"


def _from_store(
    directory: Path, with_attempts: bool
) -> tuple[BenchConfig | None, list[CellResult], dict[str, list[Attempt]]]:
    with BenchStore(directory) as store:
        config = store.config()
        results = store.results()
        attempts: dict[str, list[Attempt]] = {}
        if with_attempts:
            for result in results:
                if result.run_id:
                    try:
                        attempts[result.run_id] = store.runs.attempts(result.run_id)
                    except UnknownIdError:
                        continue  # a cell that failed before its run was stored
    return config, results, attempts


def _summarize(config: BenchConfig, results: list[CellResult]) -> BenchSummary:
    from cloudinspect.bench.metrics import summarize
    from cloudinspect.bench.tasks import select_tasks

    return summarize(config, select_tasks(config.prompts, config.scenarios), results)


def load_benchmark(directory: Path, *, with_attempts: bool = True) -> Benchmark:
    """The summary, cells and (with `with_attempts`) attempts of the benchmark in `directory`."""
    directory = directory.expanduser()
    if not directory.is_dir():
        raise InputError("not a directory: expected a benchmark directory (`cloudinspect bench --out DIR`)", directory)
    config: BenchConfig | None = None
    attempts: dict[str, list[Attempt]] = {}
    source: Literal["bench.sqlite", "cells.json"]
    if (directory / STORE_FILE).is_file():
        config, results, attempts = _from_store(directory, with_attempts)
        source = "bench.sqlite"
    elif (directory / CELLS_FILE).is_file():
        results, source = cells_from_json(directory / CELLS_FILE), "cells.json"
    else:
        raise InputError(f"not a benchmark directory: neither {STORE_FILE} nor {CELLS_FILE} is here", directory)
    if (directory / SUMMARY_FILE).is_file():
        summary = read_summary(directory)
    elif config is not None:
        summary = _summarize(config, results)
    else:
        raise InputError(f"no {SUMMARY_FILE} and no benchmark configuration to summarise the cells with", directory)
    return Benchmark(directory, summary, results, attempts, source)
