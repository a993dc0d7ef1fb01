"""cloudinspect as an MCP server for other agents: read-only tools to list and run inspection prompts and to
troubleshoot a problem described in words (`cloudinspect mcp`; docs/mcp.md).

    from cloudinspect.mcp import build_server

    build_server().run("stdio")

Names are imported lazily: `cloudinspect.mcp.tools` works without loading the MCP SDK. (This package is
`cloudinspect.mcp`; the SDK is the top-level `mcp`, which absolute imports always reach.)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"build_server": "cloudinspect.mcp.server", "SERVER_NAME": "cloudinspect.mcp.server"}

__all__ = ["SERVER_NAME", "build_server"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cloudinspect.mcp' has no attribute {name!r}")
