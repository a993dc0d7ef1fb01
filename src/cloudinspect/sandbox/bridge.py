"""The bridge: the sandbox's only way out, an HTTP forwarder that refuses every call that is not a read.

`start_bridge(upstream, socket_path, allow)` listens on a Unix socket (or, for tests, a loopback TCP port) in a
thread of the parent, outside the sandbox. Each request is attributed to its (service, operation) with botocore's
models (`protocols.attribute_request`); it is forwarded to the upstream endpoint only when every reading of it is
allowed, otherwise it gets HTTP 403 with an AWS error body in the request's own protocol, so that the SDK raises a
ClientError with code `ReadOnlyViolation` (a refused operation) or `UnattributedRequest` (a request the bridge
cannot attribute to an operation: unsigned, unknown service or route, the emulator's control API). Every request
is recorded in `Bridge.calls`, independently of anything the child reports about itself.

With `resign` (a `resign.Resigner`, for real AWS) there is no fixed upstream: each allowed request is rebuilt for
the real endpoint of its service and region and signed again with the parent's credentials (the child only ever
holds dummy ones); refusals happen before any signing.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from cloudinspect.errors import CloudInspectError
from cloudinspect.sandbox.protocols import Attribution, attribute_request, header_values, service_index, signing_scope

if TYPE_CHECKING:
    from cloudinspect.sandbox.resign import Resigner

Policy = Callable[[str, str], bool]

READ_ONLY_VIOLATION = "ReadOnlyViolation"
UNATTRIBUTED = "UnattributedRequest"
EMULATOR_UNSUPPORTED = "EmulatorUnsupported"
"""Recorded error code of an upstream HTTP 500 with an HTML page: moto does not implement the operation."""

READ_PREFIXES = (
    "Describe",
    "List",
    "Get",
    "Head",
    "Lookup",
    "Search",
    "Scan",
    "Query",
    "BatchGet",
    "Filter",
    "Select",
)
"""Operation-name prefixes of reads, the fallback when the IAM access data does not know an operation."""

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
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


class BridgeError(CloudInspectError):
    """The bridge could not start."""


class ResignError(Exception):
    """The re-signing bridge could not rebuild or sign an allowed request for the real endpoint."""


# --- policy --------------------------------------------------------------------------------------------------


def is_read_by_name(operation: str) -> bool:
    """Whether an operation's name says it reads (Describe*, List*, Get*, ...)."""
    return operation.startswith(READ_PREFIXES)


@lru_cache(maxsize=4096)
def _access_verdict(service: str, operation: str) -> bool | None:
    try:
        from cloudinspect.review.access import operation_access
    except ImportError:
        return None
    try:
        return operation_access(service, operation).read_only
    except Exception:
        return None


def read_only_policy_source() -> str:
    """Which data `default_read_only_policy` decides with: 'iam-access-levels' or 'name-prefixes'."""
    try:
        from cloudinspect.review.access import operation_access  # noqa: F401
    except ImportError:
        return "name-prefixes"
    return "iam-access-levels"


def default_read_only_policy(service: str, operation: str) -> bool:
    """Allow an operation when its IAM actions are all Read or List (cloudinspect.review.access); when the access
    data does not know the operation, when the name says it reads (Describe*, List*, Get*, ...)."""
    verdict = _access_verdict(service, operation)
    if verdict is not None:
        return verdict
    return is_read_by_name(operation)


# --- error bodies --------------------------------------------------------------------------------------------


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    size = len(data)
    if size < 24:
        head = bytes([0x60 | size])
    elif size < 0x100:
        head = bytes([0x78, size])
    elif size < 0x10000:
        head = bytes([0x79]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x7A]) + size.to_bytes(4, "big")
    return head + data


def error_response(
    protocol: str | None, service: str | None, code: str, message: str
) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of an AWS error reply that botocore parses into a ClientError with `code`, for the
    request's protocol (ec2, query, json, rest-json, rest-xml, smithy-rpc-v2-cbor)."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    json_version = "1.1"
    if service is not None and service in service_index():
        json_version = service_index()[service].json_version or "1.0"
    if protocol == "smithy-rpc-v2-cbor":
        body = b"\xa2" + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return headers, body
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [
            ("Content-Type", f"application/x-amz-json-{json_version}"),
            ("x-amzn-query-error", f"{code};Sender"),
        ]
        return headers, body
    if protocol == "rest-json":
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        return headers, json.dumps({"message": message, "code": code}).encode()
    code_x, message_x = escape(code), escape(message)
    if protocol == "ec2":
        text = (
            f"<Response><Errors><Error><Code>{code_x}</Code><Message>{message_x}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    elif protocol == "query":
        text = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code_x}</Code><Message>{message_x}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:
        text = f"<Error><Code>{code_x}</Code><Message>{message_x}</Message><RequestId>{request_id}</RequestId></Error>"
    headers.append(("Content-Type", "text/xml"))
    return headers, ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode()


