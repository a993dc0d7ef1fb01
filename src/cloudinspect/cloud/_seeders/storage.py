"""S3 (buckets with their settings, objects) and DynamoDB (tables, items, backups settings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cloudinspect.cloud._seeders._util import chunks, dumps, tag_list
from cloudinspect.cloud.scenario import Bucket, S3Object, Table, expand_all
from cloudinspect.cloud.seed import SeedContext, seeder
from cloudinspect.cloud.series import stable_rng

_STATUSES = ("PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED")


@seeder("s3", after=("kms",))
def seed_s3(ctx: SeedContext) -> None:
    """Buckets (encryption, versioning, public access block, public policy/ACL, lifecycle, tags), objects."""
    s3 = ctx.client("s3")
    buckets = expand_all(ctx.scenario.s3.buckets)

    def create(bucket: Bucket) -> None:
        args: dict[str, Any] = {"Bucket": bucket.name}
        if ctx.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        s3.create_bucket(**args)
        if bucket.encryption != "none":
            default: dict[str, str] = {"SSEAlgorithm": bucket.encryption}
            if bucket.encryption == "aws:kms":
                default["KMSMasterKeyID"] = ctx.kms_arn(bucket.kms_key) or ""
            s3.put_bucket_encryption(
                Bucket=bucket.name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]
                },
            )
        if bucket.versioning != "Off":
            s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": bucket.versioning})
        block = bucket.block()
        if block is not None:
            s3.put_public_access_block(
                Bucket=bucket.name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": block.block_public_acls,
                    "IgnorePublicAcls": block.ignore_public_acls,
                    "BlockPublicPolicy": block.block_public_policy,
                    "RestrictPublicBuckets": block.restrict_public_buckets,
                },
            )
        if bucket.public_policy:
            statement = {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket.name}/*",
            }
            s3.put_bucket_policy(Bucket=bucket.name, Policy=dumps({"Version": "2012-10-17", "Statement": [statement]}))
        if bucket.public_acl:
            s3.put_bucket_acl(Bucket=bucket.name, ACL="public-read")
        if bucket.lifecycle_expiration_days:
            rule = {
                "ID": "expire-old-objects",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "Expiration": {"Days": bucket.lifecycle_expiration_days},
            }
            s3.put_bucket_lifecycle_configuration(Bucket=bucket.name, LifecycleConfiguration={"Rules": [rule]})
        if bucket.tags:
            s3.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": tag_list(bucket.tags)})

    ctx.map(create, buckets)

    def put(pair: tuple[str, S3Object]) -> None:
        bucket_name, obj = pair
        s3.put_object(
            Bucket=bucket_name,
            Key=obj.key,
            Body=b"x" * obj.size,
            ContentType=obj.content_type,
            StorageClass=obj.storage_class,
        )

    ctx.map(put, [(b.name, o) for b in buckets for o in expand_all(b.objects)])


def _item(ctx: SeedContext, table: Table, k: int) -> dict[str, Any]:
    rng = stable_rng(ctx.scenario.seed, "dynamodb", table.name, k)
    created = ctx.anchor - timedelta(minutes=rng.randrange(60 * 24 * 30))
    item: dict[str, Any] = {
        table.hash_key: {"S": f"{table.name.split('-')[0].upper()}#{k:06d}"},
        "status": {"S": _STATUSES[rng.randrange(len(_STATUSES))]},
        "amount": {"N": f"{rng.uniform(5, 500):.2f}"},
        "created_at": {"S": created.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
    if table.range_key:
        item[table.range_key] = {"S": f"v{rng.randrange(1, 4)}"}
    if table.ttl_attribute:
        item[table.ttl_attribute] = {"N": str(int((ctx.anchor + timedelta(days=30)).timestamp()))}
    return item


@seeder("dynamodb", after=("kms",))
def seed_dynamodb(ctx: SeedContext) -> None:
    """Tables (on-demand or provisioned, PITR, SSE, TTL, tags) and their items (batch_write_item)."""
    ddb = ctx.client("dynamodb")
    tables = expand_all(ctx.scenario.dynamodb.tables)

    def create(table: Table) -> None:
        keys = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
        attrs = [{"AttributeName": table.hash_key, "AttributeType": "S"}]
        if table.range_key:
            keys.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
            attrs.append({"AttributeName": table.range_key, "AttributeType": "S"})
        args: dict[str, Any] = {
            "TableName": table.name,
            "KeySchema": keys,
            "AttributeDefinitions": attrs,
            "BillingMode": table.billing,
        }
        if table.billing == "PROVISIONED":
            args["ProvisionedThroughput"] = {
                "ReadCapacityUnits": table.read_capacity,
                "WriteCapacityUnits": table.write_capacity,
            }
        if table.sse == "KMS":
            sse: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
            if table.kms_key:
                sse["KMSMasterKeyId"] = ctx.kms_arn(table.kms_key)
            args["SSESpecification"] = sse
        if table.tags:
            args["Tags"] = tag_list(table.tags)
        ddb.create_table(**args)
        if table.pitr:
            ddb.update_continuous_backups(
                TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        if table.ttl_attribute:
            ddb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )

    ctx.map(create, tables)

    batches = [
        (table.name, [_item(ctx, table, k) for k in batch])
        for table in tables
        for batch in chunks(range(table.items), 25)
    ]

    def write(batch: tuple[str, list[dict[str, Any]]]) -> None:
        name, items = batch
        request = {name: [{"PutRequest": {"Item": item}} for item in items]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    ctx.map(write, batches)
