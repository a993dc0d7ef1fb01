"""Reference: the top N log groups by storedBytes, with retention, KMS and share of the total."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
TOP_N = int(VARS.get("top_n", 10))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    logs = boto3.client("logs")
    kwargs = {"logGroupNamePrefix": PREFIX} if PREFIX else {}
    groups = [g for page in logs.get_paginator("describe_log_groups").paginate(**kwargs) for g in page["logGroups"]]
    total = sum(int(g.get("storedBytes", 0)) for g in groups)
    groups.sort(key=lambda g: (-int(g.get("storedBytes", 0)), g["logGroupName"]))
    top = []
    for rank, group in enumerate(groups[:TOP_N], start=1):
        stored = int(group.get("storedBytes", 0))
        top.append(
            {
                "rank": rank,
                "name": group["logGroupName"],
                "stored_bytes": stored,
                "retention_days": group.get("retentionInDays"),
                "kms_encrypted": bool(group.get("kmsKeyId")),
                "percent_of_total": round(stored / total * 100, 2) if total else 0,
            }
        )
    print(json.dumps({"log_groups": top, "total_stored_bytes": total, "total_log_groups": len(groups)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
