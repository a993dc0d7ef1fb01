"""LangSmith tracing of generation and the repair loop: opt-in through LangSmith's own environment variables, and
redacted before anything leaves the process.

Tracing is on exactly when langsmith says it is (`LANGSMITH_TRACING=true`, or the older `LANGCHAIN_TRACING_V2`;
`LANGSMITH_API_KEY`, `LANGSMITH_PROJECT`, `LANGSMITH_ENDPOINT` or their `LANGCHAIN_` forms configure it), so
cloudinspect and LangChain never disagree about it. Nothing here reads or prints the API key.

Where traces could leak, and what closes each path:

- runs traced through `run_config()`/`tracing_callbacks()` go through a `LangChainTracer` whose client is a
  `RedactingClient`;
- LangChain adds a tracer of its own to every runnable invoked without one when tracing is on, and `@traceable`
  code traces too; both use langsmith's process-wide default client. `install_tracing()` (called by the two
  functions above, and meant to be called once at start-up by the command line) makes the redacting client that
  default (`langsmith.configure(client=...)`), so those runs are redacted as well;
- in the client, langsmith's `anonymizer` hook redacts inputs, outputs, metadata and error strings on every
  ingestion path, and `RedactingClient.create_run`/`update_run` redact what the hook does not see: run names,
  tags, the serialized model (`llm` runs keep it: default headers, a base URL with a key), `extra` (invocation
  parameters, runtime) and events.

Redaction is `cloudinspect.redact`; the LangSmith API key and the values of secret-looking environment
variables are registered as known secrets when tracing starts, so they are found whatever their shape.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import langsmith
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.langchain import LangChainTracer
from langsmith import utils as ls_utils

from cloudinspect.redact import redact_data, redact_text, register_env_secrets, register_secret

__all__ = [
    "RedactingClient",
    "flush_traces",
    "install_tracing",
    "reset_tracing",
    "run_config",
    "tracing_callbacks",
    "tracing_enabled",
]

# Fields of a run that the anonymizer hook does not cover; ids, times, the project and the per-run credentials
# of create_run/update_run (api_key, authorization...) must pass through untouched.
_RUN_FIELDS = ("name", "tags", "serialized", "extra", "events", "error")
_API_KEY_VARIABLES = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")


def tracing_enabled() -> bool:
    """Whether runs are traced to LangSmith, as langsmith and LangChain themselves decide it: a
    `tracing_context(enabled=...)` or `langsmith.configure(enabled=...)` override, else `LANGSMITH_TRACING` /
    `LANGCHAIN_TRACING_V2` set to "true" (langsmith caches environment variables on first read)."""
    return bool(ls_utils.tracing_is_enabled())


def _anonymize(data: dict[str, Any]) -> dict[str, Any]:
    redacted = redact_data(data)
    return redacted if isinstance(redacted, dict) else {}


def _redact_run_fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: redact_data(value) if key in _RUN_FIELDS else value for key, value in kwargs.items()}


class RedactingClient(langsmith.Client):
    """A LangSmith client that redacts every run before it is queued for sending: inputs, outputs, metadata and
    errors through langsmith's `anonymizer` hook, the other fields of a run in `create_run`/`update_run`.

    Accepts langsmith.Client's keyword arguments, except `anonymizer`, which it sets.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(anonymizer=_anonymize, **kwargs)

    def create_run(self, *args: Any, **kwargs: Any) -> None:
        """`langsmith.Client.create_run` with the name, tags, serialized model, extra and events redacted."""
        if args:
            # The run's name may come positionally: create_run(name, inputs, run_type).
            args = (redact_text(args[0]) if isinstance(args[0], str) else args[0], *args[1:])
        super().create_run(*args, **_redact_run_fields(kwargs))

    def update_run(self, *args: Any, **kwargs: Any) -> None:
        """`langsmith.Client.update_run` with the name, tags, extra, events and error redacted."""
        super().update_run(*args, **_redact_run_fields(kwargs))


class _Installed:
    """The process's redacting client, once tracing has started (a class rather than module globals)."""

    lock = threading.Lock()
    client: RedactingClient | None = None


def install_tracing() -> RedactingClient | None:
    """When tracing is enabled, make sure every trace this process sends is redacted, and return the client that
    sends them; None when tracing is disabled. Idempotent and thread-safe.

    The first call registers the LangSmith API key and the values of secret-looking environment variables as
    known secrets, creates a `RedactingClient` from LangSmith's environment variables and installs it as
    langsmith's default client, the one that the tracers LangChain adds by itself and `@traceable` use. Call it
    once at start-up (the command line does) so that a runnable invoked without `run_config()` is covered too.
    """
    if not tracing_enabled():
        return None
    with _Installed.lock:
        if _Installed.client is None:
            for name in _API_KEY_VARIABLES:
                register_secret(os.environ.get(name, ""))
            register_env_secrets()
            client = RedactingClient()
            langsmith.configure(client=client)
            _Installed.client = client
        return _Installed.client


def tracing_callbacks(project: str | None = None) -> list[BaseCallbackHandler]:
    """The callbacks that trace a run to LangSmith, redacted: [] when tracing is disabled, else one
    `LangChainTracer` on the redacting client, for `project` (default: `LANGSMITH_PROJECT`, else "default")."""
    client = install_tracing()
    if client is None:
        return []
    return [LangChainTracer(project_name=project, client=client)]


def run_config(
    run_name: str,
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
    *,
    project: str | None = None,
) -> RunnableConfig:
    """A RunnableConfig naming the run, with its tags and metadata redacted and the tracing callbacks attached
    when tracing is enabled. Pass it to `invoke` of a chat model, a chain or a compiled graph; merge other keys
    (`configurable`, `recursion_limit`) into it as needed."""
    config = RunnableConfig(
        run_name=redact_text(run_name),
        tags=[redact_text(tag) for tag in tags],
        metadata=_anonymize(dict(metadata or {})),
    )
    callbacks = tracing_callbacks(project)
    if callbacks:
        config["callbacks"] = callbacks
    return config


def flush_traces(timeout: float | None = None) -> None:
    """Wait until the traces queued so far are sent (up to `timeout` seconds; None waits for all). A no-op when
    tracing never started. Call it before the process exits so that the last runs are not lost."""
    client = _Installed.client
    if client is not None:
        client.flush(timeout=timeout)


def reset_tracing() -> None:
    """Flush and forget the redacting client and uninstall it as langsmith's default, so that the next
    `install_tracing()` reads the environment again (for tests, and after the LangSmith variables change)."""
    with _Installed.lock:
        client, _Installed.client = _Installed.client, None
        if client is not None:
            client.flush()
            langsmith.configure(client=None)
