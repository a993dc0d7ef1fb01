"""Counting what an account holds, through the AWS API, in the shape of `Scenario.resource_counts()`.

Used to check that seeding produced what the scenario describes, and handy for a quick look at any endpoint.
Resources that AWS or moto create by themselves are left out, as in `resource_counts()`: default VPCs,
subnets and security groups, instances' root volumes, instances launched by Auto Scaling, automated RDS
snapshots, AWS managed KMS keys and IAM policies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ClientFactory = Callable[[str], Any]


def _paged(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def _name_tag(resource: dict[str, Any]) -> str | None:
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == "Name"), None)


def count_resources(client: ClientFactory) -> dict[str, dict[str, int]]:
    """Resources per service and kind, as the API reports them (every list call paginated)."""
    counts: dict[str, dict[str, int]] = {}

    kms = client("kms")
    aws_managed = {
        a.get("TargetKeyId") for a in _paged(kms, "list_aliases", "Aliases") if a["AliasName"].startswith("alias/aws/")
    }
    keys = [k["KeyId"] for k in _paged(kms, "list_keys", "Keys") if k["KeyId"] not in aws_managed]
    managers = [kms.describe_key(KeyId=k)["KeyMetadata"].get("KeyManager") for k in keys]
    counts["kms"] = {"keys": sum(1 for m in managers if m != "AWS")}

    iam = client("iam")
    counts["iam"] = {
        "users": len(_paged(iam, "list_users", "Users")),
        "groups": len(_paged(iam, "list_groups", "Groups")),
        "roles": len(_paged(iam, "list_roles", "Roles")),
        "policies": len(_paged(iam, "list_policies", "Policies", Scope="Local")),
    }

    ec2 = client("ec2")
    vpcs = [v["VpcId"] for v in _paged(ec2, "describe_vpcs", "Vpcs") if not v.get("IsDefault")]
    ours = [{"Name": "vpc-id", "Values": vpcs}] if vpcs else None
    instances = [
        i
        for r in _paged(ec2, "describe_instances", "Reservations")
        for i in r["Instances"]
        if not any(t["Key"] == "aws:autoscaling:groupName" for t in i.get("Tags", []))
    ]
    volumes = _paged(ec2, "describe_volumes", "Volumes")
    counts["ec2"] = {
        "vpcs": len(vpcs),
        "subnets": len(_paged(ec2, "describe_subnets", "Subnets", Filters=ours)) if ours else 0,
        "security_groups": (
            sum(
                1
                for g in _paged(ec2, "describe_security_groups", "SecurityGroups", Filters=ours)
                if g["GroupName"] != "default"
            )
            if ours
            else 0
        ),
        "instances": len(instances),
        "volumes": sum(1 for v in volumes if not (_name_tag(v) or "-root").endswith("-root")),
        "snapshots": len(_paged(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"])),
        "elastic_ips": len(ec2.describe_addresses()["Addresses"]),
    }

    s3 = client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    counts["s3"] = {
        "buckets": len(buckets),
        "objects": sum(len(_paged(s3, "list_objects_v2", "Contents", Bucket=b)) for b in buckets),
    }
    counts["lambda"] = {"functions": len(_paged(client("lambda"), "list_functions", "Functions"))}
    counts["logs"] = {"log_groups": len(_paged(client("logs"), "describe_log_groups", "logGroups"))}
    counts["cloudwatch"] = {"alarms": len(_paged(client("cloudwatch"), "describe_alarms", "MetricAlarms"))}

    rds = client("rds")
    counts["rds"] = {
        "db_instances": len(_paged(rds, "describe_db_instances", "DBInstances")),
        "manual_snapshots": len(_paged(rds, "describe_db_snapshots", "DBSnapshots", SnapshotType="manual")),
    }

    ddb = client("dynamodb")
    tables = _paged(ddb, "list_tables", "TableNames")
    counts["dynamodb"] = {
        "tables": len(tables),
        "items": sum(int(ddb.describe_table(TableName=t)["Table"].get("ItemCount", 0)) for t in tables),
    }
    counts["sqs"] = {
        "queues": len(_paged(client("sqs"), "list_queues", "QueueUrls", PaginationConfig={"PageSize": 1000}))
    }

    sns = client("sns")
    counts["sns"] = {
        "topics": len(_paged(sns, "list_topics", "Topics")),
        "subscriptions": len(_paged(sns, "list_subscriptions", "Subscriptions")),
    }

    elb = client("elbv2")
    counts["elbv2"] = {
        "load_balancers": len(_paged(elb, "describe_load_balancers", "LoadBalancers")),
        "target_groups": len(_paged(elb, "describe_target_groups", "TargetGroups")),
    }

    ecs = client("ecs")
    clusters = _paged(ecs, "list_clusters", "clusterArns")
    counts["ecs"] = {
        "clusters": len(clusters),
        "services": sum(len(_paged(ecs, "list_services", "serviceArns", cluster=c)) for c in clusters),
        "task_definitions": len(_paged(ecs, "list_task_definitions", "taskDefinitionArns")),
    }
    counts["secretsmanager"] = {"secrets": len(_paged(client("secretsmanager"), "list_secrets", "SecretList"))}
    counts["ssm"] = {"parameters": len(_paged(client("ssm"), "describe_parameters", "Parameters"))}
    counts["route53"] = {"hosted_zones": len(_paged(client("route53"), "list_hosted_zones", "HostedZones"))}
    counts["cloudtrail"] = {"trails": len(client("cloudtrail").describe_trails()["trailList"])}
    counts["ecr"] = {"repositories": len(_paged(client("ecr"), "describe_repositories", "repositories"))}
    counts["autoscaling"] = {
        "groups": len(_paged(client("autoscaling"), "describe_auto_scaling_groups", "AutoScalingGroups"))
    }
    return counts
