"""`cloudinspect prompts`: browse the catalogue, show a prompt with its contract and reference, render it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from cloudinspect.cli._output import console, print_json

NAME = "prompts"
app = typer.Typer(help="Browse and render the inspection prompt catalogue.", no_args_is_help=True)

CatalogDirs = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="Extra catalogue directory (overrides built-ins by id); repeatable."),
]


def _catalog(extra: list[Path] | None) -> Any:
    from cloudinspect.catalog import load_catalog
    from cloudinspect.config import get_settings

    return load_catalog([*get_settings().catalog_dirs, *(extra or [])])


def _summary(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "cloud": p.cloud,
        "services": p.services,
        "category": p.category.value,
        "tags": p.tags,
        "variables": sorted(p.variables),
        "source": str(p.source),
    }


@app.command("list")
def list_prompts(
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only prompts using this service.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Only prompts with this tag.")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", "-c", help="Only this category.")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="Id glob, e.g. 'lambda-*'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    catalog: CatalogDirs = None,
) -> None:
    """List catalogue prompts, optionally filtered by service, tag, category or id glob."""
    cat = _catalog(catalog)
    chosen = cat.select(ids=ids or (), services=service or (), tags=tag or (), categories=category or ())
    if as_json:
        print_json([_summary(p) for p in chosen])
        return
    table = Table(title=f"{len(chosen)} prompts over {len({s for p in chosen for s in p.services})} services")
    for col in ("id", "category", "services", "title"):
        table.add_column(col, overflow="fold")
    for p in chosen:
        table.add_row(p.id, p.category.value, ",".join(p.services), p.title)
    console.print(table)


@app.command("show")
def show_prompt(
    prompt_id: Annotated[str, typer.Argument(help="Prompt id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (template, contract, reference code).")] = False,
    catalog: CatalogDirs = None,
) -> None:
    """Show one prompt: variables, template, output contract and canonical reference script."""
    p = _catalog(catalog)[prompt_id]
    if as_json:
        data = p.model_dump(mode="json", by_alias=True)
        data["source"] = str(p.source)
        data["reference_path"] = str(p.reference_path)
        data["reference_code"] = p.reference_code()
        print_json(data)
        return
    import json

    import yaml

    console.rule(f"[bold]{p.id}[/]  {p.title}")
    console.print(p.description.strip())
    console.print(
        f"[dim]category[/] {p.category.value}  [dim]services[/] {', '.join(p.services)}  "
        f"[dim]tags[/] {', '.join(p.tags)}  [dim]file[/] {p.source}"
    )
    if p.variables:
        table = Table("variable", "type", "default", "constraints", "description")
        for name, v in p.variables.items():
            cons = ", ".join(
                x
                for x in (
                    f"enum {v.enum}" if v.enum else "",
                    f"pattern {v.pattern}" if v.pattern else "",
                    f">= {v.minimum:g}" if v.minimum is not None else "",
                    f"<= {v.maximum:g}" if v.maximum is not None else "",
                )
                if x
            )
            table.add_row(
                name, v.type.value, "(required)" if v.required else json.dumps(v.default), cons, v.description
            )
        console.print(table)
    console.rule("template")
    console.print(p.template.strip(), markup=False)
    console.rule("output contract")
    console.print(Syntax(yaml.safe_dump(p.contract.model_dump(mode="json", by_alias=True), sort_keys=False), "yaml"))
    console.rule(f"reference script ({p.reference_path})")
    console.print(Syntax(p.reference_code(), "python"))


@app.command("render")
def render(
    prompt_id: Annotated[str, typer.Argument(help="Prompt id.")],
    var: Annotated[list[str] | None, typer.Option("--var", "-v", help="Variable as NAME=VALUE; repeatable.")] = None,
    family: Annotated[str | None, typer.Option("--family", help="Apply this model family's adjustments.")] = None,
    catalog: CatalogDirs = None,
) -> None:
    """Render a prompt's request text with validated variables (defaults filled in)."""
    from cloudinspect.catalog import parse_var_options, render_prompt

    p = _catalog(catalog)[prompt_id]
    typer.echo(render_prompt(p, parse_var_options(var or []), family=family), nl=False)


@app.command("validate")
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Prompt YAML files or catalogue directories.")],
) -> None:
    """Validate prompt files (schema, id, reference script present) without loading the whole catalogue."""
    from cloudinspect.catalog import load_prompt_file
    from cloudinspect.errors import InputError
    from cloudinspect.yamlfiles import iter_yaml_files

    files = [f for p in paths for f in (iter_yaml_files(p) if p.is_dir() else [p])]
    for f in files:
        prompt = load_prompt_file(f)
        if prompt.reference_path is None or not prompt.reference_path.is_file():
            raise InputError(f"missing reference script {prompt.reference_path}", f)
        compile(prompt.reference_code(), str(prompt.reference_path), "exec")
    console.print(f"[green]ok[/] {len(files)} prompt file(s) valid")


@app.command("answer")
def answer(
    prompt_id: Annotated[str, typer.Argument(help="Prompt id.")],
    target: Annotated[
        str,
        typer.Option(
            "--target", "-T", help="emulator:SCENARIO (ephemeral), endpoint:URL (e.g. from `emulator up`), aws:PROFILE."
        ),
    ] = "emulator:baseline",
    var: Annotated[list[str] | None, typer.Option("--var", "-v", help="Variable as NAME=VALUE; repeatable.")] = None,
    catalog: CatalogDirs = None,
) -> None:
    """Run the prompt's canonical reference script against a target and print its JSON answer.

    The reference script is trusted code shipped with the catalogue (read-only boto3); it is what a generated
    script's answer is graded against.
    """
    import json
    from contextlib import ExitStack

    from cloudinspect.catalog import parse_var_options
    from cloudinspect.catalog.reference import run_reference
    from cloudinspect.cloud import EmulatorTarget, parse_target, start_emulator
    from cloudinspect.errors import CloudInspectError

    prompt = _catalog(catalog)[prompt_id]
    variables = parse_var_options(var or [])
    parsed = parse_target(target)
    with ExitStack() as stack:
        if isinstance(parsed, EmulatorTarget):
            with console.status(f"starting the emulator with scenario {parsed.scenario} ..."):
                env = stack.enter_context(start_emulator(parsed.scenario)).env()
        else:
            env = parsed.env()
        run = run_reference(prompt, env, variables)
    if run.returncode != 0:
        raise CloudInspectError(
            f"reference script of '{prompt.id}' failed (exit {run.returncode}):\n{run.stderr[-2000:]}"
        )
    try:
        output = run.output
    except ValueError as exc:
        raise CloudInspectError(f"reference script of '{prompt.id}' printed no JSON: {run.stdout[:300]!r}") from exc
    problems = prompt.contract.validate_output(output)
    typer.echo(json.dumps(output, indent=2))
    if problems:
        raise CloudInspectError("the answer does not meet the prompt's contract:\n" + "\n".join(problems))
