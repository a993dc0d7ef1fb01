"""`cloudinspect report DIR` and `cloudinspect compare DIR1 DIR2`: a benchmark's reports, and what changed
between two benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from cloudinspect.cli._output import print_json

err_console = Console(stderr=True, highlight=False)


def report(
    directory: Annotated[Path, typer.Argument(help="The benchmark directory (`cloudinspect bench --out DIR`).")],
    open_path: Annotated[
        bool,
        typer.Option("--open-path", help="Print only report.html's path (e.g. `xdg-open $(cloudinspect report ...)`)."),
    ] = False,
) -> None:
    """(Re)write a benchmark's reports: report.html, report.md (and for the code suite cells.csv, cells.json)."""
    import sys

    from cloudinspect.report.troubleshoot import benchmark_suite

    if benchmark_suite(directory) == "troubleshoot":
        from cloudinspect.report.troubleshoot import load_troubleshoot_benchmark, write_troubleshoot_reports

        summary, results, details = load_troubleshoot_benchmark(directory)
        paths = write_troubleshoot_reports(directory, summary, results, details)
    else:
        from cloudinspect.report import load_benchmark, write_reports

        bench = load_benchmark(directory)
        if bench.source != "bench.sqlite":
            err_console.print(
                Text(f"note: no bench.sqlite in {directory}: cells read from cells.json, without attempts"),
                soft_wrap=True,
            )
        paths = write_reports(bench.directory, bench.summary, bench.results, bench.attempts)
    if open_path:
        sys.stdout.write(f"{paths[0].resolve()}\n")
        return
    for path in paths:
        sys.stdout.write(f"{path}\n")


def compare(
    dir_a: Annotated[Path, typer.Argument(help="The earlier benchmark directory (A).")],
    dir_b: Annotated[Path, typer.Argument(help="The later benchmark directory (B).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """What changed from benchmark A to benchmark B: per model, then per cell (regressions first)."""
    import sys

    from cloudinspect.report import compare_benchmarks

    comparison = compare_benchmarks(dir_a, dir_b)
    if as_json:
        print_json(comparison.model_dump(mode="json"))
        return
    sys.stdout.write(comparison.render_text())


COMMANDS = [report, compare]
