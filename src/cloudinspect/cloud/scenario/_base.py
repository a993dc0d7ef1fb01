"""What every scenario resource shares: strict models, and generators (`count`, `cycle`, `{i}` patterns)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

NAME_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
ACCOUNT_ID = "123456789012"
"""The account id moto uses for every resource it creates."""

Tags = dict[str, str]
PolicyDocument = dict[str, Any]


class Strict(BaseModel):
    """A part of a scenario: unknown fields are errors, and a loaded scenario never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_PLACEHOLDER = re.compile(r"\{i(?::([^{}]*))?\}")


def _substitute(value: Any, i: int) -> Any:
    """Replace {i} / {i:03d} in every string of a dumped spec; other braces ({n} in log texts) stay.

    Nested generators (entries with their own count > 1) keep their pattern for their own expansion.
    """
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: format(i, m.group(1) or ""), value)
    if isinstance(value, dict):
        if isinstance(value.get("count"), int) and value["count"] > 1:
            return value
        return {key: _substitute(item, i) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, i) for item in value]
    return value


class Generated(Strict):
    """A resource spec that may stand for many: `count` copies named by a pattern, `cycle` values in turn.

    With count > 1 the name must hold an `{i}` placeholder (Python format syntax, e.g. `{i:03d}`), numbered from
    `start`. `cycle` maps a field to a list of values; the k-th generated resource gets `values[k % len]`.
    `{i}` is expanded in every string of the entry (tags, names of nested resources), except inside nested
    generators, which number their own resources.
    """

    name_field: ClassVar[str] = "name"
    pattern_anywhere: ClassVar[bool] = False
    """Whether {i} may sit in any field rather than the name (metrics vary a dimension)."""

    count: int = Field(1, ge=1, le=50_000, description="How many resources this entry stands for.")
    start: int = Field(1, ge=0, description="First value of {i}.")
    cycle: dict[str, list[Any]] = Field(
        default_factory=dict, description="Field -> values given to the generated resources in turn."
    )

    _expanded: list[Any] | None = PrivateAttr(default=None)

    @property
    def label(self) -> str:
        """The (possibly patterned) name of this entry."""
        return str(getattr(self, self.name_field))

    @model_validator(mode="after")
    def _generator(self) -> Self:
        pattern = self.label
        where = repr(self.model_dump(exclude={"count", "start", "cycle"})) if self.pattern_anywhere else pattern
        if self.count > 1 and "{i" not in where:
            raise ValueError(
                f"count is {self.count} but the {self.name_field} {pattern!r} has no '{{i}}' placeholder "
                f"(e.g. '{pattern}-{{i:03d}}')"
            )
        reserved = {"count", "start", "cycle", self.name_field}
        for key, values in self.cycle.items():
            if key in reserved or key not in type(self).model_fields:
                raise ValueError(f"cycle names {key!r}, which is not a field this resource can vary")
            if not values:
                raise ValueError(f"cycle.{key} needs at least one value")
        if self.count > 1 or self.cycle or "{i" in pattern:
            self._expanded = self._expand()
        return self

    def _expand(self) -> list[Self]:
        base = self.model_dump(exclude={"count", "start", "cycle"}, by_alias=True, exclude_unset=True)
        out: list[Self] = []
        for k in range(self.count):
            i = self.start + k
            data = dict(base)
            for key, values in self.cycle.items():
                data[key] = values[k % len(values)]
            try:
                data = _substitute(data, i)
            except (KeyError, ValueError, IndexError) as exc:
                raise ValueError(f"bad {{i}} pattern in {self.label!r}: {exc}") from exc
            try:
                out.append(type(self).model_validate(data))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"generated item {data[self.name_field]!r}: {where}: {first['msg']}") from exc
        return out

    def expand(self) -> list[Self]:
        """The concrete resources this entry stands for (itself when it is not a generator)."""
        return list(self._expanded) if self._expanded is not None else [self]


G = TypeVar("G", bound=Generated)


def expand_all(items: list[G]) -> list[G]:
    """Every concrete resource of a list of (possibly generating) entries."""
    return [concrete for item in items for concrete in item.expand()]
