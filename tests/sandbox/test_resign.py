"""The real-AWS route: the bridge re-signs allowed reads with the parent's credentials; the child holds dummies.

No internet here: a recording proxy in front of a moto server plays "real AWS" (`_upstream.py`), reached by
injecting the re-signer's endpoint resolver. Scoping without a role (federation tokens): test_resign_scope.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cloudinspect.cloud import AwsTarget, Emulator, parse_target
from cloudinspect.errors import InputError
from cloudinspect.sandbox import execute
from cloudinspect.sandbox.bridge import BridgeError, start_bridge
from cloudinspect.sandbox.execute import aws_resigner
from cloudinspect.sandbox.resign import (
    DUMMY_ACCESS_KEY,
    READ_ONLY_ACCESS_ARN,
    Resigner,
    botocore_endpoint,
    session_policy_params,
    signing_region,
    target_credentials,
)
from tests.sandbox._upstream import (
    CANARY_KEY,
    CANARY_SECRET,
    CREDENTIAL,
    ROLE,
    Recorder,
    capturing_factory,
    direct_ec2,
    dummy_client,
)
from tests.sandbox.conftest import needs_sandbox

# --- (e) endpoint resolution and signing, no network -----------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "region", "url"),
    [
        ("ec2", "us-east-1", "https://ec2.us-east-1.amazonaws.com"),
        ("ec2", "eu-west-3", "https://ec2.eu-west-3.amazonaws.com"),
        ("s3", "eu-west-1", "https://s3.eu-west-1.amazonaws.com"),
        ("iam", "eu-west-1", "https://iam.amazonaws.com"),
        ("cloudwatch", "ap-southeast-2", "https://monitoring.ap-southeast-2.amazonaws.com"),
        ("lambda", "cn-north-1", "https://lambda.cn-north-1.amazonaws.com.cn"),
        ("dynamodb", "us-west-2", "https://dynamodb.us-west-2.amazonaws.com"),
        ("sts", "eu-central-1", "https://sts.eu-central-1.amazonaws.com"),
    ],
)
def test_endpoints_resolve_like_a_botocore_client(
    service: str, region: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # ignored: the real endpoint is wanted
    assert botocore_endpoint(service, region) == url


def test_global_endpoints_sign_in_their_partition_home_region() -> None:
    assert signing_region("iam.amazonaws.com", "eu-west-1") == "us-east-1"
    assert signing_region("ec2.eu-west-1.amazonaws.com", "eu-west-1") == "eu-west-1"
    assert signing_region("iam.cn-north-1.amazonaws.com.cn", "cn-north-1") == "cn-north-1"


def test_sign_replaces_the_childs_signature() -> None:
    resigner = Resigner(lambda: Credentials(CANARY_KEY, CANARY_SECRET), "us-east-1")
    child = [
        ("Host", "127.0.0.1:4566"),
        ("Authorization", f"AWS4-HMAC-SHA256 Credential={DUMMY_ACCESS_KEY}/20240101/eu-west-1/ec2/aws4_request"),
        ("X-Amz-Date", "20240101T000000Z"),
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
    ]
    signed = resigner.sign(
        "POST",
        "/",
        child,
        b"Action=DescribeVpcs&Version=2016-11-15",
        service="ec2",
        signing_name="ec2",
        region="eu-west-1",
    )
    headers = dict(signed.headers)
    assert signed.url == "https://ec2.eu-west-1.amazonaws.com/"
    assert headers["Host"] == "ec2.eu-west-1.amazonaws.com"
    match = CREDENTIAL.search(headers["Authorization"])
    assert match is not None
    assert match.groups() == (CANARY_KEY, "eu-west-1", "ec2")
    assert DUMMY_ACCESS_KEY not in json.dumps(signed.headers)
    # A region the child made up falls back to the target's.
    bogus = resigner.sign("GET", "/", child, b"", service="ec2", signing_name="ec2", region="../evil")
    assert bogus.url.startswith("https://ec2.us-east-1.")


def test_session_policy_is_the_derived_policy_or_read_only_access() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeVpcs"], "Resource": "*"}],
    }
    assert json.loads(session_policy_params(policy)["Policy"]) == policy
    assert session_policy_params(None) == {"PolicyArns": [{"arn": READ_ONLY_ACCESS_ARN}]}
    assert session_policy_params({"Version": "2012-10-17", "Statement": []}) == {
        "PolicyArns": [{"arn": READ_ONLY_ACCESS_ARN}]
    }
    huge = {"Statement": [{"Effect": "Allow", "Action": [f"ec2:Describe{i}" for i in range(300)], "Resource": "*"}]}
    assert "PolicyArns" in session_policy_params(huge)


def test_aws_target_syntax() -> None:
    target = parse_target(f"aws:prod?role={ROLE}&region=eu-west-1")
    assert isinstance(target, AwsTarget)
    assert (target.profile, target.role_arn, target.region) == ("prod", ROLE, "eu-west-1")
    assert parse_target(target.spec) == target
    assert parse_target("aws:prod") == AwsTarget(profile="prod")
    for bad in ("aws:prod?role=nope", "aws:prod?colour=red", f"aws:prod?role={ROLE}&role={ROLE}", "aws:prod?region="):
        with pytest.raises(InputError):
            parse_target(bad)


def test_a_bridge_needs_exactly_one_upstream() -> None:
    resigner = Resigner(lambda: Credentials("a", "b"), "us-east-1")
    with pytest.raises(BridgeError):
        start_bridge(None, None, tcp_port=0)
    with pytest.raises(BridgeError):
        start_bridge("http://127.0.0.1:1", None, tcp_port=0, resign=resigner)


# --- (b), (c): the re-signing bridge against the recording stand-in ----------------------------------------------


def test_bridge_resigns_reads_and_refuses_writes_before_signing(upstream: Recorder) -> None:
    resigner = Resigner(lambda: Credentials(CANARY_KEY, CANARY_SECRET), "us-east-1", lambda s, r: upstream.url)
    with start_bridge(None, None, tcp_port=0, resign=resigner) as bridge:
        assert bridge.endpoint_url is not None
        ec2 = dummy_client("ec2", bridge.endpoint_url)
        vpcs = ec2.describe_vpcs()["Vpcs"]
        assert vpcs
        buckets = dummy_client("s3", bridge.endpoint_url).list_buckets()["Buckets"]
        assert buckets
        if buckets:
            dummy_client("s3", bridge.endpoint_url).list_objects_v2(Bucket=buckets[0]["Name"])
        before = len(upstream.seen)
        with pytest.raises(ClientError) as refused:
            ec2.create_vpc(CidrBlock="10.99.0.0/16")
        assert refused.value.response["Error"]["Code"] == "ReadOnlyViolation"
        with pytest.raises(ClientError):
            dummy_client("s3", bridge.endpoint_url).create_bucket(Bucket="resign-escape")
        assert len(upstream.seen) == before  # refused before re-signing: the upstream never saw them
        calls = bridge.calls
    assert upstream.keys() == {CANARY_KEY}  # every request reaching "AWS" is signed with the parent's key
    assert {(c["service"], c["operation"], c["allowed"]) for c in calls} >= {
        ("ec2", "DescribeVpcs", True),
        ("s3", "ListBuckets", True),
        ("s3", "ListObjectsV2", True),
        ("ec2", "CreateVpc", False),
        ("s3", "CreateBucket", False),
    }
    # Upstream state unchanged: the refused VPC and bucket do not exist.
    assert len(direct_ec2(upstream.url).describe_vpcs()["Vpcs"]) == len(vpcs)


# --- (d): assuming a read-only role with a session policy --------------------------------------------------------


def test_assume_role_sends_the_session_policy(canary_profile: str, baseline_emulator: Emulator) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeVpcs"], "Resource": "*"}],
    }
    scoped = target_credentials(
        canary_profile,
        role_arn=ROLE,
        session_policy=policy,
        session_factory=capturing_factory(captured),
        sts_endpoint_url=baseline_emulator.endpoint_url,
    )
    frozen = scoped.credentials.get_frozen_credentials()
    assert scoped.region == "us-east-1"
    assert scoped.scope == "role-session-policy"
    assert frozen.access_key != CANARY_KEY  # the role's temporary credentials
    assert frozen.token
    assert [operation for operation, _ in captured] == ["AssumeRole"]
    params = captured[0][1]
    assert params["RoleArn"] == ROLE
    assert json.loads(params["Policy"]) == policy
    assert "PolicyArns.member.1.arn" not in params


def test_assume_role_without_a_derived_policy_uses_read_only_access(
    canary_profile: str, baseline_emulator: Emulator
) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    target = AwsTarget(profile=canary_profile, role_arn=ROLE)
    # Code the review derives nothing for (no AWS call): the session policy is AWS's ReadOnlyAccess.
    resigner = aws_resigner(
        target,
        "print(1)",
        session_factory=capturing_factory(captured),
        sts_endpoint_url=baseline_emulator.endpoint_url,
    )
    assert resigner.scope == "role-session-policy"
    assert [operation for operation, _ in captured] == ["AssumeRole"]
    assert captured[0][1]["PolicyArns.member.1.arn"] == READ_ONLY_ACCESS_ARN
    assert "Policy" not in captured[0][1]


def test_scoping_turned_off_means_no_sts_call(canary_profile: str) -> None:
    # No STS endpoint is reachable here: a call would fail. The opt-out keeps the long-term keys, and says so.
    scoped = target_credentials(canary_profile, federate=False)
    assert scoped.credentials.get_frozen_credentials().access_key == CANARY_KEY
    assert scoped.scope == "unscoped-long-term"


# --- (a), (b), (c) end to end: a sandboxed script on the aws: route ------------------------------------------------

PROBE = """
import boto3, json, os
seen = []
for path in ["/proc/self/environ", "/proc/1/environ", os.path.expanduser("~/.aws/credentials")]:
    try:
        seen.append(open(path, "rb").read().decode("utf-8", "replace"))
    except OSError as exc:
        seen.append(repr(exc))
