"""The real-AWS route: the bridge re-signs the child's allowed reads with credentials the sandbox never sees.

Under full isolation the child has no network, so it cannot reach AWS over TLS; and TLS would hide its requests
from the bridge anyway. Instead the child is given *dummy* credentials and the relay endpoint, exactly as for an
emulator. The bridge (outside the sandbox) attributes each plain-HTTP request to (service, operation) and refuses
writes as for any target; an allowed read is rebuilt for the real endpoint of that service and region (resolved by
botocore, as a client for that service and region would), signed again with SigV4 using the parent's credentials,
sent over HTTPS, and its answer relayed back. The child's own signature, made with the dummy keys, is discarded.

The parent's credentials come from the target's profile (`aws:PROFILE`) and are scoped down to the script before
anything is signed with them, by a session policy: the least-privilege policy the static review derived for the
script, or AWS's managed ReadOnlyAccess policy when there is none (or it is too long to pass inline):

- with a role (`aws:PROFILE?role=ARN`), the role is assumed under that session policy ("role-session-policy");
- without one, long-term IAM user keys (no session token) are exchanged for a federation token under that policy
  (STS GetFederationToken, "federation-token-policy"). AWS refuses every IAM operation, and every STS operation
  but GetCallerIdentity, to federation tokens: inspecting IAM needs `role=`;
- temporary credentials (SSO, an assumed role, a session token of any kind) cannot call GetFederationToken: they
  are used as they are ("unscoped-temporary"), and the caller tells the user to pass `role=` to scope them.

Temporary credentials obtained here refresh themselves before they expire. On the re-signing route the bridge
refuses every non-read before signing anyway; the scoped credentials are the layer underneath, for a request the
bridge would read differently from AWS.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cloudinspect.errors import CloudInspectError, InputError
from cloudinspect.sandbox.result import CredentialScope

READ_ONLY_ACCESS_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
"""AWS's managed read-only policy: the session policy when the review derived none."""

SESSION_POLICY_LIMIT = 2048
"""Characters of an inline session policy AWS accepts (packed); a longer one falls back to ReadOnlyAccess."""

SESSION_NAME_PREFIX = "cloudinspect-"
"""Prefix of role session and federated user names (a federated user's name is at most 32 characters)."""

DUMMY_ACCESS_KEY = "AKIADUMMYEXAMPLE0000"
DUMMY_SECRET_KEY = "cloudinspect-dummy-secret-the-bridge-re-signs"  # noqa: S105 - not a secret: a placeholder

EndpointResolver = Callable[[str, str], str]
"""(botocore service name, region) -> the endpoint URL a client for them would call."""

_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
# Headers the re-signing replaces or that describe the child's hop, not the request.
_DROP = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "host",
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
    }
)


