"""The warm pool on the real-AWS route: each child's bridge starts with an empty re-signer slot and gets the run's
own re-signer at hand-over, so one pool serves runs with different credentials and session policies while the
children only ever hold dummy keys. The moto server, behind the recording proxy of `_upstream.py`, plays AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import Credentials

from cloudinspect.cloud import AwsTarget, Emulator
from cloudinspect.sandbox import Endpoint, SandboxError, close_pools, execute, get_pool
from cloudinspect.sandbox.bridge import UnixHTTPConnection
from cloudinspect.sandbox.execute import aws_resigner
from cloudinspect.sandbox.pool import WarmPool, warm_pool
from cloudinspect.sandbox.resign import DUMMY_ACCESS_KEY, Resigner, dummy_env
from tests.sandbox._requests import capture
from tests.sandbox._upstream import CANARY_KEY, CANARY_SECRET, Recorder, capturing_factory, direct_ec2
from tests.sandbox.conftest import needs_sandbox

pytestmark = needs_sandbox

KEY_A, SECRET_A = "AKIARUNAEXAMPLE00001", "run-a-secret-Hq2-never-in-the-sandbox"
KEY_B, SECRET_B = "AKIARUNBEXAMPLE00002", "run-b-secret-Wx5-never-in-the-sandbox"

VPCS = "import boto3, json\nprint(json.dumps(len(boto3.client('ec2').describe_vpcs()['Vpcs'])))\n"
BUCKETS = "import boto3, json\nprint(json.dumps(len(boto3.client('s3').list_buckets()['Buckets'])))\n"
PROBE = """
import boto3, json, os
seen = []
for path in ["/proc/self/environ", "/proc/1/environ", os.path.expanduser("~/.aws/credentials")]:
    try:
        seen.append(open(path, "rb").read().decode("utf-8", "replace"))
    except OSError as exc:
        seen.append(repr(exc))
vpcs = boto3.client("ec2").describe_vpcs()["Vpcs"]
# A write the runtime guard never sees: raw HTTP, straight to the bridge.
import urllib.request
body = b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.97.0.0/16"
request = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"], data=body, headers={
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIADUMMYEXAMPLE0000/20240101/us-east-1/ec2/aws4_request, "
                     "SignedHeaders=host, Signature=0"})
try:
    urllib.request.urlopen(request)
    wrote = True
except Exception as exc:
    wrote = type(exc).__name__
print(json.dumps({"vpcs": len(vpcs), "env": dict(os.environ), "seen": seen, "wrote": wrote}))
"""


@pytest.fixture(scope="module")
def aws_pool() -> Iterator[WarmPool]:
    with warm_pool(Endpoint(None), size=2) as pool:
        assert pool.wait_ready(1, timeout=60)
        yield pool


def _resigner(key: str, secret: str, upstream: Recorder) -> Resigner:
    return Resigner(lambda: Credentials(key, secret), "us-east-1", lambda service, region: upstream.url)


def _run(pool: WarmPool, code: str, resigner: Resigner) -> Any:
    env = {**dummy_env(resigner.region), "CLOUDINSPECT_VARS": "{}"}
    return pool.run(code, env, resign=resigner)


def test_reads_are_resigned_writes_refused_and_the_child_never_sees_a_key(
    aws_pool: WarmPool, upstream: Recorder, baseline_emulator: Emulator
) -> None:
    direct = direct_ec2(baseline_emulator.endpoint_url)
    vpcs_before = len(direct.describe_vpcs()["Vpcs"])
    result = _run(aws_pool, PROBE, _resigner(CANARY_KEY, CANARY_SECRET, upstream))
    assert result.backend.endswith("+warm")
    assert result.output_json is not None, result.stderr
    out = result.output_json
    assert out["vpcs"] == vpcs_before > 0  # the read went through, re-signed
    assert out["wrote"] == "HTTPError"
    assert out["env"]["AWS_ACCESS_KEY_ID"] == DUMMY_ACCESS_KEY
    assert result.status == "blocked"
    assert any(c.source == "bridge" and c.operation == "CreateVpc" for c in result.blocked_calls)
    assert CANARY_KEY not in result.to_json()
    assert CANARY_SECRET not in result.to_json()
    assert upstream.keys() == {CANARY_KEY}
    assert [r["path"] for r in upstream.seen] == ["/"]  # DescribeVpcs only: the write never left the bridge
    assert len(direct.describe_vpcs()["Vpcs"]) == vpcs_before


def test_consecutive_runs_sign_with_their_own_resigners(aws_pool: WarmPool, upstream: Recorder) -> None:
    first = _run(aws_pool, VPCS, _resigner(KEY_A, SECRET_A, upstream))
    assert first.status == "ok", first.stderr
    after_first = upstream.keys()
    second = _run(aws_pool, BUCKETS, _resigner(KEY_B, SECRET_B, upstream))
    assert second.status == "ok", second.stderr
    assert first.output_json > 0
    assert second.output_json > 0
    assert after_first == {KEY_A}
    assert upstream.keys() == {KEY_A, KEY_B}
    assert [c.operation for c in first.api_calls] == ["DescribeVpcs"]
    assert [c.operation for c in second.api_calls] == ["ListBuckets"]
    for result in (first, second):
        for secret in (KEY_A, SECRET_A, KEY_B, SECRET_B):
            assert secret not in result.to_json()


def test_a_child_refuses_requests_before_its_run(aws_pool: WarmPool, upstream: Recorder) -> None:
    assert aws_pool.wait_ready(1, timeout=60)
    child = aws_pool._ready[0]
    assert child.slot is not None
    assert child.slot.current is None
    request = capture("ec2", "describe_vpcs")
    conn = UnixHTTPConnection(child.bridge.socket_path, timeout=10)
    conn.request(request.method, request.target, body=request.body, headers=dict(request.headers))
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 502
    assert upstream.seen == []
    assert [c["error_code"] for c in child.bridge.calls] == ["BridgeResignError"]


def test_the_aws_pool_needs_each_runs_resigner(aws_pool: WarmPool) -> None:
    with pytest.raises(SandboxError, match="re-signing bridge"):
        aws_pool.run("print(1)", dummy_env("us-east-1"))


def test_execute_on_the_warm_pool_with_a_scoped_resigner(
    canary_profile: str, upstream: Recorder, baseline_emulator: Emulator
) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    target = AwsTarget(profile=canary_profile)
    resigner = aws_resigner(
        target,
        VPCS,
        session_factory=capturing_factory(captured),
        sts_endpoint_url=baseline_emulator.endpoint_url,
        resolve_endpoint=lambda service, region: upstream.url,
    )
    federation_key = resigner.credentials().get_frozen_credentials().access_key
    try:
        result = execute(VPCS, target, sandbox="warm", resigner=resigner)
        # The shared pool of the real-AWS route does not depend on the run's re-signer.
        assert get_pool(Endpoint(None, resign=_resigner(KEY_A, SECRET_A, upstream))) is get_pool(Endpoint(None))
    finally:
        close_pools()
    assert result.status == "ok", result.stderr
    assert result.backend.endswith("+warm")
    assert result.route == "aws-resigning-bridge"
    assert result.credential_scope == "federation-token-policy"
    assert [json.loads(p["Policy"])["Statement"][0]["Action"] for op, p in captured] == [["ec2:DescribeVpcs"]]
    assert upstream.keys() == {federation_key}
    assert CANARY_KEY not in result.to_json()
