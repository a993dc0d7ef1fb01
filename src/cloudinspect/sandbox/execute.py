"""`execute(code, target)`: run code in a sandbox against a target and return its ExecResult.

Targets: `emulator:SCENARIO` starts an ephemeral seeded emulator and stops it afterwards; `endpoint:URL` uses a
running endpoint; `aws:PROFILE[?role=ARN&region=R]` resolves the profile's credentials here, in the parent (and
with a role, assumes it under a read-only session policy). Under full isolation the child gets only dummy
credentials and the bridge re-signs its allowed reads for AWS (`resign.py`): real credentials never enter the
sandbox. With isolation 'none' the child gets the resolved (temporary) keys and reaches AWS itself.

`ExecResult.route` says which path the calls took: 'bridge' (emulator or endpoint through the bridge),
'aws-resigning-bridge', 'direct' (endpoint, isolation none) or 'aws-direct'.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from cloudinspect.cloud.target import AwsTarget, EmulatorTarget, EndpointTarget, parse_target
from cloudinspect.sandbox.base import Endpoint, Isolation, Limits, SandboxError, get_sandbox
from cloudinspect.sandbox.resign import EndpointResolver, Resigner, botocore_endpoint, dummy_env, target_credentials
from cloudinspect.sandbox.result import ExecResult

AnyTarget = EmulatorTarget | EndpointTarget | AwsTarget


def aws_env(
    target: AwsTarget,
    session_factory: Callable[..., Any] | None = None,
    *,
    session_policy: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Scoped environment for a real account (isolation 'none'): the profile's resolved (temporary) credentials,
    or the target role's, and the region only.

    The child gets no profile name, no config or credentials file and no metadata service: only keys.
    """
    credentials, region = target_credentials(
        target.profile,
        region=target.region,
        role_arn=target.role_arn,
        session_policy=session_policy,
        session_factory=session_factory,
    )
    frozen = credentials.get_frozen_credentials()
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


def review_session_policy(code: str) -> dict[str, Any] | None:
    """The least-privilege policy the static review derives for `code` (the session policy of an assumed role),
    or None when the review is unavailable or derives none (the caller then uses ReadOnlyAccess)."""
    try:
        from cloudinspect.review import review_code
    except ImportError:
        return None
    try:
        policy = review_code(code).iam_policy
    except Exception:
        return None
    return dict(policy) if policy else None


def aws_resigner(
    target: AwsTarget,
    code: str,
    *,
    session_factory: Callable[..., Any] | None = None,
    resolve_endpoint: EndpointResolver = botocore_endpoint,
    sts_endpoint_url: str | None = None,
) -> Resigner:
    """The re-signing bridge's signer for an `aws:` target: the profile's (or the assumed role's) credentials,
    held by the parent only. The role's session policy is the review's derived policy for `code`."""
    policy = review_session_policy(code) if target.role_arn else None
    credentials, region = target_credentials(
        target.profile,
        region=target.region,
        role_arn=target.role_arn,
        session_policy=policy,
        session_factory=session_factory,
        sts_endpoint_url=sts_endpoint_url,
    )
    return Resigner(lambda: credentials, region, resolve_endpoint)


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
    resigner: Resigner | None = None,
) -> ExecResult:
    """Run `code` in the named sandbox against `target` (a Target or 'emulator:X' / 'endpoint:URL' / 'aws:P').

    `sandbox`: a registered name ("process", "docker") or "auto" (see `choose_sandbox`).
    `variables` reach the script as JSON in CLOUDINSPECT_VARS. `isolation='none'` lets the child use the host
    network (never chosen implicitly). `allow(service, operation)` is the bridge's policy (default: reads only).
    `resigner`: for an `aws:` target under full isolation, the signer to use instead of `aws_resigner(target)`
    (tests inject one whose endpoint resolver points at an emulator).
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
        elif isolation == "full":
            resigner = resigner or aws_resigner(parsed, code)
            env, endpoint = dummy_env(resigner.region), Endpoint(None, allow, resign=resigner)
        else:
            policy = review_session_policy(code) if parsed.role_arn else None
            env, endpoint = aws_env(parsed, session_policy=policy), Endpoint(None, allow)
        env = {**env, "CLOUDINSPECT_VARS": json.dumps(dict(variables or {}))}
        result = runner.run(code, env, endpoint=endpoint, limits=limits, isolation=isolation)
    aws = isinstance(parsed, AwsTarget)
    route = (
        ("aws-resigning-bridge" if aws else "bridge") if isolation == "full" else ("aws-direct" if aws else "direct")
    )
    return result.model_copy(update={"target": parsed.spec, "route": route})
