"""A full read of an emulated account as canonical JSON, to prove that nothing changed it.

`account_state(emulator)` reads, for every service a scenario seeds: every List/Describe/Get operation that needs
no parameter (paginated), then every resource in depth (S3 object bodies as SHA-256, bucket settings, IAM inline
and managed policy documents, log events, metric statistics, queue and topic attributes, DynamoDB items, secret
values, parameters, alarm states, records, task definitions...). Errors are part of the state (their code), so an
operation that starts or stops failing is a change too. ResponseMetadata is dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from cloudinspect.cloud import Emulator

SERVICES = (
    "autoscaling",
    "cloudtrail",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "elbv2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
)
READ_PREFIXES = ("List", "Describe", "Get")
SKIP = {
    # Huge catalogues moto generates (not account state), or answers that change by themselves.
    ("ec2", "DescribeImages"),
    ("ec2", "DescribeInstanceTypes"),
    ("ec2", "DescribeInstanceTypeOfferings"),
    ("ec2", "DescribeSpotPriceHistory"),
    ("ec2", "DescribeReservedInstancesOfferings"),
    ("ec2", "DescribePrefixLists"),
    ("ec2", "DescribeManagedPrefixLists"),
    ("ec2", "DescribeVpcEndpointServices"),
    ("ec2", "DescribeRegions"),
    ("ec2", "DescribeAvailabilityZones"),
    ("rds", "DescribeDBEngineVersions"),
    ("rds", "DescribeOrderableDBInstanceOptions"),
    ("ssm", "DescribeAvailablePatches"),
    ("ssm", "GetParametersByPath"),
    ("iam", "GetCredentialReport"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("sts", "GetSessionToken"),
    ("sts", "GetFederationToken"),
    ("ecr", "GetAuthorizationToken"),
    ("kms", "ListKeyRotations"),
    ("secretsmanager", "GetRandomPassword"),
    ("iam", "GetUser"),  # without a name: moto makes up a new caller each time
}
VOLATILE_FIELDS = frozenset({"LatestRestorableTime", "LastAccessedDate"})
"""Fields moto computes at read time (now), not account state."""
METRIC_WINDOW = (dt.datetime(2015, 1, 1, tzinfo=dt.UTC), dt.datetime(2035, 1, 1, tzinfo=dt.UTC))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if k != "ResponseMetadata" and k not in VOLATILE_FIELDS}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if hasattr(value, "read"):  # StreamingBody
        return {"sha256": hashlib.sha256(value.read()).hexdigest()}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


class _Reader:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.state: dict[str, Any] = {}

    def call(self, service: str, operation: str, key: str | None = None, **params: Any) -> Any:
        """One read (paginated when botocore can), recorded under service/operation[/key]; the cleaned answer."""
        client = self.emulator.client(service)
        method = client.meta.method_to_api_mapping
        name = next(m for m, op in method.items() if op == operation)
        try:
            if client.can_paginate(name):
                pages = [_clean(p) for p in client.get_paginator(name).paginate(**params)]
                answer: Any = pages[0] if len(pages) == 1 else {"pages": pages}
            else:
                answer = _clean(getattr(client, name)(**params))
        except ClientError as exc:
            answer = {"error": exc.response.get("Error", {}).get("Code", "?")}
        except (BotoCoreError, ResponseParserError) as exc:
            answer = {"error": type(exc).__name__}
        label = f"{service}.{operation}" + (f"[{key}]" if key is not None else "")
        self.state[label] = answer
        return answer

    def items(self, service: str, operation: str, field: str, key: str | None = None, **params: Any) -> list[Any]:
        answer = self.call(service, operation, key, **params)
        pages = answer.get("pages", [answer]) if isinstance(answer, dict) else []
        return [item for page in pages for item in page.get(field, [])]


def _no_argument_reads(reader: _Reader, service: str) -> None:
    model = reader.emulator.client(service).meta.service_model
    for operation in model.operation_names:
        if not operation.startswith(READ_PREFIXES) or (service, operation) in SKIP:
            continue
        shape = model.operation_model(operation).input_shape
        if shape is not None and shape.required_members:
            continue
        reader.call(service, operation)


def _s3(r: _Reader) -> None:
    for bucket in [b["Name"] for b in r.items("s3", "ListBuckets", "Buckets")]:
        for op in (
            "GetBucketPolicy",
            "GetBucketAcl",
            "GetBucketTagging",
            "GetBucketVersioning",
            "GetBucketEncryption",
            "GetPublicAccessBlock",
            "GetBucketLogging",
            "GetBucketLifecycleConfiguration",
            "GetBucketLocation",
            "GetBucketCors",
            "GetBucketWebsite",
            "GetBucketNotificationConfiguration",
            "GetBucketOwnershipControls",
        ):
            r.call("s3", op, bucket, Bucket=bucket)
        r.call("s3", "ListObjectVersions", bucket, Bucket=bucket)
        for obj in r.items("s3", "ListObjectsV2", "Contents", bucket, Bucket=bucket):
            r.call("s3", "GetObject", f"{bucket}/{obj['Key']}", Bucket=bucket, Key=obj["Key"])
            r.call("s3", "GetObjectTagging", f"{bucket}/{obj['Key']}", Bucket=bucket, Key=obj["Key"])


def _iam(r: _Reader) -> None:
    for user in [u["UserName"] for u in r.items("iam", "ListUsers", "Users")]:
        r.call("iam", "GetUser", user, UserName=user)
        for name in r.items("iam", "ListUserPolicies", "PolicyNames", user, UserName=user):
            r.call("iam", "GetUserPolicy", f"{user}/{name}", UserName=user, PolicyName=name)
        for op in ("ListAttachedUserPolicies", "ListAccessKeys", "ListGroupsForUser", "ListMFADevices"):
            r.call("iam", op, user, UserName=user)
        r.call("iam", "GetLoginProfile", user, UserName=user)
    for role in [x["RoleName"] for x in r.items("iam", "ListRoles", "Roles")]:
        r.call("iam", "GetRole", role, RoleName=role)
        for name in r.items("iam", "ListRolePolicies", "PolicyNames", role, RoleName=role):
            r.call("iam", "GetRolePolicy", f"{role}/{name}", RoleName=role, PolicyName=name)
        r.call("iam", "ListAttachedRolePolicies", role, RoleName=role)
    for group in [g["GroupName"] for g in r.items("iam", "ListGroups", "Groups")]:
        r.call("iam", "GetGroup", group, GroupName=group)
        for name in r.items("iam", "ListGroupPolicies", "PolicyNames", group, GroupName=group):
            r.call("iam", "GetGroupPolicy", f"{group}/{name}", GroupName=group, PolicyName=name)
        r.call("iam", "ListAttachedGroupPolicies", group, GroupName=group)
    for policy in r.items("iam", "ListPolicies", "Policies", "local", Scope="Local"):
        arn = policy["Arn"]
        for version in r.items("iam", "ListPolicyVersions", "Versions", arn, PolicyArn=arn):
            vid = version["VersionId"]
            r.call("iam", "GetPolicyVersion", f"{arn}/{vid}", PolicyArn=arn, VersionId=vid)


def _logs(r: _Reader) -> None:
    for group in [g["logGroupName"] for g in r.items("logs", "DescribeLogGroups", "logGroups")]:
        r.call("logs", "DescribeMetricFilters", group, logGroupName=group)
        r.call("logs", "DescribeSubscriptionFilters", group, logGroupName=group)
        r.call("logs", "ListTagsForResource", group, resourceArn=f"arn:aws:logs:{r.emulator.region}:x:{group}")
        for stream in r.items("logs", "DescribeLogStreams", "logStreams", group, logGroupName=group):
            name = stream["logStreamName"]
            client = r.emulator.client("logs")
            events = client.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True, limit=10000)
            r.state[f"logs.GetLogEvents[{group}/{name}]"] = _clean(events.get("events", []))


def _cloudwatch(r: _Reader) -> None:
    start, end = METRIC_WINDOW
    for metric in r.items("cloudwatch", "ListMetrics", "Metrics"):
        key = json.dumps(metric, sort_keys=True)
        r.call(
            "cloudwatch",
            "GetMetricStatistics",
            key,
            Namespace=metric["Namespace"],
            MetricName=metric["MetricName"],
            Dimensions=metric.get("Dimensions", []),
            StartTime=start,
            EndTime=end,
            Period=86400,
            Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"],
        )


def _sqs(r: _Reader) -> None:
    for url in r.items("sqs", "ListQueues", "QueueUrls"):
        attributes = r.call("sqs", "GetQueueAttributes", url, QueueUrl=url, AttributeNames=["All"])
        values = attributes.get("Attributes", {}) if isinstance(attributes, dict) else {}
        # Delayed messages become visible with time: only the total is state.
        counts = [k for k in values if k.startswith("ApproximateNumberOfMessages")]
        if counts:
            values["ApproximateNumberOfMessages(total)"] = sum(int(values.pop(k)) for k in counts)
        r.call("sqs", "ListQueueTags", url, QueueUrl=url)


def _sns(r: _Reader) -> None:
    for topic in r.items("sns", "ListTopics", "Topics"):
        r.call("sns", "GetTopicAttributes", topic["TopicArn"], TopicArn=topic["TopicArn"])
    for sub in r.items("sns", "ListSubscriptions", "Subscriptions"):
        arn = sub["SubscriptionArn"]
        r.call("sns", "GetSubscriptionAttributes", arn, SubscriptionArn=arn)


def _dynamodb(r: _Reader) -> None:
    for table in r.items("dynamodb", "ListTables", "TableNames"):
        r.call("dynamodb", "DescribeTable", table, TableName=table)
        r.call("dynamodb", "DescribeContinuousBackups", table, TableName=table)
        r.call("dynamodb", "DescribeTimeToLive", table, TableName=table)
        items = r.items("dynamodb", "Scan", "Items", table, TableName=table)
        r.state[f"dynamodb.Scan[{table}]"] = sorted(json.dumps(i, sort_keys=True) for i in items)


def _lambda(r: _Reader) -> None:
    for fn in [f["FunctionName"] for f in r.items("lambda", "ListFunctions", "Functions")]:
        answer = r.call("lambda", "GetFunction", fn, FunctionName=fn)
        if isinstance(answer, dict) and "Code" in answer:
            answer["Code"].pop("Location", None)  # a presigned URL
        r.call("lambda", "GetPolicy", fn, FunctionName=fn)
        r.call("lambda", "GetFunctionConfiguration", fn, FunctionName=fn)


def _kms(r: _Reader) -> None:
    for key in [k["KeyId"] for k in r.items("kms", "ListKeys", "Keys")]:
        r.call("kms", "DescribeKey", key, KeyId=key)
        r.call("kms", "GetKeyPolicy", key, KeyId=key, PolicyName="default")
        r.call("kms", "GetKeyRotationStatus", key, KeyId=key)
        r.call("kms", "ListResourceTags", key, KeyId=key)


def _secrets_and_parameters(r: _Reader) -> None:
    for secret in r.items("secretsmanager", "ListSecrets", "SecretList"):
        arn = secret["ARN"]
        r.call("secretsmanager", "DescribeSecret", arn, SecretId=arn)
        r.call("secretsmanager", "GetResourcePolicy", arn, SecretId=arn)
    names = [p["Name"] for p in r.items("ssm", "DescribeParameters", "Parameters")]
    for name in names:
        r.call("ssm", "GetParameter", name, Name=name, WithDecryption=True)
        r.call("ssm", "GetParameterHistory", name, Name=name, WithDecryption=True)


def _network_and_compute(r: _Reader) -> None:
    for lb in r.items("elbv2", "DescribeLoadBalancers", "LoadBalancers"):
        arn = lb["LoadBalancerArn"]
        r.call("elbv2", "DescribeLoadBalancerAttributes", arn, LoadBalancerArn=arn)
        for listener in r.items("elbv2", "DescribeListeners", "Listeners", arn, LoadBalancerArn=arn):
            r.call("elbv2", "DescribeRules", listener["ListenerArn"], ListenerArn=listener["ListenerArn"])
    for tg in r.items("elbv2", "DescribeTargetGroups", "TargetGroups"):
        arn = tg["TargetGroupArn"]
        r.call("elbv2", "DescribeTargetHealth", arn, TargetGroupArn=arn)
        r.call("elbv2", "DescribeTargetGroupAttributes", arn, TargetGroupArn=arn)
    for instance in [
        i["InstanceId"] for res in r.items("ec2", "DescribeInstances", "Reservations") for i in res.get("Instances", [])
    ]:
        for attribute in ("userData", "disableApiTermination", "instanceInitiatedShutdownBehavior"):
            r.call(
                "ec2", "DescribeInstanceAttribute", f"{instance}/{attribute}", InstanceId=instance, Attribute=attribute
            )
    for cluster in r.items("ecs", "ListClusters", "clusterArns"):
        r.call("ecs", "DescribeClusters", cluster, clusters=[cluster], include=["TAGS", "SETTINGS"])
        services = r.items("ecs", "ListServices", "serviceArns", cluster, cluster=cluster)
        for service in services:
            r.call("ecs", "DescribeServices", service, cluster=cluster, services=[service])
        r.call("ecs", "ListTasks", cluster, cluster=cluster)
    for td in r.items("ecs", "ListTaskDefinitions", "taskDefinitionArns"):
        r.call("ecs", "DescribeTaskDefinition", td, taskDefinition=td)
    for zone in r.items("route53", "ListHostedZones", "HostedZones"):
        r.call("route53", "ListResourceRecordSets", zone["Id"], HostedZoneId=zone["Id"])
        r.call("route53", "GetHostedZone", zone["Id"], Id=zone["Id"])
    for repo in [x["repositoryName"] for x in r.items("ecr", "DescribeRepositories", "repositories")]:
        r.call("ecr", "DescribeImages", repo, repositoryName=repo)
        r.call("ecr", "GetRepositoryPolicy", repo, repositoryName=repo)
        r.call("ecr", "GetLifecyclePolicy", repo, repositoryName=repo)
    for trail in r.items("cloudtrail", "DescribeTrails", "trailList"):
        r.call("cloudtrail", "GetEventSelectors", trail["TrailARN"], TrailName=trail["TrailARN"])
    for db in r.items("rds", "DescribeDBInstances", "DBInstances"):
        arn = db["DBInstanceArn"]
        r.call("rds", "ListTagsForResource", arn, ResourceName=arn)


DEEP: tuple[Callable[[_Reader], None], ...] = (
    _s3,
    _iam,
    _logs,
    _cloudwatch,
    _sqs,
    _sns,
    _dynamodb,
    _lambda,
    _kms,
    _secrets_and_parameters,
    _network_and_compute,
)


def account_state(
    emulator: Emulator,
    services: tuple[str, ...] = SERVICES,
    deep: tuple[Callable[[_Reader], None], ...] = DEEP,
) -> dict[str, Any]:
    """Every seeded resource of the emulator, read in full (see the module docstring), keyed by call.

    `services` and `deep` narrow the read (the no-parameter reads of those services, those in-depth readers).
    """
    reader = _Reader(emulator)
    for service in services:
        _no_argument_reads(reader, service)
    for read in deep:
        read(reader)
    return reader.state


def canonical(state: dict[str, Any]) -> str:
    """The canonical JSON text of a state (sorted keys, no whitespace variance)."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The keys whose canonical values differ (added, removed or changed)."""
    keys = set(before) | set(after)
    return sorted(k for k in keys if canonical({k: before.get(k)}) != canonical({k: after.get(k)}))
