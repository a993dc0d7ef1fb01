"""Scenario sections for S3 and DynamoDB."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags


class S3Object(Generated):
    name_field: ClassVar[str] = "key"

    key: str
    size: int = Field(1024, ge=0, le=5_000_000, description="Bytes.")
    content_type: str = "application/octet-stream"
    storage_class: Literal["STANDARD", "STANDARD_IA", "GLACIER", "INTELLIGENT_TIERING"] = "STANDARD"


class PublicAccessBlock(Strict):
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


class S3Section(Strict):
    buckets: list[Bucket] = Field(default_factory=list)


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


class DynamoDbSection(Strict):
    tables: list[Table] = Field(default_factory=list)
