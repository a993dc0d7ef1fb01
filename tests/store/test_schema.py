"""The versioned schema: migrations on open, all or nothing; newer, foreign and damaged files refused untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cloudinspect.store import MIGRATIONS, Migration, ResultStore, SchemaVersionError, StoreError
from tests.store.factories import make_attempt, make_run

LATEST = MIGRATIONS[-1].version


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_a_new_file_gets_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "results.sqlite"
    ResultStore(path).close()
    assert _version(path) == LATEST
    assert {"meta", "runs", "attempts"} <= _tables(path)


def test_an_empty_file_gets_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    path.touch()
    with ResultStore(path) as store:
        store.create_run(make_run())
        store.record_attempt(make_run().run_id, make_attempt(1))
    assert _version(path) == LATEST


def test_a_hand_made_version_0_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    conn.close()
    with ResultStore(path) as store:
        store.create_run(make_run())
        assert [r.run_id for r in store.list_runs()] == [make_run().run_id]
    assert _version(path) == LATEST


FAKE_V1 = Migration(
    1,
    "notes and a counter kept by a trigger",
    """
    CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
    CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);
    CREATE TRIGGER count_notes AFTER INSERT ON notes BEGIN
        UPDATE counter SET n = n + 1;  -- the trigger's own ';' must not split the script
    END;
    """,
)


def _add_author(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown'")
    conn.execute("UPDATE notes SET author = 'migrated'")


FAKE_V2 = Migration(2, "notes get an author", _add_author)


def test_migrations_run_in_order_and_only_once(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    ResultStore(path, migrations=[FAKE_V1]).close()
    assert _version(path) == 1
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO notes (text) VALUES ('written at v1')")
    conn.close()

    # FAKE_V1 creates its tables without IF NOT EXISTS: running it again would fail.
    ResultStore(path, migrations=[FAKE_V1, FAKE_V2]).close()
    ResultStore(path, migrations=[FAKE_V1, FAKE_V2]).close()

    assert _version(path) == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT text, author FROM notes").fetchall() == [("written at v1", "migrated")]
        assert conn.execute("SELECT n FROM counter").fetchone() == (1,)
    conn.close()


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    path.touch()
    broken = Migration(2, "half good, half broken", "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);")

    with pytest.raises(StoreError, match=r"results\.sqlite.*no such table: nowhere"):
        ResultStore(path, migrations=[FAKE_V1, broken])

    assert _tables(path) == set()  # not even v1's tables nor meta: one transaction for all
    ResultStore(path, migrations=[FAKE_V1]).close()
    assert _version(path) == 1


def test_misnumbered_migrations_are_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"numbered 1\.\.2 in order, got \[1, 3\]"):
        ResultStore(tmp_path / "results.sqlite", migrations=[FAKE_V1, Migration(3, "gap", "SELECT 1")])


def test_a_file_from_a_newer_cloudinspect_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        store.create_run(make_run())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(LATEST + 5),))
    conn.close()
    before = path.read_bytes()

    with pytest.raises(SchemaVersionError) as caught:
        ResultStore(path)

    message = str(caught.value)
    assert str(path) in message
    assert f"schema version {LATEST + 5}" in message
    assert f"supports ({LATEST})" in message
    assert (caught.value.found, caught.value.supported) == (LATEST + 5, LATEST)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"run_id,status\n20260301T120000-abcdef,passed\n", "not an SQLite database"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 32, "damaged"),  # the right header, then garbage
        (b"SQL", "not an SQLite database"),  # shorter than a header
    ],
    ids=["csv", "damaged-sqlite", "truncated"],
)
def test_a_file_that_is_not_a_store_is_refused_untouched(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "results.sqlite"
    path.write_bytes(content)

    with pytest.raises(StoreError, match=rf"^results store {path}: .*{says}.*left untouched"):
        ResultStore(path)

    assert path.read_bytes() == content
    assert _siblings(path) == ["results.sqlite"]  # no -wal or -shm left behind


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    conn.close()
    before = path.read_bytes()

    with pytest.raises(StoreError, match=r"other\.db: an SQLite database but not a cloudinspect results store"):
        ResultStore(path)

    assert path.read_bytes() == before  # in particular, still in its own journal mode, not WAL
    assert _siblings(path) == ["other.db"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a regular file"):
        ResultStore(tmp_path)
