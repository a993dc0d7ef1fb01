"""`cloudinspect models ...` through the real entry point (exit codes included)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests._cli import run


def test_list_json_contains_both_local_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "list", "--json"], capsys)
    assert code == 0
    models = {m["id"]: m for m in json.loads(out)}
    assert {"smollm2-135m", "gemma3-270m"} <= set(models)
    for m in models.values():
        assert {"id", "provider", "model", "family", "prices", "context_window", "capabilities"} <= set(m)
    assert models["gemma3-270m"]["capabilities"]["chat"] is False
    assert models["gpt-6.2-sol"]["prices"]["input"] > 0


def test_list_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "list", "--json", "--provider", "llamacpp"], capsys)
    assert code == 0
    assert sorted(m["id"] for m in json.loads(out)) == ["gemma3-270m", "smollm2-135m"]
    code, out, _ = run(["models", "list", "--json", "--requires", "reasoning", "--requires", "tool_calling"], capsys)
    assert all(m["capabilities"]["reasoning"] and m["capabilities"]["tool_calling"] for m in json.loads(out))


def test_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "list", "--local"], capsys)
    assert code == 0
    assert "smollm2-135m" in out
    assert "gpt-6.2-sol" not in out


def test_show_json_names_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "show", "gemma3-270m", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["completion_cue"] == "```python\n"
    assert data["source"].endswith("models.yaml")


@pytest.mark.llm
def test_check_ping_smollm2_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "check", "smollm2-135m", "--ping", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["class"] == "LlamaCppChatModel"
    assert result["input_tokens"] > 0
    assert result["output_tokens"] > 0
    assert result["cost_usd"] == 0
    assert result["latency_seconds"] > 0
    code, out, _ = run(["models", "check", "smollm2-135m", "--ping"], capsys)
    assert code == 0
    assert "ping:" in out
    assert "output tokens" in out


def test_check_unknown_id_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["models", "check", "no-such-model"], capsys)
    assert code == 2
    assert "unknown model 'no-such-model'" in err


def test_check_missing_key_exits_3(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code, _, err = run(["models", "check", "claude-sonnet-5.5"], capsys)
    assert code == 3
    assert "ANTHROPIC_API_KEY" in err


def test_models_file_option_overrides(capsys: pytest.CaptureFixture[str], write_models: Callable[[str], Path]) -> None:
    path = write_models(
        """
        models:
          - id: smollm2-135m
            provider: ollama
            model: smollm2:135m
            family: smollm2
        """
    )
    code, out, _ = run(["models", "show", "smollm2-135m", "--json", "--models-file", str(path)], capsys)
    assert code == 0
    assert json.loads(out)["provider"] == "ollama"
    bad = write_models("models:\n  - id: x\n    provider: ollama\n")
    code, _, err = run(["models", "list", "--models-file", str(bad)], capsys)
    assert code == 2
    assert "models[0](x).model" in err
    assert "line 2" in err
