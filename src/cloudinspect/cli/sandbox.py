"""`cloudinspect sandbox`: which sandboxes work here (status) and the Docker sandbox's image (build-image)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from cloudinspect.cli._output import console, print_json

NAME = "sandbox"
app = typer.Typer(
    help="Sandboxes that run generated code: their status here and the Docker image.", no_args_is_help=True
)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Whether the process sandbox (bubblewrap/unshare) and the Docker sandbox (daemon, image) can run here."""
    from cloudinspect.sandbox import SandboxError, which_backend
    from cloudinspect.sandbox.docker import default_image, docker_client

    report: dict[str, Any] = {}
    try:
        report["process"] = {"available": True, "detail": f"backend {which_backend()}"}
    except SandboxError as exc:
        report["process"] = {"available": False, "detail": str(exc)}
    image = default_image()
    try:
        client = docker_client()
    except SandboxError as exc:
        report["docker"] = {"available": False, "detail": str(exc), "image": image, "image_built": None}
    else:
        try:
            built = any(image in (i.tags or []) for i in client.images.list(name=image.split(":")[0]))
        finally:
            client.close()
        detail = "daemon reachable" + ("" if built else "; run `cloudinspect sandbox build-image`")
        report["docker"] = {"available": built, "detail": detail, "image": image, "image_built": built}
    if as_json:
        print_json(report)
        return
    for name, entry in report.items():
        mark = Text("yes", style="green") if entry["available"] else Text("no", style="bold red")
        console.print(Text(f"{name}: ") + mark + Text(f" ({entry['detail']})"), soft_wrap=True)


@app.command("build-image")
def build_image_command(
    tag: Annotated[str | None, typer.Option("--tag", help="Image tag (default: the one the sandbox uses).")] = None,
    base_image: Annotated[str, typer.Option("--base-image", help="Python 3.11 base image.")] = "python:3.11-slim",
) -> None:
    """Build the Docker sandbox's image: Python 3.11 and this environment's exact boto3/botocore (needs network
    to build; containers run without it)."""
    from cloudinspect.sandbox.docker import build_image

    built = build_image(tag, base_image=base_image, log=lambda line: console.print(Text(line), soft_wrap=True))
    console.print(Text("built ", style="green") + Text(built))
