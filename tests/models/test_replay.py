"""The replay provider: recorded replies in order, per prompt id, with clear errors."""

from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from cloudinspect.errors import InputError
from cloudinspect.models import Provider, get_model, get_spec
from cloudinspect.models.replay import (
    PROMPT_ID_METADATA_KEY,
    ReplayChatModel,
    ReplayExhaustedError,
    load_replay_file,
)


def write(tmp_path: Path, text: str, name: str = "replay.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def ask(model: object, prompt_id: str | None = None) -> AIMessage:
    config = {"metadata": {PROMPT_ID_METADATA_KEY: prompt_id}} if prompt_id else None
    message = model.invoke("write the script", config=config)  # type: ignore[attr-defined]
    assert isinstance(message, AIMessage)
    return message


LIST_FORM = """
- "first reply"
- content: "second reply"
  finish_reason: length
  usage: {input_tokens: 120, output_tokens: 64, cached_input_tokens: 100}
"""


def test_spec_of_a_replay_id_needs_no_registry_entry(tmp_path: Path) -> None:
    path = write(tmp_path, LIST_FORM)
    spec = get_spec(f"replay:{path}")
    assert (spec.id, spec.provider, spec.model, spec.family) == ("replay", Provider.replay, str(path), "replay")
    assert spec.cost_usd({"input_tokens": 1_000_000, "output_tokens": 1_000_000}) == 0
    assert spec.is_local
    assert spec.capabilities.chat
    assert not spec.capabilities.structured_output
    model = get_model(f"replay:{path}")
    assert isinstance(model, ReplayChatModel)
    assert model.metadata is not None
    assert model.metadata["cloudinspect_family"] == "replay"


def test_list_form_replays_in_order_whatever_the_prompt(tmp_path: Path) -> None:
    path = write(tmp_path, LIST_FORM)
    model = get_model(f"replay:{path}")
    first = ask(model, "any-prompt")
    assert first.content == "first reply"
    assert first.response_metadata["finish_reason"] == "stop"
    assert first.usage_metadata == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    second = ask(model)
    assert second.content == "second reply"
    assert second.response_metadata["finish_reason"] == "length"
    assert second.usage_metadata is not None
    assert (second.usage_metadata["input_tokens"], second.usage_metadata["output_tokens"]) == (120, 64)
    assert second.usage_metadata.get("input_token_details") == {"cache_read": 100}
    with pytest.raises(ReplayExhaustedError, match="exhausted") as info:
        ask(model, "lambda-error-rate")
    assert str(path) in str(info.value)
    assert "lambda-error-rate" in str(info.value)
    assert "all 2 recorded replies were used" in str(info.value)


def test_each_model_object_starts_from_the_first_reply(tmp_path: Path) -> None:
    path = write(tmp_path, LIST_FORM)
    model = get_model(f"replay:{path}")
    ask(model)
    assert ask(get_model(f"replay:{path}")).content == "first reply"
    assert isinstance(model, ReplayChatModel)
    assert model.remaining() == 1
    model.reset()
    assert ask(model).content == "first reply"


MAPPING_FORM = """
s3-bucket-security-baseline:
  - "s3 one"
  - "s3 two"
lambda-error-rate:
  - content: "lambda one"
    finish_reason: max_tokens
"""


def test_mapping_form_has_a_cursor_per_prompt(tmp_path: Path) -> None:
    model = get_model(f"replay:{write(tmp_path, MAPPING_FORM)}")
    assert ask(model, "s3-bucket-security-baseline").content == "s3 one"
    assert ask(model, "lambda-error-rate").content == "lambda one"
    assert ask(model, "s3-bucket-security-baseline").content == "s3 two"
    with pytest.raises(ReplayExhaustedError, match="exhausted for prompt 'lambda-error-rate'"):
        ask(model, "lambda-error-rate")
    with pytest.raises(ReplayExhaustedError, match="exhausted for prompt 's3-bucket-security-baseline'"):
        ask(model, "s3-bucket-security-baseline")


def test_mapping_form_errors_name_the_prompt_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, MAPPING_FORM)
    model = get_model(f"replay:{path}")
    with pytest.raises(ReplayExhaustedError, match="no replies for prompt 'ec2-open-security-groups'") as info:
        ask(model, "ec2-open-security-groups")
    assert str(path) in str(info.value)
    assert "lambda-error-rate, s3-bucket-security-baseline" in str(info.value)
    with pytest.raises(ReplayExhaustedError, match="no prompt id was given"):
        ask(model)


def test_json_files_work(tmp_path: Path) -> None:
    data = {"p": ["a", {"content": "b", "usage": {"output_tokens": 3}}]}
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    model = get_model(f"replay:{path}")
    assert [ask(model, "p").content, ask(model, "p").content] == ["a", "b"]


def test_cursor_is_thread_safe(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps([f"reply {i}" for i in range(200)]), encoding="utf-8")
    model = ReplayChatModel.from_file(path)
    seen: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            content = model.next_reply().content
            with lock:
                seen.append(content)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(f"reply {i}" for i in range(200))
    with pytest.raises(ReplayExhaustedError):
        model.next_reply()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('- "a"\n- content: [1, 2\n', "malformed YAML"),
        ("just a string\n", "expected a list of replies, or a mapping from prompt id"),
        ("- content: 3\n", "field '0.content', line 1: Input should be a valid string"),
        ('- "a"\n- content: b\n  finish_reson: length\n', "field '1.finish_reson', line 3: unknown field"),
        ("- usage: {input_tokens: 1}\n", "field '0.content', line 1: Field required"),
        ("p:\n  - content: x\n    usage: {input_tokens: -1}\n", "field 'p.0.usage.input_tokens', line 3"),
        ("p: just a string\n", "field 'p', line 1: Input should be a valid list"),
        ("1: [a]\n", "field '1', line 1: a prompt id must be a string"),
        ("", "expected a list of replies"),
    ],
)
def test_malformed_files_are_input_errors_with_file_field_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text) if text else tmp_path / "empty.yaml"
    if not text:
        path.write_text("", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_replay_file(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert info.value.exit_code == 2
    with pytest.raises(InputError):  # get_model validates the file before any call
        get_model(f"replay:{path}")


def test_missing_file_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read replay file"):
        get_model(f"replay:{tmp_path / 'nope.yaml'}")
    with pytest.raises(InputError, match="needs a file"):
        get_spec("replay:")


def test_models_from_one_unchanged_file_share_its_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from cloudinspect.models import replay as replay_module

    path = tmp_path / "replies.yaml"
    path.write_text('- "```python\\nprint(1)\\n```"\n', encoding="utf-8")
    calls: list[str] = []
    real = replay_module.load_replay_file

    def counting(p: Path | str) -> Any:
        calls.append(str(p))
        return real(p)

    monkeypatch.setattr(replay_module, "load_replay_file", counting)
    first = replay_module.ReplayChatModel.from_file(path)
    second = replay_module.ReplayChatModel.from_file(path)
    assert len(calls) == 1
    assert first.next_reply().content == second.next_reply().content  # each model keeps its own cursor
    path.write_text('- "```python\\nprint(2)\\n```"\n', encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = replay_module.ReplayChatModel.from_file(path)
    assert len(calls) == 2
    assert "print(2)" in changed.next_reply().content
