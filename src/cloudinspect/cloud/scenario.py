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

import re
from collections.abc import Iterator
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from cloudinspect.cloud.series import Series

NAME_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
ACCOUNT_ID = "123456789012"
"""The account id moto uses for every resource it creates."""

Tags = dict[str, str]
PolicyDocument = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_PLACEHOLDER = re.compile(r"\{i(?::([^{}]*))?\}")


def _substitute(value: Any, i: int) -> Any:
    """Replace {i} / {i:03d} in every string of a dumped spec; other braces ({n} in log texts) stay.

    Nested generators (entries with their own count > 1) keep their pattern for their own expansion.
    """
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: format(i, m.group(1) or ""), value)
    if isinstance(value, dict):
        if isinstance(value.get("count"), int) and value["count"] > 1:
            return value
        return {key: _substitute(item, i) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, i) for item in value]
    return value


class Generated(_Strict):
    """A resource spec that may stand for many: `count` copies named by a pattern, `cycle` values in turn.

    With count > 1 the name must hold an `{i}` placeholder (Python format syntax, e.g. `{i:03d}`), numbered from
    `start`. `cycle` maps a field to a list of values; the k-th generated resource gets `values[k % len]`.
    `{i}` is expanded in every string of the entry (tags, names of nested resources), except inside nested
    generators, which number their own resources.
    """

    name_field: ClassVar[str] = "name"
    pattern_anywhere: ClassVar[bool] = False
    """Whether {i} may sit in any field rather than the name (metrics vary a dimension)."""

    count: int = Field(1, ge=1, le=50_000, description="How many resources this entry stands for.")
    start: int = Field(1, ge=0, description="First value of {i}.")
    cycle: dict[str, list[Any]] = Field(
        default_factory=dict, description="Field -> values given to the generated resources in turn."
    )

    _expanded: list[Any] | None = PrivateAttr(default=None)

    @property
    def label(self) -> str:
        """The (possibly patterned) name of this entry."""
        return str(getattr(self, self.name_field))

    @model_validator(mode="after")
    def _generator(self) -> Self:
        pattern = self.label
        where = repr(self.model_dump(exclude={"count", "start", "cycle"})) if self.pattern_anywhere else pattern
        if self.count > 1 and "{i" not in where:
            raise ValueError(
                f"count is {self.count} but the {self.name_field} {pattern!r} has no '{{i}}' placeholder "
                f"(e.g. '{pattern}-{{i:03d}}')"
            )
        reserved = {"count", "start", "cycle", self.name_field}
        for key, values in self.cycle.items():
            if key in reserved or key not in type(self).model_fields:
                raise ValueError(f"cycle names {key!r}, which is not a field this resource can vary")
            if not values:
                raise ValueError(f"cycle.{key} needs at least one value")
        if self.count > 1 or self.cycle or "{i" in pattern:
            self._expanded = self._expand()
        return self

    def _expand(self) -> list[Self]:
        base = self.model_dump(exclude={"count", "start", "cycle"}, by_alias=True, exclude_unset=True)
        out: list[Self] = []
        for k in range(self.count):
            i = self.start + k
            data = dict(base)
            for key, values in self.cycle.items():
                data[key] = values[k % len(values)]
            try:
                data = _substitute(data, i)
            except (KeyError, ValueError, IndexError) as exc:
                raise ValueError(f"bad {{i}} pattern in {self.label!r}: {exc}") from exc
            try:
                out.append(type(self).model_validate(data))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"generated item {data[self.name_field]!r}: {where}: {first['msg']}") from exc
        return out

    def expand(self) -> list[Self]:
        """The concrete resources this entry stands for (itself when it is not a generator)."""
        return list(self._expanded) if self._expanded is not None else [self]


G = TypeVar("G", bound=Generated)


def expand_all(items: list[G]) -> list[G]:
    """Every concrete resource of a list of (possibly generating) entries."""
    return [concrete for item in items for concrete in item.expand()]


# --------------------------------------------------------------------------------------------------- KMS


