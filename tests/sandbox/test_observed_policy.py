"""observed_iam_policy: the least-privilege policy of the calls a run actually made (allowed ones only)."""

from __future__ import annotations

from collections.abc import Callable

from cloudinspect.cloud import Emulator
from cloudinspect.sandbox import ApiCallRecord, execute
from cloudinspect.sandbox.policy import observed_iam_policy, observed_operations
from tests.sandbox.conftest import needs_sandbox


def actions(policy: dict[str, object]) -> set[str]:
    statements = policy["Statement"]
    assert isinstance(statements, list)
    return {a for s in statements for a in s["Action"]}


def test_policy_of_recorded_calls() -> None:
    calls = [
        ApiCallRecord(service="s3", operation="ListObjectsV2"),
        ApiCallRecord(service="s3", operation="ListObjectsV2", source="bridge"),
        ApiCallRecord(service="elbv2", operation="DescribeLoadBalancers", source="bridge"),
        ApiCallRecord(service="logs", operation="DescribeLogGroups", error_code="AccessDenied"),
        ApiCallRecord(service="s3", operation="CreateBucket", allowed=False),
        ApiCallRecord(service="None", operation="None", allowed=False, source="bridge"),
        ApiCallRecord(service="sts", operation="GetCallerIdentity"),
    ]
    assert observed_operations(calls) == [
        ("elbv2", "DescribeLoadBalancers"),
        ("logs", "DescribeLogGroups"),
        ("s3", "ListObjectsV2"),
        ("sts", "GetCallerIdentity"),
    ]
    policy = observed_iam_policy(calls)
    assert policy["Version"] == "2012-10-17"
    assert actions(policy) == {
        "elasticloadbalancing:DescribeLoadBalancers",
        "logs:DescribeLogGroups",
        "s3:ListBucket",
    }
    assert observed_iam_policy([])["Statement"] == []


@needs_sandbox
def test_exec_result_carries_the_observed_policy(emulator: Callable[[str], Emulator]) -> None:
    code = """
import boto3, json
from botocore.exceptions import ClientError
s3 = boto3.client("s3")
bucket = s3.list_buckets()["Buckets"][0]["Name"]
s3.list_objects_v2(Bucket=bucket)
boto3.client("cloudwatch").describe_alarms()
try:
    s3.create_bucket(Bucket="observed-policy-write")
except ClientError:
    pass
print(json.dumps({"ok": True}))
"""
    result = execute(code, f"endpoint:{emulator('baseline').endpoint_url}")
    assert result.status == "blocked"  # the write was refused, so it is not in the policy
    assert result.observed_iam_policy is not None
    assert actions(result.observed_iam_policy) == {
        "s3:ListAllMyBuckets",
        "s3:ListBucket",
        "cloudwatch:DescribeAlarms",
    }
