"""LangSmith tracing against a fake LangSmith endpoint on loopback: runs arrive, planted secrets never do.

The endpoint is a real HTTP server that records every request langsmith's client sends (multipart or batch,
zstd-decompressed if ever compressed); the secrets are planted in a run's inputs, outputs, metadata, tags, run
name, error and in the model's serialized form. A control test shows the harness would catch a leak: with
langsmith's plain client, LangChain's automatic tracer sends the planted secrets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypedDict

import langsmith
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tracers.langchain import wait_for_all_tracers
from langgraph.graph import END, START, StateGraph
from langsmith import utils as ls_utils

from cloudinspect.observability import (
    RedactingClient,
    flush_traces,
    install_tracing,
    reset_tracing,
    run_config,
    tracing_callbacks,
    tracing_enabled,
)
from cloudinspect.redact import REDACTED, clear_secrets, register_secret

# Built by concatenation so that secret scanners never see key-shaped literals in the repository.
KEY_ID = "AKIA" + "Q7PLANTED0KEY0ID"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYplanted0SECRET"
OPENAI_KEY = "sk-proj-" + "planted0openai0KEY0123456789"
REGISTERED = "canary-registered-" + "value-7Qx9"  # no recognisable shape: found because it is registered
PASSWORD = "hunter2-" + "planted-pw"
SECRETS = (KEY_ID, AWS_SECRET, OPENAI_KEY, REGISTERED, PASSWORD)
API_KEY = "ls-EXAMPLE-dummy-api-key-for-tests"  # a dummy: the fake endpoint receives it
LANGSMITH_VARIABLES = (
    "LANGSMITH_TRACING",
    "LANGSMITH_TRACING_V2",
    "LANGSMITH_API_KEY",
    "LANGSMITH_ENDPOINT",
    "LANGSMITH_PROJECT",
    "LANGCHAIN_TRACING",
    "LANGCHAIN_TRACING_V2",
    "LANGCHAIN_API_KEY",
    "LANGCHAIN_ENDPOINT",
    "LANGCHAIN_PROJECT",
    "LANGSMITH_RUNS_ENDPOINTS",
)


class GraphState(TypedDict):
    question: str
    answer: str


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class FakeLangSmith:
    """What the fake endpoint received."""

    url: str
    requests: list[Recorded] = field(default_factory=list)

    def ingested(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PATCH") and r.path.startswith("/runs")]

    def text(self) -> str:
        return "\n".join(r.body for r in self.ingested())


def _handler(store: FakeLangSmith) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Content-Encoding") == "zstd":
                import zstandard

                raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
            store.requests.append(
                Recorded(self.command, self.path, dict(self.headers), raw.decode("utf-8", errors="replace"))
            )
            # Like LangSmith's cloud, the endpoint accepts zstd-compressed multipart ingestion, the client's
            # default when the server offers it.
            body = b'{"instance_flags": {"zstd_compression_enabled": true}}' if self.path == "/info" else b"{}"
            self.send_response(202 if self.path.startswith("/runs") else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = _record

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def fake_langsmith() -> Iterator[FakeLangSmith]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    store = FakeLangSmith(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield store
    server.shutdown()
    server.server_close()


def _reread_environment() -> None:
    # langsmith caches environment variables on first read.
    ls_utils.get_env_var.cache_clear()  # type: ignore[attr-defined]
    ls_utils.get_tracer_project.cache_clear()


def _forget_langsmith_state() -> None:
    # ... and keeps a process-wide default client.
    _reread_environment()
    reset_tracing()
    langsmith.configure(client=None)
    clear_secrets()


@pytest.fixture
def langsmith_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No LangSmith variable from the developer's environment, and no state left by another test."""
    for name in LANGSMITH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _forget_langsmith_state()
    yield monkeypatch
    _forget_langsmith_state()


@pytest.fixture
def tracing_on(langsmith_env: pytest.MonkeyPatch, fake_langsmith: FakeLangSmith) -> FakeLangSmith:
    langsmith_env.setenv("LANGSMITH_TRACING", "true")
    langsmith_env.setenv("LANGSMITH_API_KEY", API_KEY)
    langsmith_env.setenv("LANGSMITH_ENDPOINT", fake_langsmith.url)
    langsmith_env.setenv("LANGSMITH_PROJECT", "cloudinspect-tests")
    _reread_environment()
    register_secret(REGISTERED)
    return fake_langsmith


def _chain() -> Runnable[dict[str, Any], dict[str, Any]]:
    """question -> fake chat model -> answer, with secrets in every part of every run."""
    model = FakeListChatModel(responses=[f"aws_secret_access_key = {AWS_SECRET}; the key is {OPENAI_KEY}"])

    def prepare(inputs: dict[str, Any]) -> str:
        return f"{inputs['question']} (registered: {REGISTERED})"

    def answer(message: BaseMessage) -> dict[str, Any]:
        return {"answer": message.content, "api_key": OPENAI_KEY, "password": PASSWORD}

    return (
        RunnableLambda(prepare).with_config(run_name=f"prepare-{REGISTERED}", tags=[f"key:{KEY_ID}"])
        | model
        | RunnableLambda(answer)
    )


