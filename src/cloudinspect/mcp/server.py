"""The MCP server: cloudinspect's inspection and troubleshooting as read-only tools for other agents.

`build_server()` returns the server with its tools and resources registered and nothing started; the command
`cloudinspect mcp` (cli/mcp.py) runs it over stdio or streamable HTTP. The tools are thin: the work is in
`cloudinspect.mcp.tools`. Here each call moves to a worker thread (a repair run takes minutes; the server keeps
answering pings, listings and other calls meanwhile), relays the loop's progress as MCP progress notifications,
and turns cloudinspect's errors into tool errors with their message: a caller sees what to fix, never a
traceback.

"Read-only" is about the cloud account: every script the tools run is statically reviewed as read-only and runs
in the sandbox; the tools do record runs in the user's results store, as `cloudinspect run` does.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from cloudinspect.errors import CloudInspectError
from cloudinspect.mcp import tools
from cloudinspect.redact import redact_text

if TYPE_CHECKING:
    from cloudinspect.loop import LoopEvent

__all__ = ["SERVER_NAME", "build_server"]

SERVER_NAME = "cloudinspect"
_log = logging.getLogger(__name__)
_T = TypeVar("_T")

_INSTRUCTIONS = """\
cloudinspect answers questions about an AWS account by having an LLM write a Python inspection script, reviewing it
statically (read-only API calls only), running it in a sandbox and repairing it until its output meets the prompt's
contract. `list_prompts` shows the catalogue (each prompt's variables with types and defaults); `run_prompt` runs
one; `troubleshoot` turns a problem described in words into inspections, cited evidence and a diagnosis.
`list_scenarios` names the seeded emulator accounts usable as target `emulator:NAME`. Targets: `emulator:NAME`
(a fresh emulator per call), `endpoint:URL`, `aws:PROFILE[?role=ARN]`. Models are registry ids (`cloudinspect models
list`) or `replay:PATH`."""

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Running code against an account reaches outside the server, and a model call is not idempotent.
_RUNS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


def _tool_error(tool: str, exc: Exception) -> ToolError:
    """A tool error the caller can act on: cloudinspect's own errors say what was wrong with the input; anything
    else is named by type and message (redacted) and logged with its traceback on stderr."""
    if isinstance(exc, CloudInspectError):
        return ToolError(redact_text(str(exc)))
    _log.error("tool %s failed", tool, exc_info=exc)
    return ToolError(redact_text(f"{tool} failed: {type(exc).__name__}: {exc}"))


async def _in_thread(tool: str, fn: Callable[[], _T]) -> _T:
    """`fn()` in a worker thread (the event loop stays free), its errors as tool errors."""
    try:
        return await anyio.to_thread.run_sync(fn)
    except Exception as exc:
        raise _tool_error(tool, exc) from exc


class _Progress:
    """MCP progress notifications sent from any thread: the repair loop reports from the worker thread, the
    troubleshooting graph from its own pool's threads, so the event loop is reached with its token rather than
    as a worker thread's parent. A notification that cannot be delivered (a client that went away) never stops
    the work: the run finishes and is stored."""

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self._ctx = ctx
        self._token = anyio.lowlevel.current_token()  # called in the event loop's thread, by the tool
        self._steps = itertools.count(1)

    def report(self, progress: float, total: float | None, message: str) -> None:
        send = functools.partial(self._ctx.report_progress, progress, total, redact_text(message[:300]))
        try:
            anyio.from_thread.run(send, token=self._token)
        except Exception as exc:
            _log.debug("progress notification not sent: %s", exc)

    def attempt(self, total: int) -> Callable[[LoopEvent], None]:
        """A repair-loop `on_event` callback: each stage as progress, attempt n of `total`."""

        def relay(event: LoopEvent) -> None:
            message = f"attempt {event.n}: {event.stage}" if event.n else event.stage
            self.report(float(event.n), float(total), f"{message} ({event.detail})" if event.detail else message)

        return relay

    def step(self, line: str) -> None:
        """A troubleshooting `on_event` callback: each step's line as progress, counted (the number of steps is
        not known in advance)."""
        self.report(float(next(self._steps)), None, line)


def build_server() -> MCPServer:
    """The cloudinspect MCP server with its tools and resources; nothing is started, nothing is loaded."""
    from cloudinspect import __version__

    server: MCPServer = MCPServer(
        SERVER_NAME, title="cloudinspect", instructions=_INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    @server.tool(annotations=_READ_ONLY)
    async def list_prompts(
        service: Annotated[str | None, Field(description="Only prompts using this service (ec2, lambda...).")] = None,
        tag: Annotated[str | None, Field(description="Only prompts with this tag.")] = None,
        category: Annotated[
            str | None,
            Field(description="Only this category: resources, configuration, metrics, logs, security or cost."),
        ] = None,
    ) -> dict[str, Any]:
        """The inspection prompt catalogue: id, title, description, services, category, tags and variables (type,
        default, constraints) of every prompt matching the filters."""
        prompts = await _in_thread("list_prompts", lambda: tools.list_prompts(service, tag, category))
        return {"count": len(prompts), "prompts": prompts}

    @server.tool(annotations=_READ_ONLY)
    async def list_scenarios() -> dict[str, Any]:
        """The seeded account states the emulator can hold (target `emulator:NAME`): name, description, services,
        resource counts, and for fault scenarios the injected fault and its expected findings."""
        scenarios = await _in_thread("list_scenarios", tools.list_scenarios)
        return {"count": len(scenarios), "scenarios": scenarios}

    @server.tool(annotations=_RUNS)
    async def run_prompt(
        prompt_id: Annotated[str, Field(description="Catalogue prompt id (see list_prompts).")],
        model: Annotated[str, Field(description="Model registry id (gpt-5-mini, smollm2-135m...) or replay:PATH.")],
        ctx: Context[Any, Any],
        target: Annotated[
            str, Field(description="emulator:SCENARIO (ephemeral), endpoint:URL or aws:PROFILE[?role=ARN].")
        ] = "emulator:baseline",
        variables: Annotated[
            dict[str, Any] | None, Field(description="The prompt's variables by name; defaults fill the rest.")
        ] = None,
        max_attempts: Annotated[int, Field(ge=1, le=20, description="Attempts in all (first one included).")] = 3,
    ) -> dict[str, Any]:
        """Generate, review, execute and repair an inspection script for one catalogue prompt until its output
        meets the prompt's contract or the attempts are spent. Returns the run's status, its output JSON, the final
        script, a summary per attempt, tokens and cost."""
        relay = _Progress(ctx).attempt(max_attempts)
        return await _in_thread(
            "run_prompt",
            lambda: tools.run_prompt(
                prompt_id, model, target=target, variables=variables, max_attempts=max_attempts, on_event=relay
            ),
        )

    @server.tool(annotations=_RUNS)
    async def troubleshoot(
        problem: Annotated[str, Field(description="What is wrong, in words ('our order Lambda times out...').")],
        model: Annotated[str, Field(description="Model that writes the inspection scripts (registry id).")],
        ctx: Context[Any, Any],
        planner_model: Annotated[
            str | None, Field(description="Reasoning model that plans and diagnoses (default: `model`).")
        ] = None,
        target: Annotated[
            str, Field(description="emulator:SCENARIO (ephemeral), endpoint:URL or aws:PROFILE[?role=ARN].")
        ] = "emulator:baseline",
        max_rounds: Annotated[int, Field(ge=1, le=5, description="Planning rounds when evidence is inconclusive.")] = 2,
    ) -> dict[str, Any]:
        """Troubleshoot a problem described in words: plan inspections, run them, collect evidence (each fact with
        its provenance and a stable id, secrets redacted) and diagnose (root-cause hypotheses citing evidence ids,
        remediation steps that are never executed). Returns the evidence bundle and the diagnosis."""
        relay = _Progress(ctx).step
        return await _in_thread(
            "troubleshoot",
            lambda: tools.troubleshoot(
                problem, model, planner_model=planner_model, target=target, max_rounds=max_rounds, on_event=relay
            ),
        )

    @server.resource(
        "catalog://prompts/{prompt_id}",
        name="prompt",
        description="A catalogue prompt's YAML file: template, variables and output contract.",
        mime_type="application/yaml",
    )
    async def prompt_resource(prompt_id: str) -> str:
        try:
            return await anyio.to_thread.run_sync(tools.prompt_yaml, prompt_id)
        except CloudInspectError as exc:
            raise ResourceError(redact_text(str(exc))) from exc

    return server
