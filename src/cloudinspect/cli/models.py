"""`cloudinspect models`: list, show and check the models of the registry."""

from __future__ import annotations

import sys
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich import box
from rich.console import Console
from rich.table import Table

from cloudinspect.cli._output import console, print_json
from cloudinspect.errors import CloudInspectError

if TYPE_CHECKING:
    from cloudinspect.models import ModelRegistry, ModelSpec

NAME = "models"
app = typer.Typer(help="The model registry: list, show and check models.", no_args_is_help=True)
err_console = Console(stderr=True, highlight=False)

ModelsFile = Annotated[
    list[Path] | None,
    typer.Option(
        "--models-file",
        help="Extra registry file whose entries replace built-ins by id (repeatable; read last).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

# Small enough to be quick on a CPU, large enough for a non-reasoning model to answer "pong".
_PING_MAX_TOKENS = 16


def _registry(models_file: list[Path] | None) -> ModelRegistry:
    from cloudinspect.models import load_registry

    return load_registry(models_file)


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@app.command("list")
def list_models(
    *,
    provider: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Only these providers (repeatable).")
    ] = None,
    requires: Annotated[
        list[str] | None,
        typer.Option("--requires", "-r", help="Only models with this capability (repeatable)."),
    ] = None,
    max_input_price: Annotated[
        float | None,
        typer.Option(help="Only models whose input price (USD per million tokens) is at most this."),
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Only models that run on this machine.")] = False,
    json_out: JsonFlag = False,
    models_file: ModelsFile = None,
) -> None:
    """List the registry's models."""
    specs = _registry(models_file).select(
        requires=requires or [], max_input_price=max_input_price, providers=provider, local_only=local
    )
    if json_out:
        print_json([s.summary() for s in specs])
        return
    table = Table(title=f"{len(specs)} models, prices in USD per million tokens", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True)
    table.add_column("provider", no_wrap=True)
    table.add_column("family", no_wrap=True)
    for column in ("in", "cached", "out", "context"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("capabilities")
    for s in specs:
        table.add_row(
            s.id,
            s.provider.value,
            s.family,
            _price(s.price.input),
            _price(s.price.cached_input),
            _price(s.price.output),
            _tokens(s.context_window),
            _capabilities(s),
        )
    # Piped output has no terminal width to fit: give the table room instead of truncating cells.
    (console if console.is_terminal else Console(width=120, highlight=False)).print(table)


_CAPABILITY_LABELS = {
    "reasoning": "reason",
    "structured_output": "json",
    "tool_calling": "tools",
    "prompt_caching": "cache",
}


def _capabilities(spec: ModelSpec) -> str:
    labels = [label for name, label in _CAPABILITY_LABELS.items() if getattr(spec.capabilities, name)]
    if not spec.capabilities.chat:
        labels.insert(0, "base")
    return " ".join(labels)


def _tokens(count: int | None) -> str:
    if count is None:
        return "-"
    return f"{count / 1_000_000:.3g}M" if count >= 1_000_000 else f"{count // 1000}K"


@app.command("show")
def show(
    model_id: Annotated[str, typer.Argument(help="Registry id, e.g. smollm2-135m.")],
    *,
    json_out: JsonFlag = False,
    models_file: ModelsFile = None,
) -> None:
    """Show one model's full entry and the file it comes from."""
    registry = _registry(models_file)
    spec = registry[model_id]
    data: dict[str, Any] = spec.model_dump(mode="json", exclude_none=True)
    data["source"] = str(registry.sources[model_id])
    data["local"] = spec.is_local
    if json_out:
        print_json(data)
        return
    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000))


@app.command("check")
def check(
    model_id: Annotated[str, typer.Argument(help="Registry id, e.g. smollm2-135m.")],
    *,
    ping: Annotated[
        bool, typer.Option("--ping", help="Send one tiny request and report latency, tokens, cost.")
    ] = False,
    prompt: Annotated[str, typer.Option(help="The --ping request.")] = "Reply with the single word: pong",
    max_tokens: Annotated[
        int | None,
        typer.Option(help="Cap on the --ping reply (default 16; reasoning models keep their own)."),
    ] = None,
    json_out: JsonFlag = False,
    models_file: ModelsFile = None,
) -> None:
    """Build a model (reporting missing packages or API keys, exit code 3) and optionally ping it."""
    from cloudinspect.models import get_model

    spec = _registry(models_file)[model_id]
    overrides: dict[str, Any] = {}
    if ping and (max_tokens is not None or not spec.is_reasoning):
        overrides["max_tokens"] = max_tokens or _PING_MAX_TOKENS
        if spec.max_output_tokens is not None:
            overrides["max_tokens"] = min(overrides["max_tokens"], spec.max_output_tokens)
    if spec.parameters.thinking_budget is not None and "max_tokens" in overrides:
        overrides.pop("max_tokens")  # extended thinking needs max_tokens above its budget
    start = perf_counter()
    model = get_model(spec, **overrides)
    result: dict[str, Any] = {
        "id": spec.id,
        "provider": spec.provider.value,
        "model": spec.model,
        "class": type(model).__name__,
        "build_seconds": round(perf_counter() - start, 3),
    }
    if ping:
        result.update(_ping(spec, model, prompt))
    if json_out:
        print_json(result)
        return
    console.print(f"ok: {spec.id} builds {result['class']} ({spec.provider.value} {spec.model})", markup=False)
    if ping:
        console.print(
            f"ping: {result['latency_seconds']:.2f} s, {result['input_tokens']} input + "
            f"{result['output_tokens']} output tokens, ${result['cost_usd']:.6f}, "
            f"finish_reason {result['finish_reason']}",
            markup=False,
        )
        console.print(f"reply: {result['reply']!r}", markup=False)


def _ping(spec: ModelSpec, model: Any, prompt: str) -> dict[str, Any]:
    from langchain_core.messages import HumanMessage

    from cloudinspect.models import TokenUsage

    start = perf_counter()
    try:
        reply = model.invoke([HumanMessage(prompt)])
    except CloudInspectError:
        raise
    except Exception as exc:
        # Network, authentication and quota errors come from the provider SDK with their own messages.
        err_console.print(f"error: ping of '{spec.id}' failed: {type(exc).__name__}: {exc}", markup=False)
        raise typer.Exit(1) from exc
    latency = perf_counter() - start
    usage = TokenUsage.from_metadata(reply.usage_metadata)
    text = reply.content if isinstance(reply.content, str) else str(reply.text)
    return {
        "latency_seconds": round(latency, 3),
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": round(spec.cost_usd(usage), 8),
        "finish_reason": reply.response_metadata.get("finish_reason") or reply.response_metadata.get("stop_reason"),
        "reply": text[:200],
    }
