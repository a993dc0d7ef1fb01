"""Stand-ins for real AWS on the re-signing route (no internet here): a recording proxy in front of a moto server,
reached by injecting the re-signer's endpoint resolver, plus a planted canary profile and dummy-keyed clients.

The recorder keeps every request's Authorization header, so tests see which access key signed what reached the
upstream.
"""

from __future__ import annotations

import contextlib
import http.client
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from cloudinspect.sandbox.resign import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY

CANARY_KEY = "AKIACANARYEXAMPLE000"
CANARY_SECRET = "canary-secret-Zq7xW3resign-never-in-the-sandbox"  # noqa: S105 - a planted canary
CANARY_TOKEN = "canary-session-token-Pq9vT4-never-in-the-sandbox"  # noqa: S105 - a planted canary
ROLE = "arn:aws:iam::123456789012:role/cloudinspect-read-only"
CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Recorder:
    """A proxy in front of the emulator that records each request's method, path and Authorization header."""

    url: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)

    def keys(self) -> set[str]:
        found = (CREDENTIAL.search(r["authorization"]) for r in self.seen)
        return {m.group(1) for m in found if m}


@contextlib.contextmanager
def recording_upstream(target_url: str) -> Iterator[Recorder]:
    recorder = Recorder()
    parts = urlsplit(target_url)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorder.seen.append(
                {"method": self.command, "path": self.path, "authorization": self.headers.get("Authorization", "")}
            )
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            self.send_response_only(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("connection", "content-length", "transfer-encoding", "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            conn.close()

        do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


def plant_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, token: str | None = None) -> str:
    """A profile 'canary' (long-term keys, or temporary ones with `token`) in temporary AWS files of the parent."""
    creds, config = tmp_path / "credentials", tmp_path / "config"
    lines = ["[canary]", f"aws_access_key_id = {CANARY_KEY}", f"aws_secret_access_key = {CANARY_SECRET}"]
    if token:
        lines.append(f"aws_session_token = {token}")
    creds.write_text("\n".join(lines) + "\n")
    config.write_text("[profile canary]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return "canary"


def capturing_factory(captured: list[tuple[str, dict[str, Any]]]) -> Callable[..., Any]:
    """A boto3 session factory whose STS calls are captured as (operation, parameters) before they are sent."""

    def factory(**kwargs: Any) -> Any:
        session = boto3.session.Session(**kwargs)

        def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
            captured.append((model.name, dict(params["body"])))

        session.events.register("before-call.sts", capture)
        return session

    return factory


def dummy_client(service: str, url: str) -> Any:
    """A client holding only the dummy keys the sandbox's child gets, aimed at `url` (a bridge)."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def direct_ec2(url: str) -> Any:
    """A client straight to the emulator (checking its state; moto does not check signatures)."""
    return boto3.client(
        "ec2",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",  # noqa: S106
    )
