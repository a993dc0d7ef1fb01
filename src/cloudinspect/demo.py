"""`make demo`: the embedded default end to end, with no cloud account and no API key.

It starts an emulated AWS account (a real moto server on loopback, seeded with the `baseline` scenario),
answers catalogue questions about it with their canonical reference scripts, shows the catalogue and the
model registry, and asks the local llama.cpp model (shipped on PyPI) for a first draft of an inspection
script. The draft is only shown: generated code is reviewed and sandboxed before it runs (later stages).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

console = Console(highlight=False)

# Catalogue questions whose answers give a quick picture of an account.
SHOWCASE = [
    "ec2-instances-by-state-and-type",
    "ec2-open-security-groups",
    "s3-bucket-security-baseline",
    "iam-console-users-without-mfa",
    "lambda-functions-inventory",
    "lambda-error-rate",
    "cloudwatch-alarms-by-state",
    "logs-groups-without-retention",
]
DRAFT_PROMPT = "lambda-functions-inventory"


def _summarise(value: Any) -> str:
    """A one-line picture of a JSON answer: list sizes and scalar fields."""
    if not isinstance(value, dict):
        return json.dumps(value)[:100]
    parts = []
    for key, item in value.items():
        if isinstance(item, list):
            parts.append(f"{key}: {len(item)} items")
        elif isinstance(item, dict):
            parts.append(f"{key}: {{{', '.join(f'{k}={v}' for k, v in list(item.items())[:4])}}}")
        else:
            parts.append(f"{key}: {item}")
    return "; ".join(parts)


def main(scenario: str = "baseline") -> None:
    """Run the demo."""
    from cloudinspect.catalog import load_catalog, render_prompt
    from cloudinspect.catalog.reference import run_reference
    from cloudinspect.cloud import start_emulator
    from cloudinspect.models import get_spec, load_registry

    console.rule("[bold]cloudinspect[/]: the embedded default (no cloud account, no API key)")

    catalog = load_catalog()
    services = Counter(s for p in catalog.values() for s in p.services)
    categories = Counter(p.category.value for p in catalog.values())
    table = Table(title=f"Prompt catalogue: {len(catalog)} prompts over {len(services)} services")
    table.add_column("service")
    table.add_column("prompts", justify="right")
    for svc, n in sorted(services.items()):
        table.add_row(svc, str(n))
    console.print(table)
    console.print("by category: " + ", ".join(f"{c} {n}" for c, n in sorted(categories.items())))

    console.print(f"\nStarting an emulated AWS account (moto server on loopback, scenario [bold]{scenario}[/]) ...")
    started = time.perf_counter()
    with start_emulator(scenario) as emu:
        report = emu.seed_report
        console.print(
            f"ready at [bold]{emu.endpoint_url}[/] in {time.perf_counter() - started:.1f} s"
            + (f" ({report.calls} API calls to seed {len(report.durations)} services)" if report else "")
        )
        table = Table(title="Questions answered by the catalogue's reference scripts on this account")
        table.add_column("prompt")
        table.add_column("answer", overflow="fold")
        table.add_column("contract", justify="center")
        table.add_column("s", justify="right")
        for prompt_id in [p for p in SHOWCASE if p in catalog]:
            prompt = catalog[prompt_id]
            run = run_reference(prompt, emu.env())
            if run.returncode != 0:
                table.add_row(prompt_id, f"[red]failed[/]: {run.stderr.strip()[-200:]}", "-", f"{run.duration_s:.1f}")
                continue
            output = run.output
            problems = prompt.contract.validate_output(output)
            table.add_row(
                prompt_id,
                _summarise(output),
                "[green]ok[/]" if not problems else "[red]invalid[/]",
                f"{run.duration_s:.1f}",
            )
        console.print(table)

    registry = load_registry()
    table = Table(title=f"Model registry: {len(registry)} models")
    for col in ("id", "provider", "model", "in $/M", "out $/M"):
        table.add_column(col)
    for spec in registry.values():
        prices = spec.prices
        table.add_row(
            spec.id,
            spec.provider.value,
            spec.model,
            f"{prices.input:g}" if prices else "free",
            f"{prices.output:g}" if prices else "free",
        )
    console.print(table)

    _local_draft(catalog[DRAFT_PROMPT], render_prompt, get_spec("smollm2-135m"))

    console.print(
        Panel(
            "Try it yourself:\n"
            "  .venv/bin/cloudinspect emulator up --scenario baseline   # then point boto3 at the printed endpoint\n"
            "  .venv/bin/cloudinspect prompts show lambda-error-rate\n"
            "  .venv/bin/cloudinspect scenarios list\n"
            "  .venv/bin/cloudinspect models check smollm2-135m --ping\n"
            "  .venv/bin/cloudinspect emulator down",
            title="next",
        )
    )


def _local_draft(prompt: Any, render: Any, spec: Any) -> None:
    """Ask the local model for a draft script; show it with tokens and speed."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from cloudinspect.models import get_model

    console.print(
        f"\nLocal model [bold]{spec.id}[/] ({spec.model}, llama.cpp on CPU) drafts a script for "
        f"[bold]{prompt.id}[/] ..."
    )
    model = get_model(spec, max_tokens=320)
    started = time.perf_counter()
    reply = model.invoke(
        [
            SystemMessage("You write short, read-only Python scripts with boto3. Reply with one ```python block."),
            HumanMessage(render(prompt, family=spec.family)),
        ]
    )
    elapsed = time.perf_counter() - started
    usage = reply.usage_metadata
    out_tokens = usage["output_tokens"] if usage else 0
    in_tokens = usage["input_tokens"] if usage else 0
    console.print(Panel(Syntax(str(reply.content).strip(), "markdown", word_wrap=True), title="draft (not executed)"))
    console.print(
        f"{in_tokens} tokens in, {out_tokens} out, {elapsed:.1f} s "
        f"({out_tokens / elapsed if elapsed else 0:.0f} tok/s). Review, sandboxed execution and repair come next."
    )


if __name__ == "__main__":
    main()
