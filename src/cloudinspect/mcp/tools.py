"""What the MCP server's tools do, as plain functions: testable without MCP, callable from any thread.

Each function returns JSON-ready data that has been through `redact_data` (a script's output can hold a Lambda's
environment variables, a model's reply a key it saw), and raises `CloudInspectError` for anything the caller got
wrong (unknown prompt, model or scenario, bad variables or target); `server` turns those into MCP tool errors.
Nothing here writes to stdout: on the stdio transport that is the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cloudinspect.errors import InputError, Problem
from cloudinspect.redact import redact_data

if TYPE_CHECKING:
    from cloudinspect.catalog import InspectionPrompt
    from cloudinspect.loop import LoopEvent

__all__ = ["list_prompts", "list_scenarios", "prompt_yaml", "run_prompt", "troubleshoot"]


def _variables(prompt: InspectionPrompt) -> list[dict[str, Any]]:
    """The prompt's variables as a caller fills them: name, type, whether required, default and constraints."""
    rows = []
    for name, var in sorted(prompt.variables.items()):
        row: dict[str, Any] = {"name": name, **var.model_dump(mode="json", exclude_none=True)}
        row.setdefault("default", None)
        rows.append(row)
    return rows


def list_prompts(
    service: str | None = None, tag: str | None = None, category: str | None = None
) -> list[dict[str, Any]]:
    """Catalogue prompts (built-in and the user's directories), each filter applied when given."""
    from cloudinspect.catalog import Category, load_catalog

    if category is not None and category not in {c.value for c in Category}:
        known = ", ".join(c.value for c in Category)
        raise InputError(f"unknown category {category!r}", None, [Problem(f"one of: {known}", "category")])
    chosen = load_catalog().select(
        services=[service] if service else (), tags=[tag] if tag else (), categories=[category] if category else ()
    )
    rows = [
        {
            "id": p.id,
            "title": p.title,
            "description": " ".join(p.description.split()),
            "services": p.services,
            "category": p.category.value,
            "tags": p.tags,
            "variables": _variables(p),
        }
        for p in chosen
    ]
    result: list[dict[str, Any]] = redact_data(rows)
    return result


def prompt_yaml(prompt_id: str) -> str:
    """One catalogue prompt's YAML file, as written."""
    from cloudinspect.catalog import load_catalog

    prompt = load_catalog()[prompt_id]
    if prompt.source is None:
        raise InputError(f"prompt '{prompt_id}' has no source file")
    text: str = redact_data(prompt.source.read_text(encoding="utf-8"))
    return text


def list_scenarios() -> list[dict[str, Any]]:
    """Every scenario the emulator can hold (built-in and the user's directories), with its fault if it has one."""
    from cloudinspect.cli.scenarios import _summary
    from cloudinspect.cloud.loader import load_scenario_file, scenario_paths

    rows = [_summary(load_scenario_file(path), path) for _, path in sorted(scenario_paths().items())]
    result: list[dict[str, Any]] = redact_data(rows)
    return result


def run_prompt(
    prompt_id: str,
    model: str,
    *,
    target: str = "emulator:baseline",
    variables: dict[str, Any] | None = None,
    max_attempts: int = 3,
    on_event: Callable[[LoopEvent], None] | None = None,
) -> dict[str, Any]:
    """The repair loop on one catalogue prompt (as `cloudinspect run`): the final record with status, output,
    final code, one summary per attempt, tokens and cost. `on_event` gets the loop's progress events."""
    from cloudinspect.loop import LoopLimits, run_repair_loop

    record = run_repair_loop(
        prompt_id,
        model,
        variables=variables or {},
        target=target,
        limits=LoopLimits(max_attempts=max_attempts),
        on_event=on_event,
    )
    result: dict[str, Any] = redact_data(record.model_dump(mode="json"))
    return result


def troubleshoot(
    problem: str,
    model: str,
    *,
    planner_model: str | None = None,
    target: str = "emulator:baseline",
    max_rounds: int = 2,
    on_event: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The troubleshooting workflow on a problem described in words: the whole result, with the evidence bundle
    and the diagnosis. `on_event` gets one line per step of the workflow."""
    from cloudinspect.troubleshoot import troubleshoot as run_troubleshoot

    outcome = run_troubleshoot(
        problem, model=model, planner_model=planner_model, target=target, max_rounds=max_rounds, on_event=on_event
    )
    result: dict[str, Any] = redact_data(outcome.model_dump(mode="json"))
    return result