class KmsKey(Generated):
    """A customer-managed KMS key, referred to elsewhere by its alias name (without 'alias/')."""

    name: str = Field(description="Alias name without the 'alias/' prefix, e.g. 'prod-data'.")
    description: str = ""
    rotation: bool = False
    state: Literal["Enabled", "Disabled", "PendingDeletion"] = "Enabled"
    pending_window_days: int = Field(7, ge=7, le=30)
    usage: Literal["ENCRYPT_DECRYPT", "SIGN_VERIFY"] = "ENCRYPT_DECRYPT"
    tags: Tags = Field(default_factory=dict)


class KmsSection(_Strict):
    keys: list[KmsKey] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- IAM


class IamUser(Generated):
    name: str
    path: str = "/"
    tags: Tags = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    console: bool = Field(False, description="Has a login profile (console password).")
    password_reset_required: bool = False
    mfa: bool = Field(False, description="Has an enabled virtual MFA device.")
    access_keys: int = Field(0, ge=0, le=2)
    inactive_keys: int = Field(0, ge=0, le=2, description="How many of the access keys are deactivated.")
    policies: list[str] = Field(default_factory=list, description="Managed policy names (local) or ARNs.")
    inline_policies: dict[str, PolicyDocument] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys(self) -> Self:
        if self.inactive_keys > self.access_keys:
            raise ValueError("inactive_keys cannot exceed access_keys")
        return self


class IamGroup(Generated):
    name: str
    path: str = "/"
    policies: list[str] = Field(default_factory=list)
    inline_policies: dict[str, PolicyDocument] = Field(default_factory=dict)


class IamRole(Generated):
    name: str
    path: str = "/"
    description: str = ""
    trust: list[str] = Field(
        min_length=1,
        description="Who may assume the role: service principals ('lambda.amazonaws.com'), account ids, or ARNs.",
    )
    max_session_hours: int = Field(1, ge=1, le=12)
    tags: Tags = Field(default_factory=dict)
    policies: list[str] = Field(default_factory=list)
    inline_policies: dict[str, PolicyDocument] = Field(default_factory=dict)


class IamPolicy(Generated):
    name: str
    path: str = "/"
    description: str = ""
    document: PolicyDocument
    tags: Tags = Field(default_factory=dict)


class PasswordPolicy(_Strict):
    minimum_length: int = Field(8, ge=6, le=128)
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = True
    max_age_days: int | None = Field(None, ge=1, le=1095)
    reuse_prevention: int | None = Field(None, ge=1, le=24)
    hard_expiry: bool = False


class IamSection(_Strict):
    password_policy: PasswordPolicy | None = None
    policies: list[IamPolicy] = Field(default_factory=list)
    groups: list[IamGroup] = Field(default_factory=list)
    roles: list[IamRole] = Field(default_factory=list)
    users: list[IamUser] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- EC2


class Subnet(Generated):
    name: str
    cidr: str
    az: str = Field(description="Availability zone suffix ('a') or full name ('us-east-1a').")
    public: bool = Field(False, description="Maps public IPs on launch.")
    tags: Tags = Field(default_factory=dict)


class Vpc(Generated):
    name: str
    cidr: str
    tags: Tags = Field(default_factory=dict)
    subnets: list[Subnet] = Field(default_factory=list)
    flow_logs: bool = False


class IngressRule(_Strict):
    protocol: Literal["tcp", "udp", "icmp", "-1"] = "tcp"
    ports: int | str = Field(description="A port (443), a range ('8080-8090') or 'all'.")
    cidr: str | None = None
    source_group: str | None = Field(None, description="Name of a security group allowed in.")
    description: str = ""

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: int | str) -> int | str:
        if isinstance(value, str) and value != "all" and not re.fullmatch(r"\d+-\d+", value):
            raise ValueError("ports must be a number, a range like '8080-8090', or 'all'")
        return value

    @model_validator(mode="after")
    def _source(self) -> Self:
        if (self.cidr is None) == (self.source_group is None):
            raise ValueError("give exactly one of cidr or source_group")
        return self

    def port_range(self) -> tuple[int, int]:
        """(from, to); (-1, -1) for 'all'."""
        if isinstance(self.ports, int):
            return self.ports, self.ports
        if self.ports == "all":
            return -1, -1
        low, high = self.ports.split("-")
        return int(low), int(high)


class SecurityGroup(Generated):
    name: str
    vpc: str
    description: str = "managed by cloudinspect scenario"
    ingress: list[IngressRule] = Field(default_factory=list)
    tags: Tags = Field(default_factory=dict)


