"""botocore's own documentation of an operation, condensed for a model that called it wrong.

A model that invents `ec2.describe_instance` or passes `LogGroup=` to `logs.filter_log_events` learns more from
the real signature than from the error alone: the Python method name, its parameters with their types, whether
it can be paginated and where the results are, and the top-level keys of the response. Everything comes from
the service models the static review already loaded (`cloudinspect.review.awsmodels`, cached per process), so
a warm lookup costs microseconds; results are memoised as well.
"""

from __future__ import annotations

import difflib
import html
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from cloudinspect.review import awsmodels as models

if TYPE_CHECKING:
    from botocore.model import OperationModel, Shape

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# Parameter docs worth their space even when space is short: units and formats that types do not say.
_KEY_DOC = re.compile(r"millisecond|seconds|epoch|UTC|ISO ?8601|format|ARN|either", re.IGNORECASE)
_MAX_ENUM = 5
_MAX_STRUCT_MEMBERS = 6
_MAX_CANDIDATES = 5
_MIN_DOC = 200  # below this an operation's documentation says too little to be worth including


def _first_sentence(doc: str, limit: int) -> str:
    """The first sentence of a botocore HTML documentation string, as plain text."""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", doc or ""))).strip()
    if not text:
        return ""
    text = _SENTENCE_END.split(text, maxsplit=1)[0]
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _type_of(shape: Shape, *, expand: bool = True) -> str:
    """A shape in a few words: scalars by type, lists and maps by element, structures by name and (one level
    deep) member names, string enums with their first values."""
    kind = shape.type_name
    if kind == "list":
        member: Shape = shape.member  # type: ignore[attr-defined]
        return f"list of {_type_of(member, expand=expand)}"
    if kind == "map":
        key: Shape = shape.key  # type: ignore[attr-defined]
        value: Shape = shape.value  # type: ignore[attr-defined]
        return f"map of {_type_of(key, expand=False)} to {_type_of(value, expand=False)}"
    if kind == "structure":
        if not expand:
            return shape.name
        names = list(shape.members)  # type: ignore[attr-defined]
        shown = ", ".join(names[:_MAX_STRUCT_MEMBERS]) + (", ..." if len(names) > _MAX_STRUCT_MEMBERS else "")
        return f"{shape.name}{{{shown}}}"
    enum: list[str] = getattr(shape, "enum", None) or []
    if enum:
        more = ", ..." if len(enum) > _MAX_ENUM else ""
        return f"{kind}, one of: {', '.join(enum[:_MAX_ENUM])}{more}"
    if kind == "timestamp":
        return "timestamp (datetime)"
    return str(kind)


@cache
def _paginator_config(service: str, operation: str) -> dict[str, Any] | None:
    """botocore's paginator configuration of an operation (input/output tokens, limit and result keys)."""
    if models.xform(operation) not in models.paginators(service):
        return None
    with models._LOCK:
        config: dict[str, Any] = models._session().get_paginator_model(service).get_paginator(operation)
    return config


