"""RDS, ECS, ECR, Secrets Manager, SSM parameters and CloudTrail."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cloudinspect.cloud._seeders._util import tag_list
from cloudinspect.cloud.scenario import (
    DbInstance,
    EcsCluster,
    Parameter,
    Repository,
    Secret,
    TaskDefinition,
    Trail,
    expand_all,
)
from cloudinspect.cloud.seed import SeedContext, seeder

_ENGINE_VERSIONS = {
    "postgres": "16.3",
    "mysql": "8.0.36",
    "mariadb": "10.11.7",
    "oracle-ee": "19.0.0.0.ru-2024-01.rur-2024-01.r1",
    "sqlserver-se": "15.00.4365.2.v1",
}


@seeder("rds", after=("kms",))
def seed_rds(ctx: SeedContext) -> None:
    """DB instances (engine, class, encryption, public, multi-AZ, backups, state) and manual snapshots."""
    rds = ctx.client("rds")

    def create(db: DbInstance) -> None:
        args: dict[str, Any] = {
            "DBInstanceIdentifier": db.name,
            "Engine": db.engine,
            "EngineVersion": db.engine_version or _ENGINE_VERSIONS[db.engine],
            "DBInstanceClass": db.instance_class,
            "AllocatedStorage": db.storage_gb,
            "StorageType": db.storage_type,
            "StorageEncrypted": db.encrypted,
            "MasterUsername": "dbadmin",
            "MasterUserPassword": "Scenario-Passw0rd",
            "PubliclyAccessible": db.public,
            "MultiAZ": db.multi_az,
            "BackupRetentionPeriod": db.backup_retention_days,
            "DeletionProtection": db.deletion_protection,
            "AutoMinorVersionUpgrade": db.auto_minor_version_upgrade,
            "EnableIAMDatabaseAuthentication": db.iam_auth,
            "Tags": tag_list(db.tags),
        }
        if db.kms_key:
            args["KmsKeyId"] = ctx.kms_arn(db.kms_key)
        rds.create_db_instance(**args)
        for k in range(db.snapshots):
            rds.create_db_snapshot(DBInstanceIdentifier=db.name, DBSnapshotIdentifier=f"{db.name}-manual-{k + 1:02d}")
        if db.state == "stopped":
            rds.stop_db_instance(DBInstanceIdentifier=db.name)

    ctx.map(create, expand_all(ctx.scenario.rds.instances))


@seeder("ecr", after=("kms",))
def seed_ecr(ctx: SeedContext) -> None:
    """Repositories (scan on push, tag mutability) with pushed image tags."""
    ecr = ctx.client("ecr")

    def create(repo: Repository) -> None:
        ecr.create_repository(
            repositoryName=repo.name,
            imageScanningConfiguration={"scanOnPush": repo.scan_on_push},
            imageTagMutability=repo.tag_mutability,
            tags=tag_list(repo.tags),
        )
        for tag in repo.images:
            digest = hashlib.sha256(f"{repo.name}:{tag}".encode()).hexdigest()
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": 7023,
                    "digest": f"sha256:{digest}",
                },
                "layers": [],
            }
            ecr.put_image(repositoryName=repo.name, imageManifest=json.dumps(manifest), imageTag=tag)

    ctx.map(create, expand_all(ctx.scenario.ecr.repositories))


@seeder("ecs", after=("elbv2", "iam", "ec2"))
def seed_ecs(ctx: SeedContext) -> None:
    """Task definitions (several revisions), clusters, services (Fargate, behind target groups)."""
    ecs = ctx.client("ecs")

    def register(td: TaskDefinition) -> None:
        container: dict[str, Any] = {
            "name": td.family,
            "image": td.image,
            "essential": True,
            "environment": [{"name": k, "value": v} for k, v in td.env.items()],
        }
        if td.privileged:
            container["privileged"] = True
        if td.readonly_root_filesystem:
            container["readonlyRootFilesystem"] = True
        if td.user:
            container["user"] = td.user
        if td.port:
            container["portMappings"] = [{"containerPort": td.port, "protocol": "tcp"}]
        if td.log_group:
            container["logConfiguration"] = {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": td.log_group,
                    "awslogs-region": ctx.region,
                    "awslogs-stream-prefix": "ecs",
                },
            }
        args: dict[str, Any] = {
            "family": td.family,
            "networkMode": "awsvpc",
            "requiresCompatibilities": [td.compatibility],
            "cpu": str(td.cpu),
            "memory": str(td.memory),
            "containerDefinitions": [container],
        }
        if td.role:
            args["taskRoleArn"] = ctx.id("role_arn", td.role)
        for _ in range(td.revisions):
            ecs.register_task_definition(**args)

    ctx.map(register, expand_all(ctx.scenario.ecs.task_definitions))

    def create(cluster: EcsCluster) -> None:
        ecs.create_cluster(
            clusterName=cluster.name,
            settings=[{"name": "containerInsights", "value": "enabled" if cluster.container_insights else "disabled"}],
            tags=tag_list(cluster.tags, key="key", value="value"),
        )
        for svc in expand_all(cluster.services):
            args: dict[str, Any] = {
                "cluster": cluster.name,
                "serviceName": svc.name,
                "taskDefinition": svc.task_definition,
                "desiredCount": svc.desired_count,
                "launchType": svc.launch_type,
            }
            if svc.subnets:
                args["networkConfiguration"] = {
                    "awsvpcConfiguration": {
                        "subnets": [ctx.id("subnet", s) for s in svc.subnets],
                        "securityGroups": [ctx.id("security_group", g) for g in svc.security_groups],
                        "assignPublicIp": "ENABLED" if svc.public_ip else "DISABLED",
                    }
                }
            if svc.target_group:
                args["loadBalancers"] = [
                    {
                        "targetGroupArn": ctx.id("target_group_arn", svc.target_group),
                        "containerName": svc.task_definition,
                        "containerPort": 8080,
                    }
                ]
            if svc.tags:
                args["tags"] = tag_list(svc.tags, key="key", value="value")
            ecs.create_service(**args)

    ctx.map(create, expand_all(ctx.scenario.ecs.clusters))


@seeder("secretsmanager", after=("kms",))
def seed_secretsmanager(ctx: SeedContext) -> None:
    """Secrets (customer or AWS managed keys), some with rotation."""
    sm = ctx.client("secretsmanager")

    def create(secret: Secret) -> None:
        args: dict[str, Any] = {
            "Name": secret.name,
            "Description": secret.description,
            "SecretString": json.dumps({"username": "app", "password": f"not-a-real-password-{len(secret.name)}"}),
            "Tags": tag_list(secret.tags),
        }
        if secret.kms_key:
            args["KmsKeyId"] = ctx.kms_arn(secret.kms_key)
        sm.create_secret(**args)
        if secret.rotation_days:
            # No RotationLambdaARN: moto would invoke the function, which needs Docker. Rotation still shows
            # as enabled with its schedule; describe_secret has no RotationLambdaARN.
            sm.rotate_secret(SecretId=secret.name, RotationRules={"AutomaticallyAfterDays": secret.rotation_days})

    ctx.map(create, expand_all(ctx.scenario.secretsmanager.secrets))


@seeder("ssm")
def seed_ssm(ctx: SeedContext) -> None:
    """Parameters (String, StringList, SecureString) with tags."""
    ssm = ctx.client("ssm")

    def put(param: Parameter) -> None:
        args: dict[str, Any] = {
            "Name": param.name,
            "Value": param.value,
            "Type": param.type,
            "Description": param.description,
            "Tier": param.tier,
        }
        if param.tags:
            args["Tags"] = tag_list(param.tags)
        ssm.put_parameter(**args)

    ctx.map(put, expand_all(ctx.scenario.ssm.parameters))


@seeder("cloudtrail", after=("s3", "kms"))
def seed_cloudtrail(ctx: SeedContext) -> None:
    """Trails (multi-region or not, log file validation, KMS), logging started or not."""
    ct = ctx.client("cloudtrail")

    def create(trail: Trail) -> None:
        args: dict[str, Any] = {
            "Name": trail.name,
            "S3BucketName": trail.bucket,
            "IsMultiRegionTrail": trail.multi_region,
            "EnableLogFileValidation": trail.log_file_validation,
            "TagsList": tag_list(trail.tags),
        }
        if trail.kms_key:
            args["KmsKeyId"] = ctx.kms_arn(trail.kms_key)
        ct.create_trail(**args)
        if trail.logging:
            ct.start_logging(Name=trail.name)

    ctx.map(create, expand_all(ctx.scenario.cloudtrail.trails))
