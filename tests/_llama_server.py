"""The packaged SmolLM2 behind llama-cpp-python's OpenAI-compatible server, reached the way a user would.

`serve_for_tests()` starts one server that demands an API key; `ServedModel.spec()` writes a user registry
file for it (provider openai_compatible, base_url, api_key_env, list prices so that costs are not zero) and
loads it through the registry loader, so tests exercise the same path as `--models-file`. Shared by the
model tests and by anything (the repair loop) that wants the OpenAI code path without a hosted provider.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cloudinspect.models import ModelSpec, builtin_models_file, load_models_file
from cloudinspect.models.serve import LocalServer, serve_local_model

# The environment variable a test sets (monkeypatch) to the server's key before building the model.
KEY_ENV = "CLOUDINSPECT_TEST_SERVER_API_KEY"
SERVED_ID = "smollm2-135m-server"
# Made-up list prices (USD per million tokens): cost must follow usage, which zero prices would not show.
PRICES = {"input": 1.0, "output": 2.0}


@dataclass(frozen=True)
class ServedModel:
    """A running server and the key it demands."""

    server: LocalServer
    api_key: str

    def entry(self, **parameters: Any) -> dict[str, Any]:
        """A registry entry for the served model, as a user would write it; `parameters` add to the defaults."""
        return {
            "id": SERVED_ID,
            "provider": "openai_compatible",
            "model": self.server.model_name,
            "family": self.server.family,
            "description": "SmolLM2 behind llama-cpp-python's OpenAI-compatible server (tests)",
            "parameters": {
                "base_url": self.server.base_url,
                "temperature": 0.0,
                "seed": 42,
                "max_tokens": 64,
                "timeout": 120,
                "max_retries": 0,
                **parameters,
            },
            "prices": PRICES,
            "context_window": self.server.n_ctx,
            "api_key_env": KEY_ENV,
        }

    def spec(self, directory: Path, **parameters: Any) -> ModelSpec:
        """Write the entry to a registry file in `directory` and load it with the registry's loader."""
        path = directory / f"served-models-{secrets.token_hex(4)}.yaml"
        path.write_text(yaml.safe_dump({"models": [self.entry(**parameters)]}, sort_keys=False), encoding="utf-8")
        return load_models_file(path)[SERVED_ID]


@contextmanager
def serve_for_tests() -> Iterator[ServedModel]:
    """SmolLM2 (the built-in entry, whatever user files say) served on a free loopback port with a fresh key."""
    smollm2 = load_models_file(builtin_models_file())["smollm2-135m"]
    api_key = f"sk-cloudinspect-test-{secrets.token_urlsafe(24)}"
    # One batch thread: the suite may run beside other work, and on 2 busy cores llama.cpp's prompt processing
    # with 2 threads took 4-7x longer than with 1 (28 s against 4-8 s for a 645-token prompt, load 7).
    with serve_local_model(smollm2, n_ctx=2048, n_threads=1, n_threads_batch=1, api_key=api_key) as server:
        yield ServedModel(server, api_key)
