"""The benchmark's store: `DIR/bench.sqlite`, one SQLite file holding the repair runs (a `ResultStore`: runs and
attempts) and the benchmark's own tables, `cells` (one row per finished cell) and `bench_meta` (its config).

Resume rests on two properties. A cell is written in one transaction when it is finished, and only then: a kill
leaves it absent, never half-written, so the next run redoes it. A cell key is the primary key: recording it
again replaces the row, so a benchmark never holds two results for one cell.

Durability as the results store: WAL with `synchronous=FULL` (a committed cell survives a kill -9 or power cut).
The cells live on their own connection (the ResultStore's is private to it); both wait for each other's
writes up to BUSY_TIMEOUT_S.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pydantic_core

from cloudinspect.bench.types import BenchConfig, CellResult
from cloudinspect.errors import InputError, Problem
from cloudinspect.store import ResultStore

STORE_FILE = "bench.sqlite"
CONFIG_KEY = "config"
OTHER_SUITE_KEY = "troubleshoot_config"
"""The troubleshooting benchmark's config key (cloudinspect.bench._tsuite_store): a directory holds one suite."""

FIXED_FIELDS = (
    "models",
    "prompts",
    "scenarios",
    "repeat",
    "max_attempts",
    "max_cost_usd",
    "exec_timeout_s",
    "max_continuations",
)
"""What defines a benchmark's matrix and its results: a resumed benchmark must keep them. Concurrency, executor,
sandbox and the response cache change how fast cells run, not what they measure, and may differ."""


class BenchDirectoryStore:
    """`DIR/bench.sqlite` opened for one suite: the repair runs (`.runs`, a ResultStore on the same file, which
    migrates it, the benchmark's tables included; its connection and transactions serve both). A context manager;
    each suite's store adds its config and cells."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser()
        self.path = self.directory / STORE_FILE
        self.directory.mkdir(parents=True, exist_ok=True)
        self.runs = ResultStore(self.path)
        self._transaction = self.runs.transaction

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the store (idempotent)."""
        self.runs.close()

    def _upsert(self, table: str, row: dict[str, Any]) -> None:
        """Write one cell's row in one transaction; a cell recorded again (same cell_key) is replaced."""
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "cell_key")
        with self._transaction(write=True) as conn:
            conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({values}) "  # noqa: S608 (fixed table and column names)
                f"ON CONFLICT (cell_key) DO UPDATE SET {updates}",
                row,
            )


class BenchStore(BenchDirectoryStore):
    """`DIR/bench.sqlite`: the repair runs (`.runs`, a ResultStore on the same file), the cells and the config.

    with BenchStore(directory) as store:
        store.save_config(config)
        store.record(result)          # atomic; recording a cell again replaces it
        done = store.results()
    """

    # -- config -------------------------------------------------------------------------------------------------

    def config(self) -> BenchConfig | None:
        """The benchmark's stored configuration (None in a new directory)."""
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = ?", (CONFIG_KEY,)).fetchone()
        return None if row is None else BenchConfig.model_validate_json(row[0])

    def save_config(self, config: BenchConfig) -> None:
        """Store `config`; in a directory that holds another benchmark (different FIXED_FIELDS, or the
        troubleshooting suite), refuse with an InputError rather than mix two matrices. Fields that may differ
        are updated to the latest run's."""
        with self._transaction(write=True) as conn:
            if conn.execute("SELECT 1 FROM bench_meta WHERE key = ?", (OTHER_SUITE_KEY,)).fetchone() is not None:
                raise InputError(
                    "this directory holds a troubleshooting benchmark (`cloudinspect bench --suite troubleshoot`): "
                    "choose another --out for the code benchmark",
                    self.directory,
                )
            row = conn.execute("SELECT value FROM bench_meta WHERE key = ?", (CONFIG_KEY,)).fetchone()
            if row is not None:
                _check_same(BenchConfig.model_validate_json(row[0]), config, self.directory)
            conn.execute(
                "INSERT INTO bench_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (CONFIG_KEY, config.model_dump_json()),
            )

    # -- cells --------------------------------------------------------------------------------------------------

    def record(self, result: CellResult) -> None:
        """Write a finished cell, committed before returning; a cell recorded again replaces its row."""
        from cloudinspect.redact import redact_data

        data = redact_data(result.model_dump(mode="json"))
        row = {
            "cell_key": result.cell.key,
            "model_id": result.cell.model_id,
            "prompt_id": result.cell.prompt_id,
            "repeat": result.cell.repeat,
            "status": result.status,
            "solved": int(result.solved),
            "run_id": result.run_id,
            "result": pydantic_core.to_json(data, inf_nan_mode="null").decode(),
            "finished_at": _time(result.finished_at),
            "recorded_at": _time(datetime.now(UTC)),
        }
        self._upsert("cells", row)

    def results(self) -> list[CellResult]:
        """Every recorded cell, by model, prompt and repeat."""
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT result FROM cells ORDER BY model_id, prompt_id, repeat").fetchall()
        return [CellResult.model_validate_json(row[0]) for row in rows]

    def keys(self) -> set[str]:
        """The keys of the recorded cells (what a resumed benchmark skips)."""
        with self._transaction(write=False) as conn:
            return {row[0] for row in conn.execute("SELECT cell_key FROM cells")}


def _check_same(stored: BenchConfig, given: BenchConfig, directory: Path) -> None:
    problems = [
        Problem(f"this directory's benchmark has {getattr(stored, name)!r}, now {getattr(given, name)!r}", name)
        for name in FIXED_FIELDS
        if getattr(stored, name) != getattr(given, name)
    ]
    if problems:
        raise InputError(
            "this directory holds another benchmark: to resume it, give the same models, prompts, scenarios, "
            "repeat, max attempts and budgets (concurrency, executor and sandbox may differ); "
            "to start a new one, choose another --out",
            directory,
            problems,
        )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
