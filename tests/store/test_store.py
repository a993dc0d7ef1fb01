"""The results store's API: runs and attempts round-trip, re-recording is idempotent, totals follow the attempts."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cloudinspect.errors import InputError, UnknownIdError
from cloudinspect.loop.state import RunRecord
from cloudinspect.store import DuplicateRunError, ResultStore, RunInfo, StoreError, new_run_id
from tests.store.factories import T0, make_attempt, make_run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultStore]:
    with ResultStore(tmp_path / "results.sqlite") as opened:
        yield opened


def test_a_run_and_its_attempts_round_trip(store: ResultStore) -> None:
    info = make_run(output=None)
    store.create_run(info)
    attempts = [make_attempt(1), make_attempt(2), make_attempt(3, passed=True)]
    for attempt in attempts:
        store.record_attempt(info.run_id, attempt)

    run = store.get_run(info.run_id)

    assert run.attempts == attempts
    assert store.attempts(info.run_id) == attempts
    totals = {"updated_at", "attempt_count", "tokens_in", "tokens_out", "cost_usd"}
    assert run.model_dump(exclude={"attempts", *totals}) == info.model_dump(exclude=totals)
    assert run.status == "running"
    assert run.attempt_count == 3
    assert (run.tokens_in, run.tokens_out) == (300, 120)
    assert run.cost_usd == pytest.approx(0.006)
    assert run.updated_at is not None
    assert run.updated_at >= run.created_at


def test_attempts_come_back_in_order_whatever_the_recording_order(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    for n in (3, 1, 2):
        store.record_attempt(info.run_id, make_attempt(n))
    assert [a.n for a in store.attempts(info.run_id)] == [1, 2, 3]


def test_recording_the_same_attempt_twice_is_idempotent(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    store.record_attempt(info.run_id, make_attempt(1))
    store.record_attempt(info.run_id, make_attempt(2))
    store.record_attempt(info.run_id, make_attempt(2))  # a resumed run redoing its last step

    run = store.get_run(info.run_id)
    assert [a.n for a in run.attempts] == [1, 2]
    assert (run.attempt_count, run.tokens_in, run.tokens_out) == (2, 200, 80)


def test_recording_attempt_n_again_replaces_it_and_the_totals(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    store.record_attempt(info.run_id, make_attempt(1, tokens=(100, 40)))
    replacement = make_attempt(1, passed=True, tokens=(7, 3), cost_usd=0.0, code="print('again')\n")
    store.record_attempt(info.run_id, replacement)

    run = store.get_run(info.run_id)
    assert run.attempts == [replacement]
    assert (run.tokens_in, run.tokens_out, run.cost_usd) == (7, 3, 0.0)


def test_finishing_a_run_gives_its_final_record(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    store.record_attempt(info.run_id, make_attempt(1))
    store.record_attempt(info.run_id, make_attempt(2, passed=True))
    output = {"buckets": ["acme-logs"], "ratio": 0.5}
    store.finish_run(
        info.run_id,
        status="passed",
        reason="attempt 2 passed",
        final_code="print(2)\n",
        output=output,
        duration_ms=4321,
    )

    run = store.get_run(info.run_id)
    assert (run.status, run.reason, run.final_code, run.output, run.duration_ms) == (
        "passed",
        "attempt 2 passed",
        "print(2)\n",
        output,
        4321.0,
    )
    assert run.finished_at is not None

    record = store.run_record(info.run_id)
    assert isinstance(record, RunRecord)
    assert record.model_dump() == {
        "run_id": info.run_id,
        "prompt_id": "s3-public-buckets",
        "model_id": "smollm2-135m",
        "target": "emulator:baseline",
        "status": "passed",
        "reason": "attempt 2 passed",
        "attempts": [
            {
                "n": 1,
                "error_class": "wrong_output",
                "error_message": "buckets: 1 missing",
                "tokens_in": 100,
                "tokens_out": 40,
                "cost_usd": 0.002,
                "duration_ms": 1501.0,
                "passed": False,
            },
            {
                "n": 2,
                "error_class": "none",
                "error_message": "",
                "tokens_in": 100,
                "tokens_out": 40,
                "cost_usd": 0.002,
                "duration_ms": 1502.0,
                "passed": True,
            },
        ],
        "final_code": "print(2)\n",
        "output": output,
        "tokens_in": 200,
        "tokens_out": 80,
        "cost_usd": pytest.approx(0.004),
        "duration_ms": 4321.0,
    }


def test_finishing_again_overwrites_the_outcome(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    store.finish_run(info.run_id, status="error", reason="provider failed", duration_ms=10)
    store.finish_run(info.run_id, status="budget", reason="cost limit", duration_ms=20)
    run = store.get_run(info.run_id)
    assert (run.status, run.reason, run.duration_ms) == ("budget", "cost limit", 20.0)


def test_a_running_run_has_no_final_record(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    with pytest.raises(StoreError, match="still running"):
        store.run_record(info.run_id)


def test_finish_run_refuses_running_as_an_outcome(store: ResultStore) -> None:
    info = make_run()
    store.create_run(info)
    with pytest.raises(ValueError, match="status must be one of"):
        store.finish_run(info.run_id, status="running", duration_ms=1)  # type: ignore[arg-type]


def test_run_ids_are_never_reused(store: ResultStore) -> None:
    store.create_run(make_run("20260301T120000-aaaaaa"))
    with pytest.raises(DuplicateRunError, match="'20260301T120000-aaaaaa' already exists") as caught:
        store.create_run(make_run("20260301T120000-aaaaaa", prompt_id="other"))
    assert str(store.path) in str(caught.value)
    assert store.get_run("20260301T120000-aaaaaa").prompt_id == "s3-public-buckets"


def test_an_unknown_run_id_is_an_input_error_with_suggestions(store: ResultStore) -> None:
    store.create_run(make_run("20260301T120000-abcdef"))
    with pytest.raises(UnknownIdError, match=r"unknown run '20260301T120000-abcdex'; did you mean '20260301T120000-ab"):
        store.get_run("20260301T120000-abcdex")
    for call in (
        lambda: store.attempts("nope"),
        lambda: store.record_attempt("nope", make_attempt(1)),
        lambda: store.finish_run("nope", status="failed", duration_ms=1),
        lambda: store.run_record("nope"),
    ):
        with pytest.raises(UnknownIdError, match="unknown run 'nope'"):
            call()
    assert store.attempts("20260301T120000-abcdef") == []


def test_list_runs_newest_first_with_filters(store: ResultStore) -> None:
    runs = [
        make_run("r1", created_at=T0, model_id="m-a"),
        make_run("r2", created_at=T0 + timedelta(minutes=1), model_id="m-b", prompt_id="lambda-error-rate"),
        make_run("r3", created_at=T0 + timedelta(minutes=2), model_id="m-a"),
        make_run("r4", created_at=T0 + timedelta(minutes=3), model_id="m-b", kind="bench"),
    ]
    for run in (runs[2], runs[0], runs[3], runs[1]):
        store.create_run(run)
    store.finish_run("r3", status="failed", duration_ms=5)

    def ids(listed: list[RunInfo]) -> list[str]:
        return [r.run_id for r in listed]

    assert ids(store.list_runs()) == ["r4", "r3", "r2", "r1"]
    assert ids(store.list_runs(limit=2)) == ["r4", "r3"]
    assert ids(store.list_runs(model_id="m-a")) == ["r3", "r1"]
    assert ids(store.list_runs(prompt_id="lambda-error-rate")) == ["r2"]
    assert ids(store.list_runs(status="running")) == ["r4", "r2", "r1"]
    assert ids(store.list_runs(status="failed", model_id="m-a")) == ["r3"]
    assert ids(store.list_runs(kind="bench")) == ["r4"]
    assert store.list_runs(model_id="m-c") == []
    with pytest.raises(InputError, match="at least 1"):
        store.list_runs(limit=0)


def test_json_columns_keep_unusual_values(store: ResultStore) -> None:
    info = make_run(variables={"names": ["a", "ü"], "nested": {"x": None}}, options={"max_cost_usd": 0.25})
    store.create_run(info)
    store.finish_run(info.run_id, status="passed", output=[1, "two", {"three": 3.5}, float("nan")], duration_ms=1)
    run = store.get_run(info.run_id)
    assert run.variables == {"names": ["a", "ü"], "nested": {"x": None}}
    assert run.options == {"max_cost_usd": 0.25}
    assert run.output == [1, "two", {"three": 3.5}, None]  # NaN is not JSON: stored as null


def test_new_run_ids_sort_by_time_and_do_not_collide() -> None:
    ids = [new_run_id() for _ in range(20_000)]  # many in the same second: random suffixes alone would collide
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{8}", i) for i in ids)
    assert ids == sorted(ids)


def test_a_forked_child_does_not_repeat_its_parents_run_ids() -> None:
    new_run_id()  # the parent is mid-second in its sequence
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send ten ids and leave at once
        os.write(write, " ".join(new_run_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    parent = {new_run_id() for _ in range(10)}
    child = set(os.read(read, 4096).decode().split())
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 10
    assert not parent & child


def test_the_default_path_is_in_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state_dir = tmp_path / "state" / "nested"
    monkeypatch.setenv("CLOUDINSPECT_STATE_DIR", str(state_dir))
    with ResultStore() as store:
        store.create_run(make_run())
    assert store.path == state_dir / "results.sqlite"
    assert store.path.is_file()


def test_the_file_is_durable_and_enforces_foreign_keys(store: ResultStore) -> None:
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute(
            "INSERT INTO attempts (run_id, n, error_class, passed, started_at, finished_at, recorded_at, data) "
            "VALUES ('ghost', 1, 'none', 1, '', '', '', '{}')"
        )


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results.sqlite")
    store.create_run(make_run())
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_run("20260301T120000-abcdef")
    with ResultStore(tmp_path / "results.sqlite") as reopened:
        assert reopened.get_run("20260301T120000-abcdef").prompt_id == "s3-public-buckets"


def test_threads_and_a_second_store_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    threads_per_store, attempts_per_run = 6, 15
    with ResultStore(path) as first, ResultStore(path) as second:
        errors: list[BaseException] = []
        start = threading.Barrier(2 * threads_per_store)

        def work(store: ResultStore, run_id: str) -> None:
            try:
                start.wait()
                store.create_run(make_run(run_id))
                for n in range(1, attempts_per_run + 1):
                    store.record_attempt(run_id, make_attempt(n, tokens=(n, 1)))
                    store.list_runs(limit=5)
                store.finish_run(run_id, status="failed", duration_ms=1)
            except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
                errors.append(exc)

        run_ids = [f"run-{i:02d}" for i in range(2 * threads_per_store)]
        threads = [
            threading.Thread(target=work, args=(first if i % 2 else second, run_id)) for i, run_id in enumerate(run_ids)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []

    with ResultStore(path) as store:
        assert sorted(r.run_id for r in store.list_runs(limit=100)) == run_ids
        for run_id in run_ids:
            run = store.get_run(run_id)
            assert [a.n for a in run.attempts] == list(range(1, attempts_per_run + 1))
            assert (run.status, run.attempt_count) == ("failed", attempts_per_run)
            assert run.tokens_in == sum(range(1, attempts_per_run + 1))


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz0123456789"  # noqa: S105 - a made-up secret-shaped value
    key = "sk-proj-" + "q8Rt2mVx7Lp4Nw9K" * 3
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        run = make_run(variables={"api_key": key, "bucket": "logs"})
        store.create_run(run)
        code = f'import boto3\nboto3.client("s3", aws_secret_access_key="{secret}")\n'
        store.record_attempt(run.run_id, make_attempt(1, code=code))
        store.finish_run(run.run_id, status="failed", reason=f"key {key} refused", output={"token": key}, duration_ms=1)
        stored = store.get_run(run.run_id)
    raw = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""
    )
    assert secret.encode() not in raw
    assert key.encode() not in raw
    assert stored.variables["bucket"] == "logs"
    assert stored.variables["api_key"] != key
    assert "boto3.client" in stored.attempts[0].code
