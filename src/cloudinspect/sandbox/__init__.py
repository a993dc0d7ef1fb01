"""Sandboxed execution of untrusted inspection code.

from cloudinspect.sandbox import execute
result = execute(code, "emulator:baseline")       # an ExecResult: status, output_json, api_calls, ...

Sandboxes are registered by name (`@register_sandbox("process")`); `execute(..., sandbox=name)` picks one
("process", the default; "docker"; "auto": the process sandbox where it works, else Docker when reachable).
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
from cloudinspect.sandbox.docker import DockerSandbox, build_image, docker_available
from cloudinspect.sandbox.execute import aws_env, choose_sandbox, execute, scope_notes
from cloudinspect.sandbox.pool import WarmPool, WarmSandbox, close_pools, get_pool
from cloudinspect.sandbox.process import ProcessSandbox, child_environment, which_backend
from cloudinspect.sandbox.result import ApiCallRecord, CredentialScope, ErrorClass, ExecResult, Status, Violation

__all__ = [
    "ApiCallRecord",
    "CredentialScope",
    "DockerSandbox",
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
    "WarmPool",
    "WarmSandbox",
    "aws_env",
    "build_image",
    "child_environment",
    "choose_sandbox",
    "close_pools",
    "docker_available",
    "execute",
    "get_pool",
    "get_sandbox",
    "register_sandbox",
    "sandbox_names",
    "scope_notes",
    "which_backend",
]
