"""The store's versioned schema: ordered migrations, applied together in one transaction when a store opens.

The version lives in the `meta` table (`schema_version`); a file without any table is version 0. Migrations are
append-only: once released, a migration is never edited, a new one is added after it. Each is an SQL script or a
function; all pending ones run inside a single `BEGIN IMMEDIATE` transaction, so a failure leaves the file exactly
as it was, and two processes opening the same new file cannot both migrate it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cloudinspect.store._errors import SchemaVersionError, StoreError


@dataclass(frozen=True)
class Migration:
    """One step of the schema: from `version - 1` to `version`."""

    version: int
    description: str
    apply: str | Callable[[sqlite3.Connection], None]
    """An SQL script (statements separated by ';', triggers allowed) or a function given the connection."""


_V1 = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'repair',
    prompt_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    target TEXT NOT NULL,
    variables TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(variables)),
    options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    status TEXT NOT NULL DEFAULT 'running',
    reason TEXT NOT NULL DEFAULT '',
    final_code TEXT,
    output TEXT CHECK (output IS NULL OR json_valid(output)),
    attempt_count INTEGER NOT NULL DEFAULT 0,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    duration_ms REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    cloudinspect_version TEXT NOT NULL
);
CREATE INDEX runs_created ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_prompt ON runs (prompt_id, created_at DESC);
CREATE INDEX runs_model ON runs (model_id, created_at DESC);
CREATE INDEX runs_status ON runs (status, created_at DESC);

CREATE TABLE attempts (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    n INTEGER NOT NULL CHECK (n >= 1),
    error_class TEXT NOT NULL,
    passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
    signature TEXT NOT NULL DEFAULT '',
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    duration_ms REAL NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data)),
    PRIMARY KEY (run_id, n)
) WITHOUT ROWID;
CREATE INDEX attempts_error_class ON attempts (error_class);
"""

_V2 = """
CREATE TABLE cells (
    cell_key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    repeat INTEGER NOT NULL CHECK (repeat >= 0),
    status TEXT NOT NULL,
    solved INTEGER NOT NULL CHECK (solved IN (0, 1)),
    run_id TEXT,
    result TEXT NOT NULL CHECK (json_valid(result)),
    finished_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX cells_model ON cells (model_id, prompt_id, repeat);

CREATE TABLE bench_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL CHECK (json_valid(value))
) WITHOUT ROWID;
"""
"""The benchmark's tables (cloudinspect.bench.store): one row per finished cell (model x prompt x repeat, the
CellResult as JSON) and the benchmark's configuration. Empty in a plain results store."""

_V3 = """
CREATE TABLE troubleshoot_cells (
    cell_key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    scenario TEXT NOT NULL,
    repeat INTEGER NOT NULL CHECK (repeat >= 0),
    status TEXT NOT NULL,
    found INTEGER NOT NULL CHECK (found IN (0, 1)),
    score REAL NOT NULL DEFAULT 0,
    result TEXT NOT NULL CHECK (json_valid(result)),
    detail TEXT CHECK (detail IS NULL OR json_valid(detail)),
    finished_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX troubleshoot_cells_model ON troubleshoot_cells (model_id, scenario, repeat);
"""
"""The troubleshooting benchmark's cells (cloudinspect.bench.troubleshoot): one row per finished cell (model x fault
scenario x repeat), its scored result as JSON and the whole troubleshooting result (`detail`, NULL when the cell
failed before producing one). Its configuration shares `bench_meta` under its own key."""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs and their attempts", _V1),
    Migration(2, "benchmark cells and configuration", _V2),
    Migration(3, "troubleshooting benchmark cells", _V3),
)
"""The schema, in order. Version N is the N-th entry."""


def latest_version(migrations: Sequence[Migration]) -> int:
    """The version a file has once every migration ran."""
    return migrations[-1].version if migrations else 0


def check_migrations(migrations: Sequence[Migration]) -> None:
    """Migrations must be numbered 1, 2, 3... in order: a gap or a duplicate is a programming error."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        raise ValueError(f"migrations must be numbered 1..{len(migrations)} in order, got {versions}")


def schema_version(conn: sqlite3.Connection, path: Path, supported: int) -> int:
    """The file's schema version (0 for a file without tables); refuses files that are not ours or are newer."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    if "meta" not in tables:
        if tables:
            listing = ", ".join(sorted(tables)[:10])
            raise StoreError(path, f"an SQLite database but not a cloudinspect results store (tables: {listing})")
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        found = int(row[0])
    except (TypeError, ValueError):
        raise StoreError(path, f"meta table holds no valid schema_version ({row!r})") from None
    if found > supported:
        raise SchemaVersionError(path, found, supported)
    return found


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> int:
    """Bring the file to the latest version in one transaction; return the version it had before."""
    check_migrations(migrations)
    supported = latest_version(migrations)
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(conn, path, supported)
        if found < supported:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            for migration in migrations[found:]:
                _apply(conn, migration)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(supported),),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    if callable(migration.apply):
        migration.apply(conn)
        return
    # executescript() would COMMIT first and break the single transaction, so statements run one by one.
    for statement in split_statements(migration.apply):
        conn.execute(statement)


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (sqlite3.complete_statement knows about triggers and quotes)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending[:-1].strip():
                statements.append(pending.strip())
            pending = ""
    if pending[:-1].strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:80]!r}")
    return statements
