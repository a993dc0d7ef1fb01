"""Sandbox fixtures: skip where the process sandbox cannot work; stand-ins for real AWS (`_upstream.py`)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cloudinspect.cloud import Emulator
from tests.sandbox._upstream import Recorder, plant_profile, recording_upstream

needs_sandbox = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("bwrap"),
    reason="the process sandbox tests need Linux, root (for the uid drop) and bubblewrap",
)


@pytest.fixture
def baseline_emulator(emulator: Callable[[str], Emulator]) -> Emulator:
    """The session's baseline emulator (real AWS's stand-in on the re-signing route, and its STS)."""
    return emulator("baseline")


@pytest.fixture
def upstream(baseline_emulator: Emulator) -> Iterator[Recorder]:
    """A recording proxy in front of the baseline emulator: what "AWS" received and which key signed it."""
    with recording_upstream(baseline_emulator.endpoint_url) as recorder:
        yield recorder


@pytest.fixture
def canary_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A profile 'canary' with long-term (canary) keys in temporary AWS files of the parent; its name."""
    return plant_profile(tmp_path, monkeypatch)
