"""The whole scenario: its service sections, counts, and the check that every name refers to something."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloudinspect.cloud.scenario._base import NAME_PATTERN, G, Strict, expand_all
from cloudinspect.cloud.scenario._compute import AutoScalingSection, Ec2Section
from cloudinspect.cloud.scenario._extras import (
    CloudTrailSection,
    EcrSection,
    EcsSection,
    RdsSection,
    SecretsManagerSection,
    SsmSection,
)
from cloudinspect.cloud.scenario._identity import IamSection, KmsSection
from cloudinspect.cloud.scenario._messaging import SnsSection, SqsSection
from cloudinspect.cloud.scenario._monitoring import CloudWatchSection
from cloudinspect.cloud.scenario._network import Elbv2Section, Route53Section
from cloudinspect.cloud.scenario._serverless import LambdaSection, LogsSection
from cloudinspect.cloud.scenario._storage import DynamoDbSection, S3Section


class Fault(Strict):
    """An injected fault: what is wrong, how a user would notice it, and what a troubleshooter should find.

    `expected_findings` are labels of the troubleshooting vocabulary (`cloudinspect.troubleshoot.findings`),
    checked on load; `evidence_prompts` are catalogue prompt ids, checked against the catalogue by
    `cloudinspect.troubleshoot.findings.check_fault` (the catalogue includes the user's directories).
    """

    name: str = Field(pattern=NAME_PATTERN)
    root_cause: str = Field(min_length=10, description="What is wrong and why: the answer a diagnosis should reach.")
    problem: str = Field(
        min_length=10,
        description="The symptom as a user would report it, without naming the root cause "
        "('our order processor Lambda keeps timing out since yesterday').",
    )
    expected_findings: list[str] = Field(min_length=1, description="Finding labels a correct diagnosis names.")
    evidence_prompts: list[str] = Field(
        default_factory=list, description="Catalogue prompt ids whose output shows the fault."
    )
    resources: list[str] = Field(
        default_factory=list, description="Names of the faulty resources, as this scenario names them."
    )

    @field_validator("root_cause", "problem")
    @classmethod
    def _one_paragraph(cls, text: str) -> str:
        return " ".join(text.split())

    @field_validator("expected_findings")
    @classmethod
    def _known_labels(cls, labels: list[str]) -> list[str]:
        from cloudinspect.troubleshoot.findings import unknown_labels

        unknown = unknown_labels(labels)
        if unknown:
            listed = ", ".join(map(repr, unknown))
            raise ValueError(f"unknown finding label(s) {listed} (see resources/troubleshoot/findings.yaml)")
        return labels


SERVICE_SECTIONS: tuple[str, ...] = (
    "kms",
    "iam",
    "ec2",
    "s3",
    "lambda",
    "logs",
    "cloudwatch",
    "rds",
    "dynamodb",
    "sqs",
    "sns",
    "elbv2",
    "ecs",
    "secretsmanager",
    "ssm",
    "route53",
    "cloudtrail",
    "ecr",
    "autoscaling",
)
"""Service sections of a scenario, named as botocore names the services."""


class Scenario(Strict):
    """A seeded account state: resources per service, metric series, log lines, and optionally a fault."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(min_length=10)
    region: str = "us-east-1"
    seed: int = Field(0, description="Varies every pseudo-random value of the scenario.")
    fault: Fault | None = None

    kms: KmsSection = Field(default_factory=KmsSection)
    iam: IamSection = Field(default_factory=IamSection)
    ec2: Ec2Section = Field(default_factory=Ec2Section)
    s3: S3Section = Field(default_factory=S3Section)
    lambda_: LambdaSection = Field(default_factory=LambdaSection, alias="lambda")
    logs: LogsSection = Field(default_factory=LogsSection)
    cloudwatch: CloudWatchSection = Field(default_factory=CloudWatchSection)
    rds: RdsSection = Field(default_factory=RdsSection)
    dynamodb: DynamoDbSection = Field(default_factory=DynamoDbSection)
    sqs: SqsSection = Field(default_factory=SqsSection)
    sns: SnsSection = Field(default_factory=SnsSection)
    elbv2: Elbv2Section = Field(default_factory=Elbv2Section)
    ecs: EcsSection = Field(default_factory=EcsSection)
    secretsmanager: SecretsManagerSection = Field(default_factory=SecretsManagerSection)
    ssm: SsmSection = Field(default_factory=SsmSection)
    route53: Route53Section = Field(default_factory=Route53Section)
    cloudtrail: CloudTrailSection = Field(default_factory=CloudTrailSection)
    ecr: EcrSection = Field(default_factory=EcrSection)
    autoscaling: AutoScalingSection = Field(default_factory=AutoScalingSection)

    def section(self, service: str) -> BaseModel:
        """The section of a service by its botocore name ('lambda', not 'lambda_')."""
        return getattr(self, "lambda_" if service == "lambda" else service)  # type: ignore[no-any-return]

    @property
    def services(self) -> list[str]:
        """Services this scenario puts at least one resource into."""
        return [s for s, counts in self.resource_counts().items() if any(counts.values())]

    def resource_counts(self) -> dict[str, dict[str, int]]:
        """Concrete resources per service and kind, after generators are expanded (what the emulator holds).

        Not counted: what AWS or moto adds by itself (the default VPC, its subnets and security groups, the
        root volume of each instance, instances launched by Auto Scaling groups, automated RDS snapshots).
        """
        ec2 = self.ec2
        instances = expand_all(ec2.instances)
        functions = expand_all(self.lambda_.functions)
        buckets = expand_all(self.s3.buckets)
        tables = expand_all(self.dynamodb.tables)
        lambda_groups = [f for f in functions if f.log_group]
        return {
            "kms": {"keys": len(expand_all(self.kms.keys))},
            "iam": {
                "users": len(expand_all(self.iam.users)),
                "groups": len(expand_all(self.iam.groups)),
                "roles": len(expand_all(self.iam.roles)),
                "policies": len(expand_all(self.iam.policies)),
            },
            "ec2": {
                "vpcs": len(expand_all(ec2.vpcs)),
                "subnets": sum(len(expand_all(v.subnets)) for v in expand_all(ec2.vpcs)),
                "security_groups": len(expand_all(ec2.security_groups)),
                "instances": len(instances),
                "volumes": len(expand_all(ec2.volumes)) + sum(len(expand_all(i.volumes)) for i in instances),
                "snapshots": len(expand_all(ec2.snapshots)),
                "elastic_ips": len(expand_all(ec2.elastic_ips)) + sum(1 for i in instances if i.elastic_ip),
            },
            "s3": {
                "buckets": len(buckets),
                "objects": sum(len(expand_all(b.objects)) for b in buckets),
            },
            "lambda": {"functions": len(functions)},
            "logs": {"log_groups": len(expand_all(self.logs.groups)) + len(lambda_groups)},
            "cloudwatch": {"alarms": len(expand_all(self.cloudwatch.alarms))},
            "rds": {
                "db_instances": len(expand_all(self.rds.instances)),
                "manual_snapshots": sum(i.snapshots for i in expand_all(self.rds.instances)),
            },
            "dynamodb": {"tables": len(tables), "items": sum(t.items for t in tables)},
            "sqs": {"queues": len(expand_all(self.sqs.queues))},
            "sns": {
                "topics": len(expand_all(self.sns.topics)),
                "subscriptions": sum(len(t.subscriptions) for t in expand_all(self.sns.topics)),
            },
            "elbv2": {
                "load_balancers": len(expand_all(self.elbv2.load_balancers)),
                "target_groups": len(expand_all(self.elbv2.target_groups)),
            },
            "ecs": {
                "clusters": len(expand_all(self.ecs.clusters)),
                "services": sum(len(expand_all(c.services)) for c in expand_all(self.ecs.clusters)),
                "task_definitions": sum(t.revisions for t in expand_all(self.ecs.task_definitions)),
            },
            "secretsmanager": {"secrets": len(expand_all(self.secretsmanager.secrets))},
            "ssm": {"parameters": len(expand_all(self.ssm.parameters))},
            "route53": {"hosted_zones": len(expand_all(self.route53.zones))},
            "cloudtrail": {"trails": len(expand_all(self.cloudtrail.trails))},
            "ecr": {"repositories": len(expand_all(self.ecr.repositories))},
            "autoscaling": {"groups": len(expand_all(self.autoscaling.groups))},
        }

    def reference_problems(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Names that refer to nothing in the scenario: (field path, message) for each."""
        yield from _check_references(self)


def _each(items: list[G]) -> Iterator[tuple[int, G]]:
    """(index of the entry in the file, concrete resource) for every resource the entries stand for."""
    for k, entry in enumerate(items):
        for item in entry.expand():
            yield k, item


def _names(items: list[Any]) -> set[str]:
    return {item.label for entry in items for item in entry.expand()}


def resource_names(sc: Scenario) -> set[str]:
    """The name of every resource the scenario declares, whatever its kind (what a fault may point at)."""
    ec2 = sc.ec2
    instances = expand_all(ec2.instances)
    names = {i.name for i in instances} | {v.label for i in instances for v in i.volumes}
    names |= {f"{i.name}-root" for i in instances}
    vpcs = expand_all(ec2.vpcs)
    names |= {v.name for v in vpcs} | {s.label for v in vpcs for entry in v.subnets for s in entry.expand()}
    for items in (
        sc.kms.keys,
        sc.iam.users,
        sc.iam.groups,
        sc.iam.roles,
        sc.iam.policies,
        ec2.security_groups,
        ec2.volumes,
        ec2.snapshots,
        ec2.elastic_ips,
        sc.s3.buckets,
        sc.lambda_.functions,
        sc.logs.groups,
        sc.cloudwatch.alarms,
        sc.rds.instances,
        sc.dynamodb.tables,
        sc.sqs.queues,
        sc.sns.topics,
        sc.elbv2.target_groups,
        sc.elbv2.load_balancers,
        sc.ecs.clusters,
        sc.ecs.task_definitions,
        sc.secretsmanager.secrets,
        sc.ssm.parameters,
        sc.route53.zones,
        sc.cloudtrail.trails,
        sc.ecr.repositories,
        sc.autoscaling.groups,
    ):
        names |= _names(items)
    names |= {f"/aws/lambda/{f.name}" for f in expand_all(sc.lambda_.functions) if f.log_group}
    names |= {s.label for c in expand_all(sc.ecs.clusters) for entry in c.services for s in entry.expand()}
    return names


def _check_references(sc: Scenario) -> Iterator[tuple[tuple[str | int, ...], str]]:
    keys = _names(sc.kms.keys) | {"aws/sqs", "aws/sns", "aws/s3", "aws/ebs", "aws/rds", "aws/lambda"}
    keys |= {"aws/secretsmanager", "aws/dynamodb", "aws/logs"}
    vpcs = _names(sc.ec2.vpcs)
    subnets = {s.label for v in expand_all(sc.ec2.vpcs) for entry in v.subnets for s in entry.expand()}
    groups = _names(sc.ec2.security_groups)
    instances = _names(sc.ec2.instances)
    volumes = _names(sc.ec2.volumes) | {v.label for i in expand_all(sc.ec2.instances) for v in i.volumes}
    roles = _names(sc.iam.roles)
    iam_groups = _names(sc.iam.groups)
    policies = _names(sc.iam.policies)
    queues = _names(sc.sqs.queues)
    functions = _names(sc.lambda_.functions)
    topics = _names(sc.sns.topics)
    target_groups = _names(sc.elbv2.target_groups)
    task_families = _names(sc.ecs.task_definitions)
    compatibility = {td.family: td.compatibility for td in expand_all(sc.ecs.task_definitions)}
    buckets = _names(sc.s3.buckets)

    def check(path: tuple[str | int, ...], value: str | None, known: set[str], kind: str) -> Iterator[Any]:
        if value is not None and value not in known:
            yield path, f"no {kind} named {value!r} in this scenario"

    def check_policies(path: tuple[str | int, ...], names: list[str]) -> Iterator[Any]:
        for k, name in enumerate(names):
            if not name.startswith("arn:"):
                yield from check((*path, k), name, policies, "IAM policy")

    for k, key in _each(sc.kms.keys):
        if key.state == "PendingDeletion" and key.rotation:
            yield ("kms", "keys", k, "rotation"), "a key pending deletion cannot have rotation enabled"
    for k, iam_user in _each(sc.iam.users):
        yield from check_policies(("iam", "users", k, "policies"), iam_user.policies)
    for k, iam_group in _each(sc.iam.groups):
        yield from check_policies(("iam", "groups", k, "policies"), iam_group.policies)
    for k, iam_role in _each(sc.iam.roles):
        yield from check_policies(("iam", "roles", k, "policies"), iam_role.policies)
    for k, user in _each(sc.iam.users):
        for j, group in enumerate(user.groups):
            yield from check(("iam", "users", k, "groups", j), group, iam_groups, "IAM group")
    for k, sg in _each(sc.ec2.security_groups):
        yield from check(("ec2", "security_groups", k, "vpc"), sg.vpc, vpcs, "VPC")
        for j, rule in enumerate(sg.ingress):
            yield from check(("ec2", "security_groups", k, "ingress", j), rule.source_group, groups, "security group")
    for k, inst in _each(sc.ec2.instances):
        yield from check(("ec2", "instances", k, "subnet"), inst.subnet, subnets, "subnet")
        for j, sg_name in enumerate(inst.security_groups):
            yield from check(("ec2", "instances", k, "security_groups", j), sg_name, groups, "security group")
        yield from check(("ec2", "instances", k, "iam_role"), inst.iam_role, roles, "IAM role")
    for k, vol in _each(sc.ec2.volumes):
        yield from check(("ec2", "volumes", k, "kms_key"), vol.kms_key, keys, "KMS key")
    for k, snap in _each(sc.ec2.snapshots):
        yield from check(("ec2", "snapshots", k, "volume"), snap.volume, volumes, "volume")
    for k, eip in _each(sc.ec2.elastic_ips):
        yield from check(("ec2", "elastic_ips", k, "instance"), eip.instance, instances, "instance")
    for k, bucket in _each(sc.s3.buckets):
        yield from check(("s3", "buckets", k, "kms_key"), bucket.kms_key, keys, "KMS key")
        if bucket.encryption == "aws:kms" and bucket.kms_key is None:
            yield ("s3", "buckets", k, "kms_key"), "encryption 'aws:kms' needs kms_key"
    for k, fn in _each(sc.lambda_.functions):
        yield from check(("lambda", "functions", k, "role"), fn.role, roles, "IAM role")
        yield from check(("lambda", "functions", k, "kms_key"), fn.kms_key, keys, "KMS key")
    for k, log_group in _each(sc.logs.groups):
        yield from check(("logs", "groups", k, "kms_key"), log_group.kms_key, keys, "KMS key")
    for k, alarm in _each(sc.cloudwatch.alarms):
        for j, action in enumerate(alarm.actions):
            yield from check(("cloudwatch", "alarms", k, "actions", j), action, topics, "SNS topic")
    for k, db in _each(sc.rds.instances):
        yield from check(("rds", "instances", k, "kms_key"), db.kms_key, keys, "KMS key")
    for k, table in _each(sc.dynamodb.tables):
        yield from check(("dynamodb", "tables", k, "kms_key"), table.kms_key, keys, "KMS key")
    for k, queue in _each(sc.sqs.queues):
        yield from check(("sqs", "queues", k, "dead_letter_queue"), queue.dead_letter_queue, queues, "queue")
        yield from check(("sqs", "queues", k, "kms_key"), queue.kms_key, keys, "KMS key")
    for k, topic in _each(sc.sns.topics):
        yield from check(("sns", "topics", k, "kms_key"), topic.kms_key, keys, "KMS key")
        for j, sub in enumerate(topic.subscriptions):
            path: tuple[str | int, ...] = ("sns", "topics", k, "subscriptions", j, "endpoint")
            if sub.protocol == "sqs" and not sub.endpoint.startswith("arn:"):
                yield from check(path, sub.endpoint, queues, "queue")
            if sub.protocol == "lambda" and not sub.endpoint.startswith("arn:"):
                yield from check(path, sub.endpoint, functions, "Lambda function")
    for k, tg in _each(sc.elbv2.target_groups):
        yield from check(("elbv2", "target_groups", k, "vpc"), tg.vpc, vpcs, "VPC")
        members = [name for name in sorted(instances) if tg.selects(name)]
        for j, entry in enumerate(tg.unhealthy):
            for m, pattern in enumerate(entry.targets):
                if not any(fnmatch.fnmatchcase(name, pattern) for name in members):
                    path = ("elbv2", "target_groups", k, "unhealthy", j, "targets", m)
                    yield path, f"{pattern!r} matches no instance among the group's targets"
    for k, lb in _each(sc.elbv2.load_balancers):
        for j, subnet in enumerate(lb.subnets):
            yield from check(("elbv2", "load_balancers", k, "subnets", j), subnet, subnets, "subnet")
        for j, sg_name in enumerate(lb.security_groups):
            yield from check(("elbv2", "load_balancers", k, "security_groups", j), sg_name, groups, "security group")
        for j, listener in enumerate(lb.listeners):
            path = ("elbv2", "load_balancers", k, "listeners", j, "target_group")
            yield from check(path, listener.target_group, target_groups, "target group")
    for k, cluster in _each(sc.ecs.clusters):
        for j, svc in _each(cluster.services):
            svc_path: tuple[str | int, ...] = ("ecs", "clusters", k, "services", j)
            yield from check((*svc_path, "task_definition"), svc.task_definition, task_families, "task definition")
            required = compatibility.get(svc.task_definition, svc.launch_type)
            if required != svc.launch_type:
                message = (
                    f"launch type {svc.launch_type} but task definition {svc.task_definition!r} requires {required}"
                )
                yield (*svc_path, "launch_type"), message
            yield from check((*svc_path, "target_group"), svc.target_group, target_groups, "target group")
            for m, subnet in enumerate(svc.subnets):
                yield from check((*svc_path, "subnets", m), subnet, subnets, "subnet")
    for k, trail in _each(sc.cloudtrail.trails):
        yield from check(("cloudtrail", "trails", k, "bucket"), trail.bucket, buckets, "bucket")
    for k, zone in _each(sc.route53.zones):
        yield from check(("route53", "zones", k, "private_vpc"), zone.private_vpc, vpcs, "VPC")
    for k, asg in _each(sc.autoscaling.groups):
        for j, subnet in enumerate(asg.subnets):
            yield from check(("autoscaling", "groups", k, "subnets", j), subnet, subnets, "subnet")
    if sc.fault is not None:
        declared = resource_names(sc)
        for k, name in enumerate(sc.fault.resources):
            yield from check(("fault", "resources", k), name, declared, "resource")
