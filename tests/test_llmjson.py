"""ask_json: JSON found in any text reply, validated, one fix turn, usage and cost counted, provider errors raised."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from cloudinspect.llmjson import ask_json, find_json, parse_reply
from cloudinspect.models import get_model, get_spec


class Pick(BaseModel):
    ids: list[str]
    reason: str = ""


def _replay(tmp_path: Path, replies: dict[str, list[object]]) -> str:
    path = tmp_path / "replies.yaml"
    path.write_text(yaml.safe_dump(replies), encoding="utf-8")
    return f"replay:{path}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('```json\n{"ids": ["a"]}\n```', {"ids": ["a"]}),
        ('Sure! Here it is: {"ids": ["a", "b"], "reason": "x"} Hope it helps.', {"ids": ["a", "b"], "reason": "x"}),
        ('<think>maybe {"ids": []}</think>\n```\n{"ids": ["c"]}\n```', {"ids": ["c"]}),
        ('```json\n{broken\n```\nthen {"ids": ["d"]}', {"ids": ["d"]}),
    ],
)
def test_find_json_takes_the_document_out_of_prose_and_fences(text: str, expected: object) -> None:
    assert find_json(text) == expected


def test_find_json_refuses_prose_without_json() -> None:
    with pytest.raises(ValueError, match="no JSON"):
        find_json("I think the answer is the Lambda function [sic].")


def test_parse_reply_names_the_fields_that_do_not_fit() -> None:
    value, error = parse_reply('{"ids": "not-a-list"}', Pick)
    assert value is None
    assert "ids" in error


def test_ask_json_fixes_once_and_counts_both_calls(tmp_path: Path) -> None:
    model_id = _replay(
        tmp_path,
        {
            "step.pick": [
                {"content": "the ids are a and b", "usage": {"input_tokens": 100, "output_tokens": 10}},
                {"content": '```json\n{"ids": ["a", "b"]}\n```', "usage": {"input_tokens": 150, "output_tokens": 20}},
            ]
        },
    )
    spec = get_spec(model_id)
    reply = ask_json(get_model(spec), spec, [], Pick, key="step.pick")
    assert reply.ok
    assert reply.value == Pick(ids=["a", "b"])
    assert (reply.calls, reply.tokens_in, reply.tokens_out) == (2, 250, 30)
    assert len(reply.texts) == 2


def test_ask_json_without_a_valid_reply_returns_no_value_and_why(tmp_path: Path) -> None:
    model_id = _replay(tmp_path, {"step.pick": ['{"ids": 3}', '{"ids": 4}']})
    spec = get_spec(model_id)
    reply = ask_json(get_model(spec), spec, [], Pick, key="step.pick")
    assert not reply.ok
    assert reply.value is None
    assert "ids" in reply.error
    assert reply.calls == 2


def test_ask_json_routes_replies_by_key(tmp_path: Path) -> None:
    model_id = _replay(tmp_path, {"one": ['{"ids": ["from-one"]}'], "two": ['{"ids": ["from-two"]}']})
    spec = get_spec(model_id)
    model = get_model(spec)
    assert ask_json(model, spec, [], Pick, key="two").value == Pick(ids=["from-two"])
    assert ask_json(model, spec, [], Pick, key="one").value == Pick(ids=["from-one"])
