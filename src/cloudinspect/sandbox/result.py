"""The result of one sandboxed execution: a stable JSON document that the repair loop, grading and reports read.

`status` says how the run ended; `error_class` says what kind of failure it was, so that a repair loop can act
(fix a parameter, drop a hallucinated call, give up on an operation the emulator cannot serve).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["ok", "error", "timeout", "killed", "blocked", "unsupported"]
ErrorClass = Literal[
    "syntax",
    "import",
    "hallucinated_api",
    "parameter_validation",
    "access_denied",
    "read_only_violation",
    "throttling",
    "emulator_unsupported",
    "runtime",
    "timeout",
    "resource_limit",
    "output_not_json",
    "none",
]
CredentialScope = Literal[
    "none",
    "role-session-policy",
    "federation-token-policy",
    "unscoped-temporary",
    "unscoped-long-term",
]
"""What restricts the real credentials a run's AWS calls were signed with (see cloudinspect.sandbox.resign):
'none' when there are none (emulator and endpoint targets: dummy keys); an assumed role or a federation token
under the review's derived session policy; or the profile's own credentials, unscoped: temporary ones (SSO, an
assumed role...) cannot be exchanged for a federation token, long-term ones only when scoping was turned off."""
RESULT_SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiCallRecord(_Model):
    """One AWS API call the script made, as the runtime guard or the endpoint bridge saw it."""

    service: str
    operation: str
    allowed: bool = True
    error_code: str | None = None
    duration_ms: float | None = None
    source: Literal["guard", "bridge"] = "guard"


class Violation(_Model):
    """Something the sandbox refused or cut short: a blocked call, an output cap, a resource limit."""

    kind: str
    detail: str


class ExecResult(_Model):
    """How one execution ended, what it printed, which API calls it made, and what went wrong."""

    schema_version: int = RESULT_SCHEMA_VERSION
    status: Status
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    duration_ms: float
    output_json: Any = None
    api_calls: list[ApiCallRecord] = Field(default_factory=list)
    blocked_calls: list[ApiCallRecord] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)
    observed_iam_policy: dict[str, Any] | None = None
    error_class: ErrorClass = "none"
    error_message: str | None = None
    traceback: str | None = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    backend: str = ""
    isolation: str = ""
    target: str | None = None
    route: str = ""
    """How API calls left the sandbox: 'bridge', 'aws-resigning-bridge', 'direct' or 'aws-direct' (execute())."""
    credential_scope: CredentialScope = "none"
    """What restricts the real credentials behind the run's calls (execute(); `CredentialScope`)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self, *, indent: int | None = 2) -> str:
        """The stable JSON form."""
        return self.model_dump_json(indent=indent)