class Volume(Generated):
    name: str
    size: int = Field(ge=1, le=16384, description="GiB")
    type: Literal["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] = "gp3"
    iops: int | None = Field(None, ge=100, description="Provisioned IOPS (io1/io2; default 3000).")
    encrypted: bool = False
    kms_key: str | None = None
    az: str = "a"
    device: str = "/dev/sdf"
    tags: Tags = Field(default_factory=dict)


class Instance(Generated):
    name: str
    type: str = "t3.micro"
    image: str = "ami-0c02fb55956c7d316"
    subnet: str
    security_groups: list[str] = Field(default_factory=list)
    state: Literal["running", "stopped", "terminated"] = "running"
    key_name: str | None = None
    root_size: int = Field(8, ge=1, le=16384)
    root_encrypted: bool = False
    volumes: list[Volume] = Field(default_factory=list, description="Extra EBS volumes attached to it.")
    elastic_ip: bool = False
    monitoring: bool = Field(False, description="Detailed monitoring (1-minute metrics).")
    iam_role: str | None = None
    tags: Tags = Field(default_factory=dict)


class ElasticIp(Generated):
    name: str
    instance: str | None = Field(None, description="Instance to associate with (unassociated when absent).")
    tags: Tags = Field(default_factory=dict)


class Snapshot(Generated):
    name: str
    volume: str = Field(description="Name of a volume (standalone or attached to an instance).")
    description: str = ""
    tags: Tags = Field(default_factory=dict)


class Ec2Section(_Strict):
    vpcs: list[Vpc] = Field(default_factory=list)
    security_groups: list[SecurityGroup] = Field(default_factory=list)
    instances: list[Instance] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list, description="Volumes not attached to any instance.")
    snapshots: list[Snapshot] = Field(default_factory=list)
    elastic_ips: list[ElasticIp] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- S3


class S3Object(Generated):
    name_field: ClassVar[str] = "key"

    key: str
    size: int = Field(1024, ge=0, le=5_000_000, description="Bytes.")
    content_type: str = "application/octet-stream"
    storage_class: Literal["STANDARD", "STANDARD_IA", "GLACIER", "INTELLIGENT_TIERING"] = "STANDARD"


class PublicAccessBlock(_Strict):
    block_public_acls: bool = True
    ignore_public_acls: bool = True
    block_public_policy: bool = True
    restrict_public_buckets: bool = True


class Bucket(Generated):
    name: str
    encryption: Literal["none", "AES256", "aws:kms"] = "AES256"
    kms_key: str | None = None
    versioning: Literal["Enabled", "Suspended", "Off"] = "Off"
    public_access_block: PublicAccessBlock | bool | None = Field(
        None, description="true for all four settings on, a mapping for a partial block, absent for none."
    )
    public_policy: bool = Field(False, description="A bucket policy granting s3:GetObject to '*'.")
    public_acl: bool = Field(False, description="The 'public-read' canned ACL.")
    lifecycle_expiration_days: int | None = Field(None, ge=1)
    tags: Tags = Field(default_factory=dict)
    objects: list[S3Object] = Field(default_factory=list)

    def block(self) -> PublicAccessBlock | None:
        """The public access block to apply, if any."""
        if self.public_access_block is True:
            return PublicAccessBlock()
        if self.public_access_block is False or self.public_access_block is None:
            return None
        return self.public_access_block


class S3Section(_Strict):
    buckets: list[Bucket] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- Lambda


class LambdaActivity(_Strict):
    """What a function did over the last day: its metrics and the log lines written to /aws/lambda/<name>."""

    invocations: Series = Field(description="Invocations per 5-minute period.")
    error_rate: float = Field(0.0, ge=0, le=1)
    timeout_rate: float = Field(0.0, ge=0, le=1, description="Fraction of invocations that time out (errors too).")
    throttle_rate: float = Field(0.0, ge=0, le=1)
    duration_ms: Series = Field(description="Average duration per period, in milliseconds.")
    memory_used_mb: Series | None = Field(None, description="Max memory used per invocation (default: 40% of memory).")
    error: str = Field("KeyError: 'customer_id'", description="The exception of failed invocations.")
    log_invocations: int = Field(60, ge=0, le=100_000, description="Invocations written to the log over 24 h.")


