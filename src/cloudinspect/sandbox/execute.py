"""`execute(code, target)`: run code in a sandbox against a target and return its ExecResult.

Targets: `emulator:SCENARIO` starts an ephemeral seeded emulator and stops it afterwards; `endpoint:URL` uses a
running endpoint; `aws:PROFILE` resolves the profile's credentials here, in the parent, and hands the child only
those (never the parent's environment or ~/.aws files).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from cloudinspect.cloud.target import AwsTarget, EmulatorTarget, EndpointTarget, parse_target
from cloudinspect.errors import InputError
from cloudinspect.sandbox.base import Endpoint, Isolation, Limits, SandboxError, get_sandbox
from cloudinspect.sandbox.result import ExecResult

AnyTarget = EmulatorTarget | EndpointTarget | AwsTarget


def aws_env(target: AwsTarget, session_factory: Callable[..., Any] | None = None) -> dict[str, str]:
    """Scoped environment for a real account: the profile's resolved (temporary) credentials and region only.

    The child gets no profile name, no config or credentials file and no metadata service: only keys.
    """
    if session_factory is None:
        import boto3

        session_factory = boto3.session.Session
    session = session_factory(profile_name=target.profile, region_name=target.region)
    credentials = session.get_credentials()
    if credentials is None:
        raise InputError(f"profile {target.profile!r} has no credentials", "target")
    frozen = credentials.get_frozen_credentials()
    region = str(target.region or session.region_name or "us-east-1")
    env: dict[str, str] = {
        "AWS_ACCESS_KEY_ID": str(frozen.access_key),
        "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = str(frozen.token)
    return env


def choose_sandbox(name: str) -> str:
    """The sandbox to use for `name`: itself, or for "auto" the process sandbox when a namespace tool is
    installed, else Docker when a daemon answers (the process sandbox's error otherwise)."""
    if name != "auto":
        return name
    from cloudinspect.sandbox.docker import docker_available
    from cloudinspect.sandbox.process import which_backend

    try:
        which_backend()
    except SandboxError as exc:
        available, reason = docker_available()
        if available:
            return "docker"
        raise SandboxError(f"{exc}; and {reason}") from None
    return "process"


def execute(
    code: str,
    target: str | AnyTarget,
    *,
    variables: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    sandbox: str = "process",
    isolation: Isolation = "full",
    allow: Callable[[str, str], bool] | None = None,
) -> ExecResult:
    """Run `code` in the named sandbox against `target` (a Target or 'emulator:X' / 'endpoint:URL' / 'aws:P').

    `sandbox`: a registered name ("process", "docker") or "auto" (see `choose_sandbox`).
    `variables` reach the script as JSON in CLOUDINSPECT_VARS. `isolation='none'` lets the child use the host
    network (never chosen implicitly). `allow(service, operation)` is the bridge's policy (default: reads only).
    """
    parsed = parse_target(target) if isinstance(target, str) else target
    runner = get_sandbox(choose_sandbox(sandbox))
    with contextlib.ExitStack() as stack:
        if isinstance(parsed, EmulatorTarget):
            from cloudinspect.cloud import start_emulator

            emulator = stack.enter_context(start_emulator(parsed.scenario))
            env, endpoint = emulator.env(), Endpoint(emulator.endpoint_url, allow)
            if sandbox == "warm":  # the endpoint dies with this call: so does its pool
                from cloudinspect.sandbox.pool import close_pools

                stack.callback(close_pools, emulator.endpoint_url)
        elif isinstance(parsed, EndpointTarget):
            env, endpoint = parsed.env(), Endpoint(parsed.url, allow)
        else:
            env, endpoint = aws_env(parsed), Endpoint(None, allow)
        env = {**env, "CLOUDINSPECT_VARS": json.dumps(dict(variables or {}))}
        result = runner.run(code, env, endpoint=endpoint, limits=limits, isolation=isolation)
    return result.model_copy(update={"target": parsed.spec})
