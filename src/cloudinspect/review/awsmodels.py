"""botocore's service models and boto3's resource models, loaded lazily once per process and cached.

Everything the `api` analysis knows about AWS comes from here: service names, operations (PascalCase in the
model, snake_case in Python via botocore's `xform_name`), input shapes, paginators, waiters, error shapes, and
boto3's resource definitions (`boto3/data/<service>/<version>/resources-1.json`). Nothing is hand-written except
the few methods boto3 injects at runtime (S3 transfer helpers, DynamoDB's batch writer, EC2 tag helpers).
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from botocore.loaders import Loader
    from botocore.model import OperationModel, ServiceModel, Shape
    from botocore.session import Session

# botocore sessions and loaders are not documented as thread-safe: model loading is serialised.
_LOCK = threading.RLock()


@cache
def _session() -> Session:
    import botocore.session

    return botocore.session.get_session()


@cache
def _resource_loader() -> Loader:
    import boto3
    import botocore.loaders

    # The same search path boto3.Session adds for its resource models, on a loader of our own.
    return botocore.loaders.create_loader(str(Path(boto3.__file__).parent / "data"))


def xform(name: str) -> str:
    """botocore's PascalCase -> snake_case transform (`DescribeInstances` -> `describe_instances`)."""
    from botocore import xform_name

    return str(xform_name(name))


@cache
def service_names() -> frozenset[str]:
    """Every service name `boto3.client()` accepts."""
    with _LOCK:
        return frozenset(_session().get_available_services())


def resolve_service(name: str) -> str | None:
    """The botocore service name for `name` (applying botocore's aliases), or None if there is no such service."""
    from botocore.utils import SERVICE_NAME_ALIASES

    name = SERVICE_NAME_ALIASES.get(name, name)
    return name if name in service_names() else None


