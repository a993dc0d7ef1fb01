"""The repair message after a failed attempt, the fingerprint of a failure, and each failure class in words.

A model repairs best from the evidence a person would look at: the review's findings with their suggestions,
the traceback of its own script (never the sandbox's whole stderr), the schema errors, where the output differs
from the correct answer (never the correct values: the model must compute them, not copy them), and, when it
called an API that does not exist or called one wrongly, botocore's documentation of what does exist
(`cloudinspect.loop.apidocs`). The message is rendered from `resources/templates/repair_feedback.jinja2`.

The fingerprint (`failure_signature`) lets the loop see that a model is repeating itself: it keeps what names
the mistake (error class, exception, operation, parameter, finding rule, where the output differs) and
normalises what changes between two tries of the same mistake (line numbers, paths, addresses, request ids,
timestamps, numbers).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from cloudinspect.generation import render_template, services_in
from cloudinspect.loop import apidocs
from cloudinspect.loop.state import NOT_THE_MODELS_FAULT, Attempt, FindingRecord
from cloudinspect.review import awsmodels as models
from cloudinspect.sandbox.process import SCRIPT_NAME
from cloudinspect.sandbox.result import ErrorClass as ExecErrorClass

_DESCRIPTIONS: dict[str, str] = {
    "none": "no error: the attempt passed",
    "syntax": "the script is not valid Python (syntax error)",
    "import": "the script imports a module that is not available (only the standard library and boto3 are)",
    "hallucinated_api": "the script uses an AWS service, operation or paginator that does not exist in boto3",
    "parameter_validation": "an AWS call got parameters that botocore or the service rejected",
    "access_denied": "the credentials may not make one of the calls (not the script's fault)",
    "read_only_violation": "the script tried an AWS operation that changes the account (only reads are allowed)",
    "throttling": "AWS throttled the calls (not the script's fault)",
    "emulator_unsupported": "the target cannot serve an operation the script uses (not the script's fault)",
    "runtime": "the script raised an exception while running",
    "timeout": "the script ran past the time limit",
    "resource_limit": "the script went over a memory, file or process limit",
    "output_not_json": "the script's standard output is not one JSON document",
    "generation": "the reply held no usable script (empty, cut off, or no code block)",
    "review": "the static review found errors before the script ran",
    "contract": "the output is JSON but does not match the output contract's JSON Schema",
    "wrong_output": "the output matches the contract, but its values differ from the correct answer",
}

HALLUCINATION_RULES = frozenset(
    {"api.unknown-operation", "api.unknown-service", "api.unknown-paginator", "api.unknown-waiter"}
)
"""Review rules that mean the script names an API that does not exist."""

PARAMETER_RULES = frozenset(
    {
        "api.unknown-parameter",
        "api.missing-parameter",
        "api.wrong-type",
        "api.invalid-value",
        "api.positional-argument",
        "api.managed-parameter",
    }
)
"""Review rules that mean the script calls a real API with wrong parameters."""

_EXECUTION_CLASSES = frozenset(get_args(ExecErrorClass)) - {"output_not_json", "none"}


def describe_error_class(error_class: str) -> str:
    """One short line saying what a failure class means."""
    return _DESCRIPTIONS.get(error_class, f"the attempt failed ({error_class})")


# ------------------------------------------------------------------------------------------------ signature

_NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(Valid service names are:).*", re.DOTALL), r"\1 ..."),
    (re.compile(r"""(?:[A-Za-z]:)?(?:/[^\s"',:;()<>\[\]]+){2,}"""), "<path>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<id>"),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"),
        "<time>",
    ),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b"), "<time>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b"), "<hex>"),
    (re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{16,}\b"), "<id>"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "N"),
    (re.compile(r"\s+"), " "),
)
_SIGNATURE_TEXT = 400


def _normalise(text: str) -> str:
    """`text` without what differs between two occurrences of the same error."""
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip()[:_SIGNATURE_TEXT]


_ACTUAL_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s*\(?got .*$"), ""),  # compare: "wrong value (got 5)", "expected a string, got number 5"
    (re.compile(r"^unexpected .*"), "unexpected"),  # compare: an extra field and its value
    (re.compile(r"^.+? (is not|is less|is greater|is too|does not) "), r"\1 "),  # jsonschema: "5 is not of type"
)


