"""The Docker sandbox on the real-AWS route, without a daemon: the container is replaced at its creation by a
stand-in that does what the container's launcher would, talk to the bridge through the bind-mounted Unix socket.
It shows that the bridge started for a Docker run re-signs reads with the parent's scoped credentials, refuses
writes before signing, and that nothing real is in the container's configuration. Real containers:
test_docker.py (skipped here: no Docker daemon)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.cloud import AwsTarget, Emulator
from cloudinspect.sandbox import docker as docker_module
from cloudinspect.sandbox import execute
from cloudinspect.sandbox.bridge import UnixHTTPConnection
from cloudinspect.sandbox.execute import aws_resigner
from cloudinspect.sandbox.process import FORWARD_PORT, SOCKET_NAME
from cloudinspect.sandbox.resign import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY
from tests.sandbox._requests import Captured, capture
from tests.sandbox._upstream import CANARY_KEY, CANARY_SECRET, Recorder, direct_ec2


class _Created(Exception):
    """Raised by the stand-in once it has played the container's part: the run stops there."""


class _ContainerStandIn:
    """A Docker client whose `containers.create` sends requests to the bridge socket of the run, as the
    container's forwarder would, and records the container configuration and the answers."""

    def __init__(self, requests: list[Captured]) -> None:
        self.spec: dict[str, Any] = {}
        self.answers: list[tuple[int, bytes]] = []
        outer = self

        class Images:
            def get(self, name: str) -> object:
                return object()

        class Containers:
            def create(self, **spec: Any) -> None:
                outer.spec = spec
                socket_path = Path(spec["working_dir"]) / SOCKET_NAME
                for request in requests:
                    conn = UnixHTTPConnection(socket_path, timeout=30)
                    conn.request(request.method, request.target, body=request.body, headers=dict(request.headers))
                    response = conn.getresponse()
                    outer.answers.append((response.status, response.read()))
                    conn.close()
                raise _Created

        self.images, self.containers = Images(), Containers()

    def close(self) -> None:
        pass


def test_a_docker_run_reaches_aws_through_the_resigning_bridge(
    canary_profile: str, upstream: Recorder, baseline_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = capture("ec2", "describe_vpcs")
    write = capture("ec2", "create_vpc", {"CidrBlock": "10.96.0.0/16"})
    client = _ContainerStandIn([read, write])
    monkeypatch.setattr(docker_module, "docker_client", lambda timeout=5.0: client)
    target = AwsTarget(profile=canary_profile)
    resigner = aws_resigner(
        target,
        "print(1)",
        sts_endpoint_url=baseline_emulator.endpoint_url,
        resolve_endpoint=lambda service, region: upstream.url,
    )
    federation = resigner.credentials().get_frozen_credentials()
    vpcs_before = len(direct_ec2(baseline_emulator.endpoint_url).describe_vpcs()["Vpcs"])
    with pytest.raises(_Created):
        execute("print(1)", target, sandbox="docker", resigner=resigner)
    spec = client.spec
    env = spec["environment"]
    assert spec["network_mode"] == "none"
    assert env["AWS_ACCESS_KEY_ID"] == DUMMY_ACCESS_KEY
    assert env["AWS_SECRET_ACCESS_KEY"] == DUMMY_SECRET_KEY
    assert "AWS_SESSION_TOKEN" not in env
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{FORWARD_PORT}"
    work = Path(spec["working_dir"])
    forward = json.loads(env["CLOUDINSPECT_SANDBOX"])["forward"]
    assert forward == {"port": FORWARD_PORT, "socket": str(work / SOCKET_NAME)}
    text = json.dumps(spec)
    for secret in (CANARY_KEY, CANARY_SECRET, federation.access_key, federation.secret_key, federation.token):
        assert secret not in text
    (read_status, read_body), (write_status, write_body) = client.answers
    assert read_status == 200
    assert b"<vpcSet>" in read_body
    assert write_status == 403
    assert b"ReadOnlyViolation" in write_body
    assert upstream.keys() == {federation.access_key}  # the read, re-signed with the federation token
    assert len(upstream.seen) == 1  # the write never left the bridge
    assert len(direct_ec2(baseline_emulator.endpoint_url).describe_vpcs()["Vpcs"]) == vpcs_before
    assert not work.exists()
