"""The emulated AWS account: a moto server in its own process on loopback, seeded from a scenario.

`start_emulator("baseline")` is the one call most code needs: a server on a free port, seeded, stopped (its
whole process group) when the `with` block ends. The CLI's `emulator up` uses the same pieces with
`detached=True` and a state file, so the server outlives the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cloudinspect.catalog.reference import EMULATOR_CREDENTIALS, endpoint_env
from cloudinspect.cloud._server import SERVER_ENV
from cloudinspect.cloud.loader import get_scenario
from cloudinspect.cloud.scenario import Scenario
from cloudinspect.cloud.seed import SeedReport, client_config, seed_scenario
from cloudinspect.errors import CloudInspectError

SERVER_MODULE = "cloudinspect.cloud._server"


class EmulatorError(CloudInspectError):
    """The emulator could not start, answer, or stop."""


def _tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n".join(text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_emulator_process(pid: int) -> bool:
    """Whether `pid` is a live emulator server (checks the command line where /proc exists, against pid reuse)."""
    if not _alive(pid):
        return False
    proc = Path("/proc")
    if not proc.is_dir():  # no procfs (macOS): trust the pid
        return True
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False
    if not raw:  # a zombie: exited, not yet reaped
        return False
    return SERVER_MODULE.encode() in raw


def request(endpoint_url: str, path: str, *, method: str = "GET", timeout: float = 5.0) -> int:
    """One plain HTTP request to the emulator (its /moto-api/ endpoints); returns the status code."""
    url = endpoint_url.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise EmulatorError(f"not an http(s) endpoint: {endpoint_url!r}")
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)  # noqa: S310
    with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        response.read()
        return int(response.status)


@dataclass
class ServerProcess:
    """A running moto server: its pid (also its process group), endpoint and log file."""

    pid: int
    port: int
    host: str
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    owns_log: bool = False

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, wait, SIGKILL after `timeout`; leaves no process behind."""
        stop_process_group(self.pid, timeout=timeout, popen=self.popen)
        if self.owns_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()


def stop_process_group(pid: int, *, timeout: float = 10.0, popen: subprocess.Popen[bytes] | None = None) -> None:
    """Terminate the process group led by `pid` (the emulator runs in its own session), then reap or wait."""

    def signal_group(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def gone() -> bool:
        if popen is not None:
            return popen.poll() is not None
        return not is_emulator_process(pid)

    if gone():
        signal_group(signal.SIGKILL)  # stragglers of the group, if any
        return
    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone():
            break
        time.sleep(0.05)
    else:
        signal_group(signal.SIGKILL)
        if popen is not None:
            popen.wait(timeout=5)
        else:
            end = time.monotonic() + 5
            while not gone() and time.monotonic() < end:
                time.sleep(0.05)
    signal_group(signal.SIGKILL)


def server_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The server process's environment: ours minus AWS and moto settings, plus SERVER_ENV and `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(SERVER_ENV)
    env.update(overrides or {})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_server(
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    detached: bool = False,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    patches: bool = True,
) -> ServerProcess:
    """Start a moto server process in its own session and wait until it answers.

    `port=0` lets the OS choose a free port. With `detached=True` the process is not tied to ours (the CLI's
    `emulator up`); otherwise the caller stops it (`ServerProcess.stop`). Raises EmulatorError with the tail of
    the server's log when it does not come up within `timeout` seconds. `env` overrides moto settings and
    `patches=False` serves moto unpatched (both for benchmarks).
    """
    owns_log = log_path is None
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="cloudinspect-emulator-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    ready_dir = Path(tempfile.mkdtemp(prefix="cloudinspect-ready-"))
    ready_file = ready_dir / "ready.json"
    cmd = [sys.executable, "-m", SERVER_MODULE, "--host", host, "--port", str(port), "--ready-file", str(ready_file)]
    if not patches:
        cmd.append("--no-patches")
    if not detached:  # dies with us, even when we are killed with SIGKILL
        cmd += ["--parent-pid", str(os.getpid())]
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env(env),
            start_new_session=True,
            close_fds=True,
        )
    try:
        info = _wait_ready(popen, ready_file, log_path, timeout, host)
    except BaseException:
        stop_process_group(popen.pid, timeout=2, popen=popen)
        raise
    finally:
        with contextlib.suppress(OSError):
            ready_file.unlink()
        with contextlib.suppress(OSError):
            ready_dir.rmdir()
    return ServerProcess(popen.pid, int(info["port"]), host, log_path, None if detached else popen, owns_log)


