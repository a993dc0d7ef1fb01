"""Patches applied to moto inside the emulator's server process only (never in the caller's process).

Three kinds, all small and checked by tests/cloud:

- Fidelity: list operations that moto answers in one page although AWS pages them by default. Inspection code
  that forgets to paginate must see the same truncated first page it would see on AWS:
  IAM ListUsers (100 per page, Marker), Lambda ListFunctions (50, NextMarker), KMS ListKeys (100, NextMarker).
- Speed: moto lists its own package directory and tries every service's URL regex on *each* request to find the
  backend for a host; both results never change while the server runs, so they are cached (about 1 ms a
  request, a tenth of the seeding time). CloudWatch ListMetrics deduplicates with a list scan per datum and
  GetMetricData scans every datum once per period: quadratic, minutes for a day of data from a few hundred
  series. Both are replaced by one pass over the datums, same results (ListMetrics additionally deduplicates
  metrics without dimensions, as AWS does; GetMetricData also matches the namespace when dimensions are given).
- State that AWS derives from time or traffic and moto cannot produce, set by the seeder through private
  endpoints under /moto-api/cloudinspect/ (JSON bodies, see `STATE_PATHS`): an access key's creation and
  last-used dates (moto stamps every key "now" and never records use), and the health of a registered target
  (moto reports every running instance healthy, having no health checks to fail).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

STATE_PATHS = {
    "access_key": "/moto-api/cloudinspect/access-key",
    "target_health": "/moto-api/cloudinspect/target-health",
}
"""Private endpoints of the seeder (POST, JSON): an access key's history, a target's health."""


def _page(items: list[Any], marker: str | None, size: int) -> tuple[list[Any], str | None]:
    """One page of `items` from an index marker; the next marker, or None on the last page."""
    try:
        start = max(0, int(marker)) if marker else 0
    except ValueError:
        start = 0
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _iam_list_users(self: Any) -> Any:
    from moto.core.responses import ActionResult

    max_items = int(self._get_param("MaxItems") or 100)
    users = list(self.backend.list_users(self._get_param("PathPrefix"), None, None))
    page, marker = _page(users, self._get_param("Marker"), max_items)
    result: dict[str, Any] = {"Users": page, "IsTruncated": marker is not None}
    if marker is not None:
        result["Marker"] = marker
    return ActionResult(result)


def _lambda_list_functions(self: Any) -> str:
    query = self.querystring
    version = query.get("FunctionVersion", [None])[0]
    # AWS returns at most 50 functions a page, whatever MaxItems asks for.
    size = min(int(query.get("MaxItems", [50])[0]), 50)
    page, marker = _page(list(self.backend.list_functions(version)), query.get("Marker", [None])[0], size)
    result: dict[str, Any] = {"Functions": [fn.get_configuration() for fn in page]}
    if marker is not None:
        result["NextMarker"] = marker
    return json.dumps(result)


def _kms_list_keys(self: Any) -> str:
    size = int(self._get_param("Limit") or 100)
    page, marker = _page(list(self.kms_backend.list_keys()), self._get_param("Marker"), size)
    result: dict[str, Any] = {"Keys": [{"KeyArn": k.arn, "KeyId": k.id} for k in page], "Truncated": marker is not None}
    if marker is not None:
        result["NextMarker"] = marker
    return json.dumps(result)


def _dimension_key(dimensions: list[Any]) -> frozenset[tuple[str | None, str | None]]:
    return frozenset((d.name, d.value) for d in dimensions)


def _get_filtered_metrics(self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]) -> list[Any]:
    wanted = [(d["Name"], d.get("Value")) for d in dimensions or []]
    seen: set[tuple[str, str, frozenset[tuple[str | None, str | None]]]] = set()
    found = []
    for md in self.get_all_metrics():
        if (namespace and md.namespace != namespace) or (metric_name and md.name != metric_name):
            continue
        have = _dimension_key(md.dimensions)
        if any(not any(n == name and (value is None or v == value) for n, v in have) for name, value in wanted):
            continue
        key = (md.namespace, md.name, have)
        if key not in seen:
            seen.add(key)
            found.append(md)
    return found


def _get_metric_data(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_metric_data(
        self: Any, queries: list[dict[str, Any]], start_time: Any, end_time: Any, scan_by: str = "TimestampAscending"
    ) -> Any:
        if not queries or any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        from datetime import timedelta

        from moto.cloudwatch.exceptions import ValidationError
        from moto.cloudwatch.models import Statistics

        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if start_time > end_time:
            raise ValidationError("The parameter EndTime must be greater than StartTime.")
        if start_time == end_time:
            raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
        in_window = [md for md in self.get_all_metrics() if start_time <= md.timestamp < end_time]
        results = []
        for query in queries:
            stat_spec = query["MetricStat"]
            metric = stat_spec["Metric"]
            period = int(stat_spec["Period"])
            key = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            unit = stat_spec.get("Unit")
            buckets: dict[int, list[Any]] = {}
            for md in in_window:
                if md.name != metric["MetricName"] or md.namespace != metric["Namespace"]:
                    continue
                if key and _dimension_key(md.dimensions) != key:
                    continue
                if unit and md.unit != unit:
                    continue
                index = int((md.timestamp - start_time).total_seconds()) // period
                buckets.setdefault(index, []).append(md)
            values, stamps = [], []
            for index in sorted(buckets):
                stats = Statistics([stat_spec["Stat"]], start_time + timedelta(seconds=index * period))
                stats.metric_data = buckets[index]
                values.append(stats.get_statistics_for_type(stat_spec["Stat"]))
                stamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                stamps.reverse()
            if query.get("ReturnData", True):
                results.append(
                    {
                        "id": query["Id"],
                        "label": query.get("Label") or f"{metric['MetricName']} {stat_spec['Stat']}",
                        "values": values,
                        "timestamps": stamps,
                        "status_code": "Complete",
                    }
                )
        return results

    return get_metric_data


def _memoize_host(original: Callable[[Any, str | None], Any]) -> Callable[[Any, str | None], Any]:
    cache: dict[str | None, Any] = {}

    @functools.wraps(original)
    def lookup(self: Any, host: str | None) -> Any:
        # Called with the dispatcher's lock held, so the dict needs no lock of its own.
        if host not in cache:
            cache[host] = original(self, host)
        return cache[host]

    return lookup


def _json_body(request: Any) -> dict[str, Any]:
    data = request.get_data() if hasattr(request, "get_data") else request.body
    body = json.loads(data or b"{}")
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _set_access_key_history(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """{account_id, user_name, access_key_id, created?, last_used?, service, region}: dates in ISO 8601."""
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    body = _json_body(request)
    backend = iam_backends[body["account_id"]]["aws"]
    keys = backend.list_access_keys(body["user_name"])
    key = next((k for k in keys if k.access_key_id == body["access_key_id"]), None)
    if key is None:
        return 404, {}, f"no access key {body['access_key_id']} for user {body['user_name']}"
    if body.get("created"):
        key.create_date = datetime.fromisoformat(body["created"])
    if body.get("last_used"):
        key.last_used = AccessKeyLastUsed(datetime.fromisoformat(body["last_used"]), body["service"], body["region"])
    return 200, {}, ""


def _set_target_health(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """{account_id, region, target_group_arn, target_id, state, reason, description}: reported from now on."""
    from moto.elbv2.models import elbv2_backends

    body = _json_body(request)
    group = elbv2_backends[body["account_id"]][body["region"]].target_groups.get(body["target_group_arn"])
    if group is None or body["target_id"] not in group.targets:
        return 404, {}, f"no target {body['target_id']} registered in {body['target_group_arn']}"
    overrides = group.__dict__.setdefault("cloudinspect_health", {})
    overrides[body["target_id"]] = (body["state"], body.get("reason"), body.get("description"))
    return 200, {}, ""


def _health_for(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        status = original(self, target, ec2_backend)
        override = self.__dict__.get("cloudinspect_health", {}).get(target["Id"])
        # A stopped or deregistered target reports that, whatever its health checks did before.
        if override is None or status.status != "healthy":
            return status
        state, reason, description = override
        status.status, status.reason, status.description = state, reason, description
        return status

    return health_for


@functools.cache
def apply() -> None:
    """Apply every patch (once per process)."""
    from moto import backends
    from moto.awslambda.responses import LambdaResponse
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.elbv2.models import FakeTargetGroup
    from moto.iam.responses import IamResponse
    from moto.kms.responses import KmsResponse
    from moto.moto_api._internal import urls as moto_api_urls
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    DomainDispatcherApplication.get_backend_for_host = _memoize_host(  # type: ignore[assignment]
        DomainDispatcherApplication.get_backend_for_host
    )
    CloudWatchBackend.get_filtered_metrics = _get_filtered_metrics  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = _get_metric_data(CloudWatchBackend.get_metric_data)  # type: ignore[method-assign]
    IamResponse.list_users = _iam_list_users  # type: ignore[method-assign]
    LambdaResponse.list_functions = _lambda_list_functions  # type: ignore[method-assign]
    KmsResponse.list_keys = _kms_list_keys  # type: ignore[method-assign]
    FakeTargetGroup.health_for = _health_for(FakeTargetGroup.health_for)  # type: ignore[method-assign]
    # Read when the moto-api app is first built (the first /moto-api/ request), after this runs.
    moto_api_urls.url_paths["{0}" + STATE_PATHS["access_key"]] = _set_access_key_history
    moto_api_urls.url_paths["{0}" + STATE_PATHS["target_health"]] = _set_target_health