# Names models confuse with real service names; difflib alone does not find these.
SERVICE_ALIASES: dict[str, str] = {
    "cloudwatchlogs": "logs",
    "cloudwatch-logs": "logs",
    "cloudwatch_logs": "logs",
    "cwlogs": "logs",
    "log": "logs",
    "monitoring": "cloudwatch",
    "cloudwatch-metrics": "cloudwatch",
    "metrics": "cloudwatch",
    "cw": "cloudwatch",
    "awslambda": "lambda",
    "lambda_": "lambda",
    "lambdas": "lambda",
    "alb": "elbv2",
    "nlb": "elbv2",
    "elb2": "elbv2",
    "elbv2-client": "elbv2",
    "elasticloadbalancingv2": "elbv2",
    "elasticloadbalancing": "elb",
    "secretmanager": "secretsmanager",
    "secrets": "secretsmanager",
    "secrets-manager": "secretsmanager",
    "parameterstore": "ssm",
    "parameter-store": "ssm",
    "systemsmanager": "ssm",
    "costexplorer": "ce",
    "cost-explorer": "ce",
    "eventbridge": "events",
    "cloudwatchevents": "events",
    "cloudwatch-events": "events",
    "stepfunction": "stepfunctions",
    "step-functions": "stepfunctions",
    "sfn": "stepfunctions",
    "dynamo": "dynamodb",
    "ddb": "dynamodb",
    "key-management-service": "kms",
    "simple-queue-service": "sqs",
    "sns-topics": "sns",
    "cognito": "cognito-idp",
    "cloudfront-distributions": "cloudfront",
    "elasticsearch": "opensearch",
    "autoscale": "autoscaling",
    "auto-scaling": "autoscaling",
    "ec2-autoscaling": "autoscaling",
    "apigatewayv2-client": "apigatewayv2",
    "api-gateway": "apigateway",
    "route-53": "route53",
    "certificatemanager": "acm",
    "certificate-manager": "acm",
    "guard-duty": "guardduty",
    "securityhubs": "securityhub",
    "config-service": "config",
    "configservice": "config",
    "awsconfig": "config",
    "trail": "cloudtrail",
    "organisations": "organizations",
    "ecs-fargate": "ecs",
    "kubernetes": "eks",
}


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest_service(name: str) -> list[str]:
    """Likely intended service names for an unknown one ('cloudwatchlogs' -> ['logs'])."""
    known = service_names()
    found: list[str] = []
    alias = SERVICE_ALIASES.get(name.lower()) or SERVICE_ALIASES.get(_normalise(name))
    if alias and alias in known:
        found.append(alias)
    by_norm: dict[str, str] = {}
    for svc in sorted(known):
        by_norm.setdefault(_normalise(svc), svc)
    if _normalise(name) in by_norm:
        found.append(by_norm[_normalise(name)])
    found += difflib.get_close_matches(name.lower(), sorted(known), n=3, cutoff=0.6)
    return list(dict.fromkeys(found))[:3]


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of a service (latest API version)."""
    with _LOCK:
        return _session().get_service_model(service)


@cache
def operations(service: str) -> dict[str, str]:
    """snake_case Python method name -> PascalCase operation name, for every operation of the service."""
    return {xform(op): op for op in service_model(service).operation_names}


def operation_model(service: str, operation: str) -> OperationModel:
    """The model of one operation (PascalCase name)."""
    with _LOCK:
        return service_model(service).operation_model(operation)


def input_shape(service: str, operation: str) -> Shape | None:
    """The input structure of an operation, or None when it takes no input."""
    return operation_model(service, operation).input_shape


@dataclass(frozen=True)
class PaginatorInfo:
    """A paginator: its operation and the parameters it manages itself."""

    operation: str
    input_tokens: tuple[str, ...]
    limit_key: str | None


@cache
def paginators(service: str) -> dict[str, PaginatorInfo]:
    """snake_case paginator name (as passed to `get_paginator`) -> its description."""
    from botocore.exceptions import DataNotFoundError, UnknownServiceError

    with _LOCK:
        try:
            loader: Loader = _session().get_component("data_loader")
            data: dict[str, Any] = loader.load_service_model(service, "paginators-1")
        except (DataNotFoundError, UnknownServiceError):
            return {}
    found = {}
    for op, cfg in data.get("pagination", {}).items():
        tokens = cfg.get("input_token", [])
        tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        found[xform(op)] = PaginatorInfo(op, tuple(tokens), cfg.get("limit_key"))
    return found


@dataclass(frozen=True)
class WaiterInfo:
    """A waiter: its model name and the operation it polls."""

    name: str
    operation: str


@cache
def waiters(service: str) -> dict[str, WaiterInfo]:
    """snake_case waiter name (as passed to `get_waiter`) -> its description."""
    from botocore.exceptions import UnknownServiceError

    with _LOCK:
        try:
            model = _session().get_waiter_model(service)
        except UnknownServiceError:
            return {}
        return {xform(name): WaiterInfo(name, model.get_waiter(name).operation) for name in model.waiter_names}


@cache
def error_names(service: str) -> frozenset[str]:
    """Exception class names available on `client.exceptions` for the service."""
    with _LOCK:
        return frozenset(shape.name for shape in service_model(service).error_shapes)


def auto_populated(service: str, shape: Shape) -> set[str]:
    """Required members botocore fills in itself (idempotency tokens, Glacier's account id)."""
    members: dict[str, Shape] = getattr(shape, "members", {})
    filled = {name for name, member in members.items() if member.metadata.get("idempotencyToken")}
    if service == "glacier":
        filled.add("accountId")
    return filled


# Common services searched when an operation is missing from the one it was called on ("exists in 'cloudwatch'").
_NEIGHBOUR_SERVICES = (
    "ec2",
    "s3",
    "iam",
    "logs",
    "cloudwatch",
    "lambda",
    "dynamodb",
    "elbv2",
    "elb",
    "ecs",
    "rds",
    "sns",
    "sqs",
    "kms",
    "secretsmanager",
    "ssm",
    "sts",
    "autoscaling",
    "cloudtrail",
)

_VERB_SWAPS = {"list": ("describe", "get"), "describe": ("list", "get"), "get": ("describe", "list")}


def suggest_operation(service: str, method: str) -> list[str]:
    """Likely intended snake_case operations of `service` for an unknown `method`."""
    ops = operations(service)
    return suggest_name(method, list(ops))


def suggest_name(wanted: str, candidates: list[str], n: int = 3) -> list[str]:
    """Close matches for `wanted`: same name in another case, a swapped verb (list/describe/get), then difflib."""
    found: list[str] = []
    lowered = {c.lower(): c for c in candidates}
    snake = xform(wanted) if wanted[:1].isupper() else wanted
    for probe in (wanted.lower(), snake.lower(), _normalise(wanted)):
        if probe in lowered:
            found.append(lowered[probe])
    flat = {_normalise(c): c for c in candidates}
    if _normalise(wanted) in flat:
        found.append(flat[_normalise(wanted)])
    verb, _, rest = snake.partition("_")
    for other in _VERB_SWAPS.get(verb, ()):
        if f"{other}_{rest}" in candidates:
            found.append(f"{other}_{rest}")
    found += difflib.get_close_matches(snake, candidates, n=n, cutoff=0.6)
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    found += [by_lower[c] for c in difflib.get_close_matches(wanted.lower(), list(by_lower), n=n, cutoff=0.6)]
    return list(dict.fromkeys(found))[:n]


def services_with_operation(method: str, exclude: str) -> list[str]:
    """Common services that do have `method` (snake_case), for 'it exists in service X' hints."""
    return [svc for svc in _NEIGHBOUR_SERVICES if svc != exclude and method in operations(svc)]


# ---------------------------------------------------------------------------------------------- boto3 resources

MemberKind = Literal[
    "action", "load", "subresource", "reference", "collection", "waiter", "attribute", "identifier", "custom", "meta"
]


@dataclass(frozen=True)
class ResourceMember:
    """One attribute or method of a boto3 resource, with the client operation(s) behind it."""

    kind: MemberKind
    name: str
    operations: tuple[str, ...] = ()
    fixed: frozenset[str] = frozenset()
    resource: str | None = None
    inputs: int = 0
    waiter: str | None = None


@dataclass(frozen=True)
class ResourceInfo:
    """A boto3 resource class (or the service resource, `name == 'ServiceResource'`)."""

    service: str
    name: str
    members: dict[str, ResourceMember]
    batch_actions: dict[str, ResourceMember] = field(default_factory=dict)


# Methods boto3 injects at runtime (boto3/session.py `_register_default_handlers`), with the operations they call.
_INJECTED: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("s3", "Bucket"): {
        "load": ("ListBuckets",),
        "upload_file": ("PutObject",),
        "upload_fileobj": ("PutObject",),
        "download_file": ("HeadObject", "GetObject"),
        "download_fileobj": ("HeadObject", "GetObject"),
        "copy": ("HeadObject", "CopyObject"),
    },
    ("s3", "Object"): {
        "upload_file": ("PutObject",),
        "upload_fileobj": ("PutObject",),
        "download_file": ("HeadObject", "GetObject"),
        "download_fileobj": ("HeadObject", "GetObject"),
        "copy": ("HeadObject", "CopyObject"),
    },
    ("s3", "ObjectSummary"): {"load": ("HeadObject",)},
    ("dynamodb", "Table"): {"batch_writer": ("BatchWriteItem",)},
    ("ec2", "ServiceResource"): {"create_tags": ("CreateTags",)},
    ("ec2", "Instance"): {"delete_tags": ("DeleteTags",)},
}

