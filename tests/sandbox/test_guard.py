"""The runtime guard refuses writes inside the child and logs every call; the bridge holds when it is removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudinspect.cloud import Emulator
from cloudinspect.sandbox.bridge import READ_ONLY_VIOLATION, start_bridge
from cloudinspect.sandbox.guard import guard_command, guard_files, guard_log_path, read_guard_log
from tests.sandbox.test_bridge import state

pytestmark = pytest.mark.e2e

HOSTILE = """
import json, boto3
from botocore.exceptions import ClientError
out = {}
def attempt(name, call):
    try:
        call()
        out[name] = "ok"
    except ClientError as exc:
        out[name] = exc.response["Error"]["Code"]
    except Exception as exc:
        out[name] = type(exc).__name__
s3 = boto3.client("s3")
ec2 = boto3.client("ec2")
instance = ec2.describe_instances()["Reservations"][0]["Instances"][0]["InstanceId"]
attempt("describe_vpcs", lambda: ec2.describe_vpcs())
attempt("list_buckets", lambda: s3.list_buckets())
attempt("paginated", lambda: list(s3.get_paginator("list_objects_v2").paginate(Bucket="acme-prod-logs")))
attempt("put_object", lambda: s3.put_object(Bucket="acme-prod-logs", Key="planted", Body=b"x"))
attempt("terminate", lambda: ec2.terminate_instances(InstanceIds=[instance]))
attempt("resource_delete", lambda: boto3.resource("s3").Bucket("acme-prod-logs").delete())
fresh = boto3.session.Session().client("s3")
attempt("fresh_session_delete", lambda: fresh.delete_bucket(Bucket="acme-prod-logs"))
UNHOOK
print(json.dumps(out))
"""

UNHOOK = """
import botocore.session
for client in (s3, ec2):
    for event in ("before-call", "before-parameter-build"):
        client.meta.events.unregister(event, unique_id="cloudinspect-guard-before")
raw = boto3.session.Session()
raw._session._events.unregister("before-call", unique_id="cloudinspect-guard-before")
attempt("unhooked_put", lambda: s3.put_object(Bucket="acme-prod-logs", Key="planted", Body=b"x"))
attempt("unhooked_terminate", lambda: ec2.terminate_instances(InstanceIds=[instance]))
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import os, urllib.request, urllib.error
url = os.environ["AWS_ENDPOINT_URL"] + "/acme-prod-logs"
request = AWSRequest(method="DELETE", url=url)
SigV4Auth(Credentials("testing", "testing"), "s3", "us-east-1").add_auth(request)
prepared = request.prepare()
try:
    urllib.request.urlopen(urllib.request.Request(url, method="DELETE", headers=dict(prepared.headers)))
    out["raw_delete"] = "ok"
except urllib.error.HTTPError as exc:
    out["raw_delete"] = exc.code
"""

WRITES = ("put_object", "terminate", "resource_delete", "fresh_session_delete")


def run_child(work: Path, script: str, env: dict[str, str], *, guarded: bool = True) -> dict[str, Any]:
    path = work / "script.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    argv = guard_command(path) if guarded else [sys.executable, "-I", str(path)]
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(argv, env={**base, **env}, capture_output=True, text=True, timeout=60, check=False, cwd=work)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def baseline(emulator: Callable[[str], Emulator]) -> Emulator:
    return emulator("baseline")


def test_guard_refuses_writes_and_logs_reads(baseline: Emulator, tmp_path: Path) -> None:
    before = state(baseline)
    env = {**baseline.env(), **guard_files(tmp_path)}
    out = run_child(tmp_path, HOSTILE.replace("UNHOOK", ""), env)
    assert {k: out[k] for k in ("describe_vpcs", "list_buckets", "paginated")} == dict.fromkeys(
        ("describe_vpcs", "list_buckets", "paginated"), "ok"
    )
    assert {k: out[k] for k in WRITES} == dict.fromkeys(WRITES, READ_ONLY_VIOLATION)
    log = read_guard_log(guard_log_path(tmp_path))
    ops = [(c["service"], c["operation"], c["allowed"]) for c in log]
    for expected in [("ec2", "DescribeInstances", True), ("s3", "ListObjectsV2", True)]:
        assert expected in ops
    for expected in [("s3", "PutObject", False), ("ec2", "TerminateInstances", False)]:
        assert expected in ops
    assert ("s3", "DeleteBucket", False) in ops  # resource-style and fresh-session deletes
    assert sum(1 for o in ops if o == ("s3", "DeleteBucket", False)) == 2
    assert all(c["error_code"] == READ_ONLY_VIOLATION for c in log if not c["allowed"])
    assert all(isinstance(c["duration_ms"], float) for c in log)
    assert state(baseline) == before


def test_allow_list_is_exact(baseline: Emulator, tmp_path: Path) -> None:
    env = {**baseline.env(), **guard_files(tmp_path, {("ec2", "DescribeInstances"), ("ec2", "DescribeVpcs")})}
    out = run_child(tmp_path, HOSTILE.replace("UNHOOK", ""), env)
    assert out["describe_vpcs"] == "ok"
    assert out["list_buckets"] == READ_ONLY_VIOLATION


def test_bridge_holds_without_the_guard(baseline: Emulator, tmp_path: Path) -> None:
    before = state(baseline)
    with start_bridge(baseline.endpoint_url, None, tcp_port=0) as bridge:
        assert bridge.endpoint_url is not None
        env = {**baseline.env(), **guard_files(tmp_path), "AWS_ENDPOINT_URL": bridge.endpoint_url}
        out = run_child(tmp_path, HOSTILE.replace("UNHOOK", UNHOOK), env)
        assert out["unhooked_put"] == out["unhooked_terminate"] == READ_ONLY_VIOLATION
        assert out["raw_delete"] == 403
        # and with no guard at all
        bare = run_child(tmp_path, HOSTILE.replace("UNHOOK", ""), env, guarded=False)
        assert {k: bare[k] for k in WRITES} == dict.fromkeys(WRITES, READ_ONLY_VIOLATION)
        refused = {(c["service"], c["operation"]) for c in bridge.calls if not c["allowed"]}
    assert {("s3", "PutObject"), ("ec2", "TerminateInstances"), ("s3", "DeleteBucket")} <= refused
    assert state(baseline) == before
    guard_ops = {(c["service"], c["operation"]) for c in read_guard_log(guard_log_path(tmp_path)) if c["allowed"]}
    assert ("s3", "PutObject") in guard_ops  # the unhooked child's guard no longer refused: the bridge did


def test_one_attempt_per_call_whatever_the_config(tmp_path: Path) -> None:
    script = """
    import boto3, json
    from botocore.config import Config
    client = boto3.client("sts", config=Config(retries={"max_attempts": 10, "mode": "standard"}))
    try:
        client.get_caller_identity()
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__}))
    """
    with start_bridge("http://127.0.0.1:9", None, tcp_port=0) as bridge:  # nothing listens upstream: HTTP 502
        assert bridge.endpoint_url is not None
        env = {
            "AWS_ENDPOINT_URL": bridge.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            **guard_files(tmp_path),
        }
        assert run_child(tmp_path, script, env) == {"error": "ClientError"}
        assert len(bridge.calls) == 1
        assert bridge.calls[0]["status"] == 502
