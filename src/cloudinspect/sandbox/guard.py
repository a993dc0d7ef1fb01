"""The runtime guard: botocore hooks injected into the sandboxed child, the second of three read-only layers.

`guard_files(work_dir)` puts the guard module (`_child/cloudinspect_guard.py`, stdlib and botocore only) in a
directory of the work dir and returns the environment that configures it; `guard_command(script)` is the argv the
sandbox runs. The bootstrap is `python -I -c ...` that puts the guard directory on sys.path itself, so it works in
isolated mode (-I ignores PYTHONPATH, user site and the script's directory) and needs no sitecustomize. Inside
the child the guard hooks every botocore session (the default one and every new one, so clients, paginators,
waiters and resources), refuses non-read calls with a ClientError `ReadOnlyViolation` before anything is sent,
forces one attempt per call (no retry storm on emulator-unsupported operations), and appends one JSON line per
call to the log, flushed per call so that a killed child still leaves its record. The child can remove all of
this: the bridge (bridge.py) is the layer that holds.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

GUARD_DIRNAME = ".cloudinspect-guard"
GUARD_LOG = "guard-calls.jsonl"
_MODULE = Path(__file__).parent / "_child" / "cloudinspect_guard.py"
BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); import cloudinspect_guard; cloudinspect_guard.run()"


def guard_dir(work_dir: Path) -> Path:
    """Where `guard_files` puts the guard module."""
    return work_dir / GUARD_DIRNAME


def guard_log_path(work_dir: Path) -> Path:
    """The guard's JSON-lines call log."""
    return work_dir / GUARD_LOG


def guard_files(work_dir: Path, allow_ops: set[tuple[str, str]] | None = None) -> dict[str, str]:
    """Copy the guard module into `work_dir` and return the environment variables that configure it.

    `allow_ops`: exactly the (service, operation) pairs the child may call (botocore names); None allows the
    operations named like reads (Describe*, List*, Get*, ...). AWS_MAX_ATTEMPTS=1 is included so that even a
    client the guard does not see makes one attempt.
    """
    target = guard_dir(work_dir)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_MODULE, target / _MODULE.name)
    env = {
        "CLOUDINSPECT_GUARD_LOG": str(guard_log_path(work_dir)),
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
    }
    if allow_ops is not None:
        env["CLOUDINSPECT_GUARD_ALLOW"] = json.dumps(sorted([s, o] for s, o in allow_ops))
    return env


def guard_command(
    script_path: Path, *, work_dir: Path | None = None, python: str = sys.executable, args: list[str] | None = None
) -> list[str]:
    """The argv that runs `script_path` under the guard: `python -I -c BOOTSTRAP GUARD_DIR SCRIPT ARGS...`.

    `work_dir` defaults to the script's directory (where `guard_files` was called). The script runs as
    `__main__` through runpy, with sys.argv = [script, *args].
    """
    base = work_dir if work_dir is not None else script_path.parent
    return [python, "-I", "-c", BOOTSTRAP, str(guard_dir(base)), str(script_path), *(args or [])]


def read_guard_log(path: Path) -> list[dict[str, Any]]:
    """The calls a guard logged (skips a torn or forged line rather than failing: the log is the child's word)."""
    if not path.is_file():
        return []
    calls: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            calls.append(entry)
    return calls
