"""Loading validated YAML data files (prompts, scenarios, models) with errors that point at the line.

PyYAML's composer keeps the position of every node; we keep a map from each field path to its line so
that a pydantic validation error can say not only which field is wrong but where it is in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cloudinspect.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)

Loc = tuple[str | int, ...]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that also records the line of every mapping key and sequence item."""


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def parse_yaml(text: str, source: Path | str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text; return the data and a map from field path to line number."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError("malformed YAML", source, [Problem(str(exc.problem or exc), line=line)]) from exc
    except yaml.YAMLError as exc:
        raise InputError("malformed YAML", source, [Problem(str(exc))]) from exc
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # Pydantic's loc may include union tags or go deeper than the YAML does; use the longest known prefix.
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def problems_from_validation(exc: ValidationError, lines: dict[Loc, int] | None = None) -> list[Problem]:
    """Turn a pydantic ValidationError into user-facing problems (field path, line, message)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or None
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (not part of the schema)"
        elif "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], dict | list):
            message = f"{message} (got {err['input']!r})"
        problems.append(Problem(message, field=field, line=_line_for(loc, lines or {})))
    return problems


def load_model(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Read a YAML file and validate it into `model`, raising InputError that names file, field and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path) from exc
    data, lines = parse_yaml(text, path)
    if not isinstance(data, dict):
        raise InputError("expected a mapping at the top of the file", path, [Problem("not a mapping", line=1)])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(f"invalid {model.__name__}", path, problems_from_validation(exc, lines)) from exc


def iter_yaml_files(root: Path) -> Iterator[Path]:
    """Every .yaml/.yml file below root, in a stable order."""
    yield from sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
