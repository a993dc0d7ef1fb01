"""Reference: per log group, events in the window containing the term, and the streams holding them."""

import json
import os
import sys
import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
TERM = VARS.get("term", "ERROR")
HOURS = int(VARS.get("hours", 24))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    logs = boto3.client("logs")
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - HOURS * 3600 * 1000
    kwargs = {"logGroupNamePrefix": PREFIX} if PREFIX else {}
    names = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(**kwargs)
        for g in page["logGroups"]
    ]
    reported = []
    for name in names:
        count = 0
        streams = set()
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=name, filterPattern=TERM, startTime=start_ms, endTime=end_ms
        )
        try:
            for page in pages:
                for event in page["events"]:
                    # The filter pattern only narrows the search; the spec is "the message contains the term".
                    if TERM in event["message"]:
                        count += 1
                        streams.add(event["logStreamName"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        if count:
            reported.append({"name": name, "matching_events": count, "streams_with_matches": len(streams)})
    reported.sort(key=lambda g: (-g["matching_events"], g["name"]))
    print(
        json.dumps(
            {
                "term": TERM,
                "log_groups": reported,
                "total_matching_events": sum(g["matching_events"] for g in reported),
                "log_groups_examined": len(names),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