# Client methods that are not operations of the model, with the operations they call (if any).
CLIENT_HELPERS: dict[str, tuple[str, ...]] = {
    "get_paginator": (),
    "can_paginate": (),
    "get_waiter": (),
    "generate_presigned_url": (),
    "generate_presigned_post": (),
    "close": (),
    "meta": (),
    "exceptions": (),
    "waiter_names": (),
}
S3_CLIENT_HELPERS: dict[str, tuple[str, ...]] = {
    "upload_file": ("PutObject",),
    "upload_fileobj": ("PutObject",),
    "download_file": ("HeadObject", "GetObject"),
    "download_fileobj": ("HeadObject", "GetObject"),
    "copy": ("HeadObject", "CopyObject"),
}


def client_helpers(service: str) -> dict[str, tuple[str, ...]]:
    """Helper methods of a client of this service that are not model operations."""
    return {**CLIENT_HELPERS, **S3_CLIENT_HELPERS} if service == "s3" else CLIENT_HELPERS


@cache
def _resource_definitions(service: str) -> dict[str, Any] | None:
    from botocore.exceptions import DataNotFoundError, UnknownServiceError

    with _LOCK:
        try:
            data: dict[str, Any] = _resource_loader().load_service_model(service, "resources-1")
        except (DataNotFoundError, UnknownServiceError):
            return None
    return data


