"""`execute(code, target)`: run code in a sandbox against a target and return its ExecResult.

Targets: `emulator:SCENARIO` starts an ephemeral seeded emulator and stops it afterwards; `endpoint:URL` uses a
running endpoint; `aws:PROFILE[?role=ARN&region=R]` resolves the profile's credentials here, in the parent, and
scopes them to the script: the role assumed under the session policy the review derives for the script, or
without a role a federation token under that policy (temporary credentials, which cannot get one, are kept as
they are; see resign.py). Under full isolation, in every sandbox (process, warm, docker), the child gets only
dummy credentials and the bridge re-signs its allowed reads for AWS: real credentials never enter the sandbox.
With isolation 'none' the child gets the scoped temporary keys and reaches AWS itself.

`ExecResult.route` says which path the calls took: 'bridge' (emulator or endpoint through the bridge),
'aws-resigning-bridge', 'direct' (endpoint, isolation none) or 'aws-direct'; `ExecResult.credential_scope` says
what restricts the real credentials ('none' for emulator and endpoint targets). `scope_notes(result)` says what
the user can do about credentials left unscoped.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from cloudinspect.cloud.target import AwsTarget, EmulatorTarget, EndpointTarget, parse_target
from cloudinspect.sandbox.base import Endpoint, Isolation, Limits, SandboxError, get_sandbox
from cloudinspect.sandbox.resign import (
    EndpointResolver,
    Resigner,
    ScopedCredentials,
    botocore_endpoint,
    dummy_env,
    target_credentials,
)
from cloudinspect.sandbox.result import CredentialScope, ExecResult

AnyTarget = EmulatorTarget | EndpointTarget | AwsTarget


def credentials_env(scoped: ScopedCredentials) -> dict[str, str]:
    """The child's AWS environment with real credentials (isolation 'none'): the resolved keys and the region.

    The child gets no profile name, no config or credentials file and no metadata service: only keys.
    """
    frozen = scoped.credentials.get_frozen_credentials()
    env: dict[str, str] = {
        "AWS_ACCESS_KEY_ID": str(frozen.access_key),
        "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
        "AWS_REGION": scoped.region,
        "AWS_DEFAULT_REGION": scoped.region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = str(frozen.token)
    return env


def aws_env(
    target: AwsTarget,
    session_factory: Callable[..., Any] | None = None,
    *,
    session_policy: Mapping[str, Any] | None = None,
    sts_endpoint_url: str | None = None,
) -> dict[str, str]:
    """Scoped environment for a real account (isolation 'none'): the keys of `target_credentials` (a role or a
    federation token under `session_policy`, or the profile's temporary keys) and the region only."""
    return credentials_env(
        target_credentials(
            target.profile,
            region=target.region,
            role_arn=target.role_arn,
            session_policy=session_policy,
            session_factory=session_factory,
            sts_endpoint_url=sts_endpoint_url,
        )
    )


def review_session_policy(code: str) -> dict[str, Any] | None:
    """The least-privilege policy the static review derives for `code` (the session policy of an assumed role or
    a federation token), or None when the review is unavailable or derives none (then: ReadOnlyAccess)."""
    try:
        from cloudinspect.review import review_code
    except ImportError:
        return None
    try:
        policy = review_code(code).iam_policy
    except Exception:
        return None
    return dict(policy) if policy else None


def aws_credentials(
    target: AwsTarget,
    code: str,
    *,
    session_factory: Callable[..., Any] | None = None,
    sts_endpoint_url: str | None = None,
    federate: bool = True,
) -> ScopedCredentials:
    """The profile's credentials scoped to `code`: an assumed role or a federation token under the review's
    derived policy (see `target_credentials`). `federate=False` keeps long-term keys unscoped (the user's
    explicit choice)."""
    return target_credentials(
        target.profile,
        region=target.region,
        role_arn=target.role_arn,
        session_policy=review_session_policy(code),
        session_factory=session_factory,
        sts_endpoint_url=sts_endpoint_url,
        federate=federate,
    )


def aws_resigner(
    target: AwsTarget,
    code: str,
    *,
    session_factory: Callable[..., Any] | None = None,
    resolve_endpoint: EndpointResolver = botocore_endpoint,
    sts_endpoint_url: str | None = None,
    federate: bool = True,
) -> Resigner:
    """The re-signing bridge's signer for an `aws:` target: `aws_credentials(target, code)`, held by the parent
    only."""
    scoped = aws_credentials(
        target, code, session_factory=session_factory, sts_endpoint_url=sts_endpoint_url, federate=federate
    )
    credentials = scoped.credentials
    return Resigner(lambda: credentials, scoped.region, resolve_endpoint, scope=scoped.scope)


def scope_notes(result: ExecResult) -> list[str]:
    """What the user should know about the credentials behind a run on a real account (none for other targets):
    temporary credentials left unscoped, or IAM/STS calls that a federation token cannot make."""
    guarded = " (the bridge still refused every write)" if result.route == "aws-resigning-bridge" else ""
    if result.credential_scope == "unscoped-temporary":
        return [
            "the profile holds temporary credentials (SSO, an assumed role...), which AWS does not let us exchange "
            f"for a federation token, so the run used them unscoped{guarded}; add ?role=ARN to the target to run "
            "under a role scoped to this script"
        ]
    if result.credential_scope == "unscoped-long-term":
        return [f"the profile's long-term keys were used unscoped{guarded}"]
    if result.credential_scope == "federation-token-policy":
        refused = sorted(
            {
                f"{c.service}:{c.operation}"
                for c in result.api_calls
                if c.allowed
                and c.error_code
                and (c.service == "iam" or (c.service == "sts" and c.operation != "GetCallerIdentity"))
            }
        )
        if refused:
            return [
                f"{', '.join(refused)} failed: AWS refuses IAM calls (and STS calls but GetCallerIdentity) to the "
                "federation token that scopes the profile's long-term keys; add ?role=ARN to the target (a role "
                "that may read IAM) to inspect IAM"
            ]
    return []


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
    scope: CredentialScope = "none"
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
            resigner = resigner or aws_resigner(parsed, code, federate=parsed.scope != "none")
            env, endpoint, scope = dummy_env(resigner.region), Endpoint(None, allow, resign=resigner), resigner.scope
        else:
            scoped = aws_credentials(parsed, code, federate=parsed.scope != "none")
            env, endpoint, scope = credentials_env(scoped), Endpoint(None, allow), scoped.scope
        env = {**env, "CLOUDINSPECT_VARS": json.dumps(dict(variables or {}))}
        result = runner.run(code, env, endpoint=endpoint, limits=limits, isolation=isolation)
    aws = isinstance(parsed, AwsTarget)
    route = (
        ("aws-resigning-bridge" if aws else "bridge") if isolation == "full" else ("aws-direct" if aws else "direct")
    )
    return result.model_copy(update={"target": parsed.spec, "route": route, "credential_scope": scope})
