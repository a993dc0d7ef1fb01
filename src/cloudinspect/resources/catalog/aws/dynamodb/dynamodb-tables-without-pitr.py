"""Reference: DynamoDB tables without point-in-time recovery, with their deletion protection setting."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    ddb = boto3.client("dynamodb")
    names = [
        name
        for page in ddb.get_paginator("list_tables").paginate()
        for name in page["TableNames"]
        if name.startswith(PREFIX)
    ]
    examined = 0
    reported = []
    for name in names:
        try:
            backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
            table = ddb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            # A table deleted between the listing and the describe is simply gone.
            if exc.response["Error"]["Code"] in ("TableNotFoundException", "ResourceNotFoundException"):
                continue
            raise
        examined += 1
        status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if status != "ENABLED":
            reported.append({"name": name, "deletion_protection": bool(table.get("DeletionProtectionEnabled", False))})
    reported.sort(key=lambda t: t["name"])
    print(json.dumps({"tables": reported, "count": len(reported), "total_tables": examined}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
