"""Redaction of inspection outputs before they become evidence, with a count of what was replaced.

`cloudinspect.redact` finds secrets by their shape and by the name next to them. Environment variables need
more: engineers put secrets in them under any name (`STRIPE_WEBHOOK`, `DB_URL`, `CONFIG`), and Lambda
(`Environment.Variables`) and ECS (`environment: [{name, value}]`) return them verbatim. So every value of an
environment-variable map is replaced whatever its name; the names stay, since which variables exist is often
the evidence (`ecs-task-definition-risks` reports names only). A scalar under such a key (`"environment":
"production"`, a tag) is no map of variables and is left to the ordinary rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cloudinspect.redact import marker, redact_data
from cloudinspect.troubleshoot._evidence_shapes import norm

ENV_VALUE = marker("env-var")
"""What the value of an environment variable becomes."""

_ENV_KEYS = frozenset({"environment", "variables", "env", "envvars", "environmentvariables"})
_NAME_KEYS = ("name", "Name", "key", "Key")
_VALUE_KEYS = ("value", "Value")
_MARK = "[REDACTED"


def redact_output(obj: Any) -> tuple[Any, int]:
    """A redacted copy of `obj` (parsed JSON) and how many secrets were replaced (environment values, then
    everything that `redact_data` finds)."""
    cleared, count = _clear_env(obj, inside=False)
    redacted = redact_data(cleared)
    return redacted, count + _markers(redacted) - _markers(cleared)


def _markers(obj: Any) -> int:
    return json.dumps(obj, default=str).count(_MARK)


def _clear_env(obj: Any, *, inside: bool) -> tuple[Any, int]:
    """`obj` with the values of environment maps replaced (`obj` itself when there were none: outputs can hold
    50,000 records). `inside`: `obj` is (part of) such a map's value."""
    if inside and not isinstance(obj, dict | list):
        return _clear_value(obj)
    if isinstance(obj, dict):
        count = 0
        changed: dict[Any, Any] = {}
        for key, value in obj.items():
            if not isinstance(value, dict | list) and not inside:
                continue
            env = inside or (isinstance(key, str) and norm(key) in _ENV_KEYS)
            cleared, found = _clear_env(value, inside=env)
            if found:
                changed[key] = cleared
                count += found
        return ({k: changed.get(k, v) for k, v in obj.items()}, count) if count else (obj, 0)
    if isinstance(obj, list):
        count = 0
        items = list(obj)
        for index, item in enumerate(obj):
            if not inside and not isinstance(item, dict | list):
                continue
            cleared, found = (
                _clear_named(item) if inside and isinstance(item, dict) else _clear_env(item, inside=inside)
            )
            if found:
                items[index] = cleared
                count += found
        return (items, count) if count else (obj, 0)
    return obj, 0


def _clear_named(item: Mapping[str, Any]) -> tuple[Any, int]:
    """An ECS-style `{"name": ..., "value": ...}` entry keeps its name; any other entry is a map of variables."""
    if any(k in item for k in _NAME_KEYS) and any(k in item for k in _VALUE_KEYS):
        count = 0
        out = dict(item)
        for key in _VALUE_KEYS:
            if key in out:
                out[key], found = _clear_value(out[key])
                count += found
        return out, count
    return _clear_env(item, inside=True)


def _clear_value(value: Any) -> tuple[Any, int]:
    # None, booleans and empty text cannot carry a secret; "NAME=value" strings (a list form) keep their name.
    if value is None or isinstance(value, bool) or value == "":
        return value, 0
    if isinstance(value, str) and "=" in value and value.split("=", 1)[0].isidentifier():
        return f"{value.split('=', 1)[0]}={ENV_VALUE}", 1
    if isinstance(value, dict | list):
        return _clear_env(value, inside=True)
    return ENV_VALUE, 1
