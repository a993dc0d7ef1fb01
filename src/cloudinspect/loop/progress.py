"""Terminal progress of repair runs: one line per stage of each attempt, and a summary table at the end."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cloudinspect.loop.context import LoopEvent
from cloudinspect.loop.state import RunRecord

STATUS_STYLES = {
    "passed": "bold green",
    "failed": "bold red",
    "stuck": "bold red",
    "budget": "yellow",
    "unsupported": "yellow",
    "error": "bold red",
}


class ProgressPrinter:
    """`on_event` for run_repair_loop: prints each stage as it happens (on stderr by default)."""

    def __init__(self, console: Console | None = None, *, label: str = "") -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.label = label

    def __call__(self, event: LoopEvent) -> None:
        head = Text(f"{self.label} " if self.label else "", style="bold")
        if event.stage == "setup":
            self.console.print(head + Text(event.detail, style="dim"), soft_wrap=True)
            return
        if event.stage == "done":
            style = STATUS_STYLES.get(event.status or "", "bold")
            line = head + Text(f"{event.status}", style=style) + Text(f" after {event.n} attempt(s): {event.detail}")
            self.console.print(line, soft_wrap=True)
            return
        line = head + Text(f"attempt {event.n} ", style="bold") + Text(f"{event.stage:<9}", style="cyan")
        if event.error_class:
            line += Text(f" {event.error_class}", style="red")
        if event.detail:
            line += Text(f" {event.detail[:160]}")
        if event.tokens_in or event.tokens_out:
            line += Text(f"  [{event.tokens_in}→{event.tokens_out} tok, ${event.cost_usd:.4f}]", style="dim")
        self.console.print(line, soft_wrap=True)


def attempts_table(record: RunRecord) -> Table:
    """The attempts of one run."""
    table = Table(title=f"run {record.run_id}: {record.prompt_id} with {record.model_id}", title_justify="left")
    for name, justify in (
        ("#", "right"),
        ("result", "left"),
        ("error", "left"),
        ("tokens in", "right"),
        ("tokens out", "right"),
        ("cost $", "right"),
        ("time s", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for a in record.attempts:
        table.add_row(
            str(a.n),
            Text("pass", style="green") if a.passed else Text(a.error_class, style="red"),
            a.error_message[:70],
            str(a.tokens_in),
            str(a.tokens_out),
            f"{a.cost_usd:.4f}",
            f"{a.duration_ms / 1000:.1f}",
        )
    return table


def runs_table(records: Sequence[RunRecord], title: str = "repair runs") -> Table:
    """One row per run: prompt, model, status, attempts, tokens, cost, time."""
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("prompt", "left"),
        ("model", "left"),
        ("status", "left"),
        ("attempts", "right"),
        ("tokens", "right"),
        ("cost $", "right"),
        ("time s", "right"),
        ("run id", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in records:
        table.add_row(
            r.prompt_id,
            r.model_id,
            Text(r.status, style=STATUS_STYLES.get(r.status, "")),
            str(len(r.attempts)),
            f"{r.tokens_in + r.tokens_out}",
            f"{r.cost_usd:.4f}",
            f"{r.duration_ms / 1000:.1f}",
            r.run_id,
        )
    return table
