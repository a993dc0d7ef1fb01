"""The results store: every run and every attempt, in one SQLite file that later features (benchmark, web UI,
reports) read.

Durability: WAL journal with `synchronous=FULL`, so every commit is fsynced to the WAL before `record_attempt` or
`finish_run` returns; a kill -9 (or a power cut) afterwards loses nothing that was committed. The price, one fsync
per commit, is small next to the model call that each attempt makes.

Threads: one connection guarded by a lock. SQLite serialises writers anyway, so per-thread connections would only
add "database is locked" retries between our own threads; other processes (a second benchmark, the web UI) get
their own connection and wait up to `BUSY_TIMEOUT_S` for a writer to finish.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast, get_args

import pydantic_core

from cloudinspect.config import Settings
from cloudinspect.errors import InputError, UnknownIdError
from cloudinspect.loop.state import Attempt, AttemptSummary, RunRecord, RunStatus
from cloudinspect.store._errors import DuplicateRunError, StoreError
from cloudinspect.store._models import RunInfo, RunState, StoredRun, utc_now
from cloudinspect.store._schema import MIGRATIONS, Migration, latest_version, migrate, schema_version

BUSY_TIMEOUT_S = 30.0
"""How long a connection waits for another process's write transaction before giving up."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_RECENT_IDS = 20  # how many recent run ids an unknown-id error offers as suggestions

_T = TypeVar("_T")


def default_path() -> Path:
    """Where the store lives unless told otherwise: `results.sqlite` in the state directory."""
    return Settings().state_dir / "results.sqlite"


def _scrub(obj: _T) -> _T:
    """The single place where everything written to the store passes, so that it never holds a credential
    (`cloudinspect.redact.redact_data`: secret-shaped strings, values of secret-named keys, registered secrets)."""
    from cloudinspect.redact import redact_data

    return cast(_T, redact_data(obj))


