"""The real-AWS route: the bridge re-signs the child's allowed reads with credentials the sandbox never sees.

Under full isolation the child has no network, so it cannot reach AWS over TLS; and TLS would hide its requests
from the bridge anyway. Instead the child is given *dummy* credentials and the relay endpoint, exactly as for an
emulator. The bridge (outside the sandbox) attributes each plain-HTTP request to (service, operation) and refuses
writes as for any target; an allowed read is rebuilt for the real endpoint of that service and region (resolved by
botocore, as a client for that service and region would), signed again with SigV4 using the parent's credentials,
sent over HTTPS, and its answer relayed back. The child's own signature, made with the dummy keys, is discarded.

The parent's credentials come from the target's profile (`aws:PROFILE`), optionally exchanged for a role's
temporary credentials (`aws:PROFILE?role=ARN`) restricted by a session policy: the least-privilege policy the
static review derived for the script, or AWS's managed ReadOnlyAccess policy when there is none. Assumed-role
credentials refresh themselves before they expire.
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

from cloudinspect.errors import InputError

READ_ONLY_ACCESS_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
"""AWS's managed read-only policy: the session policy when the review derived none."""

SESSION_POLICY_LIMIT = 2048
"""Characters of an inline session policy AWS accepts (packed); a longer one falls back to ReadOnlyAccess."""

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


@dataclass
class Resigner:
    """Re-signs allowed requests for the real endpoint. `credentials()` returns botocore credentials (with
    `get_frozen_credentials()`, refreshed when temporary); `region` is the default when a request names none."""

    credentials: Callable[[], Any]
    region: str
    resolve_endpoint: EndpointResolver = botocore_endpoint
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


# --- credentials ---------------------------------------------------------------------------------------------


def session_policy_params(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """AssumeRole's session-policy parameters: the derived policy inline when it fits, else ReadOnlyAccess."""
    if policy and policy.get("Statement"):
        text = json.dumps(policy, separators=(",", ":"))
        if len(text) <= SESSION_POLICY_LIMIT:
            return {"Policy": text}
    return {"PolicyArns": [{"arn": READ_ONLY_ACCESS_ARN}]}


def target_credentials(
    profile: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    session_policy: Mapping[str, Any] | None = None,
    session_factory: Callable[..., Any] | None = None,
    sts_endpoint_url: str | None = None,
    duration_s: int = 3600,
) -> tuple[Any, str]:
    """(credentials, region) for an `aws:` target, resolved in the parent: the profile's credentials, or with
    `role_arn` the role's temporary credentials under a session policy (`session_policy_params`), refreshed
    before they expire. InputError when the profile has no credentials."""
    if session_factory is None:
        import boto3

        session_factory = boto3.session.Session
    session = session_factory(profile_name=profile, region_name=region)
    resolved_region = str(region or session.region_name or "us-east-1")
    base = session.get_credentials()
    if base is None:
        raise InputError(f"profile {profile!r} has no credentials", "target")
    if role_arn is None:
        return base, resolved_region
    from botocore.credentials import RefreshableCredentials

    sts = session.client("sts", region_name=resolved_region, endpoint_url=sts_endpoint_url)
    params = {
        "RoleArn": role_arn,
        "RoleSessionName": f"cloudinspect-{uuid.uuid4().hex[:12]}",
        "DurationSeconds": duration_s,
        **session_policy_params(session_policy),
    }

    def refresh() -> dict[str, str]:
        answer = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(refresh(), refresh, "assume-role")
    return credentials, resolved_region
