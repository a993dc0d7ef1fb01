"""The Docker sandbox: the same interface, environment, bridge, guard and result as the process sandbox, with a
container as the isolation boundary instead of bubblewrap.

A run creates one container from the sandbox image (Python 3.11 and the locked boto3/botocore stack; see
`build_image` and resources/docker/Dockerfile) and removes it afterwards whatever happens:

- `--network none` (loopback only) with isolation "full": the launcher (`_launcher.py`, bind-mounted read-only)
  relays 127.0.0.1:FORWARD_PORT to the bridge's Unix socket in the work directory, the one way out, where every
  call is parsed, refused or recorded. It is the bridge of the process sandbox (`process.open_bridge`): for an
  emulator or endpoint it forwards to the URL, for real AWS (`aws:` targets) it re-signs allowed reads with the
  parent's scoped credentials (resign.py), so the container only ever holds dummy keys. Isolation "none" uses
  the host's network (never chosen implicitly).
- read-only root file system, a small noexec tmpfs on /tmp, the work directory bind-mounted read-write at its host
  path (so the paths agree on both sides), an unprivileged uid (a random one per run when we are root, as in the
  process sandbox), every capability dropped, no-new-privileges, and `--init` to reap what the script forks.
- limits: pids (`--pids-limit`), memory without swap (`--memory` = `--memory-swap`), `--cpus`, and ulimits for
  CPU seconds, file size, open files, processes and core dumps.
- the environment is built from nothing (`child_environment`, as in the process sandbox): the image's own ENV
  (PATH, LANG, the Python version) and ours, never the parent's.
- output is streamed from an attach opened before the start, capped, and the container killed past a cap or the
  wall-clock limit; the log driver is `none`, so a script printing gigabytes fills no disk on the daemon's host.

The work directory and the bridge socket are bind-mounted, so the daemon must run on this host (a local
`unix://` socket, or rootful/rootless Docker on the same Linux kernel); a remote DOCKER_HOST cannot see them.
The Docker SDK (`docker`, 7.x) is imported lazily: nothing here needs it until a container is run.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cloudinspect.sandbox.base import Endpoint, Isolation, Limits, Sandbox, SandboxError, register_sandbox
from cloudinspect.sandbox.guard import guard_dir, guard_files, guard_log_path
from cloudinspect.sandbox.process import (
    _LAUNCHER,
    FORWARD_PORT,
    SCRIPT_NAME,
    SOCKET_NAME,
    _Captured,
    _read_guard_log,
    _sandbox_uid,
    build_result,
    child_environment,
    open_bridge,
    require_route,
)
from cloudinspect.sandbox.result import ExecResult, Violation

IMAGE_REPOSITORY = "cloudinspect-sandbox"
IMAGE_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
"""The closure of boto3's runtime dependencies, pinned in the image at the versions installed here."""
BASE_IMAGE = "python:3.11-slim"
LAUNCHER_IN_CONTAINER = "/opt/cloudinspect/launcher.py"
CONTAINER_PYTHON = "python3"
LABEL = "io.cloudinspect.sandbox"
TMPFS_MB = 64
_DOCKERFILE = Path(__file__).parent.parent / "resources" / "docker" / "Dockerfile"
_MB = 1024 * 1024


def _docker_sdk() -> Any:
    """The `docker` package, imported on first use."""
    try:
        return importlib.import_module("docker")
    except ImportError as exc:
        raise SandboxError(f"the Docker sandbox needs the Docker SDK for Python (pip install docker): {exc}") from None


def docker_client(timeout: float = 5.0) -> Any:
    """A Docker client from the environment (DOCKER_HOST or the default socket), checked with a ping."""
    sdk = _docker_sdk()
    try:
        client = sdk.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:
        raise SandboxError(f"no Docker daemon reachable (docker info failed: {_one_line(exc)})") from None
    return client


def docker_available(timeout: float = 3.0) -> tuple[bool, str]:
    """Whether a Docker daemon answers here, and why not: `(True, "docker <version> ...")` or `(False, reason)`."""
    try:
        client = docker_client(timeout)
    except SandboxError as exc:
        return False, str(exc)
    try:
        version = client.version()
        return True, f"docker {version.get('Version', '?')} ({version.get('Os', '?')}/{version.get('Arch', '?')})"
    except Exception as exc:
        return False, f"no Docker daemon reachable (docker version failed: {_one_line(exc)})"
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def image_requirements() -> list[str]:
    """`name==version` for each package of the image, at the versions installed in this environment (uv.lock)."""
    lines = []
    for name in IMAGE_PACKAGES:
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            raise SandboxError(f"{name} is not installed here, so the sandbox image cannot pin it") from None
    return lines