def has_resources(service: str) -> bool:
    """Whether `boto3.resource(service)` exists."""
    return _resource_definitions(service) is not None


@cache
def resource_services() -> tuple[str, ...]:
    """Services with a boto3 resource interface."""
    import boto3

    root = Path(boto3.__file__).parent / "data"
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*/resources-1.json"))))


def _top_level(target: str) -> str:
    return re.split(r"[\[.]", target, maxsplit=1)[0]


def _fixed(request: Any) -> frozenset[str]:
    return frozenset(_top_level(p.target) for p in request.params) if request is not None else frozenset()


@cache
def resource_info(service: str, name: str | None) -> ResourceInfo | None:
    """The members of a boto3 resource (`name=None`: the service resource), or None if it does not exist."""
    from boto3.resources.model import ResourceModel

    defs = _resource_definitions(service)
    if defs is None:
        return None
    resources: dict[str, Any] = defs.get("resources", {})
    model: Any
    if name is None:
        model = ResourceModel(service, defs["service"], resources)
        shape = None
    elif name in resources:
        model = ResourceModel(name, resources[name], resources)
        with _LOCK:
            shape = service_model(service).shape_for(model.shape) if model.shape else None
    else:
        return None
    model.load_rename_map(shape)
    members: dict[str, ResourceMember] = {"meta": ResourceMember("meta", "meta")}
    members["get_available_subresources"] = ResourceMember("custom", "get_available_subresources")
    if shape is not None:
        for attr in model.get_attributes(shape):
            members[attr] = ResourceMember("attribute", attr)
    for ident in model.identifiers:
        members[ident.name] = ResourceMember("identifier", ident.name)
    for wait in model.waiters:
        info = waiters(service).get(xform(wait.waiter_name))
        polled = (info.operation,) if info else ()
        members[wait.name] = ResourceMember("waiter", wait.name, polled, _fixed(wait), waiter=wait.waiter_name)
    for coll in model.collections:
        members[coll.name] = ResourceMember(
            "collection", coll.name, (coll.request.operation,), _fixed(coll.request), resource=coll.resource.type
        )
    for ref in model.references:
        members[ref.name] = ResourceMember("reference", ref.name, resource=ref.resource.type)
    for sub in model.subresources:
        inputs = sum(1 for i in sub.resource.identifiers if i.source == "input")
        members[sub.name] = ResourceMember("subresource", sub.name, resource=sub.resource.type, inputs=inputs)
    for act in model.actions:
        res = act.resource.type if act.resource is not None else None
        members[act.name] = ResourceMember("action", act.name, (act.request.operation,), _fixed(act.request), res)
    if model.load is not None:
        load = ResourceMember("load", "load", (model.load.request.operation,), _fixed(model.load.request))
        members["load"] = load
        members["reload"] = ResourceMember("load", "reload", load.operations, load.fixed)
    for method, ops in _INJECTED.get((service, name or "ServiceResource"), {}).items():
        kind: MemberKind = "load" if method == "load" else "custom"
        members[method] = ResourceMember(kind, method, ops)
        if method == "load":
            members["reload"] = ResourceMember("load", "reload", ops)
    batch = {
        act.name: ResourceMember("action", act.name, (act.request.operation,), _fixed(act.request))
        for act in model.batch_actions
    }
    return ResourceInfo(service, name or "ServiceResource", members, batch)
