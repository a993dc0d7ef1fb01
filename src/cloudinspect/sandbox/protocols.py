"""Which AWS API operation an HTTP request calls, decided with botocore's own service models.

The bridge between the sandbox and the endpoint must refuse writes even when the child bypasses boto3, so it
cannot trust anything the child says about itself. It reads the request the way the endpoint will: the service
from the SigV4 credential scope (as moto's dispatcher does), then the operation by every route the endpoint might
take, namely `Action=` in the query string or a form or JSON body (query and ec2 protocols, and moto's generic
dispatch, which honours `Action` for every service), `X-Amz-Target: Prefix.Operation` (JSON), the path
`/service/<Prefix>/operation/<Operation>` (smithy-rpc-v2-cbor), and method plus URI template (REST-JSON and
REST-XML, S3 in path and virtual-host style).

A request gets *every* interpretation that fits, not only the most likely one: the caller allows it only when
all of them are allowed, so a request crafted to look like a read to one parser and a write to another is
refused. A request that cannot be attributed at all (no SigV4 scope, an unknown signing name, a route that no
operation of the service matches, the emulator's control API) has `problem` set and is refused too.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

REST_PROTOCOLS = frozenset({"rest-json", "rest-xml"})

# moto routes some signing names to a differently named backend (moto_server/werkzeug_app.py SIGNING_ALIASES):
# the bridge adds those services as candidates so that it reads the request as moto will.
MOTO_SIGNING_ALIASES: dict[str, tuple[str, ...]] = {
    "eventbridge": ("events",),
    "execute-api": ("iot",),
    "iotdata": ("iot-data",),
    "mobiletargeting": ("pinpoint",),
    "payment-cryptography": ("payment-cryptography",),
}

# Paths of the emulator's own control and metadata APIs (moto dispatches them before looking at any signature).
_CONTROL_PATHS = ("moto-api", "/latest/meta-data", "/latest/api", "/latest/dynamic", "/favicon.ico")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)/?$")
_BODY_PARSE_LIMIT = 1 << 20


@dataclass(frozen=True)
class Operation:
    """One reading of a request: this service's operation, as the named protocol routes it."""

    service: str
    operation: str
    protocol: str


@dataclass(frozen=True)
class Attribution:
    """Every operation a request may call (the most likely first), or why it cannot be attributed."""

    signing_name: str | None
    candidates: tuple[Operation, ...] = ()
    problem: str | None = None
    wire_protocol: str | None = None
    """The protocol the request is written in (for shaping an error reply the SDK can parse)."""

    @property
    def attributed(self) -> bool:
        return self.problem is None and bool(self.candidates)

    @property
    def service(self) -> str | None:
        return self.candidates[0].service if self.candidates else None

    @property
    def operation(self) -> str | None:
        return self.candidates[0].operation if self.candidates else None


@dataclass(frozen=True)
class ServiceInfo:
    """A botocore service's metadata: what the bridge needs to route requests to it."""

    name: str
    signing_name: str
    protocols: tuple[str, ...]
    api_version: str
    target_prefix: str | None
    json_version: str | None

    @property
    def protocol(self) -> str:
        """The protocol botocore uses for the service (first of botocore's priority order it supports)."""
        from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS

        for protocol in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS:
            if protocol in self.protocols:
                return str(protocol)
        return self.protocols[0]


# --- service index -------------------------------------------------------------------------------------------


def _read_metadata(loader: Any, service: str) -> dict[str, Any]:
    """The `metadata` object of a service model, read from the head of its file (loading all ~450 models to learn
    their signing names would take seconds); falls back to a full load when the head does not hold it."""
    versions = loader.list_api_versions(service, "service-2")
    version = sorted(versions)[-1]
    for base in loader.search_paths:
        for suffix, opener in ((".json.gz", gzip.open), (".json", open)):
            path = Path(base) / service / version / f"service-2{suffix}"
            if not path.is_file():
                continue
            with opener(path, "rt", encoding="utf-8") as handle:
                head = handle.read(16384)
            start = head.find('"metadata"')
            if start >= 0:
                brace = head.find("{", start)
                try:
                    metadata, _ = json.JSONDecoder().raw_decode(head, brace)
                except ValueError:
                    break
                if isinstance(metadata, dict):
                    return metadata
            break
    model = loader.load_service_model(service, "service-2", version)
    return dict(model["metadata"])


@cache
def service_index() -> dict[str, ServiceInfo]:
    """Every botocore service, by botocore name (built once per process)."""
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    index: dict[str, ServiceInfo] = {}
    for name in loader.list_available_services("service-2"):
        meta = _read_metadata(loader, name)
        protocols = tuple(meta.get("protocols") or [meta.get("protocol", "")])
        index[name] = ServiceInfo(
            name=name,
            signing_name=str(meta.get("signingName") or meta.get("endpointPrefix") or name).lower(),
            protocols=protocols,
            api_version=str(meta.get("apiVersion", "")),
            target_prefix=meta.get("targetPrefix"),
            json_version=meta.get("jsonVersion"),
        )
    return index


