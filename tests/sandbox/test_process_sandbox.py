"""The process sandbox against hostile scripts (secrets, host files, network) and its plumbing (work directory,
environment, classification of real failures). Resource exhaustion (processes, memory, CPU, disk, descriptors,
output, wall clock) is in the adversarial table: tests/fixtures/hostile/, run by test_adversarial.py."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.sandbox import Endpoint, ExecResult, Limits, ProcessSandbox, child_environment
from tests.sandbox.conftest import needs_sandbox

REPO = Path(__file__).resolve().parents[2]

pytestmark = needs_sandbox

CANARY = "CANARY-7f3a9c2e-do-not-leak"
NOWHERE = Endpoint("http://127.0.0.1:9")


def run(code: str, *, env: dict[str, str] | None = None, isolation: Any = "none", **limits: Any) -> ExecResult:
    return ProcessSandbox().run(
        textwrap.dedent(code), env or {}, endpoint=NOWHERE, limits=Limits(**limits), isolation=isolation
    )


def everything(result: ExecResult) -> str:
    return result.model_dump_json()


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Canaries in the parent: environment variables, a credentials file under HOME, a file in /tmp."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(f"[default]\naws_secret_access_key = {CANARY}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("CANARY_TOKEN", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    host_file = tmp_path / "host-secret.txt"
    host_file.write_text(CANARY)
    return host_file


def test_environment_is_scrubbed(planted: Path) -> None:
    result = run(
        f"""
        import glob, json, os
        found = {{"env": dict(os.environ)}}
        for path in [os.path.expanduser("~/.aws/credentials"), {str(planted.parent / "home/.aws/credentials")!r},
                     "/proc/1/environ", "/proc/self/environ", "/proc/1/cmdline"]:
            try:
                found[path] = open(path, "rb").read().decode("latin-1")
            except OSError as exc:
                found[path] = repr(exc)
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    found["environ-" + pid] = open(f"/proc/{{pid}}/environ", "rb").read().decode("latin-1")
                except OSError:
                    pass
        print(json.dumps(found))
        """
    )
    assert result.status == "ok", result.stderr
    assert CANARY not in everything(result)
    env = result.output_json["env"]
    assert {k for k in env if not k.startswith("CLOUDINSPECT_GUARD_")} <= {*child_environment({}, Path("/w")), "PWD"}
    assert not any(k.startswith(("OPENAI", "CANARY")) for k in env)


def test_child_environment_keeps_only_target_variables() -> None:
    env = child_environment({"AWS_REGION": "eu-west-1", "CLOUDINSPECT_VARS": "{}", "SECRET": "x"}, Path("/w"))
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["HOME"] == "/w"
    assert "SECRET" not in env
    assert env["AWS_MAX_ATTEMPTS"] == "1"
    assert env["AWS_RETRY_MODE"] == "standard"


def test_cannot_read_host_files(planted: Path) -> None:
    result = run(
        f"""
        import json, os
        out = {{}}
        for path in [{str(planted)!r}, "/root", "/root/.bash_history", {str(REPO / "pyproject.toml")!r}, "/home",
                     "/etc/shadow", "/etc/passwd", {str(Path(sys.prefix) / "pyvenv.cfg")!r}]:
            try:
                out[path] = os.listdir(path) if os.path.isdir(path) else open(path).read()[:200]
            except OSError as exc:
                out[path] = type(exc).__name__
        print(json.dumps(out))
        """
    )
    assert result.status == "ok", result.stderr
    out = result.output_json
    assert CANARY not in everything(result)
    assert out[str(planted)] == "FileNotFoundError"
    assert out["/root"] == [".pyenv"]  # only the bound interpreter
    assert out[str(REPO / "pyproject.toml")] == "FileNotFoundError"
    assert out["/etc/shadow"] == out["/etc/passwd"] == out["/home"] == "FileNotFoundError"
    assert out[str(Path(sys.prefix) / "pyvenv.cfg")].startswith("home")  # the venv is readable (read-only)


def test_cannot_write_outside_work_dir(tmp_path: Path) -> None:
    targets = ["/tmp/escape", "/usr/escape", str(Path(sys.prefix) / "escape"), "/escape", "/root/.pyenv/escape"]
    result = run(
        f"""
        import json, os
        out = {{}}
        for path in {targets!r}:
            try:
                open(path, "w").write("x")
                out[path] = "written"
            except OSError as exc:
                out[path] = type(exc).__name__
        open(os.path.join(os.getcwd(), "mine.txt"), "w").write("ok")
        out["cwd"] = os.getcwd()
        print(json.dumps(out))
        """
    )
    assert result.status == "ok", result.stderr
    assert "written" not in result.output_json.values()
    for path in targets:
        assert not Path(path).exists()
    assert not Path(result.output_json["cwd"]).exists()  # the work directory is removed afterwards


def test_no_network_but_the_bridge() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    try:
        result = ProcessSandbox().run(
            f"""
import json, socket
out = {{}}
for host, port in [("127.0.0.1", {port}), ("10.0.0.1", 80), ("1.1.1.1", 53)]:
    try:
        socket.create_connection((host, port), timeout=1).close()
        out[host] = "connected"
    except OSError as exc:
        out[host] = type(exc).__name__
print(json.dumps(out))
""",
            {},
            endpoint=NOWHERE,
            limits=Limits(timeout_s=20),
            isolation="full",
        )
        assert result.status == "ok", result.stderr
        assert "connected" not in result.output_json.values()
        with pytest.raises(TimeoutError):
            listener.accept()  # the canary listener got no connection
    finally:
        listener.close()


def test_syntax_and_import_errors_and_non_json_output() -> None:
    assert run("x = (\n").error_class == "syntax"
    assert run("import boto4\n").error_class == "import"
    printed = run("print('hello')\n")
    assert (printed.status, printed.error_class) == ("error", "output_not_json")
    ok = run("import json\nprint(json.dumps({'a': 1}))\n")
    assert (ok.status, ok.output_json, ok.error_class) == ("ok", {"a": 1}, "none")


def test_per_exec_overhead_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    run("print(1)\n")  # warm the page cache
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        assert run("print(1)\n").status == "ok"
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    with capsys.disabled():
        print(f"\nprocess sandbox (bwrap) per-exec overhead, trivial script: median {samples[2]:.0f} ms")
    assert samples[2] < 2000


def test_result_json_is_stable() -> None:
    data = json.loads(run("import json\nprint(json.dumps([1]))\n").to_json())
    for key in (
        "status",
        "exit_code",
        "stdout",
        "stderr",
        "duration_ms",
        "output_json",
        "api_calls",
        "blocked_calls",
        "violations",
        "observed_iam_policy",
        "error_class",
    ):
        assert key in data


def test_the_sandbox_uid_is_unprivileged() -> None:
    result = run("import json, os\nprint(json.dumps([os.getuid(), os.geteuid(), os.getgid()]))\n")
    assert all(v >= 1000 for v in result.output_json)
    assert os.geteuid() == 0