def default_image() -> str:
    """The image tag for this environment: it names the botocore version, so an upgrade asks for a rebuild."""
    return f"{IMAGE_REPOSITORY}:py3.11-botocore{importlib.metadata.version('botocore')}"


def build_image(
    tag: str | None = None, *, base_image: str = BASE_IMAGE, log: Callable[[str], None] | None = None
) -> str:
    """Build the sandbox image (needs the network to fetch the base image and the wheels) and return its tag."""
    tag = tag or default_image()
    client = docker_client(timeout=600)
    with tempfile.TemporaryDirectory(prefix="cloudinspect-image-") as context:
        shutil.copyfile(_DOCKERFILE, Path(context) / "Dockerfile")
        (Path(context) / "requirements.txt").write_text("\n".join(image_requirements()) + "\n", encoding="utf-8")
        stream = client.api.build(
            path=context, tag=tag, buildargs={"BASE_IMAGE": base_image}, rm=True, forcerm=True, decode=True
        )
        for chunk in stream:
            if "error" in chunk:
                raise SandboxError(f"building {tag} failed: {chunk['error'].strip()}")
            text = str(chunk.get("stream", "")).rstrip()
            if text and log is not None:
                log(text)
    return tag


def container_config(
    *,
    image: str,
    work: Path,
    uid: int,
    environment: Mapping[str, str],
    limits: Limits,
    isolation: Isolation,
    cpus: float,
) -> dict[str, Any]:
    """The keyword arguments of `client.containers.create` for one run: everything the container is allowed."""
    mounts = {
        str(work): {"bind": str(work), "mode": "rw"},
        str(_LAUNCHER): {"bind": LAUNCHER_IN_CONTAINER, "mode": "ro"},
    }
    return {
        "image": image,
        "command": [CONTAINER_PYTHON, "-I", "-B", LAUNCHER_IN_CONTAINER],
        "user": f"{uid}:{uid}",
        "environment": dict(environment),
        "working_dir": str(work),
        "hostname": "sandbox",
        "network_mode": "none" if isolation == "full" else "host",
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,size={TMPFS_MB}m"},  # noqa: S108 - the container's own /tmp
        "volumes": mounts,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "privileged": False,
        "init": True,
        "ipc_mode": "private",
        "shm_size": "16m",
        "pids_limit": limits.processes,
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "nano_cpus": int(cpus * 1e9),
        "ulimits": [
            {"name": "cpu", "soft": limits.cpu_s, "hard": limits.cpu_s + 1},
            {"name": "fsize", "soft": limits.file_size_mb * _MB, "hard": limits.file_size_mb * _MB},
            {"name": "nofile", "soft": limits.open_files, "hard": limits.open_files},
            {"name": "nproc", "soft": limits.processes, "hard": limits.processes},
            {"name": "core", "soft": 0, "hard": 0},
        ],
        "log_config": {"type": "none", "config": {}},
        "labels": {LABEL: "1"},
        "stdin_open": False,
        "tty": False,
        "detach": True,
    }