@cache
def services_for_signing_name(signing_name: str) -> tuple[str, ...]:
    """The botocore services a SigV4 scope's service name may mean (elasticloadbalancing: elb and elbv2)."""
    wanted = signing_name.lower()
    index = service_index()
    names = {info.name for info in index.values() if info.signing_name == wanted}
    if wanted in index:
        names.add(wanted)
    names.update(n for n in MOTO_SIGNING_ALIASES.get(wanted, ()) if n in index)
    return tuple(sorted(names))


# --- per-service routes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]
    """Query keys the URI template requires: (key, None) for a bare flag, (key, value) for key=value."""
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    """Lower-case names of headers bound to required input members (S3 CopyObject's x-amz-copy-source)."""
    specificity: tuple[int, int, int]


@dataclass(frozen=True)
class ServiceRoutes:
    """A service's operation names and REST routes (most specific first)."""

    info: ServiceInfo
    operations: frozenset[str]
    routes: tuple[_Route, ...]

    def match(self, method: str, path: str, query: dict[str, list[str]], headers: frozenset[str]) -> list[str]:
        """Operations whose method, URI template and required query and header members fit, most specific first."""
        found: list[str] = []
        for route in self.routes:
            if route.method != method or not route.path.match(path):
                continue
            if any(k not in query or (v is not None and v not in query[k]) for k, v in route.query):
                continue
            if any(k not in query for k in route.required_query):
                continue
            if any(h not in headers for h in route.required_headers):
                continue
            found.append(route.operation)
        return found


def _path_regex(template: str) -> tuple[re.Pattern[str], int, int]:
    parts: list[str] = []
    literal = 0
    greedy = 0
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            if piece.endswith("+}"):
                greedy += 1
                parts.append(r".+")
            else:
                parts.append(r"[^/]+")
        elif piece:
            literal += len(piece.strip("/"))
            parts.append(re.escape(piece))
    pattern = "".join(parts).rstrip("/")
    return re.compile(f"^{pattern}/?$"), literal, greedy


def _query_template(text: str) -> tuple[tuple[str, str | None], ...]:
    keys: list[tuple[str, str | None]] = []
    for item in text.split("&"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if key == "x-id":  # botocore's own operation marker for S3; not every client sends it
            continue
        keys.append((key, value if sep else None))
    return tuple(keys)


_routes_lock = threading.Lock()


def service_routes(service: str) -> ServiceRoutes:
    """The routes of one service, built from its botocore model once and cached (thread-safe)."""
    with _routes_lock:
        return _service_routes(service)


@cache
def _service_routes(service: str) -> ServiceRoutes:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    info = service_index()[service]
    routes: list[_Route] = []
    for name in model.operation_names:
        op = model.operation_model(name)
        http = op.http
        if "requestUri" not in http:
            continue
        path_template, _, query_text = str(http["requestUri"]).partition("?")
        regex, literal, greedy = _path_regex(path_template)
        query = _query_template(query_text)
        required: list[str] = []
        required_headers: list[str] = []
        shape = op.input_shape
        if shape is not None:
            for member_name, member in shape.members.items():
                if member_name not in shape.required_members:
                    continue
                location = member.serialization.get("location")
                wire_name = str(member.serialization.get("name", member_name))
                if location == "querystring":
                    required.append(wire_name)
                elif location == "header":
                    required_headers.append(wire_name.lower())
        specificity = (len(query) + len(required) + len(required_headers), literal, -greedy)
        routes.append(
            _Route(
                name,
                str(http.get("method", "POST")),
                regex,
                query,
                tuple(required),
                tuple(required_headers),
                specificity,
            )
        )
    routes.sort(key=lambda r: r.specificity, reverse=True)
    return ServiceRoutes(info, frozenset(model.operation_names), tuple(routes))


# --- attribution ---------------------------------------------------------------------------------------------


def header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value of a header (case-insensitive), in order."""
    lowered = name.lower()
    return [v for k, v in headers if k.lower() == lowered]


def signing_scope(authorization: str) -> tuple[str, str] | None:
    """(region, service) of a SigV4 Authorization header, parsed exactly as moto's dispatcher parses it."""
    try:
        credential_scope = authorization.split(",", maxsplit=1)[0].split()[1]
        _, _, region, service, _ = credential_scope.split("/")
    except (IndexError, ValueError):
        return None
    if not authorization.startswith("AWS4-HMAC-SHA256 Credential="):
        return None
    return region, service.lower()


def _actions(query: dict[str, list[str]], body: bytes, content_type: str) -> list[str]:
    actions = list(query.get("Action", []))
    if not body or len(body) > _BODY_PARSE_LIMIT:
        return actions
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return actions
    if "Action" not in text:
        return actions
    actions.extend(v for k, v in parse_qsl(text, keep_blank_values=True) if k == "Action")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("Action"), str):
            actions.append(document["Action"])
    return actions


def _query_dict(query_text: str) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_text, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return query