def _difference_key(difference: str) -> str:
    """Where an output differs (or breaks the schema) and how, without the script's values, which change from
    one attempt to the next while the mistake stays the same."""
    where, _, what = difference.partition(": ")
    for pattern, replacement in _ACTUAL_VALUES:
        what = pattern.sub(replacement, what)
    return f"{_normalise(where)}:{_normalise(what)}"


def failure_signature(
    error_class: str, message: str, findings: Sequence[FindingRecord], differences: Sequence[str]
) -> str:
    """A stable fingerprint of a failure: equal for the same mistake made again (even when line numbers,
    paths, addresses, request ids, timestamps or numbers change), different for another mistake (another
    operation, parameter, exception, finding, or place where the output differs). Only error findings count;
    when there are differences (or schema errors) they stand for the message."""
    # Differences say where the output is wrong; a message about them only repeats one with its values.
    parts = [error_class, "" if differences else _normalise(message)]
    parts += sorted({f"{f.rule}:{_normalise(f.message)}" for f in findings if f.severity == "error"})
    parts += sorted({_difference_key(d) for d in differences})
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return f"{error_class}:{digest}"


def attempt_signature(attempt: Attempt) -> str:
    """The attempt's stored signature, or `failure_signature` of its evidence when none was stored."""
    if attempt.signature:
        return attempt.signature
    message = str((attempt.exec_result or {}).get("error_message") or "") or attempt.error_message
    differences = attempt.verdict.differences if attempt.verdict is not None else []
    return failure_signature(attempt.error_class, message, attempt.findings, differences)


# -------------------------------------------------------------------------------- which API the failure names

_TargetKind = Literal["service", "operation", "parameters"]


@dataclass(frozen=True)
class _Target:
    """An API a failure is about: an unknown service or operation, or a real operation called wrongly."""

    kind: _TargetKind
    service: str
    name: str


_FINDING_PATTERNS: tuple[tuple[re.Pattern[str], _TargetKind], ...] = (
    (re.compile(r"^unknown AWS service '(?P<service>[^']+)'"), "service"),
    (re.compile(r"^(?P<service>[\w-]+) client has no operation '(?P<name>\w+)'"), "operation"),
    (re.compile(r"^(?P<service>[\w-]+) has no paginator '(?P<name>\w+)'"), "operation"),
    (re.compile(r"^(?P<service>[\w-]+) operation (?P<name>\w+) cannot be paginated"), "operation"),
    (re.compile(r"^(?P<service>[\w-]+) paginator '(?P<name>\w+)': paginate\(\)"), "parameters"),
    (re.compile(r"^(?P<service>[\w-]+)\.(?P<name>\w+)\(\)"), "parameters"),
)
_WAITER = re.compile(r"^(?P<service>[\w-]+) waiter '(?P<name>\w+)': wait\(\)")
_METHOD_CALL = re.compile(r"\.(\w+)\s*\(")
_PAGINATOR_NAME = re.compile(r"""get_paginator\(\s*(?:operation_name\s*=\s*)?["'](\w+)["']""")
_FRAME_LINE = re.compile(r'^\s*File "[^"]*", line (\d+)', re.MULTILINE)
_CLIENT_ATTRIBUTE = re.compile(r"'(\w+)' object has no attribute '(\w+)'")
_UNKNOWN_SERVICE = re.compile(r"Unknown service: '([^']+)'")
_NOT_PAGEABLE = re.compile(r"Operation cannot be paginated: (\w+)")
_CALLING = re.compile(r"when calling the (\w+) operation")
_KEY_ERROR = re.compile(r"KeyError: '(\w+)'")


def _code_services(attempt: Attempt) -> list[str]:
    """botocore names of the services the script creates clients for or called, in first-use order."""
    found = [models.resolve_service(s) for s in services_in(attempt.code)]
    calls = (attempt.exec_result or {}).get("api_calls") or []
    found += [models.resolve_service(str(c.get("service", ""))) for c in calls]
    return list(dict.fromkeys(s for s in found if s))


def _service_of(method: str, services: Sequence[str]) -> str | None:
    """The service among `services` that has the operation `method`; among common services only when the script
    names none (searching them loads a score of botocore models)."""
    for service in services:
        if method in models.operations(service):
            return service
    if services:
        return None
    elsewhere = models.services_with_operation(method, "")
    return elsewhere[0] if elsewhere else None


