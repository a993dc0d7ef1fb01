"""Scenario section for CloudWatch metrics and alarms."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags
from cloudinspect.cloud.series import Series

NAMESPACE_KINDS: dict[str, str] = {
    "AWS/EC2": "instance",
    "AWS/Lambda": "function",
    "AWS/RDS": "db_instance",
    "AWS/SQS": "queue",
    "AWS/DynamoDB": "table",
    "AWS/ApplicationELB": "load_balancer",
    "AWS/NetworkELB": "load_balancer",
    "AWS/SNS": "topic",
}
"""Namespaces whose metrics belong to a kind of scenario resource (their dimension is derived from it)."""


class Metric(Generated):
    """A metric published for every matching resource (AWS namespaces) or with explicit dimensions (custom).

    As a generator, `{i}` goes into the name or a dimension value (e.g. `dimensions: {Tenant: "t-{i:03d}"}`).
    """

    pattern_anywhere: ClassVar[bool] = True

    namespace: str
    name: str
    unit: str = "None"
    period: Literal[60, 300, 3600] = Field(300, description="Seconds between data points.")
    resources: list[str] = Field(
        default_factory=lambda: ["*"], description="Glob patterns over the names of the namespace's resources."
    )
    dimensions: dict[str, str] | None = Field(None, description="Explicit dimensions (custom namespaces).")
    series: Series

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.namespace in NAMESPACE_KINDS and self.count > 1:
            raise ValueError("count is for custom namespaces; AWS namespaces already cover every matching resource")
        if self.namespace not in NAMESPACE_KINDS and self.dimensions is None:
            known = ", ".join(NAMESPACE_KINDS)
            raise ValueError(f"namespace {self.namespace!r} needs explicit dimensions (resource namespaces: {known})")
        return self


class Alarm(Generated):
    name: str
    namespace: str
    metric: str
    resource: str | None = Field(None, description="Name of the resource the metric is about (sets the dimension).")
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: Literal["Average", "Sum", "Minimum", "Maximum", "SampleCount"] = "Average"
    period: int = 300
    evaluation_periods: int = Field(1, ge=1)
    threshold: float
    comparison: Literal[
        "GreaterThanThreshold",
        "GreaterThanOrEqualToThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
    ] = "GreaterThanThreshold"
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] = "INSUFFICIENT_DATA"
    reason: str = ""
    actions: list[str] = Field(default_factory=list, description="Names of SNS topics notified on ALARM.")
    actions_enabled: bool = True
    description: str = ""
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"] = "missing"
    tags: Tags = Field(default_factory=dict)


class CloudWatchSection(Strict):
    metrics: list[Metric] = Field(default_factory=list)
    alarms: list[Alarm] = Field(default_factory=list)
