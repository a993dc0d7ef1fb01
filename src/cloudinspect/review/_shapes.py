"""Arguments of an AWS call checked against the operation's input shape, the way botocore's ParamValidator would.

Only what is known statically is judged: parameter names always (unless `**kwargs` of unknown content is passed),
required members, and types where the value is a literal (or a name bound to one). botocore accepts: str for
string; int (and bool) for integer/long; int, float or Decimal for float/double; bool for boolean; list or tuple
for list; dict for structure and map; datetime, a parseable string or a number for timestamp; bytes, bytearray, str
or a file-like object for blob. botocore's own handlers widen a few parameters (`CONVERTED_PARAMETERS`,
`BYTES_ACCEPTED`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cloudinspect.review._values import Const, DictV, ListV, Str, Value, kind_of
from cloudinspect.review.awsmodels import auto_populated, suggest_name
from cloudinspect.review.types import Severity

if TYPE_CHECKING:
    from botocore.model import Shape


@dataclass
class Problem:
    """A finding of the api analysis before it becomes a `Finding`."""

    rule: str
    severity: Severity
    message: str
    line: int | None = None
    col: int | None = None
    suggestion: str | None = None


@dataclass
class Arg:
    """One keyword argument of a call (explicit or from a literal `**dict`)."""

    name: str
    value: Value
    node: ast.AST


@dataclass
class CallArgs:
    """The arguments of a call as far as they are known."""

    positional: list[tuple[ast.expr, Value]] = field(default_factory=list)
    keywords: list[Arg] = field(default_factory=list)
    opaque: bool = False
    star: bool = False

    def names(self) -> list[str]:
        """Keyword names passed (explicit or from literal dicts)."""
        return list(dict.fromkeys(a.name for a in self.keywords))


def loc(node: ast.AST) -> tuple[int | None, int | None]:
    """1-based line and column of a node."""
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    return line, (col + 1 if col is not None else None)


def attr_loc(node: ast.AST) -> tuple[int | None, int | None]:
    """1-based location of the attribute name of `x.name` (or of the node)."""
    if isinstance(node, ast.Attribute) and node.end_lineno is not None and node.end_col_offset is not None:
        return node.end_lineno, node.end_col_offset - len(node.attr) + 1
    return loc(node)


_EXPECTED = {
    "string": ("a str", {"str"}),
    "integer": ("an int", {"int", "bool"}),
    "long": ("an int", {"int", "bool"}),
    "float": ("a number", {"int", "float", "bool", "decimal"}),
    "double": ("a number", {"int", "float", "bool", "decimal"}),
    "boolean": ("a bool", {"bool"}),
    "timestamp": ("a datetime (or a timestamp string or number)", {"datetime", "int", "float", "bool", "str"}),
    "blob": ("bytes, bytearray, str or a file object", {"bytes", "bytearray", "str", "file"}),
    "list": ("a list", {"list"}),
    "structure": ("a dict", {"dict"}),
    "map": ("a dict", {"dict"}),
}


def _show(atom: object) -> str:
    if isinstance(atom, Str):
        text = repr(atom.value)
        return f"str {text[:40]}{'...' if len(text) > 40 else ''}"
    if isinstance(atom, Const):
        return "None" if atom.value is None else f"{type(atom.value).__name__} {atom.value!r}"[:50]
    kind = kind_of(atom)  # type: ignore[arg-type]
    return {"list": "a list", "set": "a set", "dict": "a dict"}.get(kind or "", f"a {kind}")


def _type_hint(shape: Shape, atom: object) -> str | None:
    kind = kind_of(atom)  # type: ignore[arg-type]
    t = shape.type_name
    if t == "list" and kind in {"str", "int", "float", "bool", "dict"} and isinstance(atom, Str | Const | DictV):
        shown = repr(atom.value) if isinstance(atom, Str | Const) else "{...}"
        return f"wrap it in a list: [{shown}]"
    if t in {"integer", "long"} and isinstance(atom, Str) and atom.value.strip().lstrip("-").isdigit():
        return f"pass an int: {int(atom.value)}"
    if t == "boolean" and isinstance(atom, Str) and atom.value.lower() in {"true", "false"}:
        return f"pass a bool: {atom.value.lower() == 'true'}"
    if t == "string" and isinstance(atom, Const) and isinstance(atom.value, int | float) and atom.value is not None:
        return f"pass a str: {str(atom.value)!r}"
    if t == "set" or kind == "set":
        return "pass a list (botocore rejects sets)"
    if kind == "none":
        return "leave the parameter out instead of passing None"
    return None


class ShapeChecker:
    """Checks abstract values against botocore shapes, collecting problems located at `node`."""

    def __init__(self, node: ast.AST) -> None:
        self.node = node

    def problem(
        self, rule: str, message: str, suggestion: str | None = None, severity: Severity = Severity.error
    ) -> Problem:
        line, col = loc(self.node)
        return Problem(rule, severity, message, line, col, suggestion)

    def value(self, value: Value, shape: Shape, path: str, depth: int = 0) -> list[Problem]:
        """Problems of a value against a shape: reported only when every alternative of the value has some."""
        if not value or depth > 6:
            return []
        found: list[list[Problem]] = []
        for atom in value:
            problems = self.atom(atom, shape, path, depth)
            if problems is None:
                return []
            found.append(problems)
        if all(found):
            return found[0]
        return []

    def atom(self, atom: object, shape: Shape, path: str, depth: int) -> list[Problem] | None:
        """Problems of one alternative; None when nothing is known about it."""
        if shape.type_name == "structure" and getattr(shape, "is_document_type", False):
            return []
        if shape.serialization.get("jsonvalue"):
            return []
        kind = kind_of(atom)  # type: ignore[arg-type]
        if kind is None:
            return None
        expected = _EXPECTED.get(shape.type_name)
        if expected is None:
            return []
        label, accepted = expected
        if kind not in accepted:
            return [
                self.problem(
                    "api.wrong-type",
                    f"{path}: expected {label} ({shape.type_name} {shape.name}), got {_show(atom)}",
                    _type_hint(shape, atom),
                )
            ]
        return self._content(atom, shape, path, depth)

    def _content(self, atom: object, shape: Shape, path: str, depth: int) -> list[Problem]:
        t = shape.type_name
        meta = shape.metadata
        problems: list[Problem] = []
        if isinstance(atom, Str) and t == "string":
            enum = meta.get("enum")
            if enum and atom.value not in enum:
                close = suggest_name(atom.value, list(enum))
                problems.append(
                    self.problem(
                        "api.invalid-value",
                        f"{path}: {atom.value!r} is not one of the values the model allows for {shape.name}",
                        f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"one of {enum[:12]}",
                        Severity.warning,
                    )
                )
            if "min" in meta and len(atom.value) < meta["min"]:
                problems.append(
                    self.problem(
                        "api.invalid-value", f"{path}: length {len(atom.value)} is below the minimum {meta['min']}"
                    )
                )
        if isinstance(atom, Str) and t == "timestamp":
            from botocore.utils import parse_to_aware_datetime

            try:
                parse_to_aware_datetime(atom.value)
            except (TypeError, ValueError, AttributeError, OverflowError):
                problems.append(
                    self.problem(
                        "api.wrong-type",
                        f"{path}: {atom.value!r} is not a timestamp botocore can parse",
                        "pass a datetime (e.g. datetime.now(timezone.utc) - timedelta(hours=1))",
                    )
                )
        if isinstance(atom, Const) and t in {"integer", "long", "float", "double"} and not isinstance(atom.value, bool):
            if "min" in meta and atom.value < meta["min"]:
                problems.append(
                    self.problem("api.invalid-value", f"{path}: {atom.value} is below the minimum {meta['min']}")
                )
            elif "max" in meta and atom.value > meta["max"]:
                problems.append(
                    self.problem(
                        "api.invalid-value",
                        f"{path}: {atom.value} is above the maximum {meta['max']} the service accepts",
                        f"use at most {meta['max']}",
                        Severity.warning,
                    )
                )
        if isinstance(atom, ListV) and t == "list":
            if atom.complete and "min" in meta and len(atom.items) < meta["min"]:
                problems.append(
                    self.problem(
                        "api.invalid-value", f"{path}: {len(atom.items)} items, below the minimum {meta['min']}"
                    )
                )
            for i, item in enumerate(atom.items[:20]):
                problems += self.value(item, shape.member, f"{path}[{i}]", depth + 1)  # type: ignore[attr-defined]
        if isinstance(atom, DictV) and t == "map":
            for key, item in atom.keys.items():
                problems += self.value(item, shape.value, f"{path}.{key}", depth + 1)  # type: ignore[attr-defined]
        if isinstance(atom, DictV) and t == "structure":
            problems += self.structure(atom, shape, path, depth)
        return problems

    def structure(self, atom: DictV, shape: Shape, path: str, depth: int) -> list[Problem]:
        """A dict literal against a structure: unknown members, missing required ones, member values."""
        members = shape.members  # type: ignore[attr-defined]
        problems: list[Problem] = []
        meant: set[str] = set()
        for key, item in atom.keys.items():
            if key not in members:
                close = suggest_name(key, list(members))
                meant.update(close[:1])
                problems.append(
                    self.problem(
                        "api.unknown-parameter",
                        f"{path}: {shape.name} has no member {key!r} (members: {', '.join(list(members)[:12])})",
                        f"did you mean {close[0]!r}?" if close else None,
                    )
                )
            else:
                problems += self.value(item, members[key], f"{path}.{key}", depth + 1)
        if atom.complete:
            missing = [m for m in shape.required_members if m not in atom.keys and m not in meant]
            if missing:
                problems.append(
                    self.problem(
                        "api.missing-parameter",
                        f"{path}: {shape.name} is missing required member(s) {', '.join(missing)}",
                    )
                )
        if getattr(shape, "is_tagged_union", False) and atom.complete and len(atom.keys) > 1:
            problems.append(self.problem("api.wrong-type", f"{path}: {shape.name} takes exactly one member (a union)"))
        return problems


ExtraCheck = Callable[[Arg], list[Problem]]

# botocore's own customisations (botocore/handlers.py): parameter aliases it accepts in calls
# (`_add_parameter_aliases`: service, operation or "*", model name -> alias) and parameters it converts before
# validation (`handle_copy_source_param` turns a CopySource dict into the string the model wants).
PARAMETER_ALIASES: dict[tuple[str, str, str], str] = {
    ("ec2", "*", "Filter"): "Filters",
    ("logs", "CreateExportTask", "from"): "fromTime",
    ("cloudsearchdomain", "Search", "return"): "returnFields",
}
CONVERTED_PARAMETERS: dict[tuple[str, str], str] = {
    ("s3", "CopySource"): "a str 'bucket/key' or a dict {'Bucket', 'Key', 'VersionId'}",
}
# String parameters that botocore's handlers encode before validation, so that they also take bytes:
# `sse_md5` / `copy_source_sse_md5` (the SSE-C key, base64-encoded for the caller) and `base64_encode_user_data`.
_SSE_KEY_OPERATIONS = (
    "HeadObject",
    "GetObject",
    "PutObject",
    "CopyObject",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "SelectObjectContent",
)
BYTES_ACCEPTED: frozenset[tuple[str, str, str]] = frozenset(
    {("s3", op, "SSECustomerKey") for op in _SSE_KEY_OPERATIONS}
    | {("s3", op, "CopySourceSSECustomerKey") for op in ("CopyObject", "UploadPartCopy")}
    | {("ec2", "RunInstances", "UserData"), ("autoscaling", "CreateLaunchConfiguration", "UserData")}
)
_BYTES_KINDS = {"bytes", "bytearray", "str"}


def _converted_to_bytes(service: str, operation: str | None, name: str, value: Value) -> bool:
    """True when botocore encodes this parameter itself and every alternative of the value is bytes or str."""
    if (service, operation or "", name) not in BYTES_ACCEPTED or not value:
        return False
    return all(kind_of(atom) in _BYTES_KINDS for atom in value)


def parameter_aliases(service: str, operation: str | None, members: dict[str, Shape]) -> dict[str, str]:
    """Alias -> model member name, for the aliases botocore accepts on this operation."""
    found = {}
    for (svc, op, original), alias in PARAMETER_ALIASES.items():
        if svc == service and op in {"*", operation} and original in members:
            found[alias] = original
    return found


def check_arguments(
    *,
    label: str,
    shape: Shape | None,
    service: str,
    operation: str | None = None,
    args: CallArgs,
    call_node: ast.AST,
    fixed: frozenset[str] = frozenset(),
    extras: dict[str, ExtraCheck] | None = None,
    managed: dict[str, str] | None = None,
    check_required: bool = True,
    check_types: bool = True,
) -> list[Problem]:
    """Problems of a call's arguments against an operation's input shape.

    `label` names the call in messages; `fixed` are parameters boto3 fills in (resource identifiers); `extras` are
    extra keyword arguments the method takes besides the operation's (PaginationConfig, WaiterConfig); `managed`
    maps parameters the method manages itself (a paginator's token) to advice.
    """
    extras = extras or {}
    managed = managed or {}
    members = dict(shape.members) if shape is not None else {}  # type: ignore[attr-defined]
    aliases = parameter_aliases(service, operation, members)
    problems: list[Problem] = []
    # Required parameters the author did mean to pass (positionally, or under a misspelt name) are not also
    # reported missing: one finding per mistake.
    meant: set[str] = set()
    if args.positional:
        node, _ = args.positional[0]
        line, col = loc(node)
        required = [m for m in (shape.required_members if shape is not None else []) if m not in fixed]
        meant.update(required[: len(args.positional)])
        hint = ", ".join(f"{m}=..." for m in required[: len(args.positional)]) or "name each parameter"
        problems.append(
            Problem(
                "api.positional-argument",
                Severity.error,
                f"{label}() takes keyword arguments only; got {len(args.positional)} positional argument(s)",
                line,
                col,
                f"pass them by name: {hint}",
            )
        )
    for arg in args.keywords:
        line, col = loc(arg.node)
        name = aliases.get(arg.name, arg.name)
        if arg.name in extras:
            problems += extras[arg.name](arg)
            continue
        if arg.name in managed:
            problems.append(Problem("api.managed-parameter", Severity.warning, managed[arg.name], line, col, None))
            continue
        if name not in members:
            close = suggest_name(arg.name, [*members, *aliases, *extras])
            meant.update(close[:1])
            known = ", ".join(list(members)[:15]) or "none"
            problems.append(
                Problem(
                    "api.unknown-parameter",
                    Severity.error,
                    f"{label}() has no parameter {arg.name!r} (it takes: {known})",
                    line,
                    col,
                    f"did you mean {close[0]!r}?" if close else None,
                )
            )
            continue
        if (
            check_types
            and (service, name) not in CONVERTED_PARAMETERS
            and not _converted_to_bytes(service, operation, name, arg.value)
        ):
            problems += ShapeChecker(arg.node).value(arg.value, members[name], arg.name)
    if check_required and shape is not None and not args.opaque and not args.star:
        provided = {aliases.get(n, n) for n in args.names()} | set(fixed) | auto_populated(service, shape)
        missing = [m for m in shape.required_members if m not in provided and m not in meant]
        if missing:
            line, col = attr_loc(call_node)
            problems.append(
                Problem(
                    "api.missing-parameter",
                    Severity.error,
                    f"{label}() is missing required parameter(s): {', '.join(missing)}",
                    line,
                    col,
                    f"add {', '.join(f'{m}=...' for m in missing)}",
                )
            )
    return problems
