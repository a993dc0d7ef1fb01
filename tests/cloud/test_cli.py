"""`cloudinspect emulator` and `cloudinspect scenarios` through the real console script (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.cloud import load_scenarios
from cloudinspect.cloud.emulator import is_emulator_process

pytestmark = pytest.mark.e2e

TINY = """\
name: tiny
description: A tiny user scenario for CLI tests.
sqs:
  queues:
    - {name: only-queue, messages: 3}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "tiny.yaml").write_text(TINY, encoding="utf-8")
    return {
        **os.environ,
        "CLOUDINSPECT_STATE_DIR": str(tmp_path / "state"),
        "CLOUDINSPECT_SCENARIO_DIRS": json.dumps([str(scenarios)]),
    }


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "cloudinspect", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if check:
        assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def gone_soon(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not is_emulator_process(pid):
            return True
        time.sleep(0.05)
    return False


def test_up_status_reuse_refuse_reset_down(env: dict[str, str]) -> None:
    up: dict[str, Any] = json.loads(cli(env, "emulator", "up", "--scenario", "tiny", "--json").stdout)
    pid = up["pid"]
    try:
        assert up["running"]
        assert not up["reused"]
        assert up["scenario"] == "tiny"
        assert up["endpoint"] == f"http://127.0.0.1:{up['port']}"
        state = Path(env["CLOUDINSPECT_STATE_DIR"]) / "emulator.json"
        assert json.loads(state.read_text())["pid"] == pid

        again = json.loads(cli(env, "emulator", "up", "--scenario", "tiny", "--json").stdout)
        assert again["reused"]
        assert again["pid"] == pid

        refused = cli(env, "emulator", "up", "--scenario", "startup", check=False)
        assert refused.returncode == 1
        assert "already running with scenario 'tiny'" in refused.stderr
        assert "emulator down" in refused.stderr
        assert "reset --scenario startup" in refused.stderr

        status = json.loads(cli(env, "emulator", "status", "--json").stdout)
        assert status["healthy"]
        assert status["pid"] == pid

        import boto3

        sqs = boto3.client(
            "sqs",
            endpoint_url=up["endpoint"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
        )
        sqs.create_queue(QueueName="added-by-hand")
        assert len(sqs.list_queues()["QueueUrls"]) == 2
        reset = json.loads(cli(env, "emulator", "reset", "--json").stdout)
        assert reset["scenario"] == "tiny"
        assert reset["pid"] == pid
        assert [u.rsplit("/", 1)[1] for u in sqs.list_queues()["QueueUrls"]] == ["only-queue"]

        text = cli(env, "emulator", "status").stdout
        assert up["endpoint"] in text
    finally:
        down = cli(env, "emulator", "down", "--json", check=False)
    assert json.loads(down.stdout)["stopped"]
    assert gone_soon(pid), f"emulator pid {pid} still running after down"
    assert cli(env, "emulator", "status", check=False).returncode == 1
    assert "no emulator running" in cli(env, "emulator", "down").stdout


def test_stale_state_file_is_cleaned_up(env: dict[str, str]) -> None:
    state_dir = Path(env["CLOUDINSPECT_STATE_DIR"])
    state_dir.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = {
        "pid": int(dead.stdout),
        "port": 1,
        "endpoint": "http://127.0.0.1:1",
        "scenario": "tiny",
        "started_at": "2025-01-01T00:00:00Z",
        "log": "x",
    }
    (state_dir / "emulator.json").write_text(json.dumps(stale))
    proc = cli(env, "emulator", "status", check=False)
    assert proc.returncode == 1
    assert "stale" in proc.stdout
    assert not (state_dir / "emulator.json").exists()


def test_unknown_scenario_exit_code(env: dict[str, str]) -> None:
    proc = cli(env, "emulator", "up", "--scenario", "nope", check=False)
    assert proc.returncode == 2
    assert "unknown scenario 'nope'" in proc.stderr
    assert not (Path(env["CLOUDINSPECT_STATE_DIR"]) / "emulator.json").exists()


def test_scenarios_list_show_validate(env: dict[str, str], tmp_path: Path) -> None:
    rows = json.loads(cli(env, "scenarios", "list", "--json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert {"baseline", "startup", "scale", "tiny"} <= set(by_name)
    baseline = by_name["baseline"]
    assert baseline["fault"] is None
    assert len(baseline["services"]) >= 13
    assert baseline["resource_counts"]["lambda"] == load_scenarios([])["baseline"].resource_counts()["lambda"]
    assert by_name["tiny"]["resource_counts"] == {"sqs": {"queues": 1}}

    shown = json.loads(cli(env, "scenarios", "show", "startup", "--json").stdout)
    assert shown["name"] == "startup"
    assert shown["scenario"]["name"] == "startup"
    assert "functions 6" in cli(env, "scenarios", "show", "startup").stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("messages: 3", "mesages: 3").replace("name: tiny", "name: bad"))
    proc = cli(env, "scenarios", "validate", str(bad), check=False)
    assert proc.returncode == 2
    assert "sqs.queues.0.mesages" in proc.stderr
    assert "line 5" in proc.stderr
    tiny = tmp_path / "scenarios" / "tiny.yaml"
    assert "ok (tiny, 1 resources, 1 services)" in cli(env, "scenarios", "validate", str(tiny)).stdout


def test_fault_scenarios_show_their_fault(env: dict[str, str], tmp_path: Path) -> None:
    rows = json.loads(cli(env, "scenarios", "list", "--json").stdout)
    faults = {r["name"]: r["fault"] for r in rows if r["fault"]}
    assert len(faults) >= 10
    fault = faults["fault-lambda-timeout"]
    assert set(fault) == {"name", "root_cause", "problem", "expected_findings", "evidence_prompts", "resources"}
    assert fault["expected_findings"] == ["lambda-timeout"]
    assert "lambda-duration-near-timeout" in fault["evidence_prompts"]
    shown = cli(env, "scenarios", "show", "fault-lambda-timeout").stdout
    assert "evidence prompts: lambda-duration-near-timeout, logs-lambda-timeouts" in " ".join(shown.split())

    # a user's copy (it overrides the built-in by name) citing a prompt the catalogue does not have
    source = Path(json.loads(cli(env, "scenarios", "show", "fault-lambda-timeout", "--json").stdout)["source"])
    broken = tmp_path / "scenarios" / "fault-lambda-timeout.yaml"
    text = source.read_text(encoding="utf-8")
    broken.write_text(text.replace("logs-lambda-timeouts]", "logs-lambda-timeoutz]"), encoding="utf-8")
    for args in (["validate", str(broken)], ["show", "fault-lambda-timeout"]):
        proc = cli(env, "scenarios", *args, check=False)
        assert proc.returncode == 2, args
        assert "field 'fault.evidence_prompts.1': no catalogue prompt 'logs-lambda-timeoutz'" in proc.stderr


def test_printed_export_line_points_boto3_at_the_emulator(env: dict[str, str]) -> None:
    """A user copies the `export ...` hint that `emulator up` prints; boto3 must then see the seeded data."""
    out = cli(env, "emulator", "up", "--scenario", "tiny").stdout
    try:
        export = next(line.strip() for line in out.splitlines() if line.strip().startswith("export "))
        exported = dict(item.split("=", 1) for item in export.removeprefix("export ").split())
        child_env = {"PATH": os.environ["PATH"], "HOME": env.get("HOME", "/tmp"), **exported}
        code = "import boto3; print(boto3.client('sqs').list_queues()['QueueUrls'][0])"
        proc = subprocess.run([sys.executable, "-c", code], env=child_env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().endswith("/only-queue")
    finally:
        cli(env, "emulator", "down")