_XML_CODE = re.compile(rb"<Code>([^<]{1,200})</Code>")


def upstream_error_code(status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
    """The AWS error code of an upstream reply, read cheaply (header, XML <Code> or JSON __type)."""
    if status < 400:
        return None
    lowered = {k.lower(): v for k, v in headers}
    if status >= 500 and "text/html" in lowered.get("content-type", ""):
        return EMULATOR_UNSUPPORTED
    if "x-amzn-errortype" in lowered:
        return lowered["x-amzn-errortype"].split(":")[0] or None
    found = _XML_CODE.search(body[:65536])
    if found is not None:
        return found.group(1).decode("utf-8", "replace")
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        document = json.loads(body[:65536])
        if isinstance(document, dict):
            code = document.get("__type") or document.get("code") or document.get("Code")
            if isinstance(code, str):
                return code.rsplit("#", 1)[-1]
    return f"HTTP{status}"


# --- the server ----------------------------------------------------------------------------------------------


@dataclass
class _Upstream:
    scheme: str
    host: str
    port: int
    base_path: str
    timeout: float
    local: threading.local = field(default_factory=threading.local)

    @classmethod
    def parse(cls, url: str, timeout: float) -> _Upstream:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BridgeError(f"the bridge forwards to an http(s) endpoint, not {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"), timeout)

    def connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            factory = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = factory(self.host, self.port, timeout=self.timeout)
            self.local.conn = conn
        return conn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudinspect-bridge"
    sys_version = ""
    timeout = 120.0
    bridge: Bridge

    def log_message(self, format: str, *args: Any) -> None:
        return

    def address_string(self) -> str:
        return "sandbox"

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        bridge = self.bridge
        start = time.perf_counter()
        raw_headers = [(k, v) for k, v in self.headers.items()]
        record: dict[str, Any] = {
            "service": None,
            "operation": None,
            "allowed": False,
            "status": 0,
            "error_code": None,
            "duration_ms": 0.0,
            "request_bytes": 0,
            "response_bytes": 0,
            "method": self.command,
        }
        headers: list[tuple[str, str]] = []
        status, payload, head, close = 502, b"", False, True
        try:
            body, refusal = self._read_body(bridge.max_request_bytes)
            record["request_bytes"] = len(body)
            attribution = attribute_request(self.command, self.path, raw_headers, body) if refusal is None else None
            if attribution is not None:
                record["service"], record["operation"] = attribution.service, attribution.operation
                record["protocol"] = attribution.wire_protocol
            verdict = refusal or self._verdict(attribution)
            if verdict is not None:
                code, reason = verdict
                record.update(error_code=code, reason=reason)
                if attribution is not None and len(attribution.candidates) > 1:
                    record["candidates"] = [f"{c.service}.{c.operation}" for c in attribution.candidates]
                protocol = attribution.wire_protocol if attribution is not None else None
                service = attribution.service if attribution is not None else None
                headers, payload = error_response(protocol, service, code, reason)
                status, close = 403, refusal is not None
            else:
                record["allowed"] = True
                assert attribution is not None  # noqa: S101 - allowed implies attributed
                status, headers, payload = self._forward(body, raw_headers, attribution)
                record["error_code"] = upstream_error_code(status, headers, payload)
                head, close = self.command == "HEAD", False
        except ResignError as exc:
            record.update(error_code="BridgeResignError", reason=str(exc)[:300])
            headers, payload = error_response(None, None, "BridgeResignError", "the bridge could not sign the request")
            status, head, close = 502, False, True
        except (OSError, http.client.HTTPException) as exc:
            record.update(error_code="BridgeUpstreamError", reason=str(exc)[:300])
            headers, payload = error_response(None, None, "BridgeUpstreamError", "the endpoint did not answer")
            status, head, close = 502, False, True
        # Recorded before the reply goes out, so that a caller who has its answer also finds the record.
        record.update(status=status, response_bytes=len(payload))
        record["duration_ms"] = round((time.perf_counter() - start) * 1000, 3)
        bridge._record(record)
        with contextlib.suppress(OSError):
            self._reply(status, headers, payload, head=head, close=close)

    def _verdict(self, attribution: Attribution | None) -> tuple[str, str] | None:
        assert attribution is not None  # noqa: S101 - a refusal short-circuits before
        if not attribution.attributed:
            return UNATTRIBUTED, f"cloudinspect bridge: request refused: {attribution.problem}"
        refused = [c for c in attribution.candidates if not self.bridge.allow(c.service, c.operation)]
        if refused:
            names = ", ".join(f"{c.service}:{c.operation}" for c in refused)
            return READ_ONLY_VIOLATION, f"cloudinspect bridge: read-only execution refused {names}"
        return None

    def _read_body(self, limit: int) -> tuple[bytes, tuple[str, str] | None]:
        if self.headers.get_all("Transfer-Encoding"):
            self.close_connection = True
            return b"", (UNATTRIBUTED, "cloudinspect bridge: chunked request bodies are not accepted")
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1:
            self.close_connection = True
            return b"", (UNATTRIBUTED, "cloudinspect bridge: several Content-Length headers")
        try:
            length = int(lengths[0]) if lengths else 0
        except ValueError:
            length = -1
        if length < 0 or length > limit:
            self.close_connection = True
            return b"", (UNATTRIBUTED, f"cloudinspect bridge: request body over {limit} bytes or malformed length")
        return (self.rfile.read(length) if length else b""), None

    def _forward(
        self, body: bytes, raw_headers: list[tuple[str, str]], attribution: Attribution
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        bridge = self.bridge
        if bridge.resign is not None:
            upstream, target, headers = bridge._resigned(self.command, self.path, raw_headers, body, attribution)
        else:
            if bridge.upstream is None:  # pragma: no cover - start_bridge requires one or the other
                raise BridgeError("the bridge has no upstream")
            upstream = bridge.upstream
            headers = [(k, v) for k, v in raw_headers if k.lower() not in _HOP_BY_HOP]
            target = upstream.base_path + self.path
        for attempt in (0, 1):
            conn = upstream.connection(fresh=attempt == 1)
            try:
                conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
                for key, value in headers:
                    conn.putheader(key, value)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                response = conn.getresponse()
                payload = response.read(self.bridge.max_response_bytes + 1)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive upstream connection the server has closed: retry once on a fresh one (only reads
                # are ever forwarded).
                if attempt == 1:
                    raise
                continue
            if len(payload) > self.bridge.max_response_bytes:
                conn.close()
                upstream.local.conn = None
                raise http.client.HTTPException(f"response over {self.bridge.max_response_bytes} bytes")
            if response.will_close:
                conn.close()
                upstream.local.conn = None
            return response.status, [(k, v) for k, v in response.getheaders()], payload
        raise AssertionError("unreachable")  # pragma: no cover

    def _reply(
        self, status: int, headers: list[tuple[str, str]], payload: bytes, *, head: bool = False, close: bool = False
    ) -> None:
        self.send_response_only(status)
        upstream_length = None
        for key, value in headers:
            lowered = key.lower()
            if lowered == "content-length":
                upstream_length = value
            if lowered in _HOP_BY_HOP or lowered in ("date", "server"):
                continue
            self.send_header(key, value)
        # A HEAD reply carries the length of the body it describes (S3 HeadObject's ContentLength).
        self.send_header("Content-Length", upstream_length if head and upstream_length else str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(payload)
        self.wfile.flush()


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False


class _TcpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


@dataclass
class Bridge:
    """A running bridge: where it listens, where it forwards, and every call it saw. A context manager."""

    upstream: _Upstream | None
    allow: Policy
    max_request_bytes: int
    max_response_bytes: int
    resign: Resigner | None = None
    upstream_timeout: float = 60.0
    _upstreams: dict[str, _Upstream] = field(default_factory=dict, repr=False)
    socket_path: Path | None = None
    tcp_address: tuple[str, int] | None = None
    _server: socketserver.BaseServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _calls: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def endpoint_url(self) -> str | None:
        """`http://127.0.0.1:PORT` for a TCP bridge (tests), None for a Unix-socket bridge."""
        return f"http://{self.tcp_address[0]}:{self.tcp_address[1]}" if self.tcp_address else None

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every request so far, oldest first: service, operation, allowed, status, error_code, duration_ms,
        request_bytes, response_bytes, method, protocol, and reason/candidates when refused (copies)."""
        with self._lock:
            return [dict(c) for c in self._calls]

    @property
    def blocked_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if not c["allowed"]]

    def _resigned(
        self, method: str, path: str, raw_headers: list[tuple[str, str]], body: bytes, attribution: Attribution
    ) -> tuple[_Upstream, str, list[tuple[str, str]]]:
        """The real endpoint, request target and re-signed headers of an allowed request (re-signing bridge)."""
        assert self.resign is not None  # noqa: S101 - only called when re-signing
        authorization = header_values(raw_headers, "Authorization")
        scope = signing_scope(authorization[0]) if authorization else None
        if attribution.service is None or attribution.signing_name is None:
            raise ResignError("the request is not attributed to a service")
        try:
            signed = self.resign.sign(
                method,
                path,
                raw_headers,
                body,
                service=attribution.service,
                signing_name=attribution.signing_name,
                region=scope[0] if scope else None,
            )
        except Exception as exc:
            raise ResignError(f"{type(exc).__name__}: {exc}") from exc
        parts = urlsplit(signed.url)
        base = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            upstream = self._upstreams.get(base)
            if upstream is None:
                upstream = self._upstreams[base] = _Upstream.parse(base, self.upstream_timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        return upstream, target, signed.headers

    def _record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(record)

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()

    def __enter__(self) -> Bridge:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def start_bridge(
    upstream_url: str | None,
    socket_path: Path | None,
    allow: Policy = default_read_only_policy,
    *,
    tcp_port: int | None = None,
    max_request_bytes: int = 16 << 20,
    max_response_bytes: int = 64 << 20,
    upstream_timeout: float = 60.0,
    resign: Resigner | None = None,
) -> Bridge:
    """Start a bridge in a daemon thread: listen on `socket_path` (mode 0666, so that the sandbox's unprivileged
    user can connect; protect it with its directory), or on 127.0.0.1:`tcp_port` when `socket_path` is None (0
    picks a free port; for tests), and forward allowed requests to `upstream_url`.

    `allow(service, operation)` decides each operation (botocore names: 'ec2', 'DescribeVpcs'); requests the
    bridge cannot attribute to an operation are refused whatever `allow` says.

    `resign`: forward to real AWS instead of `upstream_url` (which must then be None): each allowed request goes
    to its service's endpoint, re-signed with the resigner's credentials (see cloudinspect.sandbox.resign).
    """
    if (upstream_url is None) == (resign is None):
        raise BridgeError("a bridge forwards to an upstream URL or re-signs for AWS (resign=), exactly one")
    upstream = _Upstream.parse(upstream_url, upstream_timeout) if upstream_url is not None else None
    bridge = Bridge(upstream, allow, max_request_bytes, max_response_bytes, resign, upstream_timeout)
    handler = type("BridgeHandler", (_Handler,), {"bridge": bridge})
    server: socketserver.BaseServer
    if socket_path is not None:
        if tcp_port is not None:
            raise BridgeError("a bridge listens on a Unix socket or a TCP port, not both")
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        server = _UnixServer(str(socket_path), handler)
        os.chmod(socket_path, 0o666)  # noqa: S103 - the sandbox user must connect; the directory guards it
        bridge.socket_path = socket_path
    else:
        server = _TcpServer(("127.0.0.1", tcp_port or 0), handler)
        host, port = server.server_address[:2]
        bridge.tcp_address = (str(host), int(port))
    # Attribution needs the service index: build it before the first request is timed.
    service_index()
    bridge._server = server
    # A short poll interval: shutdown() waits for the serving loop's next poll, and a bridge lives for one
    # execution, so the default 0.5 s would be paid on every run.
    bridge._thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="cloudinspect-bridge", daemon=True
    )
    bridge._thread.start()
    return bridge


class UnixHTTPConnection(http.client.HTTPConnection):
    """An http.client connection over a Unix socket (for talking to a Unix-socket bridge from Python)."""

    def __init__(self, socket_path: Path, timeout: float = 60.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.socket_path))
        self.sock = sock
