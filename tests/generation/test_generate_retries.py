"""generate_code under provider failures: transient ones retried and noted, final ones a clear ModelCallError."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from cloudinspect.catalog import Catalog
from cloudinspect.generation import GenerationError, generate_code
from cloudinspect.generation._generate import ModelCallError
from cloudinspect.models import ModelSpec, get_spec
from cloudinspect.models.replay import ReplayExhaustedError
from cloudinspect.models.resilience import RetryPolicy
from tests.generation.fakes import ScriptedChatModel, reply, tool_reply

SCRIPT = 'import json\n\nimport boto3\n\nprint(json.dumps({"count": len(boto3.client("lambda").list_functions())}))\n'
FENCED = f"```python\n{SCRIPT}```"
PLANTED_KEY = "sk-proj-PLANTED0123456789abcdefXYZ"
TINY = RetryPolicy(attempts=3, initial_wait_s=0.001, max_wait_s=0.01, jitter=0)
PROMPT = "lambda-functions-inventory"


class FlakyChatModel(ScriptedChatModel):
    """Raises the given provider exceptions, one per call, then answers with the scripted replies."""

    errors: list[BaseException] = Field(default_factory=list)
    attempts: int = 0

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return super()._generate(messages, stop, run_manager, **kwargs)


def _status_error(cls: type[Any], status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    request = httpx2.Request("POST", "https://api.example.com/v1/chat/completions")
    body = {"message": message, "type": "error", "code": None}
    return cls(message, response=httpx2.Response(status, headers=headers or {}, request=request), body=body)


def _connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx2.Request("POST", "https://api.example.com/v1/chat/completions"))


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between tries, recorded instead of slept (tenacity's default sleep calls time.sleep)."""
    waited: list[float] = []
    monkeypatch.setattr("time.sleep", waited.append)
    return waited


def test_a_rate_limit_is_waited_out_as_the_provider_asks_and_noted(catalog: Catalog, sleeps: list[float]) -> None:
    model = FlakyChatModel(
        errors=[_status_error(openai.RateLimitError, 429, "Rate limit reached", {"retry-after": "2"})],
        replies=[reply(FENCED)],
    )
    artifact = generate_code(catalog[PROMPT], None, "smollm2-135m", chat_model=model)
    assert artifact.code == SCRIPT
    assert model.attempts == 2
    assert sleeps == [2.0]
    assert artifact.warnings == ["rate limited (429); retried after 2.0 s"]
    assert len(artifact.replies) == 1


def test_each_retry_is_one_warning(catalog: Catalog, sleeps: list[float]) -> None:
    model = FlakyChatModel(
        errors=[_status_error(anthropic.OverloadedError, 529, "Overloaded"), TimeoutError("read timed out")],
        replies=[reply(FENCED)],
    )
    policy = RetryPolicy(initial_wait_s=1.0, jitter=0)
    artifact = generate_code(catalog[PROMPT], None, "smollm2-135m", chat_model=model, retry=policy)
    assert artifact.code == SCRIPT
    assert sleeps == [1.0, 2.0]
    assert artifact.warnings == ["server error (529); retried after 1.0 s", "timed out; retried after 2.0 s"]


def test_structured_output_calls_are_retried_too(catalog: Catalog, sleeps: list[float]) -> None:
    answer = tool_reply({"code": SCRIPT, "explanation": "Counts functions.", "services": ["lambda"]})
    model = FlakyChatModel(errors=[_connection_error()], replies=[answer])
    artifact = generate_code(catalog[PROMPT], None, get_spec("claude-sonnet-5.5"), chat_model=model, retry=TINY)
    assert (artifact.extraction, artifact.code) == ("structured", SCRIPT)
    assert model.attempts == 2
    assert artifact.warnings == ["connection failed; retried after 0.0 s"]


def test_a_provider_that_stays_down_is_a_model_call_error(catalog: Catalog, sleeps: list[float]) -> None:
    model = FlakyChatModel(errors=[_connection_error() for _ in range(5)], replies=[reply(FENCED)])
    with pytest.raises(ModelCallError) as info:
        generate_code(catalog[PROMPT], None, "smollm2-135m", chat_model=model, retry=TINY)
    error = info.value
    assert isinstance(error, GenerationError)
    assert (error.failure.kind, error.failure.transient, error.tries) == ("connection", True, 3)
    assert model.attempts == 3
    assert len(sleeps) == 2
    assert str(error).startswith(
        "model 'smollm2-135m' failed: provider 'llamacpp' unavailable after 3 tries: connection failed: "
        "APIConnectionError: Connection error."
    )
    assert "check the network" in str(error)
    assert isinstance(error.__cause__, openai.APIConnectionError)
    assert error.exit_code == 1


def test_a_bad_key_is_not_retried_and_not_shown(catalog: Catalog, sleeps: list[float]) -> None:
    error = _status_error(openai.AuthenticationError, 401, f"Incorrect API key provided: {PLANTED_KEY}.")
    model = FlakyChatModel(errors=[error], replies=[reply(FENCED)])
    with pytest.raises(ModelCallError) as info:
        generate_code(catalog[PROMPT], None, "smollm2-135m", chat_model=model)
    assert model.attempts == 1
    assert sleeps == []
    assert (info.value.failure.kind, info.value.failure.transient, info.value.tries) == ("auth", False, 1)
    assert str(info.value).startswith("model 'smollm2-135m' failed: authentication failed (401): AuthenticationError")
    assert "check the API key" in str(info.value)
    assert PLANTED_KEY not in str(info.value)


def test_replay_exhaustion_propagates_unretried(catalog: Catalog, sleeps: list[float], tmp_path: Path) -> None:
    path = tmp_path / "replay.yaml"
    path.write_text('other-prompt:\n  - "```python\\nprint(1)\\n```"\n', encoding="utf-8")
    with pytest.raises(ReplayExhaustedError, match=f"has no replies for prompt '{PROMPT}'"):
        generate_code(catalog[PROMPT], None, f"replay:{path}")
    assert sleeps == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_real_openai_compatible_server_that_is_not_there(catalog: Catalog) -> None:
    """The real path: registry spec, provider factory, ChatOpenAI, the openai SDK and a refused connection."""
    spec = ModelSpec.model_validate(
        {
            "id": "nowhere",
            "provider": "openai_compatible",
            "model": "nothing",
            "family": "llama",
            "parameters": {"base_url": f"http://127.0.0.1:{_closed_port()}/v1", "max_retries": 0, "timeout": 5},
        }
    )
    with pytest.raises(ModelCallError) as info:
        generate_code(catalog[PROMPT], None, spec, retry=TINY)
    failure = info.value.failure
    assert (failure.kind, failure.transient, failure.provider, info.value.tries) == ("connection", True, "openai", 3)
    assert str(info.value).startswith("model 'nowhere' failed: provider 'openai_compatible' unavailable after 3 tries")
