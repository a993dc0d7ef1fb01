"""`cloudinspect prompts`: browse the catalogue, show a prompt with its contract and reference, render it, and
generate new prompts with a reasoning model (reviewed, optionally verified on the emulator, saved to a user's
catalogue directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from cloudinspect.cli._output import console, print_json

NAME = "prompts"
app = typer.Typer(help="Browse, render and generate inspection prompts.", no_args_is_help=True)

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


def _print_generation(generation: Any, verifications: dict[str, Any]) -> None:
    from rich.text import Text

    for item in generation.accepted:
        prompt = item.prompt
        console.rule(Text(f"{prompt.id}  ", style="bold") + Text(prompt.title))
        console.print(Syntax(item.yaml_text, "yaml", word_wrap=True))
        for warning in item.warnings:
            console.print(Text("warning: ", style="yellow") + Text(warning), soft_wrap=True)
        verification = verifications.get(prompt.id)
        if verification is not None:
            style = "bold green" if verification.passed else "bold red"
            line = Text("verified: ", style="dim") + Text(verification.status, style=style)
            line += Text(
                f" after {verification.attempts} attempt(s) on {verification.target}"
                f" (run {verification.run_id}): {verification.reason}"
            )
            if verification.last_error:
                line += Text(f"\n  last error: {verification.last_error[:500]}")
            console.print(line, soft_wrap=True)
    if generation.rejected:
        console.rule(f"{len(generation.rejected)} rejected")
        for draft in generation.rejected:
            console.print(Text(draft.draft, style="bold red"))
            for reason in draft.reasons:
                console.print(Text(f"  - {reason}"), soft_wrap=True)
    if generation.error:
        console.print(Text("no drafts: ", style="bold red") + Text(generation.error), soft_wrap=True)
    usage = generation.usage
    console.print(
        f"[dim]{usage.model_id}: {usage.calls} call(s), {usage.tokens_in}→{usage.tokens_out} tokens, "
        f"${usage.cost_usd:.4f}, {usage.latency_ms / 1000:.1f} s; "
        f"{len(generation.accepted)} accepted, {len(generation.rejected)} rejected[/]",
        soft_wrap=True,
    )


def _how_to_use(directory: Path) -> str:
    from cloudinspect.config import get_settings

    where = directory.expanduser().resolve()
    if where in {d.resolve() for d in get_settings().catalog_dirs}:
        return f"{where} is in CLOUDINSPECT_CATALOG_DIRS: every command finds these prompts already."
    return (
        f"To use them, add the directory to your catalogue: export CLOUDINSPECT_CATALOG_DIRS='[\"{where}\"]' "
        f"(every command: `cloudinspect prompts show ID`, `cloudinspect run ID -m MODEL`), or pass "
        f"`--catalog {where}` to `cloudinspect prompts ...`."
    )


@app.command("generate")
def generate(
    model: Annotated[str, typer.Option("--model", "-m", help="The reasoning model: registry id or replay:PATH.")],
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Write prompts about this service (boto3 client name).")
    ] = None,
    from_problem: Annotated[
        str | None, typer.Option("--from-problem", help="Write prompts that help investigate this problem.")
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=10, help="Prompts to ask for.")] = 3,
    verify: Annotated[
        bool, typer.Option("--verify", help="Generate and run code for each accepted prompt on the emulator.")
    ] = False,
    scenario: Annotated[str, typer.Option("--scenario", help="Emulator scenario of --verify.")] = "baseline",
    target: Annotated[
        str | None,
        typer.Option("--target", "-T", help="Verify on a running emulator (endpoint:URL) instead of starting one."),
    ] = None,
    code_model: Annotated[
        str | None, typer.Option("--code-model", help="Model writing the scripts of --verify (default: --model).")
    ] = None,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, max=20, help="Attempts per verify.")] = 3,
    sandbox: Annotated[str, typer.Option("--sandbox", help="Sandbox of --verify: process, warm, docker.")] = "warm",
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Write the accepted (with --verify: the passing) prompts to this catalogue dir."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace prompt files that --save finds.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON on stdout.")] = False,
    catalog: CatalogDirs = None,
) -> None:
    """Write new catalogue prompts with a reasoning model: validated, deduplicated, shown as YAML for review.

    Exit code 0 when at least one prompt was accepted (with --verify: passed), 1 otherwise.
    """
    from contextlib import ExitStack

    from rich.console import Console

    from cloudinspect.catalog.generate import generate_prompts, save_prompt, verify_prompt
    from cloudinspect.errors import InputError
    from cloudinspect.loop import ProgressPrinter

    if (service is None) == (from_problem is None):
        raise InputError('give exactly one of --service SERVICE or --from-problem "PROBLEM"')
    err = Console(stderr=True, highlight=False)
    extra = [*(catalog or []), *([save] if save is not None and save.is_dir() else [])]
    cat = _catalog(extra)
    task = f"service {service}" if service else "the problem"
    with err.status(f"asking {model} for {count} prompt(s) about {task} ..."):
        generation = generate_prompts(
            model=model, service=service, problem=from_problem, count=count, catalog=cat, user_catalog=save
        )
    verifications: dict[str, Any] = {}
    if verify and generation.accepted:
        with ExitStack() as stack:
            where = target
            if where is None:
                from cloudinspect.cloud import start_emulator
                from cloudinspect.sandbox.pool import close_pools

                with err.status(f"starting the emulator with scenario {scenario} ..."):
                    emulator = stack.enter_context(start_emulator(scenario))
                where = f"endpoint:{emulator.endpoint_url}"
                stack.callback(close_pools, emulator.endpoint_url)
            for item in generation.accepted:
                verifications[item.prompt.id] = verify_prompt(
                    item.prompt,
                    model=code_model or model,
                    scenario=scenario,
                    sandbox=sandbox,
                    max_attempts=max_attempts,
                    target=where,
                    on_event=ProgressPrinter(err, label=item.prompt.id),
                )
    saved: list[Path] = []
    if save is not None:
        for item in generation.accepted:
            verification = verifications.get(item.prompt.id)
            if verify and (verification is None or not verification.passed):
                continue
            code = verification.code if verification is not None else None
            saved += save_prompt(item, save, reference_code=code, force=force)
    if as_json:
        print_json(
            {
                **generation.model_dump(mode="json", by_alias=True),
                "verifications": {k: v.model_dump(mode="json") for k, v in verifications.items()},
                "saved": [str(p) for p in saved],
            }
        )
    else:
        _print_generation(generation, verifications)
        if save is not None:
            if saved:
                for path in saved:
                    console.print(f"[green]saved[/] {path}", soft_wrap=True)
                console.print(_how_to_use(save), soft_wrap=True, markup=False)
            else:
                console.print(f"nothing saved to {save}: no {'passing' if verify else 'accepted'} prompt")
    good = [g for g in generation.accepted if not verify or verifications[g.prompt.id].passed]
    if not good:
        raise typer.Exit(1)
