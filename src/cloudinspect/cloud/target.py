"""Where inspection code runs against: the emulator, any AWS-compatible endpoint, or a real account.

Targets are written as `emulator:NAME`, `endpoint:URL` or `aws:PROFILE` on the command line and parse into a
typed, discriminated union. Code under test learns only the environment a target gives it (`Target.env()`).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from cloudinspect.catalog.reference import endpoint_env
from cloudinspect.errors import InputError, Problem

_NAME = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
_PROFILE = r"^[A-Za-z0-9_.+=,@-]+$"


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def spec(self) -> str:
        """The target as written on the command line."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.spec


class EmulatorTarget(_Target):
    """A moto server seeded with a scenario, started on demand."""

    kind: Literal["emulator"] = "emulator"
    scenario: str = Field(pattern=_NAME)

    @property
    def spec(self) -> str:
        return f"emulator:{self.scenario}"


class EndpointTarget(_Target):
    """Any AWS-compatible endpoint that is already running (a moto server, LocalStack...)."""

    kind: Literal["endpoint"] = "endpoint"
    url: str
    region: str = "us-east-1"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"expected an http(s) URL such as http://127.0.0.1:5000, got {value!r}")
        return value.rstrip("/")

    @property
    def spec(self) -> str:
        return f"endpoint:{self.url}"

    def env(self) -> dict[str, str]:
        """Endpoint, region and dummy credentials for a child process."""
        return endpoint_env(self.url, self.region)


class AwsTarget(_Target):
    """A real AWS account reached through a named profile of the user's AWS configuration.

    Written `aws:PROFILE`, or `aws:PROFILE?role=ROLE_ARN&region=REGION&scope=none` (all optional): with a
    role, the profile's credentials are exchanged for the role's, restricted by a read-only session policy;
    without one, long-term keys are exchanged for a federation token under that policy. `scope=none` keeps
    long-term keys as they are (federation tokens cannot call IAM: IAM inspections need a role or this).
    """

    kind: Literal["aws"] = "aws"
    profile: str = Field(pattern=_PROFILE)
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
    scope: Literal["policy", "none"] = Field(
        default="policy", description="'none': use long-term keys unscoped (no federation token)."
    )

    @property
    def spec(self) -> str:
        options = [f"role={self.role_arn}"] if self.role_arn else []
        options += [f"region={self.region}"] if self.region else []
        options += ["scope=none"] if self.scope == "none" else []
        return f"aws:{self.profile}" + (f"?{'&'.join(options)}" if options else "")

    def env(self) -> dict[str, str]:
        """The profile (and region when given) for a child process; credentials come from the user's files."""
        env = {"AWS_PROFILE": self.profile, "AWS_EC2_METADATA_DISABLED": "true"}
        region = self.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            env |= {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env


Target = Annotated[EmulatorTarget | EndpointTarget | AwsTarget, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[EmulatorTarget | EndpointTarget | AwsTarget] = TypeAdapter(Target)

_FORMS = "expected 'emulator:SCENARIO', 'endpoint:URL' or 'aws:PROFILE[?role=ARN&region=REGION&scope=none]'"
_AWS_OPTIONS = {"role": "role_arn", "region": "region", "scope": "scope"}


def parse_target(text: str) -> EmulatorTarget | EndpointTarget | AwsTarget:
    """Parse 'emulator:NAME', 'endpoint:URL' or 'aws:PROFILE'; InputError (exit 2) on anything else."""
    kind, sep, rest = text.strip().partition(":")
    if not sep or not rest:
        raise InputError(f"bad target {text!r}", None, [Problem(_FORMS, "target")])
    key = {"emulator": "scenario", "endpoint": "url", "aws": "profile"}.get(kind)
    if key is None:
        raise InputError(f"bad target {text!r}: unknown kind {kind!r}", None, [Problem(_FORMS, "target")])
    fields: dict[str, str] = {"kind": kind, key: rest}
    if kind == "aws" and "?" in rest:
        fields[key], _, options = rest.partition("?")
        for option in options.split("&"):
            name, _, value = option.partition("=")
            if name not in _AWS_OPTIONS or not value or _AWS_OPTIONS[name] in fields:
                problem = Problem(
                    f"unknown, empty or repeated option {option!r} (role=ARN, region=NAME, scope=none)", "target"
                )
                raise InputError(f"bad target {text!r}", None, [problem])
            fields[_AWS_OPTIONS[name]] = value
    try:
        return _ADAPTER.validate_python(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        message = first["msg"]
        field = str(first["loc"][-1]) if first["loc"] else key
        if first["type"] == "string_pattern_mismatch":
            message = f"{field} {fields.get(field, rest)!r} is not valid" + (
                " (lowercase letters, digits, '-' and '_')" if kind == "emulator" else ""
            )
        raise InputError(f"bad target {text!r}", None, [Problem(message, f"target.{field}")]) from exc


def is_loopback(url: str) -> bool:
    """Whether an endpoint URL points at this machine."""
    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or bool(re.fullmatch(r"127(?:\.\d{1,3}){3}", host))
