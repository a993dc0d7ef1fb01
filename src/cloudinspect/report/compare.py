"""`compare_benchmarks`: what changed between two benchmark runs, regressions first.

Per model present in both: the change of pass rate, first-try pass rate and cost, and whether the pass-rate
change is beyond noise (`cloudinspect.bench.metrics.differs_beyond_noise`: the 95% intervals do not overlap, a
conservative test; "no" means "not shown different", never "the same"). Per cell (model x prompt x repeat)
present in both: regressions (solved in A, not in B), then fixes, then how many did not change.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.table import Table

from cloudinspect.bench.metrics import differs_beyond_noise
from cloudinspect.bench.types import BenchConfig, CellResult, ModelSummary
from cloudinspect.report.load import Benchmark, load_benchmark


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelDelta(_Model):
    """One model's headline figures in A and B (B minus A in the deltas)."""

    model_id: str
    solved_a: int
    solved_b: int
    tasks_a: int
    tasks_b: int
    pass_rate_a: float
    pass_rate_b: float
    pass_rate_delta: float
    pass_rate_ci95_a: tuple[float, float]
    pass_rate_ci95_b: tuple[float, float]
    beyond_noise: bool
    first_try_a: float
    first_try_b: float
    first_try_delta: float
    cost_usd_a: float
    cost_usd_b: float
    cost_usd_delta: float


class CellChange(_Model):
    """A cell solved in one run and not in the other."""

    kind: Literal["regression", "fix"]
    model_id: str
    prompt_id: str
    repeat: int
    status_a: str
    status_b: str
    failure_class_a: str
    failure_class_b: str


class Comparison(_Model):
    """Run B against run A."""

    dir_a: str
    dir_b: str
    models: list[ModelDelta]
    only_in_a: list[str]
    only_in_b: list[str]
    changes: list[CellChange]
    regressions: int
    fixes: int
    unchanged: int
    cells_only_in_a: int
    cells_only_in_b: int
    notes: list[str]

    def render_text(self, *, width: int = 120) -> str:
        """Tables for a terminal: models, then regressions, then fixes, then the counts."""
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, highlight=False, force_terminal=False)
        console.print(f"A: {self.dir_a}\nB: {self.dir_b}")
        for note in self.notes:
            console.print(f"note: {note}")
        table = Table(title="models (B - A)", title_justify="left")
        table.add_column("model", overflow="fold")
        for name in ("solved A -> B", "pass rate A -> B", "delta", "beyond noise", "first try A -> B", "cost A -> B"):
            table.add_column(name)
        for m in self.models:
            table.add_row(
                m.model_id,
                f"{m.solved_a}/{m.tasks_a} -> {m.solved_b}/{m.tasks_b}",
                f"{_pct(m.pass_rate_a)} -> {_pct(m.pass_rate_b)}",
                _signed_pct(m.pass_rate_delta),
                "yes" if m.beyond_noise else "no",
                f"{_pct(m.first_try_a)} -> {_pct(m.first_try_b)}",
                f"${m.cost_usd_a:.4f} -> ${m.cost_usd_b:.4f}",
            )
        console.print(table)
        if self.only_in_a or self.only_in_b:
            console.print(
                f"models only in A: {', '.join(self.only_in_a) or '-'}; only in B: {', '.join(self.only_in_b) or '-'}"
            )
        for kind, title in (("regression", "regressions (solved in A, not in B)"), ("fix", "fixes (solved in B only)")):
            rows = [c for c in self.changes if c.kind == kind]
            if not rows:
                continue
            cells = Table(title=f"{len(rows)} {title}", title_justify="left")
            cells.add_column("model", overflow="fold")
            for name in ("prompt", "repeat", "A", "B"):
                cells.add_column(name)
            for c in rows:
                a = c.status_a if c.status_a == "solved" else f"{c.status_a} ({c.failure_class_a})"
                b = c.status_b if c.status_b == "solved" else f"{c.status_b} ({c.failure_class_b})"
                cells.add_row(c.model_id, c.prompt_id, str(c.repeat), a, b)
            console.print(cells)
        console.print(
            f"{self.regressions} regression(s), {self.fixes} fix(es), {self.unchanged} unchanged cell(s); "
            f"cells only in A: {self.cells_only_in_a}, only in B: {self.cells_only_in_b}"
        )
        return buffer.getvalue()


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _signed_pct(value: float) -> str:
    return f"{value * 100:+.0f} pts"


