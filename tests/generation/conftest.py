"""Fixtures for generation tests: isolated settings and the built-in catalogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloudinspect.catalog import Catalog, load_catalog
from cloudinspect.config import get_settings


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No user model files or catalogue directories, whatever the developer's environment holds."""
    monkeypatch.setenv("CLOUDINSPECT_MODEL_FILES", "[]")
    monkeypatch.setenv("CLOUDINSPECT_CATALOG_DIRS", "[]")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The built-in catalogue, loaded once."""
    return load_catalog([])