def _wait_ready(
    popen: subprocess.Popen[bytes], ready_file: Path, log_path: Path, timeout: float, host: str
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    info: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise EmulatorError(
                f"the emulator exited with code {popen.returncode} before it was ready; log {log_path}:\n"
                f"{_tail(log_path)}"
            )
        if info is None and ready_file.is_file():
            info = json.loads(ready_file.read_text(encoding="utf-8"))
        if info is not None:
            try:
                request(f"http://{host}:{info['port']}", "/moto-api/", timeout=2)
                return info
            except (OSError, urllib.error.URLError):
                pass
        time.sleep(0.02)
    raise EmulatorError(f"the emulator did not answer within {timeout:.0f} s; log {log_path}:\n{_tail(log_path)}")


def reset_server(endpoint_url: str) -> None:
    """Empty every service of the emulator (moto's reset API)."""
    try:
        request(endpoint_url, "/moto-api/reset", method="POST", timeout=30)
    except (OSError, urllib.error.URLError) as exc:
        raise EmulatorError(f"cannot reset the emulator at {endpoint_url}: {exc}") from exc


def _resolve(scenario: str | Scenario | None) -> Scenario | None:
    if scenario is None or isinstance(scenario, Scenario):
        return scenario
    return get_scenario(scenario)


@dataclass
class Emulator:
    """A seeded emulator: where it is, what is in it, and how to talk to it. A context manager that stops it."""

    endpoint_url: str
    region: str
    scenario: Scenario | None
    server: ServerProcess | None = None
    seed_report: SeedReport | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def env(self) -> dict[str, str]:
        """Environment for a child process: endpoint, region, dummy credentials, no ~/.aws files."""
        return endpoint_env(self.endpoint_url, self.region)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` pointed at the emulator (cached per service)."""
        if service not in self._clients:
            import boto3

            factory: Callable[..., Any] = boto3.session.Session().client  # the stubs type known names only
            self._clients[service] = factory(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                config=client_config(),
            )
        return self._clients[service]

    def reset(self, scenario: str | Scenario | None = None) -> SeedReport | None:
        """Empty the account and seed `scenario` (default: the current one) again."""
        chosen = _resolve(scenario) if scenario is not None else self.scenario
        reset_server(self.endpoint_url)
        self.scenario = chosen
        self._clients.clear()
        if chosen is not None:
            self.region = chosen.region
            self.seed_report = seed_scenario(self.endpoint_url, chosen)
        return self.seed_report

    def stop(self) -> None:
        """Stop the server process (its whole process group), if this object started it."""
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_emulator(
    scenario: str | Scenario | None = "baseline",
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    detached: bool = False,
    timeout: float = 30.0,
    workers: int = 8,
) -> Emulator:
    """Start a moto server on loopback (a free port by default), seed `scenario` into it, and return it.

    Use it as a context manager: `with start_emulator("baseline") as emu: ...` stops the server on exit.
    `scenario=None` leaves the account empty. The scenario is loaded (and validated) before the server starts.
    """
    chosen = _resolve(scenario)
    server = start_server(port=port, host=host, log_path=log_path, detached=detached, timeout=timeout)
    emulator = Emulator(server.endpoint_url, chosen.region if chosen else "us-east-1", chosen, server)
    try:
        if chosen is not None:
            emulator.seed_report = seed_scenario(server.endpoint_url, chosen, workers=workers)
    except BaseException:
        server.stop(timeout=2)
        raise
    return emulator


def connect_emulator(endpoint_url: str, scenario: str | Scenario | None = None, region: str = "us-east-1") -> Emulator:
    """An Emulator object for a server that is already running (e.g. started by `cloudinspect emulator up`)."""
    chosen = _resolve(scenario)
    return Emulator(endpoint_url, chosen.region if chosen else region, chosen)
