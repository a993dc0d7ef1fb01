"""The bridge's request parser recovers exactly the operation botocore sent, for every protocol."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from cloudinspect.sandbox.protocols import (
    MOTO_SIGNING_ALIASES,
    attribute_request,
    service_index,
    services_for_signing_name,
)
from tests.sandbox._requests import capture

B = {"Bucket": "my-bucket"}
BK = {"Bucket": "my-bucket", "Key": "dir/file.json"}
FN = {"FunctionName": "fn"}

# (service, client method, params, expected operation)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("ec2", "describe_vpcs", {}, "DescribeVpcs"),
    ("ec2", "describe_instances", {"Filters": [{"Name": "tag:a", "Values": ["b"]}]}, "DescribeInstances"),
    ("ec2", "describe_security_groups", {}, "DescribeSecurityGroups"),
    ("ec2", "terminate_instances", {"InstanceIds": ["i-1"]}, "TerminateInstances"),
    ("ec2", "run_instances", {"ImageId": "ami-1", "MinCount": 1, "MaxCount": 1}, "RunInstances"),
    ("ec2", "create_tags", {"Resources": ["i-1"], "Tags": [{"Key": "a", "Value": "b"}]}, "CreateTags"),
    ("s3", "list_buckets", {}, "ListBuckets"),
    ("s3", "list_objects_v2", B, "ListObjectsV2"),
    ("s3", "list_objects", B, "ListObjects"),
    ("s3", "get_object", BK, "GetObject"),
    ("s3", "head_object", BK, "HeadObject"),
    ("s3", "head_bucket", B, "HeadBucket"),
    ("s3", "get_bucket_tagging", B, "GetBucketTagging"),
    ("s3", "get_bucket_policy", B, "GetBucketPolicy"),
    ("s3", "get_bucket_encryption", B, "GetBucketEncryption"),
    ("s3", "get_public_access_block", B, "GetPublicAccessBlock"),
    ("s3", "get_bucket_location", B, "GetBucketLocation"),
    ("s3", "get_object_tagging", BK, "GetObjectTagging"),
    ("s3", "list_multipart_uploads", B, "ListMultipartUploads"),
    ("s3", "put_object", {**BK, "Body": b"x"}, "PutObject"),
    ("s3", "put_bucket_tagging", {**B, "Tagging": {"TagSet": []}}, "PutBucketTagging"),
    ("s3", "delete_bucket", B, "DeleteBucket"),
    ("s3", "delete_object", BK, "DeleteObject"),
    ("s3", "delete_objects", {**B, "Delete": {"Objects": [{"Key": "a"}]}}, "DeleteObjects"),
    ("s3", "create_bucket", B, "CreateBucket"),
    ("s3", "create_multipart_upload", BK, "CreateMultipartUpload"),
    ("s3", "upload_part", {**BK, "UploadId": "u", "PartNumber": 1, "Body": b"x"}, "UploadPart"),
    ("s3", "copy_object", {**BK, "CopySource": "other/key"}, "CopyObject"),
    ("iam", "list_users", {}, "ListUsers"),
    ("iam", "get_account_authorization_details", {}, "GetAccountAuthorizationDetails"),
    ("iam", "list_attached_role_policies", {"RoleName": "r"}, "ListAttachedRolePolicies"),
    ("iam", "create_user", {"UserName": "u"}, "CreateUser"),
    ("iam", "attach_user_policy", {"UserName": "u", "PolicyArn": "arn:aws:iam::aws:policy/x"}, "AttachUserPolicy"),
    ("sts", "get_caller_identity", {}, "GetCallerIdentity"),
    ("sts", "assume_role", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "session"}, "AssumeRole"),
    ("lambda", "list_functions", {}, "ListFunctions"),
    ("lambda", "get_function", FN, "GetFunction"),
    ("lambda", "get_function_configuration", FN, "GetFunctionConfiguration"),
    ("lambda", "get_policy", FN, "GetPolicy"),
    ("lambda", "delete_function", FN, "DeleteFunction"),
    ("lambda", "invoke", FN, "Invoke"),
    ("lambda", "update_function_configuration", {**FN, "Timeout": 3}, "UpdateFunctionConfiguration"),
    ("logs", "describe_log_groups", {}, "DescribeLogGroups"),
    ("logs", "filter_log_events", {"logGroupName": "g"}, "FilterLogEvents"),
    ("logs", "delete_log_group", {"logGroupName": "g"}, "DeleteLogGroup"),
    ("logs", "put_retention_policy", {"logGroupName": "g", "retentionInDays": 1}, "PutRetentionPolicy"),
    ("dynamodb", "list_tables", {}, "ListTables"),
    ("dynamodb", "describe_table", {"TableName": "t"}, "DescribeTable"),
    ("dynamodb", "scan", {"TableName": "t"}, "Scan"),
    ("dynamodb", "delete_table", {"TableName": "t"}, "DeleteTable"),
    ("dynamodb", "put_item", {"TableName": "t", "Item": {"a": {"S": "b"}}}, "PutItem"),
    ("sqs", "list_queues", {}, "ListQueues"),
    ("sqs", "get_queue_attributes", {"QueueUrl": "http://q/1/q"}, "GetQueueAttributes"),
    ("sqs", "send_message", {"QueueUrl": "http://q/1/q", "MessageBody": "m"}, "SendMessage"),
    ("sqs", "delete_queue", {"QueueUrl": "http://q/1/q"}, "DeleteQueue"),
    ("sns", "list_topics", {}, "ListTopics"),
    ("sns", "get_topic_attributes", {"TopicArn": "arn:aws:sns:us-east-1:1:t"}, "GetTopicAttributes"),
    ("sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "m"}, "Publish"),
    ("sns", "delete_topic", {"TopicArn": "arn:aws:sns:us-east-1:1:t"}, "DeleteTopic"),
    ("cloudwatch", "list_metrics", {}, "ListMetrics"),
    ("cloudwatch", "describe_alarms", {}, "DescribeAlarms"),
    (
        "cloudwatch",
        "put_metric_data",
        {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1}]},
        "PutMetricData",
    ),
    ("cloudwatch", "delete_alarms", {"AlarmNames": ["a"]}, "DeleteAlarms"),
    ("rds", "describe_db_instances", {}, "DescribeDBInstances"),
    ("rds", "delete_db_instance", {"DBInstanceIdentifier": "d", "SkipFinalSnapshot": True}, "DeleteDBInstance"),
    ("kms", "list_keys", {}, "ListKeys"),
    ("kms", "describe_key", {"KeyId": "k"}, "DescribeKey"),
    ("kms", "schedule_key_deletion", {"KeyId": "k"}, "ScheduleKeyDeletion"),
    ("ecs", "list_clusters", {}, "ListClusters"),
    ("ecs", "describe_services", {"services": ["s"]}, "DescribeServices"),
    ("ecs", "delete_cluster", {"cluster": "c"}, "DeleteCluster"),
    ("elbv2", "describe_load_balancers", {}, "DescribeLoadBalancers"),
    ("elbv2", "describe_target_health", {"TargetGroupArn": "arn"}, "DescribeTargetHealth"),
    ("elbv2", "delete_load_balancer", {"LoadBalancerArn": "arn"}, "DeleteLoadBalancer"),
    ("elb", "describe_load_balancers", {}, "DescribeLoadBalancers"),
    ("elb", "delete_load_balancer", {"LoadBalancerName": "n"}, "DeleteLoadBalancer"),
    ("secretsmanager", "list_secrets", {}, "ListSecrets"),
    ("secretsmanager", "describe_secret", {"SecretId": "s"}, "DescribeSecret"),
    ("secretsmanager", "delete_secret", {"SecretId": "s"}, "DeleteSecret"),
    ("ssm", "describe_parameters", {}, "DescribeParameters"),
    ("ssm", "get_parameters_by_path", {"Path": "/"}, "GetParametersByPath"),
    ("ssm", "put_parameter", {"Name": "n", "Value": "v", "Type": "String"}, "PutParameter"),
]


@pytest.mark.parametrize(("service", "method", "params", "expected"), CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_recovers_the_operation_botocore_sent(service: str, method: str, params: dict[str, Any], expected: str) -> None:
    sent = capture(service, method, params)
    found = attribute_request(sent.method, sent.target, sent.headers, sent.body)
    assert found.problem is None, found
    assert (found.service, found.operation) == (service, expected), found
    # Every other reading of the request is the same operation (S3's ListObjectsV2 also fits ListObjects).
    assert all(c.operation == expected or service == "s3" for c in found.candidates), found


def test_enough_operations_are_covered() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) >= 16


S3_VIRTUAL = [
    ("list_objects_v2", B, "ListObjectsV2"),
    ("get_object", BK, "GetObject"),
    ("put_object", {**BK, "Body": b"x"}, "PutObject"),
    ("put_bucket_tagging", {**B, "Tagging": {"TagSet": []}}, "PutBucketTagging"),
    ("delete_bucket", B, "DeleteBucket"),
    ("delete_objects", {**B, "Delete": {"Objects": [{"Key": "a"}]}}, "DeleteObjects"),
]


@pytest.mark.parametrize(("method", "params", "expected"), S3_VIRTUAL, ids=[c[0] for c in S3_VIRTUAL])
def test_s3_virtual_host_style(method: str, params: dict[str, Any], expected: str) -> None:
    sent = capture("s3", method, params, endpoint_url="http://localhost:4566", addressing="virtual")
    assert {k.lower(): v for k, v in sent.headers}["host"].startswith("my-bucket.")
    found = attribute_request(sent.method, sent.target, sent.headers, sent.body)
    assert found.problem is None, found
    assert expected in {c.operation for c in found.candidates}, found


def test_s3_path_style_shapes() -> None:
    auth = capture("s3", "list_buckets").headers
    cases = {
        ("PUT", "/bucket/key"): "PutObject",
        ("PUT", "/bucket?tagging"): "PutBucketTagging",
        ("GET", "/bucket?list-type=2"): "ListObjectsV2",
        ("DELETE", "/bucket"): "DeleteBucket",
        ("POST", "/bucket?delete"): "DeleteObjects",
        ("GET", "/bucket/a/b/c?tagging"): "GetObjectTagging",
    }
    for (method, target), expected in cases.items():
        found = attribute_request(method, target, auth, b"")
        assert found.operation == expected, (method, target, found)


def test_cloudwatch_protocol_in_this_botocore() -> None:
    """botocore picks the first of its own priority order that the model lists: json before cbor for CloudWatch."""
    info = service_index()["cloudwatch"]
    assert "smithy-rpc-v2-cbor" in info.protocols
    model = botocore.session.get_session().get_service_model("cloudwatch")
    assert info.protocol == model.resolved_protocol


def test_smithy_rpc_v2_cbor_path() -> None:
    auth = [(k, v) for k, v in capture("cloudwatch", "list_metrics").headers if k.lower() in ("authorization", "host")]
    headers = [*auth, ("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
    for op in ("ListMetrics", "PutMetricData", "GetMetricData"):
        found = attribute_request("POST", f"/service/GraniteServiceVersion20100801/operation/{op}", headers, b"\xa0")
        assert (found.service, found.operation, found.wire_protocol) == ("cloudwatch", op, "smithy-rpc-v2-cbor")
    bogus = attribute_request("POST", "/service/GraniteServiceVersion20100801/operation/Nope", headers, b"\xa0")
    assert bogus.problem is not None


def test_signing_names_differ_from_service_names() -> None:
    assert "cloudwatch" in services_for_signing_name("monitoring")
    assert {"elb", "elbv2"} <= set(services_for_signing_name("elasticloadbalancing"))
    assert "s3control" in services_for_signing_name("s3")


def test_elb_and_elbv2_disambiguated_by_version() -> None:
    for service in ("elb", "elbv2"):
        sent = capture(service, "describe_load_balancers")
        assert attribute_request(sent.method, sent.target, sent.headers, sent.body).service == service


def test_moto_signing_aliases_match_moto() -> None:
    from moto.moto_server.werkzeug_app import SIGNING_ALIASES

    assert set(SIGNING_ALIASES) == set(MOTO_SIGNING_ALIASES)


def _headers_of(service: str, method: str, params: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    return capture(service, method, params).headers


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda h: [x for x in h if x[0].lower() != "authorization"], "unsigned"),
        (lambda h: [*h, ("Authorization", "AWS4-HMAC-SHA256 Credential=a/b/us-east-1/s3/aws4_request")], "several"),
        (
            lambda h: [
                (k, "AWS4-HMAC-SHA256 Credential=a/b/us-east-1/nosuchservice/aws4_request")
                if k.lower() == "authorization"
                else (k, v)
                for k, v in h
            ],
            "no botocore service",
        ),
        (
            lambda h: [(k, "Basic dXNlcjpwYXNz") if k.lower() == "authorization" else (k, v) for k, v in h],
            "not a SigV4",
        ),
    ],
)
def test_unattributable_requests(mutate: Any, why: str) -> None:
    sent = capture("logs", "describe_log_groups")
    found = attribute_request(sent.method, sent.target, mutate(sent.headers), sent.body)
    assert not found.attributed
    assert why in (found.problem or "")


def test_hostile_shapes_get_every_reading() -> None:
    logs = capture("logs", "describe_log_groups")
    # moto's dispatcher honours Action= before X-Amz-Target: both readings are kept, so the write is seen.
    found = attribute_request("POST", "/?Action=DeleteLogGroup", logs.headers, logs.body)
    assert {c.operation for c in found.candidates} == {"DescribeLogGroups", "DeleteLogGroup"}
    body_action = attribute_request("POST", "/", logs.headers, b'{"Action": "DeleteLogGroup"}')
    assert "DeleteLogGroup" in {c.operation for c in body_action.candidates}
    unknown = attribute_request(
        "POST",
        "/",
        [
            *logs.headers[:0],
            *[
                (k, "Logs_20140328.delete_log_group") if k.lower() == "x-amz-target" else (k, v)
                for k, v in logs.headers
            ],
        ],
        logs.body,
    )
    assert not unknown.attributed
    control = attribute_request("POST", "/moto-api/reset", logs.headers, b"")
    assert not control.attributed
    encoded = attribute_request("POST", "/%6Doto-api/reset", logs.headers, b"")
    assert not encoded.attributed
    no_route = attribute_request("POST", "/", _headers_of("s3", "list_buckets"), b"")
    assert not no_route.attributed
    ec2 = capture("ec2", "describe_vpcs")
    both = attribute_request("POST", "/?Action=TerminateInstances", ec2.headers, ec2.body)
    assert {"DescribeVpcs", "TerminateInstances"} <= {c.operation for c in both.candidates}
