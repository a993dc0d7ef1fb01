"""Continuation on truncation: stitching pieces, and the conversation with models that stop at the token limit."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from cloudinspect.catalog import Catalog
from cloudinspect.generation import extract_code, generate_code, join_continuation
from cloudinspect.models import ModelSpec, Prices, Provider, get_spec
from tests.generation.fakes import ScriptedChatModel, reply

SCRIPT = """import json

import boto3


def main():
    client = boto3.client("lambda")
    names = []
    for page in client.get_paginator("list_functions").paginate():
        names += [fn["FunctionName"] for fn in page["Functions"]]
    print(json.dumps({"functions": sorted(names), "count": len(names)}))


if __name__ == "__main__":
    main()
"""
CUT = SCRIPT.index('get_paginator("list_') + len('get_paginator("list_')  # mid-line, mid-word
HEAD = "Here is the script:\n\n```python\n"


def stitched(first: str, *more: str) -> str:
    text = first
    for piece in more:
        text = join_continuation(text, piece)
    return extract_code(text).code


def test_continuation_resumes_mid_word() -> None:
    assert stitched(HEAD + SCRIPT[:CUT], SCRIPT[CUT:] + "```\nDone.") == SCRIPT


def test_repeated_cut_line_replaces_the_partial_line() -> None:
    line_start = SCRIPT.rindex("\n", 0, CUT) + 1
    assert stitched(HEAD + SCRIPT[:CUT], SCRIPT[line_start:] + "```") == SCRIPT


def test_repeated_cut_line_without_its_indentation() -> None:
    line_start = SCRIPT.rindex("\n", 0, CUT) + 1
    assert stitched(HEAD + SCRIPT[:CUT], SCRIPT[line_start:].lstrip() + "```") == SCRIPT


def test_several_repeated_lines_and_a_new_fence_are_removed() -> None:
    start = SCRIPT.index('    client = boto3.client("lambda")')
    continuation = "Continuing the script:\n```python\n" + SCRIPT[start:] + "```\n"
    assert stitched(HEAD + SCRIPT[:CUT], continuation) == SCRIPT


def test_repeated_text_across_the_cut() -> None:
    continuation = 'client.get_paginator("list_functions").paginate():' + SCRIPT[SCRIPT.index("\n", CUT) :] + "```"
    assert stitched(HEAD + SCRIPT[:CUT], continuation) == SCRIPT


def test_restart_from_the_top_replaces_the_partial_script() -> None:
    partial = SCRIPT[:CUT].replace("names = []", "names = list()")  # the restart differs from the first try
    assert stitched(HEAD + partial, "```python\n" + SCRIPT + "```") == SCRIPT


def test_cut_at_a_line_boundary_with_repeated_last_line() -> None:
    cut = SCRIPT.index("    names = []\n") + len("    names = []\n")
    assert stitched(HEAD + SCRIPT[:cut], SCRIPT[SCRIPT.index("    names = []") :] + "```") == SCRIPT


def test_cut_after_indentation() -> None:
    cut = SCRIPT.index("    names = []")
    assert stitched(HEAD + SCRIPT[: cut + 4], SCRIPT[cut:] + "```") == SCRIPT
    assert stitched(HEAD + SCRIPT[: cut + 4], SCRIPT[cut + 4 :] + "```") == SCRIPT


def test_short_coincidental_overlap_is_not_removed() -> None:
    # "e" ends the first piece and starts the second: that is not a repetition
    first = HEAD + "import boto3\nprint(boto3.__nam"
    assert stitched(first, "e__)\n```") == "import boto3\nprint(boto3.__name__)\n"


def test_three_pieces() -> None:
    a, b = SCRIPT.index("def main"), SCRIPT.index("print(json")
    assert stitched(HEAD + SCRIPT[:a], SCRIPT[a:b], SCRIPT[b:] + "```") == SCRIPT


def test_raw_reply_and_fenced_continuation() -> None:
    assert stitched(SCRIPT[:CUT], "```python\n" + SCRIPT[CUT:] + "```") == SCRIPT


def test_bare_fence_at_the_start_closes_the_block_when_nothing_follows() -> None:
    # the first piece ended exactly at the end of the script: the continuation only closes the fence
    assert stitched(HEAD + SCRIPT, "```\nThat is all.") == SCRIPT


# --- through generate_code, with models that stop at the token limit -------------------------------


TEXT_MODEL = ModelSpec(id="text-model", provider=Provider.anthropic, model="x-1", family="claude", prices=Prices())


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("finish_reason", "length"),  # OpenAI chat completions, llama.cpp
        ("stop_reason", "max_tokens"),  # Anthropic
        ("stopReason", "max_tokens"),  # Bedrock Converse
        ("done_reason", "length"),  # Ollama
    ],
)
def test_generate_continues_a_truncated_reply(catalog: Catalog, key: str, reason: str) -> None:
    line_start = SCRIPT.rindex("\n", 0, CUT) + 1
    model = ScriptedChatModel(
        replies=[
            reply(HEAD + SCRIPT[:CUT], reason, key=key, input_tokens=900, output_tokens=64),
            reply(SCRIPT[line_start:] + "```\n", "end_turn", key=key, input_tokens=1000, output_tokens=60),
        ]
    )
    prompt = catalog["lambda-functions-inventory"]
    artifact = generate_code(prompt, None, TEXT_MODEL, chat_model=model)
    assert artifact.code == SCRIPT
    assert (artifact.continuations, artifact.truncated, artifact.extraction) == (1, False, "fenced")
    assert [p.kind for p in artifact.replies] == ["text", "continuation"]
    assert [p.truncated for p in artifact.replies] == [True, False]
    assert artifact.replies[0].content == HEAD + SCRIPT[:CUT]
    assert artifact.usage.input_tokens == 1900
    assert artifact.usage.output_tokens == 124
    assert artifact.warnings == []
    # the second request holds the partial reply, then the request to continue
    second = model.received[1]
    assert isinstance(second[-2], AIMessage)
    assert second[-2].content == HEAD + SCRIPT[:CUT]
    assert isinstance(second[-1], HumanMessage)
    assert "Continue exactly where it stopped" in str(second[-1].content)
    assert [t.role for t in artifact.messages] == ["system", "user", "assistant", "user"]


def test_continuations_are_bounded_and_an_unparsable_result_is_kept(catalog: Catalog) -> None:
    spec = get_spec("smollm2-135m")
    pieces = [SCRIPT[i : i + 40] for i in range(0, 160, 40)]
    model = ScriptedChatModel(replies=[reply(HEAD + pieces[0], "length")] + [reply(p, "length") for p in pieces[1:]])
    artifact = generate_code(catalog["lambda-functions-inventory"], None, spec, max_continuations=2, chat_model=model)
    assert len(model.received) == 3
    assert artifact.continuations == 2
    assert artifact.truncated
    assert artifact.code == SCRIPT[:120].rstrip() + "\n"
    assert not artifact.parses
    assert any("still cut off after 2 continuation(s)" in w for w in artifact.warnings)
    assert any("does not parse" in w for w in artifact.warnings)


def test_no_continuation_when_the_code_block_closed_before_the_cut(catalog: Catalog) -> None:
    model = ScriptedChatModel(
        replies=[reply(HEAD + SCRIPT + "```\n\nThis script first creates a client, then", "length")]
    )
    artifact = generate_code(catalog["lambda-functions-inventory"], None, "smollm2-135m", chat_model=model)
    assert artifact.code == SCRIPT
    assert (artifact.continuations, artifact.truncated, artifact.finish_reason) == (0, False, "length")


def test_max_continuations_zero(catalog: Catalog) -> None:
    model = ScriptedChatModel(replies=[reply(HEAD + SCRIPT[:CUT], "length")])
    artifact = generate_code(
        catalog["lambda-functions-inventory"], None, "smollm2-135m", max_continuations=0, chat_model=model
    )
    assert artifact.continuations == 0
    assert artifact.truncated
    assert len(model.received) == 1


def test_base_models_are_not_continued(catalog: Catalog) -> None:
    model = ScriptedChatModel(replies=[reply("```python\n" + SCRIPT[:CUT], "length")])
    artifact = generate_code(catalog["lambda-functions-inventory"], None, "gemma3-270m", chat_model=model)
    assert len(model.received) == 1
    assert artifact.continuations == 0
    assert any("base (completion-style) models are not continued" in w for w in artifact.warnings)


def test_an_empty_truncated_reply_is_not_continued(catalog: Catalog) -> None:
    model = ScriptedChatModel(replies=[reply("", "length", output_tokens=64)])
    artifact = generate_code(catalog["lambda-functions-inventory"], None, TEXT_MODEL, chat_model=model)
    assert len(model.received) == 1
    assert (artifact.code, artifact.truncated) == ("", True)
    assert "the token limit was reached before any text: raise max_tokens" in artifact.warnings
