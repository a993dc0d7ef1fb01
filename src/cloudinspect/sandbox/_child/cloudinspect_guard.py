"""The runtime guard, loaded into the sandboxed child before the script (no cloudinspect import: stdlib and botocore).

Every botocore session, the default one and every new one, gets hooks that refuse calls that are not reads
(answering with a ClientError whose code is ReadOnlyViolation, before anything is sent) and append one JSON line
per call to the guard log: service, operation, allowed, status, error_code, duration_ms, param_bytes. Every
client is created with one attempt (no retries), whatever Config the script passes. Run as

    python -I -c "import sys; sys.path.insert(0, sys.argv[1]); import cloudinspect_guard; cloudinspect_guard.run()" \
        GUARD_DIR SCRIPT [ARGS...]

with CLOUDINSPECT_GUARD_LOG (the log file) and optionally CLOUDINSPECT_GUARD_ALLOW (a JSON list of
[service, operation] pairs: exactly the calls allowed; without it, operations named like reads are allowed).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from typing import Any

READ_PREFIXES = (
    "Describe",
    "List",
    "Get",
    "Head",
    "Lookup",
    "Search",
    "Scan",
    "Query",
    "BatchGet",
    "Filter",
    "Select",
)
VIOLATION = "ReadOnlyViolation"
_START = "cloudinspect_guard_start"
_SIZE = "cloudinspect_guard_param_bytes"
_REFUSED = "cloudinspect_guard_refused"

_state: dict[str, Any] = {"fd": None, "allow": None, "installed": False}


def _allowed(service: str, operation: str) -> bool:
    allow = _state["allow"]
    if allow is not None:
        return (service, operation) in allow
    return operation.startswith(READ_PREFIXES)


def _size(value: Any, depth: int = 0) -> int:
    if depth > 20:
        return 0
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(len(str(k)) + _size(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_size(v, depth + 1) for v in value)
    if hasattr(value, "read"):
        return -1  # a stream: size unknown without reading it
    return len(str(value))


def _log(entry: dict[str, Any]) -> None:
    fd = _state["fd"]
    if fd is None:
        return
    # One write(2) per line on an O_APPEND descriptor: a killed child leaves whole lines behind.
    os.write(fd, (json.dumps(entry, default=str) + "\n").encode())


def _names(model: Any) -> tuple[str, str]:
    return str(model.service_model.service_name), str(model.name)


def _before_parameter_build(params: Any, model: Any, context: Any = None, **_: Any) -> None:
    if isinstance(context, dict):
        context[_SIZE] = _size(params)


def _before_call(model: Any, params: Any, context: Any = None, **_: Any) -> Any:
    service, operation = _names(model)
    if isinstance(context, dict):
        context[_START] = time.perf_counter()
    if _allowed(service, operation):
        return None
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    if isinstance(context, dict):
        context[_REFUSED] = True
    message = f"cloudinspect guard: read-only execution refused {service}:{operation}"
    parsed = {
        "Error": {"Code": VIOLATION, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}, "RetryAttempts": 0},
    }
    return AWSResponse("", 403, HTTPHeaders(), None), parsed


def _record(model: Any, context: Any, status: int, error_code: str | None) -> None:
    service, operation = _names(model)
    ctx = context if isinstance(context, dict) else {}
    start = ctx.get(_START)
    _log(
        {
            "service": service,
            "operation": operation,
            "allowed": not ctx.get(_REFUSED, False),
            "status": status,
            "error_code": error_code,
            "duration_ms": round((time.perf_counter() - start) * 1000, 3) if start else None,
            "param_bytes": ctx.get(_SIZE),
            "ts": time.time(),
        }
    )


def _after_call(http_response: Any, parsed: Any, model: Any, context: Any = None, **_: Any) -> None:
    error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
    status = int(getattr(http_response, "status_code", 0) or 0)
    _record(model, context, status, error.get("Code") if status >= 300 else None)


def _after_call_error(exception: Exception, context: Any = None, **kwargs: Any) -> None:
    model = kwargs.get("model")
    if model is None and isinstance(context, dict):
        model = context.get("cloudinspect_guard_model")
    if model is None:
        return
    _record(model, context, 0, type(exception).__name__)


def _remember_model(model: Any, params: Any, context: Any = None, **_: Any) -> None:
    if isinstance(context, dict):
        context["cloudinspect_guard_model"] = model


def _hook_session(session: Any) -> None:
    session.register("before-parameter-build", _before_parameter_build, unique_id="cloudinspect-guard-size")
    session.register("before-parameter-build", _remember_model, unique_id="cloudinspect-guard-model")
    session.register("before-call", _before_call, unique_id="cloudinspect-guard-before")
    session.register("after-call", _after_call, unique_id="cloudinspect-guard-after")
    session.register("after-call-error", _after_call_error, unique_id="cloudinspect-guard-error")


def install(log_path: str | None = None, allow: set[tuple[str, str]] | None = None) -> None:
    """Hook every botocore session (present and future) and force one attempt per client call."""
    if _state["installed"]:
        return
    if log_path:
        _state["fd"] = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    _state["allow"] = allow
    os.environ["AWS_MAX_ATTEMPTS"] = "1"
    os.environ["AWS_RETRY_MODE"] = "standard"

    import botocore.session
    from botocore.config import Config

    original_init = botocore.session.Session.__init__
    original_create_client = botocore.session.Session.create_client

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _hook_session(self)

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        one_attempt = Config(retries={"total_max_attempts": 1, "mode": "standard"})
        given = kwargs.get("config")
        kwargs["config"] = given.merge(one_attempt) if given is not None else one_attempt
        return original_create_client(self, *args, **kwargs)

    botocore.session.Session.__init__ = __init__  # type: ignore[method-assign]
    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    _state["installed"] = True


def run() -> None:
    """Install the guard from the environment, then run sys.argv[2] as __main__ with the arguments after it."""
    guard_dir, script = sys.argv[1], sys.argv[2]
    allow_text = os.environ.get("CLOUDINSPECT_GUARD_ALLOW")
    allow = {(str(s), str(o)) for s, o in json.loads(allow_text)} if allow_text else None
    install(os.environ.get("CLOUDINSPECT_GUARD_LOG"), allow)
    if guard_dir in sys.path:
        sys.path.remove(guard_dir)
    sys.argv = [script, *sys.argv[3:]]
    runpy.run_path(script, run_name="__main__")
