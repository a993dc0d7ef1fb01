"""Crash safety: what `record_attempt` committed survives a kill -9 of the process that wrote it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from cloudinspect.store import ResultStore

_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    from cloudinspect.store import ResultStore
    from tests.store.factories import make_attempt, make_run

    store = ResultStore(Path(sys.argv[1]))
    run = make_run()
    store.create_run(run)
    for n in (1, 2, 3):
        store.record_attempt(run.run_id, make_attempt(n))
    print("recorded", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # mid-run: never finished, never closed
    """
)


def test_committed_attempts_survive_a_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _WRITER, str(path)], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert done.stdout == "recorded\n"

    with ResultStore(path) as store:
        run = store.get_run("20260301T120000-abcdef")
    assert run.status == "running"
    assert [a.n for a in run.attempts] == [1, 2, 3]
    assert (run.attempt_count, run.tokens_in) == (3, 300)
