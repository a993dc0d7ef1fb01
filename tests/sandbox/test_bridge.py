"""The bridge forwards reads, refuses writes in every protocol's own error shape, and records every call."""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.parsers
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cloudinspect.cloud import Emulator
from cloudinspect.sandbox.bridge import (
    READ_ONLY_VIOLATION,
    UNATTRIBUTED,
    Bridge,
    UnixHTTPConnection,
    default_read_only_policy,
    error_response,
    read_only_policy_source,
    start_bridge,
)


@pytest.mark.parametrize("protocol", ["ec2", "query", "json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor"])
def test_refusals_parse_as_client_errors(protocol: str) -> None:
    service = {"ec2": "ec2", "query": "iam", "json": "logs", "rest-json": "lambda"}.get(protocol, "s3")
    headers, body = error_response(protocol, service, READ_ONLY_VIOLATION, "refused <x> & y")
    parser = botocore.parsers.create_parser(protocol)
    parsed = parser.parse({"status_code": 403, "headers": dict(headers), "body": body}, None)
    assert parsed["Error"]["Code"] == READ_ONLY_VIOLATION
    assert "refused <x> & y" in parsed["Error"]["Message"]


def test_default_policy() -> None:
    assert read_only_policy_source() == "iam-access-levels"
    assert default_read_only_policy("ec2", "DescribeVpcs")
    assert default_read_only_policy("s3", "ListObjectsV2")
    assert default_read_only_policy("sts", "GetCallerIdentity")
    for service, op in [
        ("ec2", "TerminateInstances"),
        ("s3", "PutObject"),
        ("s3", "DeleteObjects"),
        ("iam", "CreateUser"),
    ]:
        assert not default_read_only_policy(service, op)
    assert not default_read_only_policy("ec2", "FrobnicateEverything")  # unknown: the name rule says no


@pytest.fixture(scope="module")
def baseline(emulator: Callable[[str], Emulator]) -> Emulator:
    return emulator("baseline")


@pytest.fixture
def bridge(baseline: Emulator) -> Iterator[Bridge]:
    with start_bridge(baseline.endpoint_url, None, default_read_only_policy, tcp_port=0) as running:
        yield running


def _client(bridge: Bridge, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - dummy
        region_name="us-east-1",
    )
    config = Config(retries={"total_max_attempts": 1})
    return session.client(service, endpoint_url=bridge.endpoint_url, config=config)  # type: ignore[call-overload]


def state(emu: Emulator) -> dict[str, Any]:
    """What the writes in these tests would change."""
    ec2 = emu.client("ec2")
    return {
        "buckets": sorted(b["Name"] for b in emu.client("s3").list_buckets()["Buckets"]),
        "instances": sorted(
            (i["InstanceId"], i["State"]["Name"])
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
        ),
        "log_groups": sorted(g["logGroupName"] for g in emu.client("logs").describe_log_groups()["logGroups"]),
        "users": sorted(u["UserName"] for u in emu.client("iam").list_users()["Users"]),
        "objects": sorted(
            o["Key"] for o in emu.client("s3").list_objects_v2(Bucket="acme-prod-logs").get("Contents", [])
        ),
    }


@pytest.mark.e2e
def test_reads_pass_and_writes_are_refused(bridge: Bridge, baseline: Emulator) -> None:
    before = state(baseline)
    ec2, s3, logs, iam = (_client(bridge, s) for s in ("ec2", "s3", "logs", "iam"))
    assert ec2.describe_vpcs()["Vpcs"]
    assert s3.list_buckets()["Buckets"]
    assert "logGroups" in logs.describe_log_groups()
    assert "Users" in iam.list_users()
    instance = before["instances"][0][0]
    writes: list[Callable[[], Any]] = [
        lambda: ec2.terminate_instances(InstanceIds=[instance]),
        lambda: s3.put_object(Bucket="acme-prod-logs", Key="planted", Body=b"x"),
        lambda: s3.delete_bucket(Bucket="acme-prod-logs"),
        lambda: s3.delete_objects(Bucket="acme-prod-logs", Delete={"Objects": [{"Key": before["objects"][0]}]}),
        lambda: logs.delete_log_group(logGroupName=before["log_groups"][0]),
        lambda: iam.create_user(UserName="intruder"),
    ]
    for write in writes:
        with pytest.raises(ClientError) as caught:
            write()
        assert caught.value.response["Error"]["Code"] == READ_ONLY_VIOLATION
    calls = bridge.calls
    assert [c["allowed"] for c in calls] == [True] * 4 + [False] * 6
    refused = {(c["service"], c["operation"]) for c in calls if not c["allowed"]}
    assert ("ec2", "TerminateInstances") in refused
    assert ("s3", "DeleteObjects") in refused
    assert all(c["status"] == 200 for c in calls[:4])
    assert all(c["duration_ms"] > 0 and c["request_bytes"] >= 0 for c in calls)
    assert state(baseline) == before


