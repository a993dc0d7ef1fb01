"""Sandboxed execution of untrusted inspection code.

from cloudinspect.sandbox import execute
result = execute(code, "emulator:baseline")       # an ExecResult: status, output_json, api_calls, ...

Sandboxes are registered by name (`@register_sandbox("process")`); `execute(..., sandbox=name)` picks one.
"""

from cloudinspect.sandbox.base import (
    Endpoint,
    Isolation,
    Limits,
    Sandbox,
    SandboxError,
    get_sandbox,
    register_sandbox,
    sandbox_names,
)
from cloudinspect.sandbox.execute import aws_env, execute
from cloudinspect.sandbox.process import ProcessSandbox, child_environment, which_backend
from cloudinspect.sandbox.result import ApiCallRecord, ErrorClass, ExecResult, Status, Violation

__all__ = [
    "ApiCallRecord",
    "Endpoint",
    "ErrorClass",
    "ExecResult",
    "Isolation",
    "Limits",
    "ProcessSandbox",
    "Sandbox",
    "SandboxError",
    "Status",
    "Violation",
    "aws_env",
    "child_environment",
    "execute",
    "get_sandbox",
    "register_sandbox",
    "sandbox_names",
    "which_backend",
]