class LambdaFunction(Generated):
    name: str
    runtime: str = "python3.12"
    handler: str | None = None
    role: str = Field(description="Name of an IAM role in this scenario.")
    memory: int = Field(128, ge=128, le=10240)
    timeout: int = Field(3, ge=1, le=900)
    description: str = ""
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    env: dict[str, str] = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    reserved_concurrency: int | None = Field(None, ge=0)
    kms_key: str | None = None
    log_group: bool = Field(True, description="Create /aws/lambda/<name>.")
    log_retention_days: int | None = None
    activity: LambdaActivity | None = None

    def default_handler(self) -> str:
        """The handler to register (language-appropriate default)."""
        if self.handler:
            return self.handler
        if self.runtime.startswith(("java", "dotnet")):
            return "com.example.Handler::handleRequest"
        if self.runtime.startswith(("go", "provided")):
            return "bootstrap"
        return "index.handler" if self.runtime.startswith("nodejs") else "app.handler"


class LambdaSection(_Strict):
    functions: list[LambdaFunction] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- Logs

RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class LogMessage(_Strict):
    """A kind of log line. Placeholders: {n} (a number), {ms} (a duration), {id} (a hex id), {ip}."""

    text: str
    level: str = "INFO"
    weight: float = Field(1.0, gt=0)


class LogGroup(Generated):
    name: str
    retention_days: int | None = None
    kms_key: str | None = None
    tags: Tags = Field(default_factory=dict)
    streams: int = Field(1, ge=0, le=10_000)
    events_per_stream: int = Field(0, ge=0, le=200_000)
    messages: list[LogMessage] = Field(default_factory=list)

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None and value not in RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, RETENTION_DAYS))}")
        return value

    @model_validator(mode="after")
    def _messages(self) -> Self:
        if self.events_per_stream and not self.messages:
            raise ValueError("events_per_stream needs at least one entry in messages")
        return self


class LogsSection(_Strict):
    groups: list[LogGroup] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- CloudWatch

NAMESPACE_KINDS: dict[str, str] = {
    "AWS/EC2": "instance",
    "AWS/Lambda": "function",
    "AWS/RDS": "db_instance",
    "AWS/SQS": "queue",
    "AWS/DynamoDB": "table",
    "AWS/ApplicationELB": "load_balancer",
    "AWS/NetworkELB": "load_balancer",
    "AWS/SNS": "topic",
}
"""Namespaces whose metrics belong to a kind of scenario resource (their dimension is derived from it)."""


class Metric(Generated):
    """A metric published for every matching resource (AWS namespaces) or with explicit dimensions (custom).

    As a generator, `{i}` goes into the name or a dimension value (e.g. `dimensions: {Tenant: "t-{i:03d}"}`).
    """

    pattern_anywhere: ClassVar[bool] = True

    namespace: str
    name: str
    unit: str = "None"
    period: Literal[60, 300, 3600] = Field(300, description="Seconds between data points.")
    resources: list[str] = Field(
        default_factory=lambda: ["*"], description="Glob patterns over the names of the namespace's resources."
    )
    dimensions: dict[str, str] | None = Field(None, description="Explicit dimensions (custom namespaces).")
    series: Series

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.namespace in NAMESPACE_KINDS and self.count > 1:
            raise ValueError("count is for custom namespaces; AWS namespaces already cover every matching resource")
        if self.namespace not in NAMESPACE_KINDS and self.dimensions is None:
            known = ", ".join(NAMESPACE_KINDS)
            raise ValueError(f"namespace {self.namespace!r} needs explicit dimensions (resource namespaces: {known})")
        return self


class Alarm(Generated):
    name: str
    namespace: str
    metric: str
    resource: str | None = Field(None, description="Name of the resource the metric is about (sets the dimension).")
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: Literal["Average", "Sum", "Minimum", "Maximum", "SampleCount"] = "Average"
    period: int = 300
    evaluation_periods: int = Field(1, ge=1)
    threshold: float
    comparison: Literal[
        "GreaterThanThreshold",
        "GreaterThanOrEqualToThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
    ] = "GreaterThanThreshold"
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] = "INSUFFICIENT_DATA"
    reason: str = ""
    actions: list[str] = Field(default_factory=list, description="Names of SNS topics notified on ALARM.")
    actions_enabled: bool = True
    description: str = ""
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"] = "missing"
    tags: Tags = Field(default_factory=dict)


