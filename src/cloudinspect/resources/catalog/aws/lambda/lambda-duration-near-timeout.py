"""Reference: Lambda functions whose maximum Duration in the window is a large share of their timeout."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
THRESHOLD = float(VARS.get("threshold_percent", 80))


def max_duration_ms(cw, function_name: str, start: datetime, end: datetime) -> float | None:
    resp = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": function_name}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["Maximum"],
    )
    values = [dp["Maximum"] for dp in resp["Datapoints"]]
    return max(values) if values else None


def main() -> None:
    lam = boto3.client("lambda")
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    reported = []
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            name = fn["FunctionName"]
            timeout_s = fn.get("Timeout", 3)
            longest = max_duration_ms(cw, name, start, end)
            if longest is None:
                continue
            percent = longest / (timeout_s * 1000) * 100
            if percent >= THRESHOLD:
                reported.append(
                    {
                        "name": name,
                        "timeout_s": timeout_s,
                        "max_duration_ms": round(longest, 2),
                        "percent_of_timeout": round(percent, 2),
                    }
                )
    reported.sort(key=lambda f: (-f["percent_of_timeout"], f["name"]))
    print(json.dumps({"functions": reported}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