def _inputs() -> dict[str, Any]:
    return {"question": f"which user owns {KEY_ID}?", "password": PASSWORD, "nested": {"token": OPENAI_KEY}}


def _assert_no_secret(fake: FakeLangSmith) -> None:
    text = fake.text()
    for secret in SECRETS:
        # JSON may escape the slash of an AWS secret.
        assert secret not in text, secret
        assert json.dumps(secret)[1:-1] not in text, secret


def test_tracing_follows_langsmith_environment(langsmith_env: pytest.MonkeyPatch) -> None:
    assert not tracing_enabled()
    langsmith_env.setenv("LANGCHAIN_TRACING_V2", "true")
    _reread_environment()
    assert tracing_enabled()
    with langsmith.tracing_context(enabled=False):
        assert not tracing_enabled()


def test_traced_runs_arrive_redacted(tracing_on: FakeLangSmith) -> None:
    config = run_config(
        "cloudinspect.test",
        tags=["cloudinspect", f"owner-{REGISTERED}"],
        metadata={"cloudinspect_run_id": "run-1", "aws_secret_access_key": AWS_SECRET, "note": f"token={PASSWORD}"},
    )
    assert config["metadata"]["aws_secret_access_key"] == REDACTED
    result = _chain().invoke(_inputs(), config)
    assert result["api_key"] == OPENAI_KEY  # redaction is for what leaves the process, not for the caller
    flush_traces()

    ingested = tracing_on.ingested()
    assert ingested, "no run reached the endpoint"
    assert all(r.headers.get("x-api-key") == API_KEY for r in ingested)
    text = tracing_on.text()
    for expected in ("cloudinspect.test", "FakeListChatModel", "run-1", "cloudinspect-tests", "[REDACTED"):
        assert expected in text
    _assert_no_secret(tracing_on)


def test_a_langgraph_graph_is_traced_redacted(tracing_on: FakeLangSmith) -> None:
    # The repair loop is a LangGraph graph: its nodes and the model calls inside them are traced through the
    # config's callbacks.
    model = FakeListChatModel(responses=[f"use {OPENAI_KEY} with password={PASSWORD}"])

    def ask(state: GraphState) -> dict[str, str]:
        return {"answer": str(model.invoke(state["question"]).content)}

    builder = StateGraph(GraphState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    graph = builder.compile()
    graph.invoke({"question": f"is {KEY_ID} active?", "answer": ""}, run_config("cloudinspect.repair"))
    flush_traces()
    text = tracing_on.text()
    for expected in ("cloudinspect.repair", '"ask"', "FakeListChatModel"):
        assert expected in text
    _assert_no_secret(tracing_on)


def test_an_error_is_traced_redacted(tracing_on: FakeLangSmith) -> None:
    def fail(_: dict[str, Any]) -> None:
        raise ValueError(f"provider refused {OPENAI_KEY} for {KEY_ID}")

    with pytest.raises(ValueError, match="provider refused"):
        RunnableLambda(fail).invoke({"q": 1}, run_config("cloudinspect.failing"))
    flush_traces()
    assert "ValueError" in tracing_on.text()
    _assert_no_secret(tracing_on)


def test_langchains_own_tracer_uses_the_redacting_client(tracing_on: FakeLangSmith) -> None:
    # Installed once at start-up; afterwards a runnable invoked without run_config is traced by the tracer that
    # LangChain adds from LANGSMITH_TRACING, on langsmith's default client: the redacting one.
    client = install_tracing()
    assert isinstance(client, RedactingClient)
    _chain().invoke(_inputs())
    wait_for_all_tracers()
    assert "FakeListChatModel" in tracing_on.text()
    _assert_no_secret(tracing_on)


def test_control_the_plain_client_would_leak(tracing_on: FakeLangSmith) -> None:
    # Without install_tracing, LangChain's automatic tracer sends the secrets: the endpoint would see a leak.
    _chain().invoke(_inputs())
    wait_for_all_tracers()
    text = tracing_on.text()
    assert OPENAI_KEY in text
    assert PASSWORD in text


def test_disabled_tracing_sends_nothing(langsmith_env: pytest.MonkeyPatch, fake_langsmith: FakeLangSmith) -> None:
    # Everything but the switch is set: were anything traced, it would reach the fake endpoint.
    langsmith_env.setenv("LANGSMITH_API_KEY", API_KEY)
    langsmith_env.setenv("LANGSMITH_ENDPOINT", fake_langsmith.url)
    _reread_environment()
    assert install_tracing() is None
    assert tracing_callbacks() == []
    config = run_config("cloudinspect.test", metadata={"k": "v"})
    assert "callbacks" not in config
    _chain().invoke(_inputs(), config)
    _chain().invoke(_inputs())
    flush_traces()
    wait_for_all_tracers()
    assert fake_langsmith.requests == []