class CloudWatchSection(_Strict):
    metrics: list[Metric] = Field(default_factory=list)
    alarms: list[Alarm] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- RDS


class DbInstance(Generated):
    name: str
    engine: Literal["postgres", "mysql", "mariadb", "oracle-ee", "sqlserver-se"] = "postgres"
    engine_version: str | None = None
    instance_class: str = "db.t3.medium"
    storage_gb: int = Field(20, ge=20, le=65536)
    storage_type: Literal["gp2", "gp3", "io1", "standard"] = "gp3"
    encrypted: bool = False
    kms_key: str | None = None
    public: bool = False
    multi_az: bool = False
    backup_retention_days: int = Field(7, ge=0, le=35)
    deletion_protection: bool = False
    auto_minor_version_upgrade: bool = True
    iam_auth: bool = False
    state: Literal["available", "stopped"] = "available"
    snapshots: int = Field(0, ge=0, le=100, description="Manual snapshots of this instance.")
    tags: Tags = Field(default_factory=dict)


class RdsSection(_Strict):
    instances: list[DbInstance] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- DynamoDB


class Table(Generated):
    name: str
    billing: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    read_capacity: int = Field(5, ge=1)
    write_capacity: int = Field(5, ge=1)
    hash_key: str = "pk"
    range_key: str | None = None
    pitr: bool = False
    sse: Literal["default", "KMS"] = "default"
    kms_key: str | None = None
    ttl_attribute: str | None = None
    items: int = Field(0, ge=0, le=100_000)
    tags: Tags = Field(default_factory=dict)


class DynamoDbSection(_Strict):
    tables: list[Table] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- SQS


class Queue(Generated):
    name: str
    visibility_timeout: int = Field(30, ge=0, le=43200)
    retention_seconds: int = Field(345600, ge=60, le=1209600)
    delay_seconds: int = Field(0, ge=0, le=900)
    dead_letter_queue: str | None = Field(None, description="Name of the queue failed messages move to.")
    max_receive_count: int = Field(5, ge=1, le=1000)
    encryption: Literal["none", "sqs", "kms"] = "sqs"
    kms_key: str | None = Field(None, description="Key alias name; 'aws/sqs' for the AWS managed key.")
    messages: int = Field(0, ge=0, le=100_000, description="Messages waiting in the queue.")
    tags: Tags = Field(default_factory=dict)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


class SqsSection(_Strict):
    queues: list[Queue] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- SNS


class Subscription(_Strict):
    protocol: Literal["email", "email-json", "sqs", "lambda", "https", "http", "sms"]
    endpoint: str = Field(description="Address, URL, phone, or the name of a queue/function in this scenario.")


class Topic(Generated):
    name: str
    kms_key: str | None = Field(None, description="Key alias name; 'aws/sns' for the AWS managed key.")
    display_name: str = ""
    tags: Tags = Field(default_factory=dict)
    subscriptions: list[Subscription] = Field(default_factory=list)


class SnsSection(_Strict):
    topics: list[Topic] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- ELBv2


class Listener(_Strict):
    protocol: Literal["HTTP", "HTTPS", "TCP", "TLS", "UDP"]
    port: int = Field(ge=1, le=65535)
    target_group: str | None = None
    redirect_to_https: bool = False
    certificate_domain: str | None = Field(None, description="An ACM certificate is issued for this domain.")
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"

    @model_validator(mode="after")
    def _action(self) -> Self:
        if (self.target_group is None) == (not self.redirect_to_https):
            raise ValueError("a listener either forwards to target_group or has redirect_to_https: true")
        if self.protocol in ("HTTPS", "TLS") and not self.certificate_domain:
            raise ValueError(f"a {self.protocol} listener needs certificate_domain")
        return self


class LoadBalancer(Generated):
    name: str
    type: Literal["application", "network"] = "application"
    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    subnets: list[str] = Field(min_length=2)
    security_groups: list[str] = Field(default_factory=list)
    listeners: list[Listener] = Field(default_factory=list)
    deletion_protection: bool = False
    tags: Tags = Field(default_factory=dict)