ec2 = boto3.client("ec2")
vpcs = ec2.describe_vpcs()["Vpcs"]
try:
    ec2.create_vpc(CidrBlock="10.98.0.0/16")
    wrote = True
except Exception as exc:
    wrote = repr(exc)
print(json.dumps({"vpcs": len(vpcs), "env": dict(os.environ), "seen": seen, "wrote": wrote}))
"""


@needs_sandbox
def test_aws_target_runs_under_full_isolation_with_dummy_credentials(
    canary_profile: str, upstream: Recorder, baseline_emulator: Emulator
) -> None:
    target = AwsTarget(profile=canary_profile)
    # Unscoped, so that the canary keys themselves sign (scoped runs: test_resign_scope.py).
    resigner = aws_resigner(target, PROBE, resolve_endpoint=lambda service, region: upstream.url, federate=False)
    direct = direct_ec2(baseline_emulator.endpoint_url)
    vpcs_before = len(direct.describe_vpcs()["Vpcs"])
    result = execute(PROBE, target, isolation="full", resigner=resigner)
    assert result.route == "aws-resigning-bridge"
    assert result.isolation == "full"
    assert result.credential_scope == "unscoped-long-term"
    assert result.output_json is not None, result.stderr
    out = result.output_json
    assert out["vpcs"] == vpcs_before > 0  # the read went through, re-signed
    assert out["env"]["AWS_ACCESS_KEY_ID"] == DUMMY_ACCESS_KEY
    assert out["wrote"] is not True
    assert result.status == "blocked"
    assert any(c.operation == "CreateVpc" for c in result.blocked_calls)
    text = result.to_json()
    assert CANARY_SECRET not in text
    assert CANARY_KEY not in text
    assert upstream.keys() == {CANARY_KEY}
    assert len(direct.describe_vpcs()["Vpcs"]) == vpcs_before
