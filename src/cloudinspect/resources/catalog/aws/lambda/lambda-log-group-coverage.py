"""Reference: Lambda functions without a log group or retention, and orphan /aws/lambda/ log groups."""

import json
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def main() -> None:
    lam = boto3.client("lambda")
    logs = boto3.client("logs")
    functions = {}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            name = fn["FunctionName"]
            functions[name] = (fn.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    groups = {
        g["logGroupName"]: g for page in logs.get_paginator("describe_log_groups").paginate() for g in page["logGroups"]
    }
    without_group = sorted(name for name, group in functions.items() if group not in groups)
    without_retention = sorted(
        name for name, group in functions.items() if group in groups and not groups[group].get("retentionInDays")
    )
    used = set(functions.values())
    orphans = sorted(
        (
            {"name": name, "stored_bytes": int(g.get("storedBytes", 0))}
            for name, g in groups.items()
            if name.startswith("/aws/lambda/") and name not in used
        ),
        key=lambda g: g["name"],
    )
    print(
        json.dumps(
            {
                "functions_without_log_group": without_group,
                "functions_without_retention": without_retention,
                "orphan_log_groups": orphans,
                "functions_total": len(functions),
                "orphan_stored_bytes": sum(g["stored_bytes"] for g in orphans),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