def _delta(model_id: str, a: ModelSummary, b: ModelSummary) -> ModelDelta:
    return ModelDelta(
        model_id=model_id,
        solved_a=a.solved,
        solved_b=b.solved,
        tasks_a=a.tasks,
        tasks_b=b.tasks,
        pass_rate_a=a.pass_rate,
        pass_rate_b=b.pass_rate,
        pass_rate_delta=b.pass_rate - a.pass_rate,
        pass_rate_ci95_a=a.pass_rate_ci95,
        pass_rate_ci95_b=b.pass_rate_ci95,
        beyond_noise=differs_beyond_noise(a, b),
        first_try_a=a.first_try_pass_rate,
        first_try_b=b.first_try_pass_rate,
        first_try_delta=b.first_try_pass_rate - a.first_try_pass_rate,
        cost_usd_a=a.cost_usd,
        cost_usd_b=b.cost_usd,
        cost_usd_delta=b.cost_usd - a.cost_usd,
    )


def _config_notes(a: BenchConfig, b: BenchConfig) -> list[str]:
    notes = []
    for name in ("prompts", "scenarios", "repeat", "max_attempts", "max_cost_usd"):
        va, vb = getattr(a, name), getattr(b, name)
        if va != vb:
            notes.append(f"{name} differ: A {va}, B {vb}")
    return notes


def compare(a: Benchmark, b: Benchmark) -> Comparison:
    """Compare two loaded benchmarks (B against A)."""
    models_a, models_b = a.summary.models, b.summary.models
    common = [m for m in models_a if m in models_b]
    notes = _config_notes(a.summary.config, b.summary.config)
    for label, bench in (("A", a), ("B", b)):
        if not bench.summary.complete:
            notes.append(f"{label} is incomplete: its missing cells count as not solved")
    cells_a: dict[str, CellResult] = {r.cell.key: r for r in a.results if r.cell.model_id in models_b}
    cells_b: dict[str, CellResult] = {r.cell.key: r for r in b.results if r.cell.model_id in models_a}
    regressions: list[CellChange] = []
    fixes: list[CellChange] = []
    unchanged = 0
    for key in sorted(cells_a.keys() & cells_b.keys()):
        ra, rb = cells_a[key], cells_b[key]
        if ra.solved == rb.solved:
            unchanged += 1
            continue
        change = CellChange(
            kind="regression" if ra.solved else "fix",
            model_id=ra.cell.model_id,
            prompt_id=ra.cell.prompt_id,
            repeat=ra.cell.repeat,
            status_a=ra.status,
            status_b=rb.status,
            failure_class_a=ra.failure_class,
            failure_class_b=rb.failure_class,
        )
        (regressions if ra.solved else fixes).append(change)
    return Comparison(
        dir_a=str(a.directory),
        dir_b=str(b.directory),
        models=[_delta(m, models_a[m], models_b[m]) for m in common],
        only_in_a=[m for m in models_a if m not in models_b],
        only_in_b=[m for m in models_b if m not in models_a],
        changes=[*regressions, *fixes],
        regressions=len(regressions),
        fixes=len(fixes),
        unchanged=unchanged,
        cells_only_in_a=len(cells_a.keys() - cells_b.keys()),
        cells_only_in_b=len(cells_b.keys() - cells_a.keys()),
        notes=notes,
    )


def compare_benchmarks(dir_a: Path, dir_b: Path) -> Comparison:
    """What changed from the benchmark in `dir_a` to the one in `dir_b` (summary.json and cells of each)."""
    return compare(load_benchmark(dir_a, with_attempts=False), load_benchmark(dir_b, with_attempts=False))