def _line(code: str, number: int | None) -> str:
    lines = code.splitlines()
    return lines[number - 1] if number is not None and 0 < number <= len(lines) else ""


def _paginator_before(code: str, number: int) -> str | None:
    """The paginator created nearest above (or on) line `number`."""
    lines = code.splitlines()[:number]
    for text in reversed(lines):
        names = _PAGINATOR_NAME.findall(text)
        if names:
            return str(names[-1])
    return None


def _targets_on_line(attempt: Attempt, number: int | None, kind: _TargetKind) -> list[_Target]:
    """The AWS calls written on line `number` of the script."""
    if number is None:
        return []
    services = _code_services(attempt)
    found: list[_Target] = []
    for method in _METHOD_CALL.findall(_line(attempt.code, number)):
        if method == "paginate":
            name = _paginator_before(attempt.code, number)
            service = _service_of(name, services) if name else None
            if name and service:
                found.append(_Target(kind, service, name))
            continue
        service = _service_of(method, services)
        if service is not None:
            found.append(_Target(kind, service, method))
    return found


def _finding_targets(attempt: Attempt) -> list[_Target]:
    found: list[_Target] = []
    for finding in attempt.findings:
        if finding.severity != "error" or finding.rule not in HALLUCINATION_RULES | PARAMETER_RULES:
            continue
        kind: _TargetKind = "operation" if finding.rule in HALLUCINATION_RULES else "parameters"
        for pattern, matched_kind in _FINDING_PATTERNS:
            match = pattern.match(finding.message)
            if match:
                groups = match.groupdict()
                found.append(_Target(matched_kind, groups["service"], groups.get("name") or ""))
                break
        else:
            waiter = _WAITER.match(finding.message)
            info = models.waiters(waiter["service"]).get(waiter["name"]) if waiter else None
            if waiter and info is not None:
                found.append(_Target("parameters", waiter["service"], info.operation))
            else:
                found += _targets_on_line(attempt, finding.line, kind)
    return found


def _client_service(class_name: str, services: Sequence[str]) -> str | None:
    """The service whose boto3 client class is called `class_name` ('CloudWatchLogs' -> 'logs'): one the script
    uses, else the closest service name (class names are service names without punctuation, or known aliases)."""
    from botocore.utils import get_service_module_name

    for service in services:
        if get_service_module_name(models.service_model(service)) == class_name:
            return service
    close = models.suggest_service(class_name)
    return close[0] if close else None


def _last_script_line(traceback: str) -> int | None:
    numbers = _FRAME_LINE.findall(traceback)
    return int(numbers[-1]) if numbers else None


def _execution_targets(attempt: Attempt) -> list[_Target]:
    result = attempt.exec_result or {}
    message = str(result.get("error_message") or "")
    traceback = str(result.get("traceback") or "")
    line = _last_script_line(traceback)
    services = _code_services(attempt)
    if match := _UNKNOWN_SERVICE.search(message):
        return [_Target("service", match[1], "")]
    if (match := _CLIENT_ATTRIBUTE.search(message)) and "." not in match[1]:
        service = _client_service(match[1], services)
        return [_Target("operation", service, match[2])] if service else []
    if match := _NOT_PAGEABLE.search(message):
        service = _service_of(match[1], services)
        return [_Target("operation", service, match[1])] if service else []
    if _KEY_ERROR.search(message):
        paginator = _unknown_paginator(attempt)
        on_line = [s for s in map(models.resolve_service, services_in(_line(attempt.code, line))) if s]
        service = next(iter([*on_line, *services]), None)
        return [_Target("operation", service, paginator)] if paginator and service else []
    if attempt.error_class != "parameter_validation":
        return []
    if match := _CALLING.search(message):
        calls = [c for c in result.get("api_calls") or [] if c.get("operation") == match[1]]
        service = str(calls[-1]["service"]) if calls else _service_of(models.xform(match[1]), services)
        return [_Target("parameters", service, match[1])] if service else []
    return _targets_on_line(attempt, line, "parameters")


def _unknown_paginator(attempt: Attempt) -> str | None:
    """The name of a paginator that does not exist, when that is what the run's KeyError is about (botocore's
    `get_paginator` raises KeyError for a name that is not even an operation)."""
    result = attempt.exec_result or {}
    match = _KEY_ERROR.search(str(result.get("error_message") or ""))
    line = _last_script_line(str(result.get("traceback") or ""))
    if match and match[1] in _PAGINATOR_NAME.findall(_line(attempt.code, line)):
        return match[1]
    return None


