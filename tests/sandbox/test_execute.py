"""End to end against the real emulator: targets, full isolation through the bridge, the runtime guard,
classification of real botocore failures, `unsupported` within two seconds (the catalogue's reference scripts on
every scenario: test_catalogue_in_sandbox.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cloudinspect.cli import build_app
from cloudinspect.cloud import AwsTarget, Emulator
from cloudinspect.sandbox import SandboxError, aws_env, execute
from tests.sandbox.conftest import needs_sandbox

VPCS = """
import boto3, json
vpcs = boto3.client("ec2").describe_vpcs()["Vpcs"]
print(json.dumps({"vpcs": len(vpcs)}))
"""


@pytest.fixture(scope="module")
def baseline(emulator: Callable[[str], Emulator]) -> str:
    return f"endpoint:{emulator('baseline').endpoint_url}"


@needs_sandbox
@pytest.mark.parametrize("isolation", ["none", "full"])
def test_read_only_script_runs(baseline: str, isolation: Any) -> None:
    result = execute(VPCS, baseline, isolation=isolation)
    assert result.status == "ok", result.stderr
    assert result.output_json["vpcs"] > 0
    assert result.target == baseline
    assert result.isolation == isolation
    calls = {(c.service, c.operation) for c in result.api_calls}
    assert ("ec2", "DescribeVpcs") in calls


@needs_sandbox
def test_full_isolation_records_bridge_calls_and_blocks_writes(baseline: str) -> None:
    result = execute(
        """
import boto3
boto3.client("s3").create_bucket(Bucket="sandbox-escape")
""",
        baseline,
    )
    assert result.status == "blocked"
    assert result.error_class == "read_only_violation"
    assert result.blocked_calls
    assert result.blocked_calls[0].operation == "CreateBucket"


@needs_sandbox
def test_raw_http_write_is_refused_by_the_bridge(baseline: str) -> None:
    # No boto3, no guard: a hand-made EC2 query request straight at the sandbox's endpoint.
    result = execute(
        """
import os, urllib.request
body = b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.99.0.0/16"
req = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"], data=body, headers={
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/aws4_request, "
                     "SignedHeaders=host, Signature=0"})
try:
    urllib.request.urlopen(req)
    print("sent")
except Exception as exc:
    print(type(exc).__name__)
""",
        baseline,
    )
    assert result.stdout.strip() != "sent"
    assert result.status == "blocked"
    assert any(c.source == "bridge" and c.operation == "CreateVpc" for c in result.blocked_calls)


@needs_sandbox
@pytest.mark.parametrize("isolation", ["none", "full"])
def test_unsupported_operation_is_reported_quickly(baseline: str, isolation: Any) -> None:
    # moto lacks CloudTrail LookupEvents: HTTP 500 with an HTML page, which botocore would retry for seconds.
    result = execute("import boto3\nboto3.client('cloudtrail').lookup_events()\n", baseline, isolation=isolation)
    assert result.status == "unsupported", result.stderr[-800:]
    assert result.error_class == "emulator_unsupported"
    assert result.duration_ms < 2000


@needs_sandbox
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import boto3\nboto3.client('ec2').describe_vpcz()\n", "hallucinated_api"),
        ("import boto3\nboto3.client('ec3')\n", "hallucinated_api"),
        ("import boto3\nboto3.client('ec2').describe_vpcs(Foo=1)\n", "parameter_validation"),
        ("import boto3\nboto3.client('ec2').describe_vpcs(VpcIds='vpc-1')\n", "parameter_validation"),
        ("import boto3\nboto3.client('ec2').describe_vpcs(\n", "syntax"),
        ("import boto3_extras\n", "import"),
        ("import boto3\nboto3.client('iam').get_role(RoleName='nope')\n", "runtime"),
    ],
)
def test_real_failures_are_classified(baseline: str, code: str, expected: str) -> None:
    result = execute(code, baseline, isolation="none")
    assert result.status == "error"
    assert result.error_class == expected, result.stderr[-800:]
    if expected not in ("syntax",):
        assert result.traceback is not None
        assert "botocore/" not in result.traceback


@needs_sandbox
def test_cli_exec_json(baseline: str, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(VPCS)
    out = CliRunner().invoke(build_app(), ["exec", str(script), "--target", baseline, "--json", "--timeout", "30"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["status"] == "ok"
    assert data["output_json"]["vpcs"] > 0
    bad = tmp_path / "bad.py"
    bad.write_text("x = (\n")
    out = CliRunner().invoke(build_app(), ["exec", str(bad), "--target", baseline])
    assert out.exit_code == 1


def test_aws_target_env_is_scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, baseline: str) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("[ro]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = SECRETEXAMPLE\n")
    config = tmp_path / "config"
    config.write_text("[profile ro]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Long-term keys never reach the child: it gets a federation token (the emulator plays STS).
    env = aws_env(AwsTarget(profile="ro"), sts_endpoint_url=baseline.removeprefix("endpoint:"))
    assert env["AWS_ACCESS_KEY_ID"] not in ("", "AKIAEXAMPLE")
    assert env["AWS_SECRET_ACCESS_KEY"] != "SECRETEXAMPLE"  # noqa: S105
    assert env["AWS_SESSION_TOKEN"]
    assert "SECRETEXAMPLE" not in json.dumps(env)
    assert env["AWS_REGION"] == "eu-west-3"
    assert "AWS_PROFILE" not in env
    assert str(creds) not in env.values()
    assert str(config) not in env.values()


def test_full_isolation_refuses_real_aws_without_the_resigning_bridge() -> None:
    # execute() routes aws: targets through the re-signing bridge (test_resign.py); a bare Endpoint(None) has no
    # route out of the network namespace and is refused.
    from cloudinspect.sandbox import Endpoint, ProcessSandbox

    with pytest.raises(SandboxError, match="isolation 'none'"):
        ProcessSandbox().run("print(1)", {}, endpoint=Endpoint(None), isolation="full")
