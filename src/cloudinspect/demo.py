"""`make demo`: the embedded default end to end, with no cloud account and no API key.

It starts an emulated AWS account (a real moto server on loopback, seeded with the `baseline` scenario),
answers catalogue questions about it with their canonical reference scripts, shows the catalogue and the
model registry, then runs the main job: the repair loop (generate, review, execute in the sandbox, evaluate
against the canonical answer, diagnose, repair) on a few catalogue prompts with the local llama.cpp model
(shipped on PyPI), with progress per attempt and a summary table. Every run is in the results store
(`cloudinspect runs list`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.panel import Panel
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
# The repair loop's demo prompts: small, single-service questions a 135M-parameter model has a chance at.
LOOP_PROMPTS = ["ec2-instances-by-state-and-type", "lambda-functions-inventory", "logs-groups-without-retention"]
LOOP_MODEL = "smollm2-135m"
LOOP_ATTEMPTS = 3


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
    from cloudinspect.catalog import load_catalog
    from cloudinspect.catalog.reference import run_reference
    from cloudinspect.cloud import start_emulator
    from cloudinspect.models import load_registry

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
        _repair_loop(emu.endpoint_url, catalog)

    console.print(
        Panel(
            "Try it yourself:\n"
            "  .venv/bin/cloudinspect run lambda-functions-inventory --model smollm2-135m --target emulator:baseline\n"
            "  .venv/bin/cloudinspect runs list            # every run and attempt is in the results store\n"
            "  .venv/bin/cloudinspect graph repair         # the repair loop as a Mermaid graph\n"
            "  .venv/bin/cloudinspect emulator up --scenario baseline   # then point boto3 at the printed endpoint\n"
            "  .venv/bin/cloudinspect prompts show lambda-error-rate\n"
            "  .venv/bin/cloudinspect scenarios list      # the fault-* scenarios have a known root cause\n"
            '  .venv/bin/cloudinspect troubleshoot "Our order processor Lambda keeps timing out since yesterday" \\\n'
            "      --model smollm2-135m --target emulator:fault-lambda-timeout   # problem -> evidence -> diagnosis\n"
            "  .venv/bin/cloudinspect mcp                 # the same tools for other agents, over MCP\n"
            "  .venv/bin/cloudinspect models check smollm2-135m --ping\n"
            "  .venv/bin/cloudinspect emulator down",
            title="next",
        )
    )


def _repair_loop(endpoint_url: str, catalog: Any) -> None:
    """The main job: the repair loop on LOOP_PROMPTS with the local model against the running emulator."""
    from cloudinspect.loop import LoopLimits, ProgressPrinter, run_repair_loop, runs_table
    from cloudinspect.loop.state import RunRecord

    console.rule(f"[bold]The repair loop[/]: {LOOP_MODEL} (llama.cpp, in-process) on {len(LOOP_PROMPTS)} prompts")
    console.print(
        "Each attempt: the model writes a script; the static review checks it against botocore's models; the "
        "sandbox runs it read-only against the emulated account; its output is compared with the canonical "
        "answer; a failure goes back to the model as feedback. A 135M-parameter model rarely passes: the point "
        "is the loop, its classification of each failure, and what it costs.",
        style="dim",
    )
    records: list[RunRecord] = []
    for prompt_id in [p for p in LOOP_PROMPTS if p in catalog]:
        console.print(f"\n[bold]{prompt_id}[/]: {catalog[prompt_id].title}")
        record = run_repair_loop(
            prompt_id,
            LOOP_MODEL,
            target=f"endpoint:{endpoint_url}",
            # no continuations: a 135M model continuing a cut-off script only adds minutes of noise
            limits=LoopLimits(max_attempts=LOOP_ATTEMPTS, exec_timeout_s=30, max_continuations=0),
            on_event=ProgressPrinter(console),
        )
        records.append(record)
    console.print()
    console.print(runs_table(records, title=f"Repair runs with {LOOP_MODEL} (see: cloudinspect runs show RUN_ID)"))


if __name__ == "__main__":
    main()
