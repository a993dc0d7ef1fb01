"""The troubleshooting benchmark's store: `DIR/bench.sqlite`, the same versioned file as the code benchmark's
(`cloudinspect.store` migrates it), holding the inspections' repair runs (a `ResultStore`), the
`troubleshoot_cells` table (one row per finished cell, with its whole troubleshooting result) and the config in
`bench_meta` under its own key.

Resume rests on the code benchmark's two properties: a cell is written in one transaction when it is finished,
and only then (a kill leaves it absent, so the next run redoes it), and the cell key is the primary key (recording
a cell again replaces it). A directory holds one benchmark of one suite: the config guard refuses a code benchmark's
directory, and another troubleshooting benchmark's (different matrix).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pydantic_core

from cloudinspect.bench._tsuite_types import TroubleshootBenchConfig, TroubleshootCellResult
from cloudinspect.bench.store import CONFIG_KEY, OTHER_SUITE_KEY, BenchDirectoryStore
from cloudinspect.errors import InputError, Problem
from cloudinspect.troubleshoot.types import TroubleshootResult

TROUBLESHOOT_CONFIG_KEY = OTHER_SUITE_KEY

FIXED_FIELDS = (
    "models",
    "planner_model",
    "scenarios",
    "repeat",
    "max_rounds",
    "max_inspections",
    "max_attempts",
    "token_budget",
)
"""What defines the matrix and its results: a resumed benchmark must keep them. Concurrency and the sandbox change
how fast cells run, not what they measure, and may differ."""


class TroubleshootBenchStore(BenchDirectoryStore):
    """`DIR/bench.sqlite` for the troubleshooting suite: the repair runs (`.runs`), the cells and the config.

    with TroubleshootBenchStore(directory) as store:
        store.save_config(config)
        store.record(cell_result, troubleshoot_result)   # atomic; recording a cell again replaces it
        done = store.results()
    """

    # -- config -------------------------------------------------------------------------------------------------

    def config(self) -> TroubleshootBenchConfig | None:
        """The benchmark's stored configuration (None when the directory holds none)."""
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = ?", (TROUBLESHOOT_CONFIG_KEY,)).fetchone()
        return None if row is None else TroubleshootBenchConfig.model_validate_json(row[0])

    def save_config(self, config: TroubleshootBenchConfig) -> None:
        """Store `config`; refuse (InputError) a directory holding a code benchmark or another troubleshooting
        benchmark (different FIXED_FIELDS). Fields that may differ are updated to the latest run's."""
        with self._transaction(write=True) as conn:
            if conn.execute("SELECT 1 FROM bench_meta WHERE key = ?", (CONFIG_KEY,)).fetchone() is not None:
                raise InputError(
                    "this directory holds a code benchmark (`cloudinspect bench --suite code`): "
                    "choose another --out for the troubleshooting benchmark",
                    self.directory,
                )
            row = conn.execute("SELECT value FROM bench_meta WHERE key = ?", (TROUBLESHOOT_CONFIG_KEY,)).fetchone()
            if row is not None:
                _check_same(TroubleshootBenchConfig.model_validate_json(row[0]), config, self.directory)
            conn.execute(
                "INSERT INTO bench_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (TROUBLESHOOT_CONFIG_KEY, config.model_dump_json()),
            )

    # -- cells --------------------------------------------------------------------------------------------------

    def record(self, result: TroubleshootCellResult, detail: TroubleshootResult | None) -> None:
        """Write a finished cell and its troubleshooting result (redacted), committed before returning."""
        from cloudinspect.redact import redact_data

        row = {
            "cell_key": result.cell.key,
            "model_id": result.cell.model_id,
            "scenario": result.cell.scenario,
            "repeat": result.cell.repeat,
            "status": result.status,
            "found": int(result.root_cause_found),
            "score": result.score,
            "result": _json(redact_data(result.model_dump(mode="json"))),
            "detail": None if detail is None else _json(redact_data(detail.model_dump(mode="json"))),
            "finished_at": _time(result.finished_at),
            "recorded_at": _time(datetime.now(UTC)),
        }
        self._upsert("troubleshoot_cells", row)

    def results(self) -> list[TroubleshootCellResult]:
        """Every recorded cell, by model, scenario and repeat."""
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT result FROM troubleshoot_cells ORDER BY model_id, scenario, repeat").fetchall()
        return [TroubleshootCellResult.model_validate_json(row[0]) for row in rows]

    def details(self) -> dict[str, TroubleshootResult]:
        """The troubleshooting result of every recorded cell that has one, by cell key."""
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT cell_key, detail FROM troubleshoot_cells WHERE detail IS NOT NULL").fetchall()
        return {row[0]: TroubleshootResult.model_validate_json(row[1]) for row in rows}


def _check_same(stored: TroubleshootBenchConfig, given: TroubleshootBenchConfig, directory: Path) -> None:
    problems = [
        Problem(f"this directory's benchmark has {getattr(stored, name)!r}, now {getattr(given, name)!r}", name)
        for name in FIXED_FIELDS
        if getattr(stored, name) != getattr(given, name)
    ]
    if problems:
        raise InputError(
            "this directory holds another troubleshooting benchmark: to resume it, give the same models, planner "
            "model, scenarios, repeat, rounds, inspections, attempts and token budget (concurrency and sandbox may "
            "differ); to start a new one, choose another --out",
            directory,
            problems,
        )


def _json(data: object) -> str:
    return pydantic_core.to_json(data, inf_nan_mode="null").decode()


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
