"""Reference: Lambda functions whose Errors/Invocations ratio over the window is at or above a threshold."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
THRESHOLD = float(VARS.get("threshold_percent", 5))


def metric_sum(cw, metric: str, function_name: str, start: datetime, end: datetime) -> float:
    """Sum of the metric over [start, end), whatever the period alignment: add up every period's Sum."""
    resp = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function_name}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["Sum"],
    )
    return sum(dp["Sum"] for dp in resp["Datapoints"])


def main() -> None:
    lam = boto3.client("lambda")
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    names = [fn["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for fn in page["Functions"]]
    reported = []
    for name in names:
        invocations = metric_sum(cw, "Invocations", name, start, end)
        if invocations <= 0:
            continue
        errors = metric_sum(cw, "Errors", name, start, end)
        rate = errors / invocations * 100
        if rate >= THRESHOLD:
            reported.append(
                {
                    "name": name,
                    "invocations": round(invocations),
                    "errors": round(errors),
                    "error_rate_percent": round(rate, 2),
                }
            )
    reported.sort(key=lambda f: (-f["error_rate_percent"], f["name"]))
    print(json.dumps({"functions": reported, "functions_checked": len(names)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
