"""`cloudinspect run`, `runs list/show` and `graph repair` through the real command line (in process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.config import get_settings
from tests._cli import run

FIXTURES = Path(__file__).parent.parent / "fixtures"
PROMPT = "ec2-instances-by-state-and-type"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLOUDINSPECT_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "state"
    get_settings.cache_clear()


def test_graph_repair_prints_the_mermaid_drawing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", "repair"], capsys)
    assert code == 0
    assert out == (FIXTURES / "graphs" / "repair.mmd").read_text()


def test_run_then_list_and_show(emulator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    replay = FIXTURES / "replay" / "repair-four-attempts.yaml"
    endpoint = emulator("baseline").endpoint_url
    code, out, err = run(["run", PROMPT, "-m", f"replay:{replay}", "-T", f"endpoint:{endpoint}", "--json"], capsys)
    assert code == 0, err
    record = json.loads(out)
    assert record["status"] == "passed"
    assert [a["error_class"] for a in record["attempts"]] == ["syntax", "hallucinated_api", "wrong_output", "none"]
    assert "attempt 4" in err  # progress went to stderr
    run_id = record["run_id"]

    code, out, _ = run(["runs", "list", "--json"], capsys)
    assert code == 0
    assert [r["run_id"] for r in json.loads(out)] == [run_id]

    code, out, _ = run(["runs", "show", run_id, "--code"], capsys)
    assert code == 0
    assert out == record["final_code"]

    code, out, err = run(["runs", "show", run_id, "--attempt", "2"], capsys)
    assert code == 0
    assert "list_instances" in out
    assert "describe_instances" in err  # the feedback with botocore's documentation

    code, _, err = run(["runs", "show", run_id, "--attempt", "9"], capsys)
    assert code == 2
    assert "no attempt 9" in err


def test_a_failed_run_exits_1_and_bad_input_exits_2(emulator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    replay = FIXTURES / "replay" / "repair-unsupported.yaml"
    endpoint = emulator("baseline").endpoint_url
    code, _, err = run(["run", PROMPT, "-m", f"replay:{replay}", "-T", f"endpoint:{endpoint}"], capsys)
    assert code == 1
    assert "unsupported" in err
    code, _, err = run(["run", PROMPT], capsys)
    assert code == 2
    assert "--model" in err
    code, _, err = run(["run", "no-such-prompt", "-m", f"replay:{replay}"], capsys)
    assert code == 2
    assert "no-such-prompt" in err
    code, _, err = run(["runs", "list", "--status", "great"], capsys)
    assert code == 2
    assert "unknown status" in err