class ResultStore:
    """Runs and their attempts in an SQLite file, with a versioned schema migrated on open.

    with ResultStore() as store:
        info = RunInfo(prompt_id="s3-public-buckets", model_id="smollm2-135m", target="emulator:baseline")
        store.create_run(info)
        store.record_attempt(info.run_id, attempt)
        store.finish_run(info.run_id, status="passed", final_code=code, output=out, duration_ms=1234.0)
    """

    def __init__(self, path: Path | None = None, *, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.path = (path if path is not None else default_path()).expanduser()
        self._lock = threading.RLock()
        self._refuse_foreign_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = self._open(migrations)

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent); the last connection to close also checkpoints the WAL."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- runs ---------------------------------------------------------------------------------------------------

    def create_run(self, info: RunInfo) -> None:
        """Store a new run; its id must be new (`DuplicateRunError` otherwise)."""
        now = _time(utc_now())
        row = {
            "run_id": info.run_id,
            "kind": info.kind,
            "prompt_id": info.prompt_id,
            "model_id": info.model_id,
            "target": info.target,
            "variables": _json(_scrub(info.variables)),
            "options": _json(_scrub(info.options)),
            "status": info.status,
            "reason": _scrub(info.reason),
            "final_code": _scrub(info.final_code),
            "output": _json(_scrub(info.output)),
            "attempt_count": info.attempt_count,
            "tokens_in": info.tokens_in,
            "tokens_out": info.tokens_out,
            "cost_usd": info.cost_usd,
            "duration_ms": info.duration_ms,
            "created_at": _time(info.created_at),
            "updated_at": now,
            "finished_at": _time(info.finished_at) if info.finished_at else None,
            "cloudinspect_version": info.cloudinspect_version,
        }
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        with self.transaction(write=True) as conn:
            if _exists(conn, info.run_id):
                raise DuplicateRunError(self.path, info.run_id)
            conn.execute(f"INSERT INTO runs ({columns}) VALUES ({values})", row)  # noqa: S608 (fixed column names)

    def get_run(self, run_id: str) -> StoredRun:
        """The run with its attempts (`UnknownIdError` when no run has this id)."""
        with self.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise _unknown(conn, run_id)
            attempts = _attempts(conn, run_id)
        return StoredRun.model_validate({**_run_fields(row), "attempts": attempts})

    def finish_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        reason: str = "",
        final_code: str | None = None,
        output: Any = None,
        duration_ms: float,
    ) -> None:
        """Give the run its outcome. Finishing again (a resumed run redoing its last step) overwrites it."""
        if status not in get_args(RunStatus):
            raise ValueError(f"finish_run: status must be one of {get_args(RunStatus)}, got {status!r}")
        now = _time(utc_now())
        with self.transaction(write=True) as conn:
            if not _exists(conn, run_id):
                raise _unknown(conn, run_id)
            conn.execute(
                "UPDATE runs SET status = ?, reason = ?, final_code = ?, output = ?, duration_ms = ?, "
                "finished_at = ?, updated_at = ? WHERE run_id = ?",
                (status, _scrub(reason), _scrub(final_code), _json(_scrub(output)), duration_ms, now, now, run_id),
            )

    def list_runs(
        self,
        *,
        limit: int = 50,
        prompt_id: str | None = None,
        model_id: str | None = None,
        status: RunState | None = None,
        kind: str | None = None,
    ) -> list[RunInfo]:
        """The most recent runs first, optionally only those of a prompt, a model, a status or a kind."""
        if limit < 1:
            raise InputError(f"the number of runs to list must be at least 1, got {limit}")
        filters = {"prompt_id": prompt_id, "model_id": model_id, "status": status, "kind": kind}
        chosen = {name: value for name, value in filters.items() if value is not None}
        where = " AND ".join(f"{name} = :{name}" for name in chosen) or "1"
        query = f"SELECT * FROM runs WHERE {where} ORDER BY created_at DESC, run_id DESC LIMIT :limit"  # noqa: S608
        with self.transaction(write=False) as conn:
            rows = conn.execute(query, {**chosen, "limit": limit}).fetchall()
        return [RunInfo.model_validate(_run_fields(row)) for row in rows]

    def run_record(self, run_id: str) -> RunRecord:
        """The final record of a finished run (what `cloudinspect run --json` prints)."""
        run = self.get_run(run_id)
        if run.status == "running":
            raise StoreError(self.path, f"run '{run_id}' is still running: it has no final record yet")
        return RunRecord(
            run_id=run.run_id,
            prompt_id=run.prompt_id,
            model_id=run.model_id,
            target=run.target,
            status=run.status,
            reason=run.reason,
            attempts=[AttemptSummary.of(attempt) for attempt in run.attempts],
            final_code=run.final_code,
            output=run.output,
            tokens_in=run.tokens_in,
            tokens_out=run.tokens_out,
            cost_usd=run.cost_usd,
            duration_ms=run.duration_ms or 0.0,
        )

    # -- attempts -----------------------------------------------------------------------------------------------

    def record_attempt(self, run_id: str, attempt: Attempt) -> None:
        """Store an attempt and update the run's totals, committed before returning. Recording attempt n again
        replaces it (a resumed run may redo a step), and the totals are recomputed, never double-counted."""
        row = {
            "run_id": run_id,
            "n": attempt.n,
            "error_class": attempt.error_class,
            "passed": int(attempt.passed),
            "signature": attempt.signature,
            "tokens_in": attempt.usage.tokens_in,
            "tokens_out": attempt.usage.tokens_out,
            "cost_usd": attempt.usage.cost_usd,
            "duration_ms": attempt.duration_ms,
            "started_at": _time(attempt.started_at),
            "finished_at": _time(attempt.finished_at),
            "recorded_at": _time(utc_now()),
            "data": _json(_scrub(attempt.model_dump(mode="json"))),
        }
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name not in ("run_id", "n"))
        with self.transaction(write=True) as conn:
            if not _exists(conn, run_id):
                raise _unknown(conn, run_id)
            conn.execute(
                f"INSERT INTO attempts ({columns}) VALUES ({values}) "  # noqa: S608 (fixed column names)
                f"ON CONFLICT (run_id, n) DO UPDATE SET {updates}",
                row,
            )
            conn.execute(
                "UPDATE runs SET (attempt_count, tokens_in, tokens_out, cost_usd) = ("
                "  SELECT count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0), "
                "  coalesce(sum(cost_usd), 0) FROM attempts WHERE run_id = :run_id"
                "), updated_at = :recorded_at WHERE run_id = :run_id",
                row,
            )

    def attempts(self, run_id: str) -> list[Attempt]:
        """The run's attempts in order (`UnknownIdError` when no run has this id)."""
        with self.transaction(write=False) as conn:
            if not _exists(conn, run_id):
                raise _unknown(conn, run_id)
            return _attempts(conn, run_id)

    # -- plumbing -----------------------------------------------------------------------------------------------

    def _refuse_foreign_file(self) -> None:
        """Never let SQLite touch a file that is not an SQLite database: refuse before connecting."""
        if not self.path.exists():
            return
        if not self.path.is_file():
            raise StoreError(self.path, "not a regular file")
        with self.path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise StoreError(self.path, "not an SQLite database (left untouched); move it away or choose another path")

    def _open(self, migrations: Sequence[Migration]) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: transactions are ours (BEGIN/COMMIT), never begun behind our back.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            # Look before changing anything: the journal mode is written into the file, and a foreign or newer
            # file must stay as it was.
            conn.execute("BEGIN")
            try:
                schema_version(conn, self.path, latest_version(migrations))
            finally:
                conn.execute("ROLLBACK")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            migrate(conn, self.path, migrations)
        except sqlite3.OperationalError as exc:  # locked for too long, unreadable, disk full...
            if conn is not None:
                conn.close()
            raise StoreError(self.path, f"cannot be opened: {exc}") from exc
        except sqlite3.DatabaseError as exc:  # SQLite's "not a database" and "malformed": the file is damaged
            if conn is not None:
                conn.close()
            raise StoreError(self.path, f"damaged, or not an SQLite database (left untouched): {exc}") from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return conn

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock; a write takes the database's write lock at once (BEGIN IMMEDIATE) so
        that it cannot fail half-way for want of it. Any SQLite error becomes a StoreError naming the file.
        Public for stores that keep their own tables in the same file (cloudinspect.bench.BenchStore)."""
        with self._lock:
            if self._conn is None:
                raise StoreError(self.path, "the store is closed")
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(self.path, str(exc)) from exc


def _exists(conn: sqlite3.Connection, run_id: str) -> bool:
    return conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None


def _unknown(conn: sqlite3.Connection, run_id: str) -> UnknownIdError:
    recent = conn.execute("SELECT run_id FROM runs ORDER BY created_at DESC LIMIT ?", (_RECENT_IDS,)).fetchall()
    return UnknownIdError.of("run", run_id, [row[0] for row in recent])


def _attempts(conn: sqlite3.Connection, run_id: str) -> list[Attempt]:
    rows = conn.execute("SELECT data FROM attempts WHERE run_id = ? ORDER BY n", (run_id,)).fetchall()
    return [Attempt.model_validate_json(row[0]) for row in rows]


def _run_fields(row: sqlite3.Row) -> dict[str, Any]:
    fields = dict(zip(row.keys(), row, strict=True))
    for name in ("variables", "options", "output"):
        fields[name] = None if fields[name] is None else json.loads(fields[name])
    return fields


def _json(value: Any) -> str:
    """JSON text for a column; pydantic's encoder handles datetimes and turns NaN/inf into null (SQLite's json_valid
    rejects them)."""
    return pydantic_core.to_json(value, inf_nan_mode="null").decode()


def _time(moment: datetime) -> str:
    """A fixed-width UTC ISO timestamp, so that text order is time order (naive times are taken as local)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
