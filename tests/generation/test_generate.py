"""generate_code: messages, structured output, usage and cost, errors, and real generation with llama.cpp."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.messages.ai import InputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from cloudinspect.catalog import Catalog
from cloudinspect.errors import InputError
from cloudinspect.generation import (
    CodeArtifact,
    GenerationError,
    build_messages,
    finish_reason_of,
    generate_code,
    is_truncated,
)
from cloudinspect.models import ModelSpec, TokenUsage, get_spec, spec_with
from cloudinspect.models.llamacpp import render_completion_prompt
from tests.generation.fakes import FailingChatModel, ScriptedChatModel, reply, tool_reply

SCRIPT = """import json

import boto3


def main():
    client = boto3.client("lambda")
    names = []
    for page in client.get_paginator("list_functions").paginate():
        names += [fn["FunctionName"] for fn in page["Functions"]]
    print(json.dumps({"functions": sorted(names), "count": len(names)}))


main()
"""
FENCED = f"Here it is.\n\n```python\n{SCRIPT}```\n\nIt pages through every function."


# --- messages ------------------------------------------------------------------------------------------


def test_chat_messages_carry_the_rules_the_contract_and_the_request(catalog: Catalog) -> None:
    prompt = catalog["s3-bucket-security-baseline"]
    system, request = build_messages(prompt, None, get_spec("claude-sonnet-5.5"))
    assert isinstance(system, SystemMessage)
    assert isinstance(request, HumanMessage)
    rules = str(system.content)
    for rule in ("Read-only", "boto3/botocore", "No credentials, endpoint URLs", "Paginate", "ClientError"):
        assert rule in rules
    assert "Print exactly one JSON document" in rules
    assert json.dumps(prompt.contract.json_schema, ensure_ascii=False) in rules
    assert "one ```python code block" in rules
    assert str(request.content).startswith("Write a Python script that checks every S3 bucket")
    # this prompt's adjustments are for small models only
    assert "get_bucket_encryption (raises ClientError" not in str(request.content)


def test_family_adjustments_and_variables_are_applied(catalog: Catalog) -> None:
    prompt = catalog["s3-bucket-security-baseline"]
    _, request = build_messages(prompt, {"name_prefix": "acme-"}, get_spec("smollm2-135m"))
    assert "get_bucket_encryption (raises ClientError" in str(request.content)
    assert 'whose name starts with "acme-"' in str(request.content)


def test_structured_messages_ask_for_the_three_fields(catalog: Catalog) -> None:
    system, _ = build_messages(catalog["lambda-functions-inventory"], None, get_spec("gpt-6.2-sol"), structured=True)
    assert "Return three fields: `code`" in str(system.content)
    assert "```python code block" not in str(system.content)


def test_base_models_get_a_completion_style_document(catalog: Catalog) -> None:
    prompt = catalog["s3-bucket-security-baseline"]
    spec = get_spec("gemma3-270m")
    messages = build_messages(prompt, None, spec)
    assert len(messages) == 1
    assert isinstance(messages[0], HumanMessage)
    text = render_completion_prompt(messages, spec.completion_cue or "")
    assert text.startswith(f"# {prompt.title}\n")
    assert "get_bucket_encryption (raises ClientError" in text  # gemma3 adjustments
    assert json.dumps(prompt.contract.json_schema, ensure_ascii=False) in text
    assert text.endswith("The complete script:\n\n```python\n")


def test_invalid_variables_are_input_errors(catalog: Catalog) -> None:
    model = ScriptedChatModel(replies=[])
    with pytest.raises(InputError, match="bogus"):
        generate_code(catalog["lambda-functions-inventory"], {"bogus": 1}, "smollm2-135m", chat_model=model)
    assert model.received == []


# --- free text -----------------------------------------------------------------------------------------


def test_free_text_generation_records_everything(catalog: Catalog) -> None:
    prompt = catalog["lambda-functions-inventory"]
    model = ScriptedChatModel(replies=[reply(FENCED, "stop", input_tokens=812, output_tokens=190)])
    spec = spec_with(get_spec("smollm2-135m"), max_tokens=300)
    artifact = generate_code(prompt, {"runtime_prefix": "python"}, spec, chat_model=model)
    assert artifact.code == SCRIPT
    assert artifact.prompt_id == "lambda-functions-inventory"
    assert artifact.variables == {"runtime_prefix": "python"}
    assert (artifact.model_id, artifact.model, artifact.provider, artifact.family) == (
        "smollm2-135m",
        "SmolLM2-135M-Instruct-Q4_1",
        "llamacpp",
        "smollm2",
    )
    assert artifact.parameters == {"temperature": 0.0, "max_tokens": 300, "seed": 42}
    assert (artifact.extraction, artifact.finish_reason, artifact.truncated) == ("fenced", "stop", False)
    assert artifact.explanation == "Here it is.\n\nIt pages through every function."
    assert artifact.services == ["lambda"]
    assert artifact.usage == TokenUsage(input_tokens=812, output_tokens=190)
    assert artifact.cost_usd == 0
    assert artifact.latency_ms > 0
    assert artifact.created_at.tzinfo is not None
    assert [t.role for t in artifact.messages] == ["system", "user"]
    assert "python" in artifact.messages[1].content
    assert artifact.replies[0].content == FENCED
    assert artifact.parses
    assert model.metadata_seen[0]["cloudinspect_prompt_id"] == "lambda-functions-inventory"
    assert CodeArtifact.model_validate_json(artifact.model_dump_json()) == artifact


def test_cost_comes_from_the_registry_prices(catalog: Catalog) -> None:
    spec = get_spec("nova-pro")  # Bedrock: $0.80 input, $3.20 output per million tokens
    model = ScriptedChatModel(
        replies=[reply(FENCED, "end_turn", key="stopReason", input_tokens=10_000, output_tokens=2_000)]
    )
    artifact = generate_code(catalog["lambda-functions-inventory"], None, spec, chat_model=model)
    assert artifact.cost_usd == pytest.approx((10_000 * spec.price.input + 2_000 * spec.price.output) / 1e6)
    assert artifact.cost_usd == pytest.approx(0.0144)
    assert artifact.finish_reason == "end_turn"


@pytest.mark.parametrize(
    ("metadata", "reason", "truncated"),
    [
        ({"finish_reason": "length"}, "length", True),
        ({"finish_reason": "stop"}, "stop", False),
        ({"stop_reason": "max_tokens"}, "max_tokens", True),
        ({"stop_reason": "end_turn"}, "end_turn", False),
        ({"stopReason": "max_tokens"}, "max_tokens", True),
        ({"done_reason": "length"}, "length", True),
        ({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}, "max_output_tokens", True),
        ({"finish_reason": "MAX_TOKENS"}, "MAX_TOKENS", True),
        ({}, None, False),
    ],
)
def test_finish_reasons_of_each_provider(metadata: dict[str, Any], reason: str | None, truncated: bool) -> None:
    message = AIMessage("x", response_metadata=metadata)
    assert finish_reason_of(message) == reason
    assert is_truncated(finish_reason_of(message)) is truncated


def test_provider_errors_become_generation_errors(catalog: Catalog) -> None:
    from cloudinspect.models.resilience import RetryPolicy

    with pytest.raises(
        GenerationError,
        match=r"model 'smollm2-135m' failed: provider 'llamacpp' unavailable after 1 try: connection failed: "
        r"ConnectionError: connection refused",
    ) as info:
        generate_code(
            catalog["lambda-functions-inventory"],
            None,
            "smollm2-135m",
            chat_model=FailingChatModel(),
            retry=RetryPolicy(attempts=1),
        )
    assert info.value.exit_code == 1


def test_negative_max_continuations_is_an_input_error(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="max_continuations"):
        generate_code(catalog["lambda-functions-inventory"], None, "smollm2-135m", max_continuations=-1)


def test_no_api_key_or_url_credentials_in_the_artifact(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_openai import ChatOpenAI

    from cloudinspect.models import get_model

    secret = "sk-test-0123456789-do-not-leak"  # noqa: S105 - a fake key that must not reach the artifact
    monkeypatch.setenv("TEAM_LLM_KEY", secret)
    spec = ModelSpec.model_validate(
        {
            "id": "team-llm",
            "provider": "openai_compatible",
            "model": "team-coder",
            "family": "team",
            "api_key_env": "TEAM_LLM_KEY",
            "parameters": {"base_url": "https://user:hunter2@llm.example.com:8443/v1?api-key=abc", "max_tokens": 99},
        }
    )

    def fake_generate(self: Any, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=reply(FENCED))])

    monkeypatch.setattr(ChatOpenAI, "_generate", fake_generate)
    model = get_model(spec)
    assert secret in str(model.openai_api_key.get_secret_value())  # type: ignore[attr-defined]
    artifact = generate_code(catalog["lambda-functions-inventory"], None, spec, chat_model=model)
    dumped = artifact.model_dump_json()
    assert artifact.code == SCRIPT
    assert secret not in dumped
    assert "hunter2" not in dumped
    assert "api-key" not in dumped
    assert artifact.parameters == {"max_tokens": 99, "base_url": "https://llm.example.com:8443/v1"}


# --- structured output ---------------------------------------------------------------------------------


def test_structured_output_with_usage_and_cached_tokens(catalog: Catalog) -> None:
    spec = get_spec("claude-sonnet-5.5")
    raw = tool_reply({"code": SCRIPT, "explanation": "Pages through functions.", "services": ["lambda"]})
    raw.usage_metadata = UsageMetadata(
        input_tokens=1000,
        output_tokens=200,
        total_tokens=1200,
        input_token_details=InputTokenDetails(cache_read=600),
    )
    model = ScriptedChatModel(replies=[raw])
    artifact = generate_code(catalog["lambda-functions-inventory"], None, spec, chat_model=model)
    assert artifact.code == SCRIPT
    assert (artifact.extraction, artifact.explanation, artifact.services) == (
        "structured",
        "Pages through functions.",
        ["lambda"],
    )
    assert artifact.usage == TokenUsage(input_tokens=1000, output_tokens=200, cached_input_tokens=600)
    # 400 uncached at $2, 600 cached at $0.10, 200 output at $10 per million
    assert artifact.cost_usd == pytest.approx((400 * 2.0 + 600 * 0.10 + 200 * 10.0) / 1e6)
    assert artifact.replies[0].kind == "structured"
    assert json.loads(artifact.replies[0].content)["services"] == ["lambda"]
    assert artifact.warnings == []
    tools = model.kwargs[0]["tools"]
    assert len(tools) == 1
    assert "Return three fields" in artifact.messages[0].content


def test_structured_code_with_fences_is_cleaned(catalog: Catalog) -> None:
    raw = tool_reply({"code": f"```python\n{SCRIPT}```", "explanation": "x", "services": ["lambda"]})
    artifact = generate_code(
        catalog["lambda-functions-inventory"], None, "claude-sonnet-5.5", chat_model=ScriptedChatModel(replies=[raw])
    )
    assert artifact.code == SCRIPT
    assert artifact.extraction == "structured"
    assert "Markdown fences" in artifact.warnings[0]


def test_structured_failure_falls_back_to_a_fenced_reply(catalog: Catalog) -> None:
    model = ScriptedChatModel(
        replies=[tool_reply({"code": SCRIPT}, input_tokens=900, output_tokens=100), reply(FENCED, input_tokens=880)]
    )
    artifact = generate_code(catalog["lambda-functions-inventory"], None, "claude-sonnet-5.5", chat_model=model)
    assert artifact.code == SCRIPT
    assert artifact.extraction == "fenced"
    assert [p.kind for p in artifact.replies] == ["structured", "text"]
    assert artifact.usage.input_tokens == 1780
    assert "structured output failed (the reply did not fit the schema" in artifact.warnings[0]
    assert "tools" not in model.kwargs[1]
    assert "one ```python code block" in str(model.received[1][0].content)


def test_structured_failure_uses_a_complete_code_block_of_the_reply(catalog: Catalog) -> None:
    model = ScriptedChatModel(replies=[reply(FENCED)])
    artifact = generate_code(catalog["lambda-functions-inventory"], None, "claude-sonnet-5.5", chat_model=model)
    assert len(model.received) == 1
    assert (artifact.code, artifact.extraction) == (SCRIPT, "fenced")
    assert "used the code block of its reply" in artifact.warnings[0]


def test_truncated_structured_reply_is_asked_again_in_free_text(catalog: Catalog) -> None:
    model = ScriptedChatModel(replies=[reply('{"code": "import bo', "max_tokens", key="stop_reason"), reply(FENCED)])
    artifact = generate_code(catalog["lambda-functions-inventory"], None, "claude-sonnet-5.5", chat_model=model)
    assert artifact.code == SCRIPT
    assert "cut off by the token limit" in artifact.warnings[0]
    assert artifact.replies[0].truncated


def test_model_without_tool_calling_falls_back(catalog: Catalog) -> None:
    model = GenericFakeChatModel(messages=iter([FENCED]))
    artifact = generate_code(catalog["lambda-functions-inventory"], None, "claude-sonnet-5.5", chat_model=model)
    assert artifact.code == SCRIPT
    assert "does not implement it" in artifact.warnings[0]


# --- real generation -----------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.llm
def test_smollm2_really_generates_code(catalog: Catalog) -> None:
    spec = spec_with(get_spec("smollm2-135m"), max_tokens=192)
    artifact = generate_code(catalog["lambda-functions-inventory"], None, spec, max_continuations=1)
    assert isinstance(artifact.code, str)
    assert artifact.code.strip()
    assert artifact.usage.input_tokens > 0
    assert artifact.usage.output_tokens > 0
    assert 1 <= len(artifact.replies) <= 2
    assert all(p.usage.output_tokens <= 192 for p in artifact.replies)
    assert artifact.continuations == len(artifact.replies) - 1
    assert (artifact.model_id, artifact.cost_usd, artifact.parameters["max_tokens"]) == ("smollm2-135m", 0.0, 192)
    assert artifact.latency_ms > 0
    assert artifact.extraction in ("fenced", "raw")