@register_sandbox("docker")
class DockerSandbox(Sandbox):
    """One throw-away container per run; see the module docstring."""

    def __init__(self, image: str | None = None, *, cpus: float = 1.0, use_guard: bool = True) -> None:
        self.image = image
        self.cpus = cpus
        self.use_guard = use_guard

    def run(
        self,
        code: str,
        env: Mapping[str, str],
        *,
        endpoint: Endpoint,
        limits: Limits | None = None,
        isolation: Isolation = "full",
    ) -> ExecResult:
        limits = limits or Limits()
        require_route(endpoint, isolation)
        # The attach stream reads under the client's socket timeout: it must outlast the wall-clock limit.
        client = docker_client(timeout=limits.timeout_s + 30)
        try:
            image = self.image or default_image()
            _require_image(client, image)
            root = os.geteuid() == 0
            uid = _sandbox_uid() if root else os.getuid()
            work = Path(tempfile.mkdtemp(prefix="cloudinspect-docker-")).resolve()
            try:
                return self._run_in(client, image, work, uid, root, code, env, endpoint, limits, isolation)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            with contextlib.suppress(Exception):
                client.close()

    def _run_in(
        self,
        client: Any,
        image: str,
        work: Path,
        uid: int,
        root: bool,
        code: str,
        env: Mapping[str, str],
        endpoint: Endpoint,
        limits: Limits,
        isolation: Isolation,
    ) -> ExecResult:
        script = work / SCRIPT_NAME
        script.write_text(code, encoding="utf-8")
        if root:
            os.chown(work, uid, uid)
            os.chown(script, uid, uid)
        child_env, config, guard_log = self.environment(work, env)
        with contextlib.ExitStack() as stack:
            bridge: Any = None
            if isolation == "full":
                bridge = stack.enter_context(open_bridge(endpoint, work / SOCKET_NAME, uid if root else None))
                child_env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{FORWARD_PORT}"
                config["forward"] = {"port": FORWARD_PORT, "socket": str(work / SOCKET_NAME)}
            child_env["CLOUDINSPECT_SANDBOX"] = json.dumps(config)
            spec = container_config(
                image=image,
                work=work,
                uid=uid,
                environment=child_env,
                limits=limits,
                isolation=isolation,
                cpus=self.cpus,
            )
            captured, oom = supervise_container(client, spec, limits)
            bridge_calls = list(getattr(bridge, "calls", []) or []) if bridge is not None else []
        guard_calls = _read_guard_log(guard_log)
        result = build_result(
            captured, str(script), guard_calls, bridge_calls, limits, backend="docker", isolation=isolation
        )
        if oom and result.status not in ("timeout", "blocked"):
            detail = f"memory limit of {limits.memory_mb} MiB (the container was OOM-killed)"
            result = result.model_copy(
                update={
                    "status": "killed",
                    "error_class": "resource_limit",
                    "error_message": detail,
                    "violations": [*result.violations, Violation(kind="resource_limit", detail=detail)],
                }
            )
        return result

    def environment(self, work: Path, env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, Any], Path | None]:
        """The child's environment (from nothing), the launcher's configuration and the guard's log path."""
        child_env = child_environment(env, work)
        config: dict[str, Any] = {"script": str(work / SCRIPT_NAME)}
        guard_log: Path | None = None
        if self.use_guard:
            guard_env = guard_files(work, None)
            child_env.update({k: v for k, v in guard_env.items() if k.startswith(("AWS_", "CLOUDINSPECT_GUARD_"))})
            config["guard"] = str(guard_dir(work))
            guard_log = guard_log_path(work)
        return child_env, config, guard_log


def _require_image(client: Any, image: str) -> None:
    sdk = _docker_sdk()
    try:
        client.images.get(image)
    except sdk.errors.ImageNotFound:
        raise SandboxError(
            f"the sandbox image {image} is not built on this Docker daemon: run `cloudinspect sandbox build-image`"
        ) from None


def supervise_container(client: Any, spec: Mapping[str, Any], limits: Limits) -> tuple[_Captured, bool]:
    """Create, attach, start and watch one container: output under its caps, the wall-clock limit, then kill and
    remove it. Returns what was captured and whether the kernel OOM-killed it."""
    start = time.perf_counter()
    captured = _Captured(None, b"", b"", 0.0)
    container = client.containers.create(**spec)
    oom = False
    try:
        # Attach before the start: the log driver is `none`, so output is only ever seen live.
        stream = client.api.attach(container.id, stdout=True, stderr=True, stream=True, logs=False, demux=True)
        caps = (limits.stdout_bytes, limits.stderr_bytes)
        chunks: tuple[list[bytes], list[bytes]] = ([], [])
        sizes = [0, 0]
        done = threading.Event()

        def read() -> None:
            try:
                for pair in stream:
                    for index, data in enumerate(pair):
                        if not data:
                            continue
                        room = caps[index] - sizes[index]
                        chunks[index].append(data[: max(room, 0)])
                        sizes[index] += len(data)
                        if sizes[index] > caps[index]:
                            captured.capped.append(("stdout", "stderr")[index])
                    if captured.capped:
                        return
            except Exception:  # noqa: S110 - the stream ends with an error when the container is killed
                pass
            finally:
                done.set()

        reader = threading.Thread(target=read, name="cloudinspect-docker-output", daemon=True)
        reader.start()
        container.start()
        if not done.wait(limits.timeout_s):
            captured.timed_out = True
        if captured.timed_out or captured.capped:
            _kill(container)
        captured.returncode = _wait(container)
        reader.join(timeout=2)
        with contextlib.suppress(Exception):
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        captured.stdout = b"".join(chunks[0])
        captured.stderr = b"".join(chunks[1])
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    captured.duration_ms = (time.perf_counter() - start) * 1000
    return captured, oom


def _kill(container: Any) -> None:
    with contextlib.suppress(Exception):  # already exited
        container.kill()


def _wait(container: Any) -> int | None:
    """The container's exit code, killing it if it does not end in a few seconds."""
    for attempt in range(2):
        try:
            return int(container.wait(timeout=10)["StatusCode"])
        except Exception:
            if attempt == 0:
                _kill(container)
    return None
