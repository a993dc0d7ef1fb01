"""The sandbox interface: what a sandbox is given (code, environment, limits) and the registry of backends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.errors import CloudInspectError, UnknownIdError
from cloudinspect.sandbox.result import ExecResult

Isolation = Literal["full", "none"]
"""`full`: no network at all except the bridge to the one endpoint. `none`: the child shares the host's network
and reaches the endpoint directly (tests, or real AWS with the credentials handed to the child); every other
protection (file system, uid, limits, environment) stays. Never chosen implicitly."""


class SandboxError(CloudInspectError):
    """The sandbox cannot run code here (no bubblewrap or unshare, no bridge for full isolation...)."""


class Limits(BaseModel):
    """Resource limits of one execution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(default=60.0, gt=0, description="Wall-clock limit; the whole sandbox is killed.")
    cpu_s: int = Field(default=30, gt=0, description="RLIMIT_CPU (SIGXCPU at the limit, SIGKILL one second later).")
    memory_mb: int = Field(default=1024, gt=0, description="RLIMIT_AS, address space in MiB.")
    file_size_mb: int = Field(default=64, gt=0, description="RLIMIT_FSIZE: largest file the script may write.")
    open_files: int = Field(default=128, gt=8, description="RLIMIT_NOFILE.")
    processes: int = Field(default=32, gt=0, description="RLIMIT_NPROC: processes and threads of the sandbox uid.")
    stdout_bytes: int = Field(default=1_000_000, gt=0, description="Captured stdout cap; the run is killed past it.")
    stderr_bytes: int = Field(default=200_000, gt=0, description="Captured stderr cap; the run is killed past it.")


@dataclass(frozen=True)
class Endpoint:
    """Where the child's AWS calls must go: an endpoint URL (emulator or compatible) or None for real AWS."""

    url: str | None
    allow: Callable[[str, str], bool] | None = None
    resign: Any = None
    """For real AWS under full isolation: a `resign.Resigner`; the bridge re-signs allowed reads for AWS."""


class Sandbox(ABC):
    """Runs untrusted Python code with a given AWS environment and returns an ExecResult."""

    name: str = ""

    @abstractmethod
    def run(
        self,
        code: str,
        env: Mapping[str, str],
        *,
        endpoint: Endpoint,
        limits: Limits | None = None,
        isolation: Isolation = "full",
    ) -> ExecResult:
        """Run `code` with the target environment `env` (AWS_* variables, CLOUDINSPECT_VARS) and return the result.

        With an endpoint URL, the sandbox replaces AWS_ENDPOINT_URL by its own route to it (the bridge).
        """


_S = TypeVar("_S", bound=type[Sandbox])
_REGISTRY: dict[str, type[Sandbox]] = {}


def register_sandbox(name: str) -> Callable[[_S], _S]:
    """Class decorator: make a Sandbox available by name (`execute(..., sandbox=name)`)."""

    def decorate(cls: _S) -> _S:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def get_sandbox(name: str) -> Sandbox:
    """A new instance of the sandbox registered under `name`."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise UnknownIdError.of("sandbox", name, list(_REGISTRY)) from None
    return cls()


def sandbox_names() -> list[str]:
    """Names of the registered sandboxes."""
    return sorted(_REGISTRY)
