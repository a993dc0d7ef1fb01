"""Reference: log groups without a KMS key, and how many groups use each KMS key."""

import json
import os
import sys
from collections import Counter

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    logs = boto3.client("logs")
    kwargs = {"logGroupNamePrefix": PREFIX} if PREFIX else {}
    unencrypted = []
    per_key = Counter()
    for page in logs.get_paginator("describe_log_groups").paginate(**kwargs):
        for group in page["logGroups"]:
            key = group.get("kmsKeyId")
            if key:
                per_key[key] += 1
            else:
                unencrypted.append({"name": group["logGroupName"], "stored_bytes": int(group.get("storedBytes", 0))})
    unencrypted.sort(key=lambda g: g["name"])
    print(
        json.dumps(
            {
                "unencrypted": unencrypted,
                "unencrypted_count": len(unencrypted),
                "encrypted_count": sum(per_key.values()),
                "groups_per_kms_key": dict(sorted(per_key.items())),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
