"""get_model: the right LangChain class per provider, clear errors for missing keys and packages.

No test here reaches the network except the last ones, which call the hosted APIs for real and are skipped
unless their API key is in the environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_aws import ChatBedrockConverse
from langchain_core.language_models import BaseChatModel
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI

from cloudinspect.errors import InputError, MissingDependencyError
from cloudinspect.models import TokenUsage, get_model, get_spec
from cloudinspect.models.llamacpp import LlamaCppChatModel

DUMMY_KEY = "dummy-key-0123456789-never-printed"
_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_openai_builds_chat_openai_with_reasoning_effort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    model = get_model("gpt-6.2-sol")
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-6.2-sol"
    assert model.reasoning_effort == "medium"
    assert model.temperature is None
    assert model.metadata is not None
    assert model.metadata["cloudinspect_model_id"] == "gpt-6.2-sol"
    assert DUMMY_KEY not in repr(model)


def test_openai_non_reasoning_model_takes_sampling_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    model = get_model("gpt-4.1", temperature=0.6, max_tokens=100)
    assert isinstance(model, ChatOpenAI)
    assert (model.temperature, model.max_tokens, model.seed) == (0.6, 100, 7)


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingDependencyError, match="OPENAI_API_KEY") as info:
        get_model("gpt-6.2-sol")
    assert info.value.exit_code == 3


def test_anthropic_builds_chat_anthropic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", DUMMY_KEY)
    adaptive = get_model("claude-sonnet-5.5")
    assert isinstance(adaptive, ChatAnthropic)
    assert (adaptive.model, adaptive.reasoning_effort, adaptive.max_tokens) == (
        "claude-sonnet-5-5",
        "high",
        32000,
    )
    assert adaptive.temperature is None
    budgeted = get_model("claude-haiku-4.5")
    assert isinstance(budgeted, ChatAnthropic)
    assert budgeted.thinking == {"type": "enabled", "budget_tokens": 2048}
    assert DUMMY_KEY not in repr(budgeted)


def test_anthropic_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingDependencyError, match="ANTHROPIC_API_KEY"):
        get_model("claude-opus-5.5")


def test_custom_api_key_env_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("TEAM_OPENAI_KEY", DUMMY_KEY)
    model = get_model(get_spec("gpt-6-luna").model_copy(update={"api_key_env": "TEAM_OPENAI_KEY"}))
    assert model.openai_api_key is not None  # type: ignore[attr-defined]
    assert model.openai_api_key.get_secret_value() == DUMMY_KEY  # type: ignore[attr-defined]


def test_bedrock_builds_converse_model(monkeypatch: pytest.MonkeyPatch, no_aws_credentials: None) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADUMMYEXAMPLE0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    model = get_model("nova-pro")
    assert isinstance(model, ChatBedrockConverse)
    assert (model.model_id, model.region_name) == ("us.amazon.nova-pro-v1:0", "us-east-1")
    assert model.temperature == 0.2


def test_bedrock_without_credentials_says_what_to_set(no_aws_credentials: None) -> None:
    with pytest.raises(MissingDependencyError, match="AWS_ACCESS_KEY_ID"):
        get_model("nova-micro")


def test_ollama_builds_chat_ollama_without_a_server() -> None:
    model = get_model("ollama-llama3.2")
    assert isinstance(model, ChatOllama)
    assert (model.model, model.num_predict) == ("llama3.2:3b", 2048)


def test_openai_compatible_builds_chat_openai_with_base_url() -> None:
    model = get_model("vllm-local")
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://localhost:8000/v1"


def test_llamacpp_builds_without_loading() -> None:
    model = get_model("smollm2-135m", max_tokens=8)
    assert isinstance(model, LlamaCppChatModel)
    assert Path(model.model_path).name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model.max_tokens == 8


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    monkeypatch.setitem(sys.modules, "langchain_openai", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'cloudinspect\[openai\]'"):
        get_model("gpt-4.1")


def test_overrides_are_validated_like_registry_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    with pytest.raises(InputError, match="reasoning model"):
        get_model("gpt-6.2-sol", temperature=0.9)
    with pytest.raises(InputError, match="not a model parameter"):
        get_model("gpt-6.2-sol", temprature=0.9)


# --- real calls, only with the provider's key ----------------------------------------------------------

PING = "Reply with the single word: pong"


def _check_reply(model: BaseChatModel, model_id: str) -> None:
    reply = model.invoke(PING)
    usage = TokenUsage.from_metadata(reply.usage_metadata)
    assert reply.text.strip()
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert get_spec(model_id).cost_usd(usage) > 0


@pytest.mark.needs_api_key
@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="calls OpenAI for real: set OPENAI_API_KEY")
def test_openai_real_call() -> None:
    _check_reply(get_model("gpt-6-luna", max_tokens=256), "gpt-6-luna")


@pytest.mark.needs_api_key
@pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="calls Anthropic for real: set ANTHROPIC_API_KEY")
def test_anthropic_real_call() -> None:
    _check_reply(get_model("claude-haiku-5.5", max_tokens=256), "claude-haiku-5.5")


@pytest.mark.needs_api_key
@pytest.mark.skipif(
    not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_BEARER_TOKEN_BEDROCK")),
    reason="calls Amazon Bedrock for real: set AWS_ACCESS_KEY_ID (and secret) or AWS_BEARER_TOKEN_BEDROCK",
)
def test_bedrock_real_call() -> None:
    _check_reply(get_model("nova-micro", max_tokens=32), "nova-micro")
