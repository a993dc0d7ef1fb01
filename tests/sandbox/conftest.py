"""Sandbox fixtures: skip where the process sandbox cannot work."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

needs_sandbox = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("bwrap"),
    reason="the process sandbox tests need Linux, root (for the uid drop) and bubblewrap",
)