def _is_api_mistake(attempt: Attempt) -> bool:
    if attempt.error_class in ("hallucinated_api", "parameter_validation"):
        return True
    if attempt.error_class == "runtime" and _unknown_paginator(attempt):
        return True
    rules = {f.rule for f in attempt.findings if f.severity == "error"}
    return bool(rules & (HALLUCINATION_RULES | PARAMETER_RULES))


def _api_docs(attempt: Attempt, max_chars: int) -> str:
    """botocore's documentation of the APIs the failure names (only for hallucinated APIs or bad parameters)."""
    if max_chars < 200 or not _is_api_mistake(attempt):
        return ""
    targets = list(dict.fromkeys([*_finding_targets(attempt), *_execution_targets(attempt)]))
    if not targets:
        return ""
    # One or two APIs: a third would crowd out the rest of the message.
    targets = targets[:2]
    each = max_chars // len(targets)
    docs = []
    for target in targets:
        if target.kind == "parameters":
            docs.append(apidocs.operation_doc(target.service, target.name, max_chars=each) or "")
        else:
            docs.append(apidocs.service_doc_for_unknown(target.service, target.name, max_chars=each))
    return "\n\n".join(d for d in docs if d)


# ---------------------------------------------------------------------------------------------- the message

_SCRIPT_FRAME = re.compile(rf'File "[^"]*/{re.escape(SCRIPT_NAME)}"')
_EXPECTED_TAIL = re.compile(r" \(expected .*\)$")
_EXPECTED_VALUE = re.compile(r"wrong value \(expected .*?, got ")


@dataclass(frozen=True)
class _Limits:
    """How much of each piece of evidence goes in; smaller at each level until the message fits."""

    traceback_lines: int
    items: int
    docs: int
    stdout: int
    message: int
    line: int


_LEVELS = (
    _Limits(traceback_lines=25, items=15, docs=2000, stdout=500, message=600, line=300),
    _Limits(traceback_lines=15, items=8, docs=1200, stdout=300, message=300, line=200),
    _Limits(traceback_lines=8, items=4, docs=600, stdout=200, message=200, line=160),
    _Limits(traceback_lines=4, items=2, docs=0, stdout=100, message=120, line=120),
)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


def _clean_exception_text(text: str) -> str:
    """An exception text without botocore's list of every service name."""
    return re.sub(r"(Valid service names are:)[^\n]*", r"\1 (list omitted)", text)


def _traceback(result: dict[str, Any], limits: _Limits) -> str | None:
    """The script's traceback (already trimmed to its own frames by the sandbox): the last lines, each capped."""
    text = result.get("traceback")
    if not text:
        return None
    text = _SCRIPT_FRAME.sub('File "script.py"', _clean_exception_text(str(text)))
    lines = [_cut(line, limits.line) for line in text.rstrip().splitlines()]
    if len(lines) > limits.traceback_lines:
        lines = ["(earlier lines omitted)", *lines[-limits.traceback_lines :]]
    return "\n".join(lines)


def _stderr_tail(result: dict[str, Any], limits: _Limits) -> str | None:
    """The last few lines of stderr, when there is no traceback to show (a crash, a kill)."""
    text = str(result.get("stderr") or "").strip()
    if not text or result.get("traceback"):
        return None
    lines = [_cut(line, limits.line) for line in text.splitlines()[-min(limits.traceback_lines, 10) :]]
    return "\n".join(lines)


def _without_expected(difference: str) -> str:
    """A rendered difference with any expected value removed, whoever rendered it."""
    return _EXPECTED_VALUE.sub("wrong value (got ", _EXPECTED_TAIL.sub("", difference))


def _findings(attempt: Attempt, limits: _Limits) -> list[dict[str, Any]]:
    errors = [f for f in attempt.findings if f.severity == "error"]
    return [
        {
            "line": f.line,
            "rule": f.rule,
            "message": _cut(f.message, limits.line),
            "suggestion": _cut(f.suggestion, limits.line) if f.suggestion else None,
        }
        for f in errors[: limits.items]
    ]


