"""A run killed with SIGKILL in the middle of an attempt resumes from its checkpoint: finished attempts are not
repeated and the run completes (the CLI end to end, in a subprocess, against the seeded emulator)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cloudinspect.store import ResultStore

REPLAY = Path(__file__).parent.parent / "fixtures" / "replay" / "repair-resume.yaml"
PROMPT = "ec2-instances-by-state-and-type"


def _cli(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cloudinspect", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_run_resumes_without_repeating_finished_attempts(emulator: Any, tmp_path: Path) -> None:
    endpoint = emulator("baseline").endpoint_url
    env = {**os.environ, "CLOUDINSPECT_STATE_DIR": str(tmp_path / "state")}
    args = ["run", PROMPT, "-m", f"replay:{REPLAY}", "--target", f"endpoint:{endpoint}", "--json", "-n", "4"]
    first = _cli(args, env)
    store = ResultStore(tmp_path / "state" / "results.sqlite")
    try:
        run_id = _wait_for(lambda: [r.run_id for r in store.list_runs(limit=1)], 120, "the run to start")[0]
        _wait_for(lambda: store.attempts(run_id), 120, "attempt 1 to be recorded")
        # Attempt 2 sleeps 4 s in the sandbox before printing: kill the run while it does.
        time.sleep(1.5)
        assert first.poll() is None, first.communicate()
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        before = store.get_run(run_id)
        assert before.status == "running"
        assert [a.n for a in before.attempts] == [1]
        assert before.attempts[0].error_class == "hallucinated_api"

        resumed = _cli(["run", "--resume", run_id, "--json"], env)
        out, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err
        record = json.loads(out)
        assert record["run_id"] == run_id
        assert record["status"] == "passed"
        assert [a["n"] for a in record["attempts"]] == [1, 2]
        assert [a["error_class"] for a in record["attempts"]] == ["hallucinated_api", "none"]
        after = store.get_run(run_id)
        assert after.status == "passed"
        # Attempt 1 was not run again: the stored record is the one written before the kill.
        assert after.attempts[0] == before.attempts[0]
        assert after.attempts[1].code.count("time.sleep(4)") == 1
    finally:
        for proc in (first,):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        store.close()


def test_resuming_a_finished_run_is_a_clear_error(emulator: Any, tmp_path: Path) -> None:
    endpoint = emulator("baseline").endpoint_url
    env = {**os.environ, "CLOUDINSPECT_STATE_DIR": str(tmp_path / "state")}
    four = REPLAY.parent / "repair-unsupported.yaml"
    done = _cli(["run", PROMPT, "-m", f"replay:{four}", "--target", f"endpoint:{endpoint}", "--json"], env)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 1, err
    run_id = json.loads(out)["run_id"]
    again = _cli(["run", "--resume", run_id], env)
    _, err = again.communicate(timeout=120)
    assert again.returncode != 0
    assert "already ended with status 'unsupported'" in err
    unknown = _cli(["run", "--resume", "20990101T000000-00000000"], env)
    _, err = unknown.communicate(timeout=120)
    assert unknown.returncode != 0
    assert "run" in err
    assert "20990101T000000-00000000" in err
