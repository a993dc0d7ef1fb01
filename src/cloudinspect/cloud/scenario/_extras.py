"""Scenario sections for RDS, ECS, ECR, Secrets Manager, SSM parameters and CloudTrail."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags


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


class RdsSection(Strict):
    instances: list[DbInstance] = Field(default_factory=list)


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
    compatibility: Literal["FARGATE", "EC2"] = Field("FARGATE", description="The launch type it requires.")
    privileged: bool = Field(False, description="The container runs in privileged mode (EC2 only).")
    readonly_root_filesystem: bool = False
    user: str | None = Field(None, description="User the container runs as ('1000', 'app:app'); default: the image's.")

    @model_validator(mode="after")
    def _privileged(self) -> Self:
        if self.privileged and self.compatibility == "FARGATE":
            raise ValueError("Fargate does not run privileged containers: set compatibility: EC2")
        return self


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


class EcsSection(Strict):
    task_definitions: list[TaskDefinition] = Field(default_factory=list)
    clusters: list[EcsCluster] = Field(default_factory=list)


class Secret(Generated):
    name: str
    description: str = ""
    kms_key: str | None = None
    rotation_days: int | None = Field(None, ge=1, le=1000)
    tags: Tags = Field(default_factory=dict)


class SecretsManagerSection(Strict):
    secrets: list[Secret] = Field(default_factory=list)


class Parameter(Generated):
    name: str
    type: Literal["String", "StringList", "SecureString"] = "String"
    value: str = "value"
    description: str = ""
    tier: Literal["Standard", "Advanced"] = "Standard"
    tags: Tags = Field(default_factory=dict)


class SsmSection(Strict):
    parameters: list[Parameter] = Field(default_factory=list)


class Trail(Generated):
    name: str
    bucket: str
    multi_region: bool = False
    log_file_validation: bool = False
    logging: bool = True
    kms_key: str | None = None
    tags: Tags = Field(default_factory=dict)


class CloudTrailSection(Strict):
    trails: list[Trail] = Field(default_factory=list)


class Repository(Generated):
    name: str
    scan_on_push: bool = False
    tag_mutability: Literal["MUTABLE", "IMMUTABLE"] = "MUTABLE"
    images: list[str] = Field(default_factory=list, description="Image tags pushed to the repository.")
    tags: Tags = Field(default_factory=dict)


class EcrSection(Strict):
    repositories: list[Repository] = Field(default_factory=list)
