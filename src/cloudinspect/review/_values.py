"""Abstract values of the api analysis: what a Python expression may evaluate to, as far as boto3 is concerned.

A `Value` is a tuple of atoms (the alternatives the expression may take); the empty tuple means unknown. Atoms
compare by identity; `key()` gives a structural key used to tell call contexts of a function apart.
"""

from __future__ import annotations

import ast
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloudinspect.review.awsmodels import PaginatorInfo, WaiterInfo


class Atom:
    """One alternative of an abstract value."""

    def key(self) -> Hashable:
        """A structural key: equal keys mean interchangeable atoms for call contexts."""
        return (type(self).__name__, id(self))


Value = tuple[Atom, ...]
UNKNOWN: Value = ()


def union(*values: Iterable[Atom]) -> Value:
    """The alternatives of all values, without duplicates (by identity)."""
    seen: dict[int, Atom] = {}
    for value in values:
        for atom in value:
            seen.setdefault(id(atom), atom)
    return tuple(seen.values())


def value_key(value: Value, depth: int = 0) -> Hashable:
    """A structural key of a value (bounded depth)."""
    if depth > 3:
        return ("deep",)
    keys: list[Hashable] = []
    for atom in value:
        if isinstance(atom, ListV):
            keys.append(("list", atom.kind, tuple(value_key(v, depth + 1) for v in atom.items[:8]), atom.complete))
        elif isinstance(atom, DictV):
            items = tuple(sorted((k, value_key(v, depth + 1)) for k, v in atom.keys.items()))
            keys.append(("dict", items, atom.complete))
        else:
            keys.append(atom.key())
    return tuple(sorted(keys, key=repr))


@dataclass(eq=False)
class Ref(Atom):
    """An imported module or object, by dotted path (`boto3.client`, `datetime.datetime.now`)."""

    path: str

    def key(self) -> Hashable:
        return ("ref", self.path)


@dataclass(eq=False)
class SessionV(Atom):
    """A boto3 (or botocore) session."""

    botocore: bool = False

    def key(self) -> Hashable:
        return ("session", self.botocore)


@dataclass(eq=False)
class ClientV(Atom):
    """A boto3 client. `valid` is False for an unknown service; `inferred` when only a parameter's name says so."""

    service: str
    valid: bool = True
    inferred: bool = False

    def key(self) -> Hashable:
        return ("client", self.service, self.inferred)


@dataclass(eq=False)
class ExceptionsV(Atom):
    """`client.exceptions` of a service."""

    service: str

    def key(self) -> Hashable:
        return ("exceptions", self.service)


@dataclass(eq=False)
class MetaV(Atom):
    """`client.meta` or `resource.meta`."""

    service: str
    resource: bool

    def key(self) -> Hashable:
        return ("meta", self.service, self.resource)


@dataclass(eq=False)
class PaginatorV(Atom):
    """A paginator from `get_paginator(name)`; `info` is None when the name is unknown."""

    service: str
    name: str
    info: PaginatorInfo | None

    def key(self) -> Hashable:
        return ("paginator", self.service, self.name)


@dataclass(eq=False)
class WaiterV(Atom):
    """A waiter from `get_waiter(name)`; `info` is None when the name is unknown."""

    service: str
    name: str
    info: WaiterInfo | None

    def key(self) -> Hashable:
        return ("waiter", self.service, self.name)


@dataclass(eq=False)
class PagesV(Atom):
    """The page iterator `paginate()` returns."""

    def key(self) -> Hashable:
        return ("pages",)


@dataclass(eq=False)
class ResourceV(Atom):
    """A boto3 resource (`rtype` None: the service resource). `loaded` when its data came with it (collections)."""

    service: str
    rtype: str | None
    loaded: bool = False

    def key(self) -> Hashable:
        return ("resource", self.service, self.rtype, self.loaded)


@dataclass(eq=False)
class CollectionV(Atom):
    """A resource collection: the manager (`ec2.instances`) or a collection (`ec2.instances.all()`)."""

    service: str
    item: str
    operation: str
    fixed: frozenset[str]
    manager: bool

    def key(self) -> Hashable:
        return ("collection", self.service, self.item, self.operation, self.manager)


@dataclass(eq=False)
class Str(Atom):
    """A known string, with where it was written."""

    value: str
    line: int | None = None
    col: int | None = None

    def key(self) -> Hashable:
        return ("str", self.value)


@dataclass(eq=False)
class Pattern(Atom):
    """A string partly known (an f-string with unknown parts), as a regular expression."""

    regex: str
    text: str

    def key(self) -> Hashable:
        return ("pattern", self.regex)


@dataclass(eq=False)
class Const(Atom):
    """A known int, float, bool, bytes or None."""

    value: Any

    def key(self) -> Hashable:
        return ("const", type(self.value).__name__, repr(self.value))


@dataclass(eq=False)
class Typed(Atom):
    """A value of a known Python type but unknown content: str, int, float, bool, datetime, timedelta, bytes."""

    type: str

    def key(self) -> Hashable:
        return ("typed", self.type)


@dataclass(eq=False)
class ListV(Atom):
    """A list, tuple or set. `complete` when every element is known (a literal)."""

    items: list[Value] = field(default_factory=list)
    complete: bool = True
    kind: str = "list"


@dataclass(eq=False)
class DictV(Atom):
    """A dict with string keys. `complete` when every key is known; `other` holds values under unknown keys."""

    keys: dict[str, Value] = field(default_factory=dict)
    complete: bool = True
    other: Value = UNKNOWN
    locations: dict[str, ast.AST] = field(default_factory=dict)


@dataclass(eq=False)
class GenV(Atom):
    """A generator or other iterable whose elements are `elems`."""

    elems: Value = UNKNOWN

    def key(self) -> Hashable:
        return ("gen", value_key(self.elems, 3))


@dataclass(eq=False)
class ExecutorV(Atom):
    """A concurrent.futures executor (`submit`/`map` call functions with arguments)."""

    def key(self) -> Hashable:
        return ("executor",)


@dataclass(eq=False)
class MethodV(Atom):
    """A bound method: an attribute of `owner` not called yet."""

    owner: Atom
    name: str
    node: ast.AST | None = None

    def key(self) -> Hashable:
        return ("method", self.owner.key(), self.name)


def kind_of(atom: Atom) -> str | None:
    """The Python type an atom surely has, for parameter type checks; None when unknown."""
    if isinstance(atom, Str | Pattern):
        return "str"
    if isinstance(atom, Const):
        if atom.value is None:
            return "none"
        if isinstance(atom.value, bool):
            return "bool"
        if isinstance(atom.value, int):
            return "int"
        if isinstance(atom.value, float):
            return "float"
        if isinstance(atom.value, bytes):
            return "bytes"
        return None
    if isinstance(atom, Typed):
        return atom.type
    if isinstance(atom, ListV):
        return "set" if atom.kind == "set" else "list"
    if isinstance(atom, DictV):
        return "dict"
    return None
