"""The OpenAI code path for real: SmolLM2 behind llama-cpp-python's OpenAI-compatible server on loopback,
reached through a user registry file (provider openai_compatible, base_url, api_key_env) and ChatOpenAI."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from cloudinspect.catalog import Catalog, load_catalog
from cloudinspect.errors import InputError
from cloudinspect.generation import GenerationError, finish_reason_of, generate_code, is_truncated
from cloudinspect.models import ModelSpec, Provider, builtin_models_file, get_model, load_models_file
from cloudinspect.models.serve import LocalServerError, serve_local_model
from tests._llama_server import KEY_ENV, PRICES, SERVED_ID, ServedModel

pytestmark = pytest.mark.llm

ASK = [
    SystemMessage("You write short Python scripts that use boto3."),
    HumanMessage("Write a script that prints the names of all S3 buckets."),
]
PROMPT_ID = "lambda-functions-inventory"

SpecFactory = Callable[..., ModelSpec]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([])


@pytest.fixture
def served(openai_server: ServedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SpecFactory:
    """Specs of the served model, loaded from a user registry file, with its key in the environment."""
    monkeypatch.setenv(KEY_ENV, openai_server.api_key)
    return lambda **parameters: openai_server.spec(tmp_path, **parameters)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- the chat model ----------------------------------------------------------------------------------


def test_chat_model_replies_with_usage_and_finish_reason(served: SpecFactory, openai_server: ServedModel) -> None:
    spec = served(max_tokens=32)
    assert (spec.provider, spec.is_local, spec.key_env) == (Provider.openai_compatible, True, KEY_ENV)
    model = get_model(spec)
    assert isinstance(model, ChatOpenAI)
    reply = model.invoke(ASK)
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str)
    assert reply.content.strip()
    usage = reply.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0
    assert 0 < usage["output_tokens"] <= 32
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert finish_reason_of(reply) in ("stop", "length")
    assert reply.response_metadata["model_name"] == openai_server.server.model_name


def test_a_small_max_tokens_is_reported_as_truncated(served: SpecFactory, catalog: Catalog) -> None:
    reply = get_model(served(max_tokens=4)).invoke(ASK)
    assert finish_reason_of(reply) == "length"
    assert is_truncated(finish_reason_of(reply))
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] == 4

    artifact = generate_code(catalog[PROMPT_ID], None, served(max_tokens=8), max_continuations=0)
    assert [(p.finish_reason, p.truncated, p.usage.output_tokens) for p in artifact.replies] == [("length", True, 8)]
    assert (artifact.finish_reason, artifact.truncated) == ("length", True)
    assert any("still cut off" in w for w in artifact.warnings)


# --- generation ----------------------------------------------------------------------------------------


def test_generate_code_records_code_usage_and_cost(
    served: SpecFactory, openai_server: ServedModel, catalog: Catalog
) -> None:
    spec = served(max_tokens=160)
    artifact = generate_code(catalog[PROMPT_ID], None, spec, max_continuations=1)
    assert artifact.code.strip()  # a 135M model: the code may be poor, but there is some
    assert (artifact.model_id, artifact.provider, artifact.model) == (
        SERVED_ID,
        "openai_compatible",
        openai_server.server.model_name,
    )
    assert artifact.parameters["base_url"] == openai_server.server.base_url
    assert artifact.messages[0].role == "system"
    assert 1 <= len(artifact.replies) == artifact.continuations + 1 <= 2
    assert all(0 < p.usage.output_tokens <= 160 and p.usage.input_tokens > 0 for p in artifact.replies)
    assert artifact.usage.input_tokens == sum(p.usage.input_tokens for p in artifact.replies)
    assert artifact.usage.output_tokens == sum(p.usage.output_tokens for p in artifact.replies)
    expected_cost = (
        artifact.usage.input_tokens * PRICES["input"] + artifact.usage.output_tokens * PRICES["output"]
    ) / 1e6
    assert artifact.cost_usd == pytest.approx(expected_cost)
    assert artifact.cost_usd > 0
    assert artifact.latency_ms > 0


def test_the_api_key_is_sent_but_never_recorded(
    served: SpecFactory, openai_server: ServedModel, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = served(max_tokens=16)
    artifact = generate_code(catalog[PROMPT_ID], None, spec, max_continuations=0)
    assert artifact.usage.output_tokens > 0  # the server demands the key: the call carried it
    dumped = artifact.model_dump_json()
    assert openai_server.api_key not in dumped
    assert KEY_ENV not in dumped
    assert openai_server.api_key not in spec.model_dump_json()

    wrong = "sk-cloudinspect-wrong-EXAMPLE"
    monkeypatch.setenv(KEY_ENV, wrong)
    with pytest.raises(GenerationError, match=r"model 'smollm2-135m-server' failed: .*401") as caught:
        generate_code(catalog[PROMPT_ID], None, spec, max_continuations=0)
    assert wrong not in str(caught.value)
    assert openai_server.api_key not in str(caught.value)


# --- serving -------------------------------------------------------------------------------------------


def _builtin(model_id: str) -> ModelSpec:
    return load_models_file(builtin_models_file())[model_id]


def test_the_server_ignores_its_settings_in_our_environment_and_stops_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    # llama-cpp-python's server reads these too: they must not change the model, the port or the key.
    monkeypatch.setenv("MODEL", "/nonexistent.gguf")
    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv("API_KEY", "sk-from-the-environment-EXAMPLE")
    with serve_local_model(_builtin("smollm2-135m"), n_ctx=512) as server:
        assert _alive(server.pid)
        assert server.log_path.is_file()
        with urllib.request.urlopen(server.base_url + "/models", timeout=10) as response:  # noqa: S310 - loopback
            listed: dict[str, Any] = json.loads(response.read())
        assert [m["id"] for m in listed["data"]] == ["SmolLM2-135M-Instruct-Q4_1"]
        # no key demanded: the provider's placeholder key goes through
        spec = server.model_spec(max_tokens=4)
        assert (spec.id, spec.provider, spec.family, spec.context_window) == (
            "smollm2-135m-server",
            Provider.openai_compatible,
            "smollm2",
            512,
        )
        # the served model's sampling parameters carry over, overrides win
        assert (spec.parameters.temperature, spec.parameters.seed, spec.parameters.max_tokens) == (0.0, 42, 4)
        assert get_model(spec).invoke(ASK).usage_metadata is not None
    assert not _alive(server.pid)
    assert not server.log_path.exists()


def test_a_server_that_dies_reports_its_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_text("not a model", encoding="utf-8")
    spec = ModelSpec.model_validate(
        {"id": "broken", "provider": "llamacpp", "model": "broken", "family": "smollm2", "gguf": {"path": str(broken)}}
    )
    with (
        pytest.raises(LocalServerError, match=r"exited with code \d+ before it answered") as caught,
        serve_local_model(spec),
    ):
        pytest.fail("the server should not start")
    assert "Failed to load model" in str(caught.value)


def test_a_port_in_use_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(LocalServerError, match=rf"could not bind 127.0.0.1:{port}: address already in use"),
            serve_local_model(_builtin("smollm2-135m"), port=port, n_ctx=512),
        ):
            pytest.fail("the port is taken")


def test_only_llamacpp_models_are_served() -> None:
    with (
        pytest.raises(InputError, match=r"model 'gpt-4.1' is served by provider openai"),
        serve_local_model(_builtin("gpt-4.1")),
    ):
        pytest.fail("nothing to serve")
