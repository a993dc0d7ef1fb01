"""Shared output helpers for CLI commands: JSON to stdout, tables via rich."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False)


def print_json(data: Any) -> None:
    """Write one JSON document to stdout (machine-readable, no colour, no wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()
