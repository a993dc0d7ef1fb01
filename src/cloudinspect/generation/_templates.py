"""Prompt templates, addressed by name: `resources/templates/<name>.jinja2`."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from cloudinspect.config import resources_dir
from cloudinspect.errors import InputError


@cache
def _environment() -> jinja2.Environment:
    # Prompts are plain text sent to a model, never HTML: escaping would corrupt them.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(resources_dir() / "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, **context: Any) -> str:
    """Render the template `name` (without the .jinja2 suffix) with `context`, stripped of outer blank lines."""
    try:
        template = _environment().get_template(f"{name}.jinja2")
    except jinja2.TemplateNotFound:
        raise InputError(f"no prompt template named '{name}'", resources_dir() / "templates") from None
    return template.render(**context).strip() + "\n"
