"""Reference: S3 buckets checked for default encryption, versioning and a full public access block."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")
PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ISSUES = ("no-default-encryption", "versioning-not-enabled", "public-access-not-fully-blocked")


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def encryption(s3, bucket: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"].get("Rules", [])
    except ClientError as exc:
        if error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            return None
        raise
    if not rules:
        return None
    return rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")


def public_access_block_full(s3, bucket: str) -> bool:
    try:
        config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
            return False
        raise
    return all(config.get(key) is True for key in PAB_KEYS)


def main() -> None:
    s3 = boto3.client("s3")
    names = []
    for page in s3.get_paginator("list_buckets").paginate():
        names += [b["Name"] for b in page.get("Buckets", []) if b["Name"].startswith(PREFIX)]
    buckets = []
    counts = dict.fromkeys(ISSUES, 0)
    for name in sorted(set(names)):
        algorithm = encryption(s3, name)
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status") or "Disabled"
        pab = public_access_block_full(s3, name)
        issues = []
        if algorithm is None:
            issues.append(ISSUES[0])
        if versioning != "Enabled":
            issues.append(ISSUES[1])
        if not pab:
            issues.append(ISSUES[2])
        for issue in issues:
            counts[issue] += 1
        buckets.append(
            {
                "bucket": name,
                "encryption": algorithm,
                "versioning": versioning,
                "public_access_block_full": pab,
                "issues": issues,
            }
        )
    print(
        json.dumps(
            {
                "buckets": buckets,
                "bucket_count": len(buckets),
                "non_compliant_count": sum(1 for b in buckets if b["issues"]),
                "issue_counts": counts,
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
