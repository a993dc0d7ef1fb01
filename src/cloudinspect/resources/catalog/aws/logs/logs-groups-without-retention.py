"""Reference: log groups without a retention policy, plus a count of groups per retention period."""

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
    never_expire = []
    retention = Counter()
    total = 0
    for page in logs.get_paginator("describe_log_groups").paginate(**kwargs):
        for group in page["logGroups"]:
            total += 1
            days = group.get("retentionInDays")
            if days:
                retention[str(days)] += 1
            else:
                never_expire.append({"name": group["logGroupName"], "stored_bytes": int(group.get("storedBytes", 0))})
    never_expire.sort(key=lambda g: g["name"])
    print(
        json.dumps(
            {
                "log_groups": never_expire,
                "count": len(never_expire),
                "total_log_groups": total,
                "retention_days_counts": dict(sorted(retention.items(), key=lambda kv: int(kv[0]))),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
