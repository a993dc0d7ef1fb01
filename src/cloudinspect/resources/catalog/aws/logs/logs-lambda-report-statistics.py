"""Reference: per function, duration stats (mean, p95, max), memory use and GB-seconds from REPORT lines."""

import json
import math
import os
import re
import sys
import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
PREFIX = "/aws/lambda/"
DURATION = re.compile(r"(?:^|\t)Duration: ([0-9.]+) ms")
BILLED = re.compile(r"Billed Duration: ([0-9.]+) ms")
MEMORY_SIZE = re.compile(r"Memory Size: (\d+) MB")
MEMORY_USED = re.compile(r"Max Memory Used: (\d+) MB")


def memory_size(lam, function_name: str) -> int | None:
    try:
        return lam.get_function_configuration(FunctionName=function_name).get("MemorySize")
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
    functions = []
    for group in groups:
        durations: list[float] = []
        used: list[int] = []
        gb_seconds = 0.0
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern='"REPORT RequestId"', startTime=start_ms, endTime=end_ms
        )
        for page in pages:
            for event in page["events"]:
                line = event["message"]
                if not line.startswith("REPORT RequestId:"):
                    continue
                duration, billed = DURATION.search(line), BILLED.search(line)
                size, peak = MEMORY_SIZE.search(line), MEMORY_USED.search(line)
                if not (duration and billed and size and peak):
                    continue
                durations.append(float(duration.group(1)))
                used.append(int(peak.group(1)))
                gb_seconds += float(billed.group(1)) / 1000 * int(size.group(1)) / 1024
        if not durations:
            continue
        name = group[len(PREFIX) :]
        ordered = sorted(durations)
        p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
        configured = memory_size(lam, name)
        functions.append(
            {
                "function": name,
                "invocations": len(durations),
                "avg_duration_ms": round(sum(durations) / len(durations), 2),
                "p95_duration_ms": round(p95, 2),
                "max_duration_ms": round(ordered[-1], 2),
                "max_memory_used_mb": max(used),
                "memory_size_mb": configured,
                "memory_used_percent": round(max(used) / configured * 100, 2) if configured else None,
                "billed_gb_seconds": round(gb_seconds, 4),
                "_gb_seconds": gb_seconds,
            }
        )
    functions.sort(key=lambda f: f["function"])
    total_gb_seconds = sum(f.pop("_gb_seconds") for f in functions)
    print(
        json.dumps(
            {
                "functions": functions,
                "total_invocations": sum(f["invocations"] for f in functions),
                "total_billed_gb_seconds": round(total_gb_seconds, 4),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
