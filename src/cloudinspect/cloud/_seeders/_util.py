"""Helpers shared by the seeders."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from cloudinspect.cloud._patches import STATE_PATHS
from cloudinspect.cloud.scenario import Imds, Scenario, expand_all
from cloudinspect.cloud.seed import SeedContext, SeedError

T = TypeVar("T")


def tag_list(
    tags: Mapping[str, str], name: str | None = None, *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """AWS's [{'Key': k, 'Value': v}] form, with a Name tag first when `name` is given."""
    merged = {"Name": name, **tags} if name is not None else dict(tags)
    return [{key: k, value: v} for k, v in merged.items()]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dumps(document: Any) -> str:
    """A policy document as compact JSON."""
    return json.dumps(document, separators=(",", ":"))


def metadata_options(imds: Imds) -> dict[str, str]:
    """EC2 MetadataOptions for a scenario's `imds` setting."""
    if imds == "disabled":
        return {"HttpEndpoint": "disabled", "HttpTokens": "optional"}
    return {"HttpEndpoint": "enabled", "HttpTokens": imds}


def stopped_targets(scenario: Scenario) -> set[str]:
    """Stopped instances that a target group selects: launched running, registered, and only then stopped.

    AWS (and moto) register only running instances; one that stops afterwards stays registered and reports
    'unused' (Target.InvalidState), which is how a stopped instance behind a load balancer looks. So the EC2
    seeder leaves these running and the ELBv2 seeder stops them once they are registered.
    """
    groups = expand_all(scenario.elbv2.target_groups)
    return {
        i.name
        for i in expand_all(scenario.ec2.instances)
        if i.state == "stopped" and any(tg.selects(i.name) for tg in groups)
    }


def set_state(ctx: SeedContext, kind: str, body: Mapping[str, Any]) -> None:
    """Set state that moto cannot produce (see `cloudinspect.cloud._patches`) through the emulator's private
    endpoint; a SeedError when the endpoint is not a cloudinspect emulator (plain moto, another emulator)."""
    url = ctx.endpoint_url.rstrip("/") + STATE_PATHS[kind]
    data = json.dumps({"account_id": ctx.account_id, "region": ctx.region, **body}).encode()
    request = urllib.request.Request(  # noqa: S310 - the seeder's own endpoint (http)
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:200]
        raise SeedError(
            f"scenario '{ctx.scenario.name}': {ctx.endpoint_url} cannot set {kind.replace('_', ' ')} "
            f"(HTTP {exc.code} from {STATE_PATHS[kind]}; only cloudinspect's emulator can): {detail}"
        ) from exc
