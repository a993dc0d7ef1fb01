"""Reference: the top N normalised messages among the events containing a term, across log groups."""

import json
import os
import re
import sys
import time
from collections import Counter, defaultdict

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
TERM = VARS.get("term", "ERROR")
HOURS = int(VARS.get("hours", 24))
TOP_N = int(VARS.get("top_n", 10))
PREFIX = VARS.get("name_prefix", "")

RULES = [
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?"), "<ts>"),
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def normalise(message: str) -> str:
    text = message.split("\n", 1)[0]
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def main() -> None:
    logs = boto3.client("logs")
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - HOURS * 3600 * 1000
    kwargs = {"logGroupNamePrefix": PREFIX} if PREFIX else {}
    groups = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(**kwargs)
        for g in page["logGroups"]
    ]
    counts: Counter[str] = Counter()
    where: defaultdict[str, set[str]] = defaultdict(set)
    for group in groups:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern=TERM, startTime=start_ms, endTime=end_ms
        )
        try:
            for page in pages:
                for event in page["events"]:
                    if TERM not in event["message"]:
                        continue
                    key = normalise(event["message"])
                    counts[key] += 1
                    where[key].add(group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    messages = [
        {"rank": rank, "message": message, "count": count, "log_groups": sorted(where[message])}
        for rank, (message, count) in enumerate(ranked, start=1)
    ]
    print(
        json.dumps(
            {
                "messages": messages,
                "distinct_messages": len(counts),
                "total_matching_events": sum(counts.values()),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
