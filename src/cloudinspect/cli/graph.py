"""`cloudinspect graph repair|troubleshoot`: print a workflow graph as Mermaid."""

from __future__ import annotations

import sys

import typer

NAME = "graph"
app = typer.Typer(help="Print the workflow graphs (Mermaid).", no_args_is_help=True)


@app.command("repair")
def repair() -> None:
    """The repair loop: generate, review, fix, execute, evaluate, diagnose, repair."""
    from cloudinspect.loop.graph import repair_graph_mermaid

    sys.stdout.write(repair_graph_mermaid())


@app.command("troubleshoot")
def troubleshoot() -> None:
    """The troubleshooting workflow: understand, plan, inspect, collect, diagnose, remediate."""
    from cloudinspect.troubleshoot.graph import troubleshoot_graph_mermaid

    sys.stdout.write(troubleshoot_graph_mermaid())
