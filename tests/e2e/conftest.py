"""Fixtures for end-to-end tests: isolated settings (no user model files, catalogue dirs or IAM cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudinspect.config import get_settings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever the developer's environment holds, only built-in models and prompts, and no refreshed IAM data.

    The model cache (GGUF weights) stays where it is: only the settings that change results are isolated.
    """
    monkeypatch.setenv("CLOUDINSPECT_MODEL_FILES", "[]")
    monkeypatch.setenv("CLOUDINSPECT_CATALOG_DIRS", "[]")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
