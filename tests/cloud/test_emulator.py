"""The emulator's lifecycle in-process: free port, ready check, reset, and no process left behind."""

from __future__ import annotations

import os

import pytest

from cloudinspect.cloud import Scenario, start_emulator, start_server
from cloudinspect.cloud.emulator import EmulatorError, is_emulator_process

pytestmark = pytest.mark.e2e


def gone(pid: int) -> bool:
    return not is_emulator_process(pid)


TINY = Scenario.model_validate(
    {
        "name": "tiny",
        "description": "Two buckets and a queue.",
        "s3": {"buckets": [{"name": "tiny-{i}", "count": 2}]},
        "sqs": {"queues": [{"name": "tiny-queue"}]},
    }
)


def test_empty_emulator_reset_and_stop() -> None:
    with start_emulator(None) as emu:
        assert emu.server is not None
        pid = emu.server.pid
        assert os.getpgid(pid) == pid  # its own process group, killed as a whole
        s3 = emu.client("s3")
        s3.create_bucket(Bucket="scratch")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["scratch"]
        emu.reset()
        assert s3.list_buckets()["Buckets"] == []
        emu.reset(TINY)
        assert emu.scenario is not None
        assert emu.scenario.name == "tiny"
        assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["tiny-1", "tiny-2"]
    assert gone(pid)


def test_port_in_use_fails_with_the_log_tail() -> None:
    first = start_server()
    try:
        with pytest.raises(EmulatorError, match="exited with code") as exc:
            start_server(port=first.port, timeout=15)
        assert "Address already in use" in str(exc.value) or "address" in str(exc.value).lower()
    finally:
        first.stop()
    assert gone(first.pid)


def test_an_emulator_does_not_outlive_its_owner_killed_with_sigkill() -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import json, time\n"
            "from cloudinspect.cloud.emulator import start_server\n"
            "print(json.dumps({'pid': start_server().pid}), flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    server_pid = json.loads(owner.stdout.readline())["pid"] if owner.stdout else 0
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(server_pid, signal.SIGKILL)
    raise AssertionError("the emulator outlived its owner")
