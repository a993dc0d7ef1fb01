"""The adversarial suite: hostile scripts (tests/fixtures/hostile/*.py, each with its expected result in its header)
run in the process sandbox with full isolation against a dedicated `baseline` emulator.

For every script: the ExecResult has the expected status, error class and violations; the canaries planted in the
parent (environment variables, ~/.aws/credentials under the parent's HOME, a file in the parent's /tmp) appear
nowhere (result, bridge records, guard log, captured output); the canary TCP listener gets no connection; the
named host paths do not exist. After the whole suite, a full read of every seeded resource of the emulator is
byte-for-byte the read taken before it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.cloud import Emulator, start_emulator
from cloudinspect.sandbox import ExecResult, Limits, execute
from cloudinspect.sandbox import bridge as bridge_module
from cloudinspect.sandbox import process as process_module
from tests.sandbox._state import _s3, account_state, canonical, differences
from tests.sandbox.conftest import needs_sandbox

pytestmark = needs_sandbox

HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile"
CANARY = "CANARY-5be1d0c4-hostile-do-not-leak"
REPO = Path(__file__).resolve().parents[2]


def _host_paths(text: str) -> str:
    """Scripts name this checkout and its venv as __REPO__ and __VENV__, wherever the clone lives."""
    return text.replace("__VENV__", sys.prefix).replace("__REPO__", str(REPO))


@dataclass
class Case:
    """One hostile script and what must come of it."""

    path: Path
    status: str
    error_class: str | None = None
    violations: list[str] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    limits: dict[str, float] = field(default_factory=dict)
    blocked_by: str | None = None
    """`bridge`: the guard was bypassed or never involved, and the bridge refused the call itself."""

    @classmethod
    def load(cls, path: Path) -> Case:
        text = _host_paths(path.read_text(encoding="utf-8"))
        fields: dict[str, str] = {}
        case = cls(path, status="")
        for header, value in re.findall(r"^# ([a-z-]+): (.+)$", text, flags=re.MULTILINE):
            if header == "expect":
                fields.update(item.split("=", 1) for item in value.split())
            elif header == "expect-json":
                case.output.update(json.loads(value))
            elif header == "absent":
                case.absent.append(value.strip())
            elif header == "limits":
                case.limits.update({k: float(v) for k, v in (item.split("=", 1) for item in value.split())})
        case.status = fields["status"]
        case.error_class = fields.get("error_class")
        case.violations = [v for v in fields.get("violations", "").split(",") if v]
        case.blocked_by = fields.get("blocked_by")
        return case


CASES = [Case.load(p) for p in sorted(HOSTILE.glob("*.py"))]


@dataclass
class World:
    """The dedicated emulator, the canaries, and what the bridges and guards logged during the suite."""

    emulator: Emulator
    target: str
    listener: socket.socket
    home: Path
    tmp_file: Path
    state_before: dict[str, Any]
    bridge_logs: list[str] = field(default_factory=list)
    guard_logs: list[str] = field(default_factory=list)
    accepted: list[Any] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("hostile-home")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIA{CANARY}\naws_secret_access_key = {CANARY}\n"
    )
    (home / ".aws" / "config").write_text(f"[default]\nregion = {CANARY}\n")
    fd, name = tempfile.mkstemp(prefix="cloudinspect-canary-", dir="/tmp")  # the parent's real /tmp
    os.write(fd, CANARY.encode())
    os.close(fd)
    saved = {k: os.environ.get(k) for k in ("HOME", "AWS_SECRET_ACCESS_KEY", "CANARY_TOKEN", "OPENAI_API_KEY")}
    os.environ.update(HOME=str(home), AWS_SECRET_ACCESS_KEY=CANARY, CANARY_TOKEN=CANARY, OPENAI_API_KEY=CANARY)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    try:
        with start_emulator("baseline") as emulator:
            yield World(
                emulator,
                f"endpoint:{emulator.endpoint_url}",
                listener,
                home,
                Path(name),
                account_state(emulator),
            )
    finally:
        listener.close()
        Path(name).unlink(missing_ok=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def logged(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Keep every bridge's records and every guard log of the runs in this test."""
    start_bridge = bridge_module.start_bridge
    read_guard_log = process_module._read_guard_log

    class Recording:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.inner = start_bridge(*args, **kwargs)

        def __enter__(self) -> Any:
            self.bridge = self.inner.__enter__()
            return self.bridge

        def __exit__(self, *exc: Any) -> Any:
            world.bridge_logs.append(json.dumps(self.bridge.calls, default=str))
            return self.inner.__exit__(*exc)

    def read_log(path: Path | None) -> list[dict[str, Any]]:
        if path is not None and path.is_file():
            world.guard_logs.append(path.read_text(errors="replace"))
        result: list[dict[str, Any]] = read_guard_log(path)
        return result

    monkeypatch.setattr(bridge_module, "start_bridge", Recording)
    monkeypatch.setattr(process_module, "_read_guard_log", read_log)
    return world


