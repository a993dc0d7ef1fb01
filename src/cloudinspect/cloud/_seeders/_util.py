"""Helpers shared by the seeders."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def tag_list(
    tags: Mapping[str, str], name: str | None = None, *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """AWS's [{'Key': k, 'Value': v}] form, with a Name tag first when `name` is given."""
    merged = {"Name": name, **tags} if name is not None else dict(tags)
    return [{key: k, value: v} for k, v in merged.items()]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dumps(document: Any) -> str:
    """A policy document as compact JSON."""
    return json.dumps(document, separators=(",", ":"))
