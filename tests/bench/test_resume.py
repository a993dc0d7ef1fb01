"""A benchmark killed with SIGKILL mid-run and started again with the same command finishes with exactly one
result per cell: finished cells are kept, the others run (the CLI end to end, in a subprocess)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cloudinspect.catalog import load_catalog

PROMPTS = ["lambda-functions-inventory", "s3-public-buckets", "sns-topic-encryption", "sqs-queue-security-review"]
SERVER_MODULE = b"cloudinspect.cloud._server"


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cloudinspect", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(predicate: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"the benchmark ended before {what}: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _cells(db: Path) -> list[tuple[str, str]]:
    """(cell key, status) of every recorded cell row ([] before the table exists)."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
            return list(conn.execute("SELECT cell_key, status FROM cells"))
    except sqlite3.OperationalError:  # not migrated yet
        return []


def _emulator_servers(parent: int) -> list[int]:
    """The emulator servers `parent` started: they run in their own session, so a kill of the benchmark's
    process group leaves them behind and the test stops them itself."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == parent and SERVER_MODULE in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def test_a_killed_benchmark_resumes_with_exactly_one_result_per_cell(tmp_path: Path) -> None:
    catalog = load_catalog()
    # Each script sleeps a little so that the benchmark is surely killed with cells still to run.
    replies = {pid: [f"```python\nimport time\ntime.sleep(2)\n{catalog[pid].reference_code()}\n```"] for pid in PROMPTS}
    replay = tmp_path / "slow.yaml"
    replay.write_text(yaml.safe_dump(replies), encoding="utf-8")
    out = tmp_path / "bench"
    db = out / "bench.sqlite"
    env = {**os.environ, "CLOUDINSPECT_STATE_DIR": str(tmp_path / "state")}
    args = ["bench", "--models", f"replay:{replay}", "--prompts", ",".join(PROMPTS), "--scenarios", "startup"]
    args += ["--concurrency", "1", "--max-attempts", "1", "--out", str(out)]

    first = _cli(args, env)
    servers: list[int] = []
    try:
        _wait_for(lambda: _emulator_servers(first.pid), 120, "the emulator to start", first)
        _wait_for(lambda: _cells(db), 180, "a cell to be recorded", first)
        servers = _emulator_servers(first.pid)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        before = dict(_cells(db))
        assert 1 <= len(before) < len(PROMPTS)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        for pid in servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    second = _cli(args, env)
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"{len(before)} already done, {len(PROMPTS) - len(before)} to run" in " ".join(err.split())
    assert "leaderboard" in err

    rows = _cells(db)
    keys = [key for key, _ in rows]
    assert sorted(keys) == sorted(f"replay:{replay}|{pid}|0" for pid in PROMPTS)  # each cell once, none missing
    assert {key: status for key, status in rows if key in before} == before  # finished cells were kept as they were
    assert {status for _, status in rows} == {"solved"}
    assert (out / "summary.json").is_file()
