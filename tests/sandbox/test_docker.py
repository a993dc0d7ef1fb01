"""The Docker sandbox: the exact container configuration it sends (everywhere, no daemon needed) and, where a
Docker daemon and the sandbox image are available, real runs: a read-only script, a hostile one, a timeout, an
output cap. Without a daemon the integration tests are skipped with the reason `docker_available()` gives."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cloudinspect.cli import build_app
from cloudinspect.cloud import Emulator
from cloudinspect.sandbox import (
    DockerSandbox,
    Endpoint,
    Limits,
    SandboxError,
    choose_sandbox,
    docker_available,
    execute,
)
from cloudinspect.sandbox import docker as docker_module
from cloudinspect.sandbox.docker import (
    LAUNCHER_IN_CONTAINER,
    container_config,
    default_image,
    docker_client,
    image_requirements,
    supervise_container,
)
from cloudinspect.sandbox.process import FORWARD_PORT, SOCKET_NAME

CANARY = "CANARY-d0c4e7-do-not-leak"
NO_DAEMON = "unix:///nonexistent/cloudinspect-test-docker.sock"
ALLOWED_ENV = {
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONNOUSERSITE",
    "CLOUDINSPECT_VARS",
    "CLOUDINSPECT_SANDBOX",
    "CLOUDINSPECT_GUARD_LOG",
}


def _config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "image": "cloudinspect-sandbox:test",
        "work": tmp_path,
        "uid": 2_345_678,
        "environment": {"AWS_REGION": "us-east-1"},
        "limits": Limits(memory_mb=256, processes=16, cpu_s=7, file_size_mb=3, open_files=50),
        "isolation": "full",
        "cpus": 0.5,
    }
    arguments.update(overrides)
    return container_config(**arguments)


# --- the container configuration, without a daemon ---------------------------------------------------------------


def test_container_is_locked_down(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert config["network_mode"] == "none"
    assert config["read_only"] is True
    assert config["cap_drop"] == ["ALL"]
    assert "cap_add" not in config
    assert config["security_opt"] == ["no-new-privileges"]
    assert config["privileged"] is False
    assert config["user"] == "2345678:2345678"
    assert config["tmpfs"]["/tmp"].startswith("rw,nosuid,nodev,noexec,size=")
    assert config["volumes"] == {
        str(tmp_path): {"bind": str(tmp_path), "mode": "rw"},
        str(docker_module._LAUNCHER): {"bind": LAUNCHER_IN_CONTAINER, "mode": "ro"},
    }
    assert config["working_dir"] == str(tmp_path)
    assert config["command"] == ["python3", "-I", "-B", LAUNCHER_IN_CONTAINER]
    assert config["log_config"]["type"] == "none"  # output is never stored on the daemon's disk


def test_container_limits(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert config["pids_limit"] == 16
    assert config["mem_limit"] == config["memswap_limit"] == "256m"  # no swap beyond the memory limit
    assert config["nano_cpus"] == 500_000_000
    ulimits = {u["name"]: (u["soft"], u["hard"]) for u in config["ulimits"]}
    assert ulimits == {
        "cpu": (7, 8),
        "fsize": (3 * 1024 * 1024, 3 * 1024 * 1024),
        "nofile": (50, 50),
        "nproc": (16, 16),
        "core": (0, 0),
    }


def test_isolation_none_shares_the_host_network(tmp_path: Path) -> None:
    assert _config(tmp_path, isolation="none")["network_mode"] == "host"


def test_environment_is_built_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CANARY_TOKEN", "OPENAI_API_KEY", "AWS_PROFILE", "DOCKER_HOST"):
        monkeypatch.setenv(name, CANARY)
    target = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-1"}
    env, launcher, guard_log = DockerSandbox().environment(tmp_path, {**target, "CLOUDINSPECT_VARS": "{}"})
    config = _config(tmp_path, environment=env)
    assert CANARY not in json.dumps(config)
    assert {k for k in config["environment"] if not k.startswith("AWS_")} <= ALLOWED_ENV
    assert config["environment"]["HOME"] == str(tmp_path)
    assert config["environment"]["AWS_MAX_ATTEMPTS"] == "1"
    assert config["environment"]["AWS_REGION"] == "eu-west-1"
    assert launcher == {"script": str(tmp_path / "main.py"), "guard": str(tmp_path / ".cloudinspect-guard")}
    assert (tmp_path / ".cloudinspect-guard" / "cloudinspect_guard.py").is_file()
    assert guard_log == tmp_path / "guard-calls.jsonl"


class _Sent(Exception):
    """Raised by the recording client once the container configuration has been handed over."""


class _RecordingClient:
    """Stands in for the daemon only to capture the request `run()` sends; the test stops the run right there."""

    def __init__(self) -> None:
        self.spec: dict[str, Any] = {}
        self.socket_existed = False
        outer = self

        class Images:
            def get(self, name: str) -> object:
                return object()

        class Containers:
            def create(self, **spec: Any) -> None:
                outer.spec = spec
                outer.socket_existed = (Path(spec["working_dir"]) / SOCKET_NAME).is_socket()
                raise _Sent

        self.images, self.containers = Images(), Containers()

    def close(self) -> None:
        pass


def test_run_sends_that_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _RecordingClient()
    monkeypatch.setattr(docker_module, "docker_client", lambda timeout=5.0: client)
    monkeypatch.setenv("CANARY_TOKEN", CANARY)
    with pytest.raises(_Sent):
        DockerSandbox(image="cloudinspect-sandbox:test").run(
            "print(1)",
            {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
            endpoint=Endpoint("http://127.0.0.1:9"),
            limits=Limits(timeout_s=5),
        )
    spec = client.spec
    work = Path(spec["working_dir"])
    assert spec["image"] == "cloudinspect-sandbox:test"
    assert spec["network_mode"] == "none"
    assert spec["read_only"] is True
    assert spec["cap_drop"] == ["ALL"]
    uid = int(spec["user"].split(":")[0])
    assert uid != 0
    env = spec["environment"]
    assert CANARY not in json.dumps(spec)
    # The child reaches the endpoint only through the forwarder to the bridge socket in the bound work dir.
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{FORWARD_PORT}"
    sandbox_config = json.loads(env["CLOUDINSPECT_SANDBOX"])
    assert sandbox_config["forward"] == {"port": FORWARD_PORT, "socket": str(work / SOCKET_NAME)}
    assert client.socket_existed
    assert not work.exists()  # removed after the run, even a failed one


def test_real_aws_needs_the_resigning_bridge() -> None:
    # Refused before any daemon is asked: full isolation reaches AWS only through a re-signer (execute() passes
    # one for aws: targets; test_docker_aws.py).
    with pytest.raises(SandboxError, match="re-signing bridge"):
        DockerSandbox().run("print(1)", {}, endpoint=Endpoint(None))


# --- the supervision of a container, against a stand-in that plays back the daemon's answers ----------------------
# These check our loop (caps, wall-clock limit, kill, removal, OOM): not Docker's isolation, which only the
# integration tests below can show.


class _Container:
    def __init__(self, owner: _PlaybackClient) -> None:
        self.id, self.owner, self.attrs = "c0ffee", owner, {"State": {"OOMKilled": owner.oom}}

    def start(self) -> None:
        self.owner.events.append("start")

    def kill(self) -> None:
        self.owner.events.append("kill")
        self.owner.killed.set()

    def wait(self, timeout: float) -> dict[str, int]:
        return {"StatusCode": 137 if self.owner.killed.is_set() else self.owner.exit_code}

    def reload(self) -> None:
        pass

    def remove(self, force: bool) -> None:
        self.owner.events.append("remove")


class _PlaybackClient:
    def __init__(self, frames: Any, *, exit_code: int = 0, oom: bool = False, hang: bool = False) -> None:
        self.frames, self.exit_code, self.oom, self.hang = frames, exit_code, oom, hang
        self.events: list[str] = []
        self.killed = threading.Event()
        outer = self

        class Api:
            def attach(self, container_id: str, **kwargs: Any) -> Any:
                assert kwargs == {"stdout": True, "stderr": True, "stream": True, "logs": False, "demux": True}
                outer.events.append("attach")
                return outer.play()

        class Containers:
            def create(self, **spec: Any) -> _Container:
                outer.events.append("create")
                return _Container(outer)

        self.api, self.containers = Api(), Containers()

    def play(self) -> Any:
        for frame in self.frames:
            if self.killed.is_set():
                return
            yield frame
        if self.hang:
            self.killed.wait(10)


def test_supervision_collects_both_streams() -> None:
    client = _PlaybackClient([(b'{"a": ', None), (None, b"warn\n"), (b"1}", None)])
    captured, oom = supervise_container(client, {}, Limits())
    assert (captured.stdout, captured.stderr, captured.returncode) == (b'{"a": 1}', b"warn\n", 0)
    assert not captured.timed_out
    assert not captured.capped
    assert not oom
    assert client.events == ["create", "attach", "start", "remove"]


def test_supervision_caps_output_and_kills() -> None:
    client = _PlaybackClient((b"x" * 4096, None) for _ in range(10_000))
    captured, _ = supervise_container(client, {}, Limits(stdout_bytes=10_000))
    assert captured.capped == ["stdout"]
    assert len(captured.stdout) == 10_000
    assert "kill" in client.events
    assert client.events[-1] == "remove"
    assert captured.returncode == 137


def test_supervision_enforces_the_wall_clock_limit() -> None:
    client = _PlaybackClient([(b"started\n", None)], hang=True)
    started = time.monotonic()
    captured, _ = supervise_container(client, {}, Limits(timeout_s=0.5))
    assert captured.timed_out
    assert time.monotonic() - started < 5
    assert client.events[-2:] == ["kill", "remove"]
    assert captured.stdout == b"started\n"


def test_oom_kill_is_a_resource_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _PlaybackClient([], exit_code=137, oom=True)
    client.images = _RecordingClient().images  # type: ignore[attr-defined]
    client.close = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setattr(docker_module, "docker_client", lambda timeout=5.0: client)
    result = DockerSandbox(image="cloudinspect-sandbox:test").run(
        "print(1)", {}, endpoint=Endpoint("http://127.0.0.1:9"), limits=Limits(memory_mb=64)
    )
    assert result.status == "killed"
    assert result.error_class == "resource_limit"
    assert "OOM" in (result.error_message or "")
    assert result.backend == "docker"


# --- availability and the image ------------------------------------------------------------------------------------


def test_no_daemon_is_reported_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)
    available, reason = docker_available(timeout=1)
    assert available is False
    assert reason.startswith("no Docker daemon reachable (docker info failed: ")
    with pytest.raises(SandboxError, match="no Docker daemon reachable"):
        DockerSandbox().run("print(1)", {}, endpoint=Endpoint("http://127.0.0.1:9"))


def test_cli_docker_sandbox_without_daemon_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)
    script = tmp_path / "s.py"
    script.write_text("print('{}')\n")
    result = CliRunner().invoke(
        build_app(), ["exec", str(script), "--target", "endpoint:http://127.0.0.1:9", "--sandbox", "docker"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, SandboxError)
    assert "no Docker daemon reachable" in str(result.exception)


def test_choose_sandbox() -> None:
    assert choose_sandbox("docker") == "docker"
    assert choose_sandbox("process") == "process"
    assert choose_sandbox("auto") in ("process", "docker")


def test_image_pins_the_installed_stack() -> None:
    import boto3
    import botocore

    requirements = image_requirements()
    assert f"boto3=={boto3.__version__}" in requirements
    assert f"botocore=={botocore.__version__}" in requirements
    assert all("==" in line for line in requirements)
    assert botocore.__version__ in default_image()
    dockerfile = (docker_module._DOCKERFILE).read_text()
    assert "requirements.txt" in dockerfile
    assert "--no-deps" in dockerfile


# --- real containers, where a daemon and the image exist -----------------------------------------------------------


def _docker_skip_reason() -> str | None:
    available, reason = docker_available()
    if not available:
        return reason
    client = docker_client()
    try:
        client.images.get(default_image())
    except Exception:
        return f"the sandbox image {default_image()} is not built (cloudinspect sandbox build-image)"
    finally:
        client.close()
    return None


_SKIP = _docker_skip_reason()
needs_docker = pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")


@pytest.fixture(scope="module")
def baseline(emulator: Callable[[str], Emulator]) -> str:
    return f"endpoint:{emulator('baseline').endpoint_url}"


def _run(code: str, target: str, **limits: Any) -> Any:
    return execute(textwrap.dedent(code), target, sandbox="docker", limits=Limits(**limits))


@needs_docker
def test_docker_read_only_script(baseline: str) -> None:
    result = _run(
        """
        import boto3, json
        print(json.dumps({"vpcs": len(boto3.client("ec2").describe_vpcs()["Vpcs"])}))
        """,
        baseline,
    )
    assert result.status == "ok", result.stderr
    assert result.backend == "docker"
    assert result.output_json["vpcs"] > 0
    assert ("ec2", "DescribeVpcs") in {(c.service, c.operation) for c in result.api_calls}


@needs_docker
def test_docker_hostile_script_is_blocked(baseline: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_TOKEN", CANARY)
    result = _run(
        """
        import boto3, json, os, socket
        seen = {"env": dict(os.environ)}
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=1)
            seen["internet"] = True
        except OSError:
            seen["internet"] = False
        try:
            open("/usr/evil", "w")
            seen["rootfs_writable"] = True
        except OSError:
            seen["rootfs_writable"] = False
        seen["uid"] = os.getuid()
        print(json.dumps(seen), flush=True)
        boto3.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")
        """,
        baseline,
    )
    assert CANARY not in result.model_dump_json()
    assert result.status == "blocked"
    assert result.error_class == "read_only_violation"
    seen = json.loads(result.stdout.splitlines()[0])
    assert seen["internet"] is False
    assert seen["rootfs_writable"] is False
    assert seen["uid"] != 0


@needs_docker
def test_docker_timeout_kills_the_container(baseline: str) -> None:
    result = _run("while True:\n    pass\n", baseline, timeout_s=2)
    assert result.status == "timeout"
    assert result.duration_ms < 15_000


@needs_docker
def test_docker_output_cap(baseline: str) -> None:
    result = _run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", baseline, stdout_bytes=100_000)
    assert result.status == "killed"
    assert result.stdout_truncated
    assert len(result.stdout) <= 100_000


def test_docker_tests_say_why_they_skip() -> None:
    """Where the integration tests are skipped, the reason names the cause (no daemon, or no image)."""
    if _SKIP is None:
        pytest.skip("a Docker daemon and the image are available: the integration tests ran")
    assert _SKIP.startswith(("no Docker daemon reachable", "the sandbox image")), _SKIP
