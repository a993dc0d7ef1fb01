"""`cloudinspect troubleshoot` and `cloudinspect graph troubleshoot` through the real command line (in process)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from cloudinspect.cloud import Emulator, get_scenario
from cloudinspect.config import get_settings
from cloudinspect.troubleshoot.render import render_text
from cloudinspect.troubleshoot.types import TroubleshootResult
from tests._cli import run

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCENARIO = "fault-lambda-timeout"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLOUDINSPECT_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "state"
    get_settings.cache_clear()


def _problem() -> str:
    fault = get_scenario(SCENARIO).fault
    assert fault is not None
    return fault.problem


def test_graph_troubleshoot_prints_the_mermaid_drawing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", "troubleshoot"], capsys)
    assert code == 0
    assert out == (FIXTURES / "graphs" / "troubleshoot.mmd").read_text()


def test_json_output_is_the_whole_result(
    emulator: Callable[[str], Emulator], capsys: pytest.CaptureFixture[str]
) -> None:
    replay = FIXTURES / "troubleshoot" / f"{SCENARIO}.yaml"
    endpoint = emulator(SCENARIO).endpoint_url
    argv = ["troubleshoot", _problem(), "-m", f"replay:{replay}", "-T", f"endpoint:{endpoint}", "--format", "json"]

    code, out, err = run(argv, capsys)

    assert code == 0, err
    result = TroubleshootResult.model_validate_json(out)
    assert result.diagnosis.hypotheses[0].labels == ["lambda-timeout"]
    assert len(result.inspections) == 4
    assert result.evidence.items
    assert "round 1 plan" in err
    assert "diagnosis (conclusive)" in err
    assert "canary" not in out

    text = render_text(result)  # the terminal form of the same result
    assert text.startswith("Problem: ")
    assert "1. order-processor runs into its 6 s timeout (0.90; lambda-timeout)" in text
    assert "Remediation (suggested commands: cloudinspect never runs them):" in text
    assert "  E1 [lambda-duration-near-timeout] " in text


def test_markdown_to_a_file_and_text(
    emulator: Callable[[str], Emulator], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    full = yaml.safe_load((FIXTURES / "troubleshoot" / f"{SCENARIO}.yaml").read_text())
    plan = {"inspections": [{"prompt_id": "lambda-duration-near-timeout", "reason": "at the timeout?"}]}
    hypothesis = {"title": "order-processor times out", "labels": ["lambda-timeout"], "confidence": 0.9}
    diagnosis = {"summary": "order-processor times out", "hypotheses": [{**hypothesis, "evidence": ["E1"]}]}
    replies = {
        "troubleshoot.understand": full["troubleshoot.understand"],
        "troubleshoot.plan": [f"```json\n{json.dumps(plan)}\n```"],
        "troubleshoot.diagnose": [f"```json\n{json.dumps({**diagnosis, 'conclusive': True})}\n```"],
        "lambda-duration-near-timeout": full["lambda-duration-near-timeout"],
    }
    replay = tmp_path / "replay.yaml"
    replay.write_text(yaml.safe_dump(replies))
    out_file = tmp_path / "report.md"
    endpoint = emulator(SCENARIO).endpoint_url
    argv = ["troubleshoot", _problem(), "-m", f"replay:{replay}", "-T", f"endpoint:{endpoint}"]

    code, out, err = run([*argv, "--format", "markdown", "--out", str(out_file), "-q"], capsys)

    assert code == 0, err
    assert out == ""
    assert err == ""
    report = out_file.read_text()
    assert report.startswith("# Troubleshooting report")
    for heading in ("## Diagnosis (conclusive", "## Remediation", "## Plans", "## Inspections", "## Model steps"):
        assert heading in report
    assert "`lambda-timeout`" in report
    assert "E1" in report
    assert "--function-name order-processor" in report  # a command with the resource filled in


def test_a_failing_planner_is_a_clear_error_without_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    replay = tmp_path / "replay.yaml"
    replay.write_text(yaml.safe_dump({"troubleshoot.plan": ["{}"]}))

    code, out, err = run(
        ["troubleshoot", "slow lambda", "-m", f"replay:{replay}", "-T", "endpoint:http://127.0.0.1:9"], capsys
    )

    assert code == 1
    assert out == ""
    assert "step troubleshoot.understand" in err
    assert "Traceback" not in err


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["troubleshoot", "slow", "-m", "replay:x.yaml", "--format", "yaml"], capsys)
    assert code == 2
    assert "format" in err
