"""The scenario schema: a declarative description of an AWS account's state, seeded into the emulator.

A scenario is a YAML file with one section per service. Resources refer to each other by the names the file
gives them (an instance names its subnet, a queue its dead-letter queue, a bucket its KMS key), and the seeder
turns names into the ids the emulator assigns. Large counts stay short: any resource may carry `count` (its
name is then a pattern such as "svc-user-{i:03d}") and `cycle` (field -> values handed out in turn), so
"130 users, every third with a console password" is three lines.

Times are relative to seeding ("-3h"); metric series and log lines are pseudo-random but deterministic
(see `cloudinspect.cloud.series`).
"""

from __future__ import annotations

from cloudinspect.cloud.scenario._base import (
    ACCOUNT_ID,
    NAME_PATTERN,
    Generated,
    PolicyDocument,
    Tags,
    expand_all,
)
from cloudinspect.cloud.scenario._compute import (
    AutoScalingGroup,
    AutoScalingSection,
    Ec2Section,
    ElasticIp,
    Imds,
    IngressRule,
    Instance,
    SecurityGroup,
    Snapshot,
    Subnet,
    Volume,
    Vpc,
)
from cloudinspect.cloud.scenario._extras import (
    CloudTrailSection,
    DbInstance,
    EcrSection,
    EcsCluster,
    EcsSection,
    EcsService,
    Parameter,
    RdsSection,
    Repository,
    Secret,
    SecretsManagerSection,
    SsmSection,
    TaskDefinition,
    Trail,
)
from cloudinspect.cloud.scenario._identity import (
    AccessKeyHistory,
    IamGroup,
    IamPolicy,
    IamRole,
    IamSection,
    IamUser,
    KmsKey,
    KmsSection,
    PasswordPolicy,
)
from cloudinspect.cloud.scenario._messaging import (
    Queue,
    SnsSection,
    SqsSection,
    Subscription,
    Topic,
)
from cloudinspect.cloud.scenario._monitoring import (
    NAMESPACE_KINDS,
    Alarm,
    CloudWatchSection,
    Metric,
)
from cloudinspect.cloud.scenario._network import (
    Elbv2Section,
    HostedZone,
    Listener,
    LoadBalancer,
    Record,
    Route53Section,
    TargetGroup,
    UnhealthyTargets,
)
from cloudinspect.cloud.scenario._scenario import (
    SERVICE_SECTIONS,
    Fault,
    Scenario,
    resource_names,
)
from cloudinspect.cloud.scenario._serverless import (
    RETENTION_DAYS,
    LambdaActivity,
    LambdaFunction,
    LambdaSection,
    LogGroup,
    LogMessage,
    LogsSection,
)
from cloudinspect.cloud.scenario._storage import (
    Bucket,
    DynamoDbSection,
    PublicAccessBlock,
    S3Object,
    S3Section,
    Table,
)

__all__ = [
    "ACCOUNT_ID",
    "NAMESPACE_KINDS",
    "NAME_PATTERN",
    "RETENTION_DAYS",
    "SERVICE_SECTIONS",
    "AccessKeyHistory",
    "Alarm",
    "AutoScalingGroup",
    "AutoScalingSection",
    "Bucket",
    "CloudTrailSection",
    "CloudWatchSection",
    "DbInstance",
    "DynamoDbSection",
    "Ec2Section",
    "EcrSection",
    "EcsCluster",
    "EcsSection",
    "EcsService",
    "ElasticIp",
    "Elbv2Section",
    "Fault",
    "Generated",
    "HostedZone",
    "IamGroup",
    "IamPolicy",
    "IamRole",
    "IamSection",
    "IamUser",
    "Imds",
    "IngressRule",
    "Instance",
    "KmsKey",
    "KmsSection",
    "LambdaActivity",
    "LambdaFunction",
    "LambdaSection",
    "Listener",
    "LoadBalancer",
    "LogGroup",
    "LogMessage",
    "LogsSection",
    "Metric",
    "Parameter",
    "PasswordPolicy",
    "PolicyDocument",
    "PublicAccessBlock",
    "Queue",
    "RdsSection",
    "Record",
    "Repository",
    "Route53Section",
    "S3Object",
    "S3Section",
    "Scenario",
    "Secret",
    "SecretsManagerSection",
    "SecurityGroup",
    "Snapshot",
    "SnsSection",
    "SqsSection",
    "SsmSection",
    "Subnet",
    "Subscription",
    "Table",
    "Tags",
    "TargetGroup",
    "TaskDefinition",
    "Topic",
    "Trail",
    "UnhealthyTargets",
    "Volume",
    "Vpc",
    "expand_all",
    "resource_names",
]
