"""Reference: Secrets Manager secrets without automatic rotation or with too long a rotation interval."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MAX_DAYS = int(VARS.get("max_rotation_days", 90))


def main() -> None:
    client = boto3.client("secretsmanager")
    found = []
    total = 0
    for page in client.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            total += 1
            enabled = bool(secret.get("RotationEnabled"))
            days = (secret.get("RotationRules") or {}).get("AutomaticallyAfterDays") if enabled else None
            if not enabled:
                finding = "rotation-disabled"
            elif days is not None and days > MAX_DAYS:
                finding = "rotation-interval-too-long"
            else:
                continue
            found.append(
                {
                    "name": secret["Name"],
                    "rotation_enabled": enabled,
                    "rotation_days": days,
                    "kms_key": secret.get("KmsKeyId") or None,
                    "finding": finding,
                }
            )
    found.sort(key=lambda s: s["name"])
    print(json.dumps({"secrets": found, "secret_count": total, "finding_count": len(found)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
