"""Real botocore-signed requests, captured at `before-send` so that nothing is sent anywhere."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config


@dataclass(frozen=True)
class Captured:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


class _Sent(Exception):
    pass


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


_seen: list[Captured] = []


def _on_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
    rest = request.url.split("://", 1)[1]
    host, slash, path = rest.partition("/")
    headers = [(k, _text(v)) for k, v in request.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(("Host", host))
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    data = body.encode() if isinstance(body, str) else (body or b"")
    _seen.append(Captured(request.method, slash + path, headers, data))
    raise _Sent


@cache
def _client(service: str, endpoint_url: str, addressing: str | None) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - dummy
        region_name="us-east-1",
    )
    config = Config(s3={"addressing_style": addressing}) if addressing else None
    client: Any = session.client(service, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]
    client.meta.events.register("before-send", _on_send)
    return client


def capture(
    service: str,
    operation: str,
    params: dict[str, Any] | None = None,
    *,
    endpoint_url: str = "http://127.0.0.1:4566",
    addressing: str | None = None,
) -> Captured:
    """The HTTP request botocore sends for `client.<operation>(**params)`, signed, without sending it."""
    _seen.clear()
    with contextlib.suppress(_Sent):
        getattr(_client(service, endpoint_url, addressing), operation)(**(params or {}))
    return _seen[0]
