"""Reference: log streams whose last event is older than the window (or that never had one)."""

import json
import os
import sys
import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    logs = boto3.client("logs")
    cutoff_ms = int((time.time() - HOURS * 3600) * 1000)
    kwargs = {"logGroupNamePrefix": PREFIX} if PREFIX else {}
    stale = []
    total = 0
    only_stale = []
    for page in logs.get_paginator("describe_log_groups").paginate(**kwargs):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            group_total = group_stale = 0
            try:
                for spage in logs.get_paginator("describe_log_streams").paginate(logGroupName=name):
                    for stream in spage["logStreams"]:
                        group_total += 1
                        last = stream.get("lastEventTimestamp")
                        if last is None or last < cutoff_ms:
                            group_stale += 1
                            stale.append(
                                {
                                    "log_group": name,
                                    "log_stream": stream["logStreamName"],
                                    "has_events": last is not None,
                                }
                            )
            except ClientError as exc:
                # A group deleted between the two listings has no streams left to judge.
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
            total += group_total
            if group_total and group_stale == group_total:
                only_stale.append(name)
    stale.sort(key=lambda s: (s["log_group"], s["log_stream"]))
    print(
        json.dumps(
            {
                "streams": stale,
                "stale_count": len(stale),
                "total_streams": total,
                "groups_with_only_stale_streams": sorted(only_stale),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