def _keys(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _canonical(service: str, operation: str) -> tuple[str, str] | None:
    """(botocore service name, PascalCase operation) for a service and an operation given in either case."""
    resolved = models.resolve_service(service)
    if resolved is None:
        return None
    ops = models.operations(resolved)
    if operation in ops:
        return resolved, ops[operation]
    if operation in ops.values():
        return resolved, operation
    return None


def _parameter_lines(
    op: OperationModel, *, doc_chars: int, key_docs_only: bool, quiet: frozenset[str]
) -> tuple[list[str], list[str]]:
    """Required and optional parameter lines; `quiet` parameters (page tokens, DryRun) go without docs, and with
    `key_docs_only` so do those whose doc says nothing about units or formats."""
    shape = op.input_shape
    if shape is None:
        return [], []
    members: dict[str, Shape] = shape.members
    required = set(shape.required_members)
    req: list[str] = []
    opt: list[str] = []
    for name, member in members.items():
        line = f"  {name} ({_type_of(member)})"
        doc = _first_sentence(member.documentation, doc_chars) if doc_chars and name not in quiet else ""
        if doc and (not key_docs_only or _KEY_DOC.search(doc)):
            line += f": {doc}"
        (req if name in required else opt).append(line)
    return req, opt


def _render(service: str, operation: str, *, doc_chars: int, key_docs_only: bool, max_optional: int | None) -> str:
    op = models.operation_model(service, operation)
    method = models.xform(operation)
    config = _paginator_config(service, operation)
    quiet = {"DryRun", *_keys(config.get("input_token")), *_keys(config.get("limit_key"))} if config else {"DryRun"}
    summary = _first_sentence(op.documentation, 160)
    lines = [f"{service}.{method} ({operation}, keyword arguments only){': ' + summary if summary else ''}"]
    req, opt = _parameter_lines(op, doc_chars=doc_chars, key_docs_only=key_docs_only, quiet=frozenset(quiet))
    lines.append("Required parameters:" + ("" if req else " none"))
    lines += req
    if opt:
        lines.append("Optional parameters:")
        if max_optional is not None and len(opt) > max_optional:
            rest = [line.strip().split(" ", 1)[0] for line in opt[max_optional:]]
            opt = [*opt[:max_optional], f"  ... and {len(rest)} more: {', '.join(rest)}"]
        lines += opt
    if config is None:
        lines.append(f"Pagination: none (no paginator; can_paginate('{method}') is False).")
    else:
        results = ", ".join(_keys(config.get("result_key"))) or "the list"
        tokens = ", ".join(_keys(config.get("input_token")))
        page = (
            f'; page size: PaginationConfig={{"PageSize": n}} (not {config["limit_key"]})'
            if config.get("limit_key")
            else ""
        )
        lines.append(
            f'Pagination: client.get_paginator("{method}").paginate(...) yields pages; results under {results} '
            f"(it manages {tokens} itself{page})."
        )
    output = op.output_shape
    members: dict[str, Shape] = getattr(output, "members", {}) if output is not None else {}
    if members:
        keys = "; ".join(f"{name} ({_type_of(shape)})" for name, shape in members.items())
        lines.append(f"Returns a dict with keys: {keys}")
    else:
        lines.append("Returns an empty dict.")
    return "\n".join(lines)


@cache
def operation_doc(service: str, operation: str, *, max_chars: int = 1500) -> str | None:
    """The botocore documentation of `service`'s `operation` (snake_case or PascalCase) as compact plain text of
    at most `max_chars`: method name, parameters with types, pagination, response keys. None when botocore has
    no such service or operation."""
    found = _canonical(service, operation)
    if found is None:
        return None
    svc, op = found
    # The most helpful form that fits: parameter docs, then names and types only, then fewer optional ones.
    tiers = ((110, False, None), (70, False, None), (110, True, None), (0, False, None), (0, False, 12), (0, False, 0))
    for doc_chars, key_docs_only, max_optional in tiers:
        text = _render(svc, op, doc_chars=doc_chars, key_docs_only=key_docs_only, max_optional=max_optional)
        if len(text) <= max_chars:
            return text
    return _capped(text, max_chars)


def _flag(service: str, method: str) -> str:
    return (
        f'  {method} (paginated: get_paginator("{method}"))'
        if method in models.paginators(service)
        else (f"  {method}")
    )


def _candidates(service: str, wrong: str, *, wide: bool) -> list[str]:
    """Close read operations (inspection code may only read): the review's matcher (case, swapped verb, difflib),
    then, when `wide` and it found few, difflib with a lower cutoff."""
    from cloudinspect.sandbox.bridge import is_read_by_name

    ops = models.operations(service)
    reads = [name for name, op in ops.items() if is_read_by_name(op)]
    found = models.suggest_name(wrong, reads, n=_MAX_CANDIDATES)
    if wide and len(found) < 2:
        found += difflib.get_close_matches(wrong, reads, n=_MAX_CANDIDATES, cutoff=0.5)
    return list(dict.fromkeys(found))[:_MAX_CANDIDATES]


@cache
def service_doc_for_unknown(service: str, wrong_name: str, *, max_chars: int = 2000) -> str:
    """What to call instead of a hallucinated operation or paginator `wrong_name` of `service`: the closest real
    operations (paginator-capable ones flagged) and the documentation of the best one; for an unknown service
    name, the closest service names (and the operation's documentation there when it exists). At most
    `max_chars`: the documentation gets what the list leaves."""
    wrong = models.xform(wrong_name) if wrong_name[:1].isupper() else wrong_name
    resolved = models.resolve_service(service)
    if resolved is None:
        close = models.suggest_service(service)
        lines = [f"boto3 has no service named {service!r}."]
        lines.append(f"Closest service names: {', '.join(close)}." if close else "No service name is close to it.")
        for candidate in close:
            if wrong and wrong in models.operations(candidate):
                lines.append(f"{candidate!r} has the operation {wrong!r}:")
                return _with_doc(lines, candidate, wrong, max_chars)
        return _capped("\n".join(lines), max_chars)
    if wrong in models.operations(resolved):
        return _with_doc([f"{resolved}.{wrong} exists; its documentation:"], resolved, wrong, max_chars)
    elsewhere = models.services_with_operation(wrong, resolved) if wrong else []
    candidates = _candidates(resolved, wrong, wide=not elsewhere) if wrong else []
    lines = [f"The {resolved} client has no operation {wrong!r}."]
    if elsewhere:
        lines.append(f"{wrong} is an operation of {', '.join(elsewhere)}: use boto3.client({elsewhere[0]!r}).")
    if candidates:
        lines.append(f"Closest {resolved} operations:")
        lines += [_flag(resolved, c) for c in candidates]
    elif not elsewhere:
        lines.append(f"No {resolved} operation is close to it.")
    best = (elsewhere[0], wrong) if elsewhere else (resolved, candidates[0]) if candidates else None
    if best is None:
        return _capped("\n".join(lines), max_chars)
    lines.append(f"Documentation of {best[0]}.{best[1]}:")
    return _with_doc(lines, *best, max_chars)


def _capped(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max(max_chars - 4, 0)].rstrip() + " ..."


def _with_doc(lines: list[str], service: str, operation: str, max_chars: int) -> str:
    """`lines` followed by the operation's documentation in the room they leave (none when too little)."""
    head = "\n".join(lines)
    room = max_chars - len(head) - 1
    doc = operation_doc(service, operation, max_chars=room) if room >= _MIN_DOC else None
    return f"{head}\n{doc}" if doc else _capped(head, max_chars)