def _signed(url: str, method: str, service: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials("testing", "testing"), service, "us-east-1").add_auth(request)
    return request.prepare()


def _send(prepared: Any) -> tuple[int, bytes]:
    raw = urllib.request.Request(prepared.url, data=prepared.body or None, method=prepared.method)  # noqa: S310
    for key, value in prepared.headers.items():
        raw.add_header(key, value.decode() if isinstance(value, bytes) else value)
    try:
        with urllib.request.urlopen(raw, timeout=10) as response:  # noqa: S310 - loopback test endpoint
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.e2e
def test_raw_signed_and_crafted_requests_are_refused(bridge: Bridge, baseline: Emulator) -> None:
    before = state(baseline)
    url = bridge.endpoint_url
    assert url is not None
    instance = before["instances"][0][0]
    attempts = [
        _signed(f"{url}/acme-prod-logs", "DELETE", "s3"),
        _signed(
            f"{url}/",
            "POST",
            "ec2",
            f"Action=TerminateInstances&Version=2016-11-15&InstanceId.1={instance}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        # a read on the outside, a write to moto's dispatcher (which honours Action= before X-Amz-Target)
        _signed(
            f"{url}/?Action=DeleteLogGroup&logGroupName={before['log_groups'][0]}",
            "POST",
            "logs",
            b"{}",
            {"X-Amz-Target": "Logs_20140328.DescribeLogGroups", "Content-Type": "application/x-amz-json-1.1"},
        ),
        _signed(f"{url}/moto-api/reset", "POST", "s3"),
        _signed(f"{url}/acme-prod-logs/planted", "POST", "s3", b"x"),
    ]
    unsigned = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")  # noqa: S310
    for prepared in attempts:
        status, body = _send(prepared)
        assert status == 403, body
        assert READ_ONLY_VIOLATION.encode() in body or UNATTRIBUTED.encode() in body
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)  # noqa: S310
    assert refused.value.code == 403
    assert state(baseline) == before
    assert len(bridge.calls) == len(attempts) + 1
    assert not any(c["allowed"] for c in bridge.calls)


@pytest.mark.e2e
def test_unix_socket_keep_alive_and_latency(baseline: Emulator, tmp_path: Path) -> None:
    """Per-call overhead of the Unix-socket bridge against the same raw request sent directly (keep-alive both)."""
    import http.client
    from urllib.parse import urlsplit

    socket_path = tmp_path / "bridge.sock"
    with start_bridge(baseline.endpoint_url, socket_path) as running:
        prepared = _signed(
            f"{baseline.endpoint_url}/",
            "POST",
            "sts",
            b"Action=GetCallerIdentity&Version=2011-06-15",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
        parts = urlsplit(baseline.endpoint_url)
        direct = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        bridged = UnixHTTPConnection(socket_path, timeout=10)

        def timed(conn: http.client.HTTPConnection) -> float:
            start = time.perf_counter()
            conn.request("POST", "/", body=prepared.body, headers=headers)
            response = conn.getresponse()
            assert response.status == 200, response.read()
            response.read()
            return (time.perf_counter() - start) * 1000

        for conn in (direct, bridged):
            timed(conn)
        direct_ms, bridged_ms = [], []
        for _ in range(40):
            direct_ms.append(timed(direct))
            bridged_ms.append(timed(bridged))
        overhead = statistics.median(bridged_ms) - statistics.median(direct_ms)
        print(
            json.dumps(
                {
                    "direct_median_ms": round(statistics.median(direct_ms), 2),
                    "bridge_median_ms": round(statistics.median(bridged_ms), 2),
                    "overhead_ms": round(overhead, 2),
                }
            )
        )
        assert overhead < 25, (direct_ms, bridged_ms)
        assert len(running.calls) == 41
        assert all(c["allowed"] for c in running.calls)
    assert not socket_path.exists()


@pytest.mark.e2e
def test_oversized_bodies_are_refused_without_reading_them(baseline: Emulator) -> None:
    with start_bridge(baseline.endpoint_url, None, tcp_port=0, max_request_bytes=1024) as running:
        assert running.endpoint_url is not None
        prepared = _signed(f"{running.endpoint_url}/", "POST", "sts", b"Action=GetCallerIdentity&x=" + b"a" * 4096)
        status, body = _send(prepared)
        assert status == 403
        assert UNATTRIBUTED.encode() in body
        assert running.calls[0]["request_bytes"] == 0