def _context(attempt: Attempt, previous: Sequence[Attempt], limits: _Limits) -> dict[str, Any]:
    result = attempt.exec_result or {}
    verdict = attempt.verdict
    executed = attempt.error_class in _EXECUTION_CLASSES and bool(result)
    signature = attempt_signature(attempt)
    repeats = [p.n for p in previous if p.n != attempt.n and not p.passed and attempt_signature(p) == signature]
    findings = _findings(attempt, limits) if not attempt.review_ok or not result else []
    schema_errors = verdict.schema_errors if verdict is not None and attempt.error_class == "contract" else []
    differences = verdict.differences if verdict is not None and attempt.error_class == "wrong_output" else []
    stdout = str(result.get("stdout") or "") if attempt.error_class == "output_not_json" else ""
    # botocore reports an unknown paginator name as a bare KeyError (runtime): advise as for a hallucination.
    unknown_paginator = attempt.error_class == "runtime" and _unknown_paginator(attempt)
    advice = "hallucinated_api" if unknown_paginator else attempt.error_class
    return {
        "n": attempt.n,
        "error_class": attempt.error_class,
        "advice": advice,
        "what": describe_error_class(attempt.error_class),
        "not_our_fault": attempt.error_class in NOT_THE_MODELS_FAULT,
        "error_message": _cut(_clean_exception_text(attempt.error_message).replace("\n", " "), limits.message),
        "findings": findings,
        "hidden_findings": sum(1 for f in attempt.findings if f.severity == "error") - len(findings) if findings else 0,
        "traceback": _traceback(result, limits) if executed else None,
        "stderr_tail": _stderr_tail(result, limits) if executed else None,
        "schema_errors": [_cut(e, limits.line) for e in schema_errors[: limits.items]],
        "schema_error_count": len(schema_errors),
        "differences": [_cut(_without_expected(d), limits.line) for d in differences[: limits.items]],
        "difference_count": max(verdict.difference_count if verdict is not None else 0, len(differences)),
        "stdout_head": _cut(stdout, limits.stdout) if attempt.error_class == "output_not_json" else None,
        "stdout_empty": not stdout.strip(),
        "docs": _api_docs(attempt, limits.docs),
        "repeats": repeats,
    }


def failure_feedback(attempt: Attempt, *, previous: Sequence[Attempt] = (), max_chars: int = 4000) -> str:
    """The repair message for a failed `attempt` (see the module docstring), at most about `max_chars`.

    `previous`: the earlier attempts of the run; when one failed with the same signature the message asks
    firmly for a different approach. Evidence is cut level by level until the message fits; the closing
    instruction (reply with the complete corrected script) is always kept."""
    text = ""
    for limits in _LEVELS:
        fitted = dataclasses.replace(limits, docs=min(limits.docs, max_chars // 2))
        text = render_template("repair_feedback", **_context(attempt, previous, fitted))
        if len(text) <= max_chars:
            return text
    body, _, closing = text.rstrip().rpartition("\n\n")
    return _cut(body, max(max_chars - len(closing) - 3, 0)) + "\n\n" + closing + "\n"


def summary_line(attempt: Attempt) -> str:
    """One line on what went wrong in an attempt, for summaries of earlier attempts
    ("2: runtime at line 3: KeyError: 'Vpc'")."""
    if attempt.passed:
        return f"{attempt.n}: passed"
    line = next((f.line for f in attempt.findings if f.severity == "error" and f.line is not None), None)
    if line is None:
        line = _last_script_line(str((attempt.exec_result or {}).get("traceback") or ""))
    where = f" at line {line}" if line is not None else ""
    message = _cut(_clean_exception_text(attempt.error_message).replace("\n", " "), 160)
    verdict = attempt.verdict
    # A verdict's own lists, cleaned of expected values, rather than a message someone composed from them.
    if verdict is not None and attempt.error_class == "wrong_output" and verdict.differences:
        count = max(verdict.difference_count, len(verdict.differences))
        message = f"{count} difference(s), such as {_cut(_without_expected(verdict.differences[0]), 120)}"
    elif verdict is not None and attempt.error_class == "contract" and verdict.schema_errors:
        message = f"{len(verdict.schema_errors)} schema error(s), such as {_cut(verdict.schema_errors[0], 120)}"
    return f"{attempt.n}: {attempt.error_class}{where}" + (f": {message}" if message else "")
