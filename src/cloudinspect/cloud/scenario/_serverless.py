"""Scenario sections for Lambda and CloudWatch Logs."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags
from cloudinspect.cloud.series import Series


class LambdaActivity(Strict):
    """What a function did over the last day: its metrics and the log lines written to /aws/lambda/<name>."""

    invocations: Series = Field(description="Invocations per 5-minute period.")
    error_rate: float = Field(0.0, ge=0, le=1)
    timeout_rate: float = Field(0.0, ge=0, le=1, description="Fraction of invocations that time out (errors too).")
    throttle_rate: float = Field(0.0, ge=0, le=1)
    duration_ms: Series = Field(description="Average duration per period, in milliseconds.")
    memory_used_mb: Series | None = Field(None, description="Max memory used per invocation (default: 40% of memory).")
    error: str = Field("KeyError: 'customer_id'", description="The exception of failed invocations.")
    log_invocations: int = Field(60, ge=0, le=100_000, description="Invocations written to the log over 24 h.")


class LambdaFunction(Generated):
    name: str
    runtime: str = "python3.12"
    handler: str | None = None
    role: str = Field(description="Name of an IAM role in this scenario.")
    memory: int = Field(128, ge=128, le=10240)
    timeout: int = Field(3, ge=1, le=900)
    description: str = ""
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    env: dict[str, str] = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    reserved_concurrency: int | None = Field(None, ge=0)
    kms_key: str | None = None
    log_group: bool = Field(True, description="Create /aws/lambda/<name>.")
    log_retention_days: int | None = None
    activity: LambdaActivity | None = None

    def default_handler(self) -> str:
        """The handler to register (language-appropriate default)."""
        if self.handler:
            return self.handler
        if self.runtime.startswith(("java", "dotnet")):
            return "com.example.Handler::handleRequest"
        if self.runtime.startswith(("go", "provided")):
            return "bootstrap"
        return "index.handler" if self.runtime.startswith("nodejs") else "app.handler"


class LambdaSection(Strict):
    functions: list[LambdaFunction] = Field(default_factory=list)


RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class LogMessage(Strict):
    """A kind of log line. Placeholders: {n} (a number), {ms} (a duration), {id} (a hex id), {ip}."""

    text: str
    level: str = "INFO"
    weight: float = Field(1.0, gt=0)


class LogGroup(Generated):
    name: str
    retention_days: int | None = None
    kms_key: str | None = None
    tags: Tags = Field(default_factory=dict)
    streams: int = Field(1, ge=0, le=10_000)
    events_per_stream: int = Field(0, ge=0, le=200_000)
    messages: list[LogMessage] = Field(default_factory=list)

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None and value not in RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, RETENTION_DAYS))}")
        return value

    @model_validator(mode="after")
    def _messages(self) -> Self:
        if self.events_per_stream and not self.messages:
            raise ValueError("events_per_stream needs at least one entry in messages")
        return self


class LogsSection(Strict):
    groups: list[LogGroup] = Field(default_factory=list)
