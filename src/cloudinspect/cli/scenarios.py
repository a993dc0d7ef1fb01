"""`cloudinspect scenarios`: the seeded account states the emulator can hold (list, show, validate)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cloudinspect.cli._output import console, print_json

if TYPE_CHECKING:
    from cloudinspect.cloud.scenario import Scenario

NAME = "scenarios"
app = typer.Typer(help="Scenarios: declarative AWS account states seeded into the emulator.", no_args_is_help=True)


def _summary(scenario: Scenario, source: Path | None = None) -> dict[str, Any]:
    counts = scenario.resource_counts()
    return {
        "name": scenario.name,
        "description": scenario.description,
        "region": scenario.region,
        "services": scenario.services,
        "resource_counts": {service: kinds for service, kinds in counts.items() if any(kinds.values())},
        "total_resources": sum(sum(kinds.values()) for kinds in counts.values()),
        "fault": scenario.fault.model_dump(mode="json") if scenario.fault else None,
        "source": str(source) if source else None,
    }


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List every scenario (built-in and user directories)."""
    from rich.table import Table

    from cloudinspect.cloud.loader import load_scenario_file, scenario_paths

    paths = scenario_paths()
    rows = [_summary(load_scenario_file(path), path) for _, path in sorted(paths.items())]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "resources", "services", "fault", "description", show_lines=False)
    for row in rows:
        table.add_row(
            row["name"],
            str(row["total_resources"]),
            str(len(row["services"])),
            row["fault"]["name"] if row["fault"] else "-",
            " ".join(row["description"].split())[:90],
        )
    console.print(table)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Scenario name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with the full scenario).")] = False,
) -> None:
    """Show one scenario: description, fault (checked against the catalogue), and resource counts per service."""
    from rich.table import Table

    from cloudinspect.cloud.loader import load_scenario_file, scenario_paths
    from cloudinspect.errors import UnknownIdError
    from cloudinspect.troubleshoot.findings import check_fault

    paths = scenario_paths()
    if name not in paths:
        raise UnknownIdError.of("scenario", name, list(paths))
    scenario = load_scenario_file(paths[name])
    check_fault(scenario, source=paths[name])
    summary = _summary(scenario, paths[name])
    if as_json:
        print_json({**summary, "scenario": scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)})
        return
    console.print(f"[bold]{scenario.name}[/] ({scenario.region}) - {paths[name]}")
    console.print(" ".join(scenario.description.split()))
    fault = scenario.fault
    if fault:
        console.print(f"fault [bold]{fault.name}[/]: {' '.join(fault.root_cause.split())}")
        console.print(f"  problem: {' '.join(fault.problem.split())}")
        console.print(f"  expected findings: {', '.join(fault.expected_findings)}")
        if fault.evidence_prompts:
            console.print(f"  evidence prompts: {', '.join(fault.evidence_prompts)}")
        if fault.resources:
            console.print(f"  faulty resources: {', '.join(fault.resources)}")
    table = Table("service", "resources")
    for service, kinds in summary["resource_counts"].items():
        table.add_row(service, ", ".join(f"{kind} {count}" for kind, count in kinds.items() if count))
    console.print(table)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.", exists=True, dir_okay=False)],
) -> None:
    """Validate scenario files (schema, references between resources, a fault's labels and evidence prompts);
    exit code 2 on the first problem."""
    from cloudinspect.catalog import Catalog
    from cloudinspect.cloud.loader import load_scenario_file
    from cloudinspect.troubleshoot.findings import check_fault

    catalog: Catalog | None = None
    for path in files:
        scenario = load_scenario_file(path)
        if scenario.fault is not None:
            if catalog is None:
                from cloudinspect.catalog import load_catalog

                catalog = load_catalog()
            check_fault(scenario, catalog, source=path)
        total = sum(sum(kinds.values()) for kinds in scenario.resource_counts().values())
        console.print(f"{path}: ok ({scenario.name}, {total} resources, {len(scenario.services)} services)")
