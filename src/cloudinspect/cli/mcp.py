"""`cloudinspect mcp`: serve cloudinspect's read-only tools to other agents over MCP (stdio by default).

On stdio, stdout is the protocol: nothing else may write there, so logs and progress go to stderr. Streamable
HTTP listens on loopback unless `--allow-remote` says otherwise: the server has no authentication, and its tools
spend model budget and read cloud accounts.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

import typer

from cloudinspect.errors import InputError, Problem


class Transport(StrEnum):
    stdio = "stdio"
    streamable_http = "streamable-http"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mcp(
    transport: Annotated[Transport, typer.Option("--transport", help="stdio, or streamable-http.")] = Transport.stdio,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (streamable-http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on (streamable-http).")] = 8000,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow a non-loopback --host (the server has no authentication).")
    ] = False,
) -> None:
    """Run the MCP server: list and run inspection prompts, list scenarios, troubleshoot (read-only tools)."""
    import logging

    from rich.console import Console

    from cloudinspect.mcp import build_server

    err_console = Console(stderr=True, highlight=False)
    if transport is Transport.streamable_http and not allow_remote and not _is_loopback(host):
        raise InputError(
            f"refusing to listen on {host!r}",
            None,
            [Problem("not a loopback address; the server has no authentication (--allow-remote to insist)", "host")],
        )
    # Our own logs on stderr, warnings and up: on stdio, stdout belongs to the protocol.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = build_server()
    if transport is Transport.stdio:
        server.run("stdio")
    else:
        err_console.print(f"cloudinspect MCP server on http://{host}:{port}/mcp (streamable HTTP)")
        server.run("streamable-http", host=host, port=port)


COMMANDS = [mcp]
