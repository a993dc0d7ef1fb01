"""Classifying a failed run from its stderr, so that a repair loop knows what to fix.

Python prints an uncaught exception as a traceback on stderr; the sandbox reads the last one, finds the exception
type and message, and maps them onto an `ErrorClass`: botocore's own exception names (ParamValidationError,
UnknownServiceError), a ClientError's code (AccessDenied..., Throttling...), moto's HTTP 500 HTML page for an
operation it does not implement, an AttributeError raised by a botocore client (a hallucinated method).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudinspect.sandbox.result import ErrorClass

_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+')
_CLIENT_ERROR = re.compile(r"An error occurred \((?P<code>[^)]+)\) when calling the (?P<op>\w+) operation")
_RESOURCE_ERRNO = (
    "Too many open files",
    "File too large",
    "No space left on device",
    "Cannot allocate memory",
    "can't start new thread",  # RLIMIT_NPROC counts threads
)

_SYNTAX = {"SyntaxError", "IndentationError", "TabError"}
_IMPORT = {"ImportError", "ModuleNotFoundError"}
_HALLUCINATED = {"UnknownServiceError", "OperationNotPageableError", "DataNotFoundError", "ResourceNotExistsError"}
_PARAMS = {"ParamValidationError", "ValidationError"}
_RESOURCE = {"MemoryError", "RecursionError"}
_PARAM_CODES = ("ValidationError", "ValidationException", "InvalidParameter", "MissingParameter", "InvalidInput")
_ACCESS_CODES = (
    "AccessDenied",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnrecognizedClient",
    "InvalidClientTokenId",
)
_THROTTLE_CODES = ("Throttling", "ThrottlingException", "TooManyRequests", "RequestLimitExceeded", "SlowDown")


@dataclass(frozen=True)
class Failure:
    """The last uncaught exception of a run: its type, message, class, and the traceback trimmed to the script."""

    error_class: ErrorClass
    exception: str | None
    message: str
    traceback: str | None


def _last_traceback(lines: list[str]) -> tuple[int, int] | None:
    """Line range of the last 'Traceback' block (header .. end of the exception text)."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last):")]
    if not starts:
        return None
    return starts[-1], len(lines)


def _exception_start(lines: list[str], start: int) -> int:
    """Index of the exception line: the first line after the header that is not indented."""
    for i in range(start + 1, len(lines)):
        if lines[i] and not lines[i].startswith(" "):
            return i
    return len(lines)


def trim_traceback(stderr: str, script_path: str) -> str | None:
    """The last traceback with only the script's own frames (the launcher's, runpy's and botocore's dropped)."""
    lines = stderr.splitlines()
    found = _last_traceback(lines)
    if found is None:
        return None
    start, end = found
    exc_at = _exception_start(lines, start)
    kept = [lines[start]]
    i = start + 1
    while i < exc_at:
        match = _FRAME.match(lines[i])
        j = i + 1
        while j < exc_at and not _FRAME.match(lines[j]):
            j += 1
        if match is None or match.group("file") == script_path:
            kept.extend(lines[i:j])
        i = j
    kept.extend(lines[exc_at:end])
    return "\n".join(kept)


def _last_frame_file(lines: list[str], start: int, exc_at: int) -> str | None:
    for i in range(exc_at - 1, start, -1):
        match = _FRAME.match(lines[i])
        if match:
            return match.group("file")
    return None


def classify_failure(stderr: str, script_path: str) -> Failure:
    """Classify a run that exited non-zero from its stderr."""
    lines = stderr.splitlines()
    found = _last_traceback(lines)
    if found is None:
        tail = "\n".join(lines[-5:])
        error_class: ErrorClass = "resource_limit" if any(e in stderr for e in _RESOURCE_ERRNO) else "runtime"
        return Failure(error_class, None, tail, None)
    start, end = found
    exc_at = _exception_start(lines, start)
    text = "\n".join(lines[exc_at:end])
    head, _, message = text.partition(":")
    qualified = head.strip() if " " not in head.strip() else ""
    name = qualified.rsplit(".", 1)[-1]
    message = message.strip()
    trimmed = trim_traceback(stderr, script_path)
    last_file = _last_frame_file(lines, start, exc_at) or ""
    return Failure(_classify(name, message, last_file), qualified or None, message, trimmed)


def _classify(name: str, message: str, last_file: str) -> ErrorClass:
    if name in _SYNTAX:
        return "syntax"
    if name in _IMPORT:
        return "import"
    if "ReadOnly" in name or ("read-only" in message.lower() and "cloudinspect" in message.lower()):
        return "read_only_violation"
    if name in _HALLUCINATED:
        return "hallucinated_api"
    if name == "AttributeError" and _is_sdk_attribute_error(message, last_file):
        return "hallucinated_api"
    if name == "ParamValidationError" or (name in _PARAMS and "botocore" in last_file):
        return "parameter_validation"
    if name in _RESOURCE:
        return "resource_limit"
    if any(e in message for e in _RESOURCE_ERRNO) or (name == "BlockingIOError" and "temporarily" in message):
        return "resource_limit"
    client = _CLIENT_ERROR.search(message)
    if client is not None:
        return _classify_code(client.group("code"), message)
    return "runtime"


def _is_sdk_attribute_error(message: str, last_file: str) -> bool:
    if "/botocore/" in last_file or "/boto3/" in last_file:
        return True
    match = re.match(r"'([\w.]+)' object has no attribute", message)
    if match is None:
        return False
    owner = match.group(1)
    return "ServiceResource" in owner or owner.startswith(("ec2.", "s3.", "iam.", "dynamodb.", "sqs.", "sns."))


def _classify_code(code: str, message: str) -> ErrorClass:
    if code == "500" and ("<html" in message.lower() or "<!doctype" in message.lower() or "NotImplemented" in message):
        return "emulator_unsupported"
    if code in ("501", "NotImplemented", "InternalFailure") and "not" in message.lower():
        return "emulator_unsupported"
    if "ReadOnly" in code:
        return "read_only_violation"
    if code.startswith(_ACCESS_CODES):
        return "access_denied"
    if code.startswith(_THROTTLE_CODES):
        return "throttling"
    if code.startswith(_PARAM_CODES):
        return "parameter_validation"
    return "runtime"


def client_error_code(message: str) -> str | None:
    """The error code of a botocore ClientError message, if it is one."""
    match = _CLIENT_ERROR.search(message)
    return match.group("code") if match else None