class TargetGroup(Generated):
    name: str
    vpc: str
    protocol: Literal["HTTP", "HTTPS", "TCP", "TLS", "UDP"] = "HTTP"
    port: int = Field(80, ge=1, le=65535)
    target_type: Literal["instance", "ip"] = "instance"
    health_check_path: str = "/health"
    targets: list[str] = Field(default_factory=list, description="Glob patterns over instance names.")
    tags: Tags = Field(default_factory=dict)


class Elbv2Section(_Strict):
    target_groups: list[TargetGroup] = Field(default_factory=list)
    load_balancers: list[LoadBalancer] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- ECS


class TaskDefinition(Generated):
    name_field: ClassVar[str] = "family"

    family: str
    image: str
    cpu: int = 256
    memory: int = 512
    port: int | None = 8080
    env: dict[str, str] = Field(default_factory=dict)
    log_group: str | None = None
    role: str | None = Field(None, description="Task role name.")
    revisions: int = Field(1, ge=1, le=50, description="Registered this many times (older revisions stay).")


class EcsService(Generated):
    name: str
    task_definition: str
    desired_count: int = Field(1, ge=0)
    launch_type: Literal["FARGATE", "EC2"] = "FARGATE"
    subnets: list[str] = Field(default_factory=list)
    security_groups: list[str] = Field(default_factory=list)
    public_ip: bool = False
    target_group: str | None = None
    tags: Tags = Field(default_factory=dict)


class EcsCluster(Generated):
    name: str
    container_insights: bool = False
    tags: Tags = Field(default_factory=dict)
    services: list[EcsService] = Field(default_factory=list)


class EcsSection(_Strict):
    task_definitions: list[TaskDefinition] = Field(default_factory=list)
    clusters: list[EcsCluster] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- extras


class Secret(Generated):
    name: str
    description: str = ""
    kms_key: str | None = None
    rotation_days: int | None = Field(None, ge=1, le=1000)
    tags: Tags = Field(default_factory=dict)


class SecretsManagerSection(_Strict):
    secrets: list[Secret] = Field(default_factory=list)


class Parameter(Generated):
    name: str
    type: Literal["String", "StringList", "SecureString"] = "String"
    value: str = "value"
    description: str = ""
    tier: Literal["Standard", "Advanced"] = "Standard"
    tags: Tags = Field(default_factory=dict)


class SsmSection(_Strict):
    parameters: list[Parameter] = Field(default_factory=list)


class Record(_Strict):
    name: str
    type: Literal["A", "AAAA", "CNAME", "TXT", "MX"] = "A"
    ttl: int = 300
    values: list[str] = Field(min_length=1)


class HostedZone(Generated):
    name: str
    private_vpc: str | None = Field(None, description="VPC of a private zone.")
    comment: str = ""
    records: list[Record] = Field(default_factory=list)


class Route53Section(_Strict):
    zones: list[HostedZone] = Field(default_factory=list)


class Trail(Generated):
    name: str
    bucket: str
    multi_region: bool = False
    log_file_validation: bool = False
    logging: bool = True
    kms_key: str | None = None
    tags: Tags = Field(default_factory=dict)


class CloudTrailSection(_Strict):
    trails: list[Trail] = Field(default_factory=list)


class Repository(Generated):
    name: str
    scan_on_push: bool = False
    tag_mutability: Literal["MUTABLE", "IMMUTABLE"] = "MUTABLE"
    images: list[str] = Field(default_factory=list, description="Image tags pushed to the repository.")
    tags: Tags = Field(default_factory=dict)


class EcrSection(_Strict):
    repositories: list[Repository] = Field(default_factory=list)


class AutoScalingGroup(Generated):
    name: str
    instance_type: str = "t3.micro"
    image: str = "ami-0c02fb55956c7d316"
    subnets: list[str] = Field(min_length=1)
    min_size: int = Field(0, ge=0)
    max_size: int = Field(1, ge=0)
    desired: int = Field(0, ge=0)
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if not self.min_size <= self.desired <= self.max_size:
            raise ValueError("need min_size <= desired <= max_size")
        return self


class AutoScalingSection(_Strict):
    groups: list[AutoScalingGroup] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------- scenario


class Fault(_Strict):
    """An injected fault: what is wrong and what a troubleshooter should find."""

    name: str = Field(pattern=NAME_PATTERN)
    root_cause: str
    expected_findings: list[str] = Field(min_length=1)


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


class Scenario(_Strict):
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
