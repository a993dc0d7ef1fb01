"""Fixtures for the model registry tests: isolated settings, a writer of registry files, and SmolLM2 behind
llama-cpp-python's OpenAI-compatible server."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cloudinspect.config import get_settings


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the session, so that gemma's GGUF is assembled once."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, model_cache_dir: Path) -> Iterator[None]:
    """No user model files and a private cache directory, whatever the developer's environment holds."""
    monkeypatch.setenv("CLOUDINSPECT_CACHE_DIR", str(model_cache_dir))
    monkeypatch.setenv("CLOUDINSPECT_MODEL_FILES", "[]")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def write_models(tmp_path: Path) -> Callable[[str], Path]:
    """Write a registry file from (dedented) YAML text and return its path."""
    counter = iter(range(1000))

    def write(text: str) -> Path:
        path = tmp_path / f"models-{next(counter)}.yaml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write
