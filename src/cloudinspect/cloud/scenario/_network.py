"""Scenario sections for ELBv2 and Route 53."""

from __future__ import annotations

import fnmatch
from typing import Literal, Self

from pydantic import Field, model_validator

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags


class Listener(Strict):
    protocol: Literal["HTTP", "HTTPS", "TCP", "TLS", "UDP"]
    port: int = Field(ge=1, le=65535)
    target_group: str | None = None
    redirect_to_https: bool = False
    certificate_domain: str | None = Field(None, description="An ACM certificate is issued for this domain.")
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"

    @model_validator(mode="after")
    def _action(self) -> Self:
        if (self.target_group is None) == (not self.redirect_to_https):
            raise ValueError("a listener either forwards to target_group or has redirect_to_https: true")
        if self.protocol in ("HTTPS", "TLS") and not self.certificate_domain:
            raise ValueError(f"a {self.protocol} listener needs certificate_domain")
        return self


class LoadBalancer(Generated):
    name: str
    type: Literal["application", "network"] = "application"
    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    subnets: list[str] = Field(min_length=2)
    security_groups: list[str] = Field(default_factory=list)
    listeners: list[Listener] = Field(default_factory=list)
    deletion_protection: bool = False
    tags: Tags = Field(default_factory=dict)


class UnhealthyTargets(Strict):
    """Targets whose health checks fail (moto would report every running instance healthy)."""

    targets: list[str] = Field(min_length=1, description="Glob patterns over the names of the group's instances.")
    state: Literal["unhealthy", "initial", "draining", "unavailable"] = "unhealthy"
    reason: Literal[
        "Target.FailedHealthChecks",
        "Target.ResponseCodeMismatch",
        "Target.Timeout",
        "Elb.InitialHealthChecking",
        "Target.DeregistrationInProgress",
        "Target.HealthCheckDisabled",
    ] = "Target.FailedHealthChecks"
    description: str = Field("Health checks failed", description="What describe_target_health says about it.")

    def selects(self, instance: str) -> bool:
        """Whether the instance of this name is one of these targets."""
        return any(fnmatch.fnmatchcase(instance, pattern) for pattern in self.targets)


class TargetGroup(Generated):
    name: str
    vpc: str
    protocol: Literal["HTTP", "HTTPS", "TCP", "TLS", "UDP"] = "HTTP"
    port: int = Field(80, ge=1, le=65535)
    target_type: Literal["instance", "ip"] = "instance"
    health_check_path: str = "/health"
    targets: list[str] = Field(default_factory=list, description="Glob patterns over instance names.")
    unhealthy: list[UnhealthyTargets] = Field(default_factory=list, description="Targets failing health checks.")
    tags: Tags = Field(default_factory=dict)

    def selects(self, instance: str) -> bool:
        """Whether the instance of this name is one of the group's targets."""
        return any(fnmatch.fnmatchcase(instance, pattern) for pattern in self.targets)

    def health(self, instance: str) -> UnhealthyTargets | None:
        """The failing health of a target of this group by instance name (the first entry that selects it)."""
        return next((entry for entry in self.unhealthy if entry.selects(instance)), None)


class Elbv2Section(Strict):
    target_groups: list[TargetGroup] = Field(default_factory=list)
    load_balancers: list[LoadBalancer] = Field(default_factory=list)


class Record(Strict):
    name: str
    type: Literal["A", "AAAA", "CNAME", "TXT", "MX"] = "A"
    ttl: int = 300
    values: list[str] = Field(min_length=1)


class HostedZone(Generated):
    name: str
    private_vpc: str | None = Field(None, description="VPC of a private zone.")
    comment: str = ""
    records: list[Record] = Field(default_factory=list)


class Route53Section(Strict):
    zones: list[HostedZone] = Field(default_factory=list)