def _source(case: Case, world: World) -> str:
    return (
        _host_paths(case.path.read_text(encoding="utf-8"))
        .replace("__CANARY_PORT__", str(world.listener.getsockname()[1]))
        .replace("__CANARY_FILE__", str(world.tmp_file))
        .replace("__CANARY_HOME__", str(world.home))
        .replace("__PARENT_PID__", str(os.getpid()))
    )


def _no_connection(listener: socket.socket) -> None:
    try:
        conn, peer = listener.accept()
    except BlockingIOError:
        return
    conn.close()
    raise AssertionError(f"the canary listener got a connection from {peer}")


def test_there_are_enough_hostile_scripts() -> None:
    assert len(CASES) >= 30
    assert all(c.status in ("ok", "error", "timeout", "killed", "blocked", "unsupported") for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_hostile_script(case: Case, logged: World, capfd: pytest.CaptureFixture[str]) -> None:
    limits = Limits(**{"timeout_s": 30.0, **case.limits})
    result: ExecResult = execute(_source(case, logged), logged.target, limits=limits)
    detail = f"{result.status}/{result.error_class}: {result.error_message}\n{result.stderr[-1500:]}"
    assert result.status == case.status, detail
    if case.error_class is not None:
        assert result.error_class == case.error_class, detail
    kinds = {v.kind for v in result.violations}
    assert set(case.violations) <= kinds, f"{kinds}: {detail}"
    for key, value in case.output.items():
        assert isinstance(result.output_json, dict), detail
        assert result.output_json.get(key) == value, f"{key}: {result.output_json.get(key)!r}\n{detail}"
    for path in case.absent:
        assert not Path(path).exists(), path
    _no_connection(logged.listener)
    captured = capfd.readouterr()
    for text in (result.model_dump_json(), *logged.bridge_logs, *logged.guard_logs, captured.out, captured.err):
        assert CANARY not in text
    assert logged.bridge_logs, "the bridge's records were not captured"
    if case.status == "blocked":
        assert result.blocked_calls
    if case.blocked_by is not None:
        assert any(c.source == case.blocked_by for c in result.blocked_calls), result.blocked_calls


def test_the_account_is_byte_for_byte_unchanged(world: World) -> None:
    """Runs after the hostile scripts (module order): the full read equals the one taken before them."""
    after = account_state(world.emulator)
    assert differences(world.state_before, after) == []
    assert canonical(after) == canonical(world.state_before)
    assert len(world.state_before) > 1000  # it really read the account


def test_the_state_read_sees_a_changed_object_body(world: World) -> None:
    """The comparison can fail: overwrite one object with a body of the same size, and the read tells."""
    s3 = world.emulator.client("s3")
    before = account_state(world.emulator, ("s3",), (_s3,))
    bucket = next(
        b["Name"] for b in s3.list_buckets()["Buckets"] if s3.list_objects_v2(Bucket=b["Name"]).get("Contents")
    )
    obj = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    s3.put_object(Bucket=bucket, Key=obj["Key"], Body=bytes(b ^ 1 for b in body) or b"x")
    after = account_state(world.emulator, ("s3",), (_s3,))
    assert f"s3.GetObject[{bucket}/{obj['Key']}]" in differences(before, after)