def dummy_env(region: str) -> dict[str, str]:
    """The child's AWS environment on the re-signing route: placeholder keys and the region, nothing real."""
    return {
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


_ENDPOINTS: dict[tuple[str, str], str] = {}
_ENDPOINTS_LOCK = threading.Lock()


def botocore_endpoint(service: str, region: str) -> str:
    """The endpoint URL a botocore client for `service` in `region` would use (resolved locally, no network;
    configured endpoint overrides such as AWS_ENDPOINT_URL are ignored). Cached per (service, region)."""
    key = (service, region)
    with _ENDPOINTS_LOCK:
        if key in _ENDPOINTS:
            return _ENDPOINTS[key]
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session()
    client = session.create_client(
        service,
        region_name=region,
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=Config(ignore_configured_endpoint_urls=True, s3={"addressing_style": "path"}),  # type: ignore[call-arg]
    )
    url = str(client.meta.endpoint_url).rstrip("/")
    with _ENDPOINTS_LOCK:
        _ENDPOINTS[key] = url
    return url


def signing_region(host: str, region: str) -> str:
    """The region to sign with for `host`: `region`, except for a global endpoint (iam.amazonaws.com,
    route53...), whose host names no region: those sign with their partition's home region."""
    if region in host:
        return region
    if host.endswith(".amazonaws.com.cn"):
        return "cn-north-1"
    if region.startswith("us-gov-"):
        return "us-gov-west-1"
    return "us-east-1"


@dataclass
class SignedRequest:
    """A request ready for the real endpoint: where to send it and with which headers."""

    url: str
    headers: list[tuple[str, str]]


class NoResignerError(CloudInspectError):
    """A request reached a re-signing bridge before any run's credentials were handed to it."""


@dataclass
class Resigner:
    """Re-signs allowed requests for the real endpoint. `credentials()` returns botocore credentials (with
    `get_frozen_credentials()`, refreshed when temporary); `region` is the default when a request names none;
    `scope` says what restricts the credentials (`target_credentials` knows; bare credentials are unscoped)."""

    credentials: Callable[[], Any]
    region: str
    resolve_endpoint: EndpointResolver = botocore_endpoint
    scope: CredentialScope = "unscoped-long-term"
    _cache: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def endpoint(self, service: str, region: str) -> str:
        key = (service, region)
        if key not in self._cache:
            self._cache[key] = self.resolve_endpoint(service, region).rstrip("/")
        return self._cache[key]

    def sign(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        *,
        service: str,
        signing_name: str,
        region: str | None,
    ) -> SignedRequest:
        """Rebuild the child's request (`target` is its path and query) for `service`'s real endpoint in `region`
        and sign it with SigV4 (S3's variant for S3) using the parent's credentials."""
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest

        region = region if region and _REGION.match(region) else self.region
        base = self.endpoint(service, region)
        parts = urlsplit(base)
        url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{target}"
        kept = {k: v for k, v in headers if k.lower() not in _DROP}
        kept["Host"] = parts.netloc
        request = AWSRequest(method=method, url=url, headers=kept, data=body)
        frozen = self.credentials().get_frozen_credentials()
        auth_cls = S3SigV4Auth if service == "s3" else SigV4Auth
        auth_cls(frozen, signing_name, signing_region(parts.netloc, region)).add_auth(request)
        return SignedRequest(url, [(str(k), str(v)) for k, v in request.headers.items()])


_NO_RUN = "no run has been handed to this sandbox: there are no credentials to sign with"


def _unset_credentials() -> Any:
    raise NoResignerError(_NO_RUN)


class ResignerSlot(Resigner):
    """The re-signer of a bridge started before its run is known (a warm pool's child): it signs with the Resigner
    `set()` for the run, and refuses to sign (NoResignerError, which the bridge answers with BridgeResignError)
    while none is set, so a request that arrives before the hand-over or after `set(None)` reaches nothing."""

    def __init__(self) -> None:
        super().__init__(_unset_credentials, "us-east-1")
        self._current: Resigner | None = None
        self._lock = threading.Lock()

    def set(self, resigner: Resigner | None) -> None:
        """Sign with `resigner` from now on (None: sign nothing)."""
        with self._lock:
            self._current = resigner

    @property
    def current(self) -> Resigner | None:
        with self._lock:
            return self._current

    def sign(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        *,
        service: str,
        signing_name: str,
        region: str | None,
    ) -> SignedRequest:
        current = self.current
        if current is None:
            raise NoResignerError(_NO_RUN)
        return current.sign(method, target, headers, body, service=service, signing_name=signing_name, region=region)


# --- credentials ---------------------------------------------------------------------------------------------


def session_policy_params(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """The session-policy parameters of AssumeRole and GetFederationToken: the derived policy inline when it fits,
    else ReadOnlyAccess."""
    if policy and policy.get("Statement"):
        text = json.dumps(policy, separators=(",", ":"))
        if len(text) <= SESSION_POLICY_LIMIT:
            return {"Policy": text}
    return {"PolicyArns": [{"arn": READ_ONLY_ACCESS_ARN}]}


@dataclass(frozen=True)
class ScopedCredentials:
    """Credentials resolved in the parent for an `aws:` target, the region to use, and what restricts them."""

    credentials: Any
    """botocore credentials: `get_frozen_credentials()` (refreshed first when they are temporary ones of ours)."""
    region: str
    scope: CredentialScope


def _refreshable(fetch: Callable[[], Mapping[str, Any]], method: str) -> Any:
    """botocore RefreshableCredentials from an STS answer's `Credentials`, fetched again before they expire."""
    from botocore.credentials import RefreshableCredentials

    def refresh() -> dict[str, str]:
        answer = fetch()
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }

    return RefreshableCredentials.create_from_metadata(refresh(), refresh, method)


def target_credentials(
    profile: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    session_policy: Mapping[str, Any] | None = None,
    session_factory: Callable[..., Any] | None = None,
    sts_endpoint_url: str | None = None,
    duration_s: int = 3600,
    federate: bool = True,
) -> ScopedCredentials:
    """The credentials of an `aws:` target, resolved and scoped in the parent (see the module docstring).

    With `role_arn`: the role's temporary credentials under the session policy (`session_policy_params`). Without:
    long-term keys are exchanged for a federation token under the same policy (unless `federate` is False: the
    user's explicit opt-out), temporary ones are kept as they are. InputError when the profile has no credentials.
    """
    if session_factory is None:
        import boto3

        session_factory = boto3.session.Session
    session = session_factory(profile_name=profile, region_name=region)
    resolved_region = str(region or session.region_name or "us-east-1")
    base = session.get_credentials()
    if base is None:
        raise InputError(f"profile {profile!r} has no credentials", "target")
    policy = session_policy_params(session_policy)
    name = f"{SESSION_NAME_PREFIX}{uuid.uuid4().hex[:12]}"
    if role_arn is not None:
        sts = session.client("sts", region_name=resolved_region, endpoint_url=sts_endpoint_url)
        role = {"RoleArn": role_arn, "RoleSessionName": name, "DurationSeconds": duration_s, **policy}
        credentials = _refreshable(lambda: sts.assume_role(**role)["Credentials"], "assume-role")
        return ScopedCredentials(credentials, resolved_region, "role-session-policy")
    if base.get_frozen_credentials().token:
        # GetFederationToken must be called with an IAM user's long-term keys: AWS refuses it to a session.
        return ScopedCredentials(base, resolved_region, "unscoped-temporary")
    if not federate:
        return ScopedCredentials(base, resolved_region, "unscoped-long-term")
    sts = session.client("sts", region_name=resolved_region, endpoint_url=sts_endpoint_url)
    federation = {"Name": name, "DurationSeconds": duration_s, **policy}
    credentials = _refreshable(lambda: sts.get_federation_token(**federation)["Credentials"], "federation-token")
    return ScopedCredentials(credentials, resolved_region, "federation-token-policy")
