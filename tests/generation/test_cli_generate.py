"""`cloudinspect generate` with recorded conversations (replay), through the real entry point."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cloudinspect.catalog import Catalog
from cloudinspect.cli.generate import write_atomic
from cloudinspect.errors import InputError
from cloudinspect.generation import generate_code
from tests._cli import run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replay"
CATALOG_REPLAY = f"replay:{FIXTURES / 'catalog.yaml'}"
TRUNCATED_REPLAY = f"replay:{FIXTURES / 'truncated.yaml'}"


def test_replay_fixture_holds_known_good_conversations(catalog: Catalog) -> None:
    recorded = yaml.safe_load((FIXTURES / "catalog.yaml").read_text(encoding="utf-8"))
    assert len(recorded) >= 2
    for prompt_id in recorded:
        artifact = generate_code(catalog[prompt_id], None, CATALOG_REPLAY)
        assert artifact.code == catalog[prompt_id].reference_code(), prompt_id
        assert artifact.warnings == []
        assert artifact.services == catalog[prompt_id].services


def test_generate_prints_the_code_and_a_summary(catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["generate", "s3-bucket-security-baseline", "--model", CATALOG_REPLAY], capsys)
    assert code == 0, err
    assert out == catalog["s3-bucket-security-baseline"].reference_code()
    assert f"{CATALOG_REPLAY}: 0 input + 0 output tokens, $0.000000" in err
    assert "extraction fenced, 0 continuations" in err


def test_generate_json(catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["generate", "lambda-functions-inventory", "-m", CATALOG_REPLAY, "--var", "runtime_prefix=python", "--json"],
        capsys,
    )
    assert code == 0, err
    artifact = json.loads(out)
    assert artifact["code"] == catalog["lambda-functions-inventory"].reference_code()
    assert artifact["variables"] == {"runtime_prefix": "python"}
    assert (artifact["model_id"], artifact["provider"], artifact["family"]) == (CATALOG_REPLAY, "replay", "replay")
    assert artifact["extraction"] == "fenced"
    assert artifact["usage"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
    }
    assert [m["role"] for m in artifact["messages"]] == ["system", "user"]
    assert "runtime starts with" in artifact["messages"][1]["content"]


def test_generate_replays_truncation_and_continuation(catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["generate", "lambda-functions-inventory", "-m", TRUNCATED_REPLAY, "--json"], capsys)
    assert code == 0, err
    artifact = json.loads(out)
    assert artifact["code"] == catalog["lambda-functions-inventory"].reference_code()
    assert (artifact["continuations"], artifact["truncated"]) == (1, False)
    assert [r["finish_reason"] for r in artifact["replies"]] == ["length", "stop"]
    assert (artifact["usage"]["input_tokens"], artifact["usage"]["output_tokens"]) == (2730, 436)
    assert "1 continuation" in err


def test_generate_out_writes_the_file(catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "script.py"
    target.write_text("old\n", encoding="utf-8")
    code, out, err = run(
        ["generate", "s3-bucket-security-baseline", "-m", CATALOG_REPLAY, "--out", str(target)], capsys
    )
    assert code == 0, err
    assert out == ""
    assert target.read_text(encoding="utf-8") == catalog["s3-bucket-security-baseline"].reference_code()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]  # no temporary file left
    assert f"wrote {target}" in err


def test_failed_generation_leaves_the_out_file_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "script.py"
    target.write_text("old\n", encoding="utf-8")
    code, _, err = run(["generate", "lambda-error-rate", "-m", CATALOG_REPLAY, "--out", str(target)], capsys)
    assert code == 1
    assert "no replies for prompt 'lambda-error-rate'" in err
    assert str(FIXTURES / "catalog.yaml") in err
    assert target.read_text(encoding="utf-8") == "old\n"


def test_write_atomic_never_leaves_a_half_written_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "script.py"
    target.write_text("old\n", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InputError, match="No space left"):
        write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["script.py"]
    monkeypatch.undo()
    write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "no-such-prompt", "-m", CATALOG_REPLAY], "unknown prompt 'no-such-prompt'"),
        (["generate", "lambda-error-rate", "-m", "gpt-9000"], "unknown model 'gpt-9000'"),
        (["generate", "lambda-functions-inventory", "-m", CATALOG_REPLAY, "--var", "bogus=1"], "unknown variable"),
        (["generate", "lambda-error-rate", "-m", "replay:/nonexistent/replay.yaml"], "cannot read replay file"),
    ],
)
def test_bad_input_exits_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert out == ""


def test_malformed_replay_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("lambda-error-rate:\n  - content: 3\n", encoding="utf-8")
    code, _, err = run(["generate", "lambda-error-rate", "-m", f"replay:{path}"], capsys)
    assert code == 2
    assert f"{path}: invalid replay file" in err
    assert "field 'lambda-error-rate.0.content', line 2" in err


def test_provider_error_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on: the connection is refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    models = tmp_path / "models.yaml"
    models.write_text(
        "models:\n"
        "  - id: down-server\n"
        "    provider: openai_compatible\n"
        "    model: coder\n"
        "    family: coder\n"
        f"    parameters: {{base_url: 'http://127.0.0.1:{port}/v1', max_retries: 0, timeout: 5}}\n",
        encoding="utf-8",
    )
    code, _, err = run(
        ["generate", "lambda-error-rate", "-m", "down-server", "--models-file", str(models), "--tries", "1"], capsys
    )
    assert code == 1
    assert "error: model 'down-server' failed: " in err
    assert "Connection refused" in err  # the root cause, not only the SDK's "Connection error."


def test_piped_command_line_with_max_continuations_zero(catalog: Catalog) -> None:
    argv = ["generate", "lambda-functions-inventory", "-m", TRUNCATED_REPLAY, "--max-continuations", "0"]
    result = subprocess.run(
        [sys.executable, "-m", "cloudinspect", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    reference = catalog["lambda-functions-inventory"].reference_code()
    assert reference.startswith(result.stdout.rsplit("\n", 2)[0])  # the part written before the cut
    assert "warning: the reply is still cut off after 0 continuation(s)" in result.stderr
    assert "still truncated, does not parse" in result.stderr
