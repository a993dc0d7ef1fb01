"""Reference: "Task timed out" events per /aws/lambda/ log group in the window, with the function timeout."""

import json
import os
import sys
import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
PREFIX = "/aws/lambda/"
PHRASE = "Task timed out"


def configured_timeout(lam, function_name: str) -> int | None:
    try:
        return lam.get_function_configuration(FunctionName=function_name).get("Timeout")
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def main() -> None:
    logs = boto3.client("logs")
    lam = boto3.client("lambda")
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - HOURS * 3600 * 1000
    groups = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=PREFIX)
        for g in page["logGroups"]
    ]
    reported = []
    for group in groups:
        count = 0
        streams = set()
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern=f'"{PHRASE}"', startTime=start_ms, endTime=end_ms
        )
        for page in pages:
            for event in page["events"]:
                if PHRASE in event["message"]:
                    count += 1
                    streams.add(event["logStreamName"])
        if count:
            function = group[len(PREFIX) :]
            reported.append(
                {
                    "function": function,
                    "timeouts": count,
                    "timeout_s": configured_timeout(lam, function),
                    "streams": len(streams),
                }
            )
    reported.sort(key=lambda f: (-f["timeouts"], f["function"]))
    print(
        json.dumps(
            {
                "functions": reported,
                "total_timeouts": sum(f["timeouts"] for f in reported),
                "log_groups_examined": len(groups),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
