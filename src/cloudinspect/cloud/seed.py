"""Seeding a scenario into an AWS-compatible endpoint through its HTTP API (boto3), fast.

One seeder function per service, registered with `@seeder(service, after=...)`. Seeders whose dependencies
are done run concurrently; inside a seeder, independent calls go through `SeedContext.map` (a shared thread
pool). Batch APIs are used wherever AWS has them (put_metric_data, put_log_events, batch_write_item,
send_message_batch). Clients retry once at most, so that a call moto does not support (HTTP 500 with an HTML
body) fails fast and names the operation.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from cloudinspect.catalog.reference import EMULATOR_CREDENTIALS
from cloudinspect.cloud.scenario import ACCOUNT_ID, SERVICE_SECTIONS, Scenario
from cloudinspect.errors import CloudInspectError

T = TypeVar("T")
R = TypeVar("R")

SeederFn = Callable[["SeedContext"], None]


class SeedError(CloudInspectError):
    """Seeding failed: names the scenario, the service and the call that failed."""


@dataclass(frozen=True)
class Seeder:
    """A registered seeder: the service it fills and the services that must be seeded first."""

    service: str
    fn: SeederFn
    after: tuple[str, ...] = ()


_SEEDERS: dict[str, Seeder] = {}
_SEEDER_MODULES = ("identity", "compute", "storage", "serverless", "messaging", "network", "monitoring", "extras")


def seeder(service: str, *, after: Iterable[str] = ()) -> Callable[[SeederFn], SeederFn]:
    """Register `fn` as the seeder of `service`, to run once every service in `after` is seeded."""

    def register(fn: SeederFn) -> SeederFn:
        _SEEDERS[service] = Seeder(service, fn, tuple(after))
        return fn

    return register


def seeders() -> dict[str, Seeder]:
    """Every registered seeder by service (importing the built-in seeder modules on first use)."""
    for name in _SEEDER_MODULES:
        importlib.import_module(f"cloudinspect.cloud._seeders.{name}")
    return dict(_SEEDERS)


def client_config(workers: int = 8) -> Config:
    """botocore settings for talking to an emulator: few retries, path-style S3, enough connections."""
    return Config(
        retries={"total_max_attempts": 2, "mode": "standard"},
        max_pool_connections=max(10, workers * 2),
        connect_timeout=5,
        read_timeout=120,
        s3={"addressing_style": "path"},
    )


class SeedContext:
    """What a seeder works with: the scenario, clients, the time anchor, ids by name, and a thread pool."""

    def __init__(
        self, scenario: Scenario, endpoint_url: str, anchor: datetime, pool: ThreadPoolExecutor, workers: int
    ) -> None:
        self.scenario = scenario
        self.endpoint_url = endpoint_url
        self.region = scenario.region
        self.account_id = ACCOUNT_ID
        self.anchor = anchor
        self._pool = pool
        self._session = boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=scenario.region,
        )
        self._config = client_config(workers)
        self._clients: dict[str, Any] = {}
        self._ids: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.calls = 0

    def client(self, service: str) -> Any:
        """A boto3 client for `service` pointed at the endpoint (shared, thread-safe for calls)."""
        with self._lock:
            if service not in self._clients:
                factory: Callable[..., Any] = self._session.client  # any service: the stubs type known names only
                made = factory(service, endpoint_url=self.endpoint_url, config=self._config)
                made.meta.events.register("before-call.*.*", self._count)
                self._clients[service] = made
            return self._clients[service]

    def _count(self, **_: Any) -> None:
        with self._lock:
            self.calls += 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over items on the shared pool; results in order; the first failure is raised."""
        if len(items) <= 1:
            return [fn(item) for item in items]
        futures = [self._pool.submit(fn, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            exc = future.exception()
            if exc is not None:
                for other in futures:
                    other.cancel()
                raise exc
        return [f.result() for f in futures]

    def put_id(self, kind: str, name: str, value: str) -> None:
        """Remember the id the emulator gave the resource `name` of `kind` (e.g. 'instance', 'i-0abc')."""
        with self._lock:
            self._ids[(kind, name)] = value

    def id(self, kind: str, name: str) -> str:
        """The id of a seeded resource by its scenario name."""
        try:
            return self._ids[(kind, name)]
        except KeyError:
            raise SeedError(f"scenario '{self.scenario.name}': no {kind} named '{name}' was seeded") from None

    def ids(self, kind: str) -> dict[str, str]:
        """Every seeded resource of `kind`: name -> id."""
        with self._lock:
            return {name: value for (k, name), value in self._ids.items() if k == kind}

    def kms_arn(self, name: str | None) -> str | None:
        """The ARN to pass for a key named in the scenario (an alias ARN for AWS managed 'aws/...' keys)."""
        if name is None:
            return None
        if name.startswith("aws/"):
            return f"arn:aws:kms:{self.region}:{self.account_id}:alias/{name}"
        return self.id("kms_key_arn", name)

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in the emulated account."""
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id}:{resource}"


@dataclass
class SeedReport:
    """How seeding went: seconds per service, total seconds, and API calls made."""

    scenario: str
    endpoint_url: str
    anchor: datetime
    durations: dict[str, float] = field(default_factory=dict)
    total_s: float = 0.0
    calls: int = 0


def _stages(registry: dict[str, Seeder], wanted: list[str]) -> list[list[Seeder]]:
    remaining = {s: registry[s] for s in wanted}
    done: set[str] = set()
    stages: list[list[Seeder]] = []
    while remaining:
        ready = [s for s in remaining.values() if all(d in done or d not in remaining for d in s.after)]
        if not ready:
            raise SeedError(f"seeder dependencies form a cycle: {sorted(remaining)}")
        stages.append(sorted(ready, key=lambda s: s.service))
        for s in ready:
            done.add(s.service)
            del remaining[s.service]
    return stages


def seed_scenario(
    endpoint_url: str, scenario: Scenario, *, anchor: datetime | None = None, workers: int = 8
) -> SeedReport:
    """Create every resource of `scenario` in the account behind `endpoint_url` (expected to be empty)."""
    registry = seeders()
    missing = [s for s in SERVICE_SECTIONS if s not in registry]
    if missing:
        raise SeedError(f"no seeder registered for: {', '.join(missing)}")
    anchor = anchor or datetime.now(UTC)
    report = SeedReport(scenario.name, endpoint_url, anchor)
    start = time.perf_counter()
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seed-call") as pool,
        ThreadPoolExecutor(max_workers=len(registry), thread_name_prefix="seed-service") as services,
    ):
        ctx = SeedContext(scenario, endpoint_url, anchor, pool, workers)
        for stage in _stages(registry, list(SERVICE_SECTIONS)):
            futures: dict[Future[float], str] = {services.submit(_run, s, ctx): s.service for s in stage}
            for future, service in futures.items():
                try:
                    report.durations[service] = future.result()
                except SeedError:
                    raise
                except Exception as exc:
                    raise SeedError(
                        f"scenario '{scenario.name}': seeding {service} failed: {type(exc).__name__}: {exc}"
                    ) from exc
    report.total_s = time.perf_counter() - start
    report.calls = ctx.calls
    return report


def _run(entry: Seeder, ctx: SeedContext) -> float:
    start = time.perf_counter()
    entry.fn(ctx)
    return time.perf_counter() - start
