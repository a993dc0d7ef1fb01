"""Reference: customer-managed KMS keys mapped to the EBS volumes, S3 buckets and secrets that use them."""

import json
import os
import sys
from collections import defaultdict

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
INCLUDE_UNUSED = bool(VARS.get("include_unused", True))


class Resolver:
    """Resolves key ids, key ARNs, alias names and alias ARNs to customer-managed key ids."""

    def __init__(self, kms) -> None:
        self.alias_target: dict[str, str] = {}
        self.aliases: dict[str, list[str]] = defaultdict(list)
        for page in kms.get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                target = alias.get("TargetKeyId")
                if target:
                    self.alias_target[alias["AliasName"]] = target
                    self.aliases[target].append(alias["AliasName"])
        self.keys: dict[str, dict] = {}
        for page in kms.get_paginator("list_keys").paginate():
            for entry in page["Keys"]:
                meta = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
                aws_alias = any(a.startswith("alias/aws/") for a in self.aliases[meta["KeyId"]])
                if meta.get("KeyManager") == "CUSTOMER" and not aws_alias:
                    self.keys[meta["KeyId"]] = meta

    def resolve(self, reference: str | None) -> str | None:
        if not reference:
            return None
        if reference.startswith("arn:"):
            resource = reference.split(":", 5)[-1]
            if resource.startswith("key/"):
                reference = resource[len("key/") :]
            elif resource.startswith("alias/"):
                reference = resource
        if reference.startswith("alias/"):
            reference = self.alias_target.get(reference, "")
        return reference if reference in self.keys else None


def bucket_key(s3, bucket: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"].get("Rules", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ServerSideEncryptionConfigurationNotFoundError":
            return None
        raise
    if not rules:
        return None
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    if default.get("SSEAlgorithm") not in ("aws:kms", "aws:kms:dsse"):
        return None
    return default.get("KMSMasterKeyID")


def main() -> None:
    resolver = Resolver(boto3.client("kms"))
    usage = {key_id: {"ebs_volumes": [], "s3_buckets": [], "secrets": []} for key_id in resolver.keys}

    for page in boto3.client("ec2").get_paginator("describe_volumes").paginate():
        for volume in page["Volumes"]:
            key_id = resolver.resolve(volume.get("KmsKeyId"))
            if key_id:
                usage[key_id]["ebs_volumes"].append(volume["VolumeId"])

    s3 = boto3.client("s3")
    buckets = {b["Name"] for page in s3.get_paginator("list_buckets").paginate() for b in page.get("Buckets", [])}
    for bucket in sorted(buckets):
        key_id = resolver.resolve(bucket_key(s3, bucket))
        if key_id:
            usage[key_id]["s3_buckets"].append(bucket)

    for page in boto3.client("secretsmanager").get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            key_id = resolver.resolve(secret.get("KmsKeyId"))
            if key_id:
                usage[key_id]["secrets"].append(secret["Name"])

    keys = []
    counts = {"unusable-in-use": 0, "unused": 0}
    for key_id in sorted(usage):
        used = usage[key_id]
        state = resolver.keys[key_id].get("KeyState")
        in_use = any(used.values())
        finding = None
        if not in_use:
            finding = "unused"
        elif state != "Enabled":
            finding = "unusable-in-use"
        if finding:
            counts[finding] += 1
        if finding == "unused" and not INCLUDE_UNUSED:
            continue
        keys.append(
            {
                "key_id": key_id,
                "aliases": sorted(resolver.aliases.get(key_id, [])),
                "state": state,
                **{kind: sorted(set(items)) for kind, items in used.items()},
                "finding": finding,
            }
        )
    print(
        json.dumps(
            {
                "keys": keys,
                "unusable_in_use_count": counts["unusable-in-use"],
                "unused_count": counts["unused"],
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