def _virtual_bucket(host: str) -> str | None:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else ""
    if "." not in name or re.fullmatch(r"[0-9.]+", name):
        return None
    return name.split(".", 1)[0] or None


def _by_name(
    feature: str, names: Iterable[str], services: Sequence[ServiceRoutes], protocol: str, prefer: str | None = None
) -> tuple[list[Operation], list[str]]:
    found: list[Operation] = []
    problems: list[str] = []
    for name in names:
        matches = [s for s in services if name in s.operations]
        if not matches:
            problems.append(f"{feature} {name!r} is no operation of {', '.join(s.info.name for s in services)}")
            continue
        matches.sort(
            key=lambda s: (
                0 if prefer is not None and prefer in (s.info.api_version, s.info.target_prefix) else 1,
                0 if s.info.name == s.info.signing_name else 1,
            )
        )
        found.extend(Operation(s.info.name, name, protocol if protocol else s.info.protocol) for s in matches)
    return found, problems


def attribute_request(method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes) -> Attribution:
    """Every (service, operation) an HTTP request may call, the most likely first, or the reason it has none.

    `target` is the request target as sent (path and query, percent-encoded); `headers` the raw header list, so
    that repeated headers (which two parsers may resolve differently) are seen.
    """
    path, _, query_text = target.partition("?")
    decoded_path = unquote(path)
    if not target.startswith("/"):
        return Attribution(None, problem="the request target is not a path (absolute or authority form)")
    if any(marker in decoded_path for marker in _CONTROL_PATHS):
        return Attribution(None, problem="the emulator's control or metadata API is not reachable from the sandbox")
    authorization = header_values(headers, "Authorization")
    if len(authorization) != 1:
        why = "unsigned request" if not authorization else "several Authorization headers"
        return Attribution(None, problem=f"{why}: only SigV4-signed requests can be attributed to an operation")
    for name in ("Host", "X-Amz-Target", "Content-Type", "smithy-protocol"):
        if len(header_values(headers, name)) > 1:
            return Attribution(None, problem=f"several {name} headers")
    scope = signing_scope(authorization[0])
    if scope is None:
        return Attribution(None, problem="the Authorization header is not a SigV4 credential scope")
    signing_name = scope[1]
    names = services_for_signing_name(signing_name)
    if not names:
        return Attribution(signing_name, problem=f"no botocore service signs as {signing_name!r}")
    services = [service_routes(n) for n in names]
    query = _query_dict(query_text)
    content_type = (header_values(headers, "Content-Type") or [""])[0].lower()
    found: list[Operation] = []
    problems: list[str] = []
    wire: str | None = None

    cbor = _CBOR_PATH.match(path)
    if cbor is not None:
        wire = "smithy-rpc-v2-cbor"
        ops, trouble = _by_name("cbor path operation", [unquote(cbor.group(2))], services, wire, unquote(cbor.group(1)))
        found += ops
        problems += trouble
    targets = header_values(headers, "X-Amz-Target")
    if targets:
        wire = wire or "json"
        prefix = targets[0].rsplit(".", 1)[0] if "." in targets[0] else None
        ops, trouble = _by_name("X-Amz-Target operation", [t.split(".")[-1] for t in targets], services, "json", prefix)
        found += ops
        problems += trouble
    actions = _actions(query, body, content_type)
    if actions:
        versions = query.get("Version") or _query_dict(body.decode("utf-8", "replace")).get("Version") or []
        ops, trouble = _by_name("Action", actions, services, "", versions[0] if versions else None)
        if wire is None and ops:
            wire = "ec2" if ops[0].service == "ec2" else "query"
        found += ops
        problems += trouble
    rest = [s for s in services if REST_PROTOCOLS & set(s.info.protocols)]
    if rest:
        paths = [path]
        host = (header_values(headers, "Host") or [""])[0]
        bucket = _virtual_bucket(host)
        if bucket is not None and any(s.info.name == "s3" for s in rest):
            paths.append(f"/{bucket}{path}" if path != "/" else f"/{bucket}")
        matched: list[Operation] = []
        present = frozenset(k.lower() for k, _ in headers)
        for service in rest:
            for candidate_path in paths:
                protocol = "rest-json" if "rest-json" in service.info.protocols else "rest-xml"
                matched += [
                    Operation(service.info.name, op, protocol)
                    for op in service.match(method, candidate_path, query, present)
                ]
        if matched:
            wire = wire or matched[0].protocol
            found += sorted(set(matched), key=matched.index)
        elif not found:
            problems.append(f"{method} {path} matches no operation of {', '.join(s.info.name for s in rest)}")
    if problems:
        return Attribution(signing_name, tuple(found), "; ".join(problems), wire or services[0].info.protocol)
    if not found:
        return Attribution(
            signing_name,
            problem="no Action, X-Amz-Target, RPC path or REST route names an operation",
            wire_protocol=services[0].info.protocol,
        )
    return Attribution(signing_name, tuple(dict.fromkeys(found)), None, wire)
