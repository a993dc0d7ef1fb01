"""Reference: Lambda functions with throttles in the window, throttled share and reserved concurrency."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))


def metric_sum(cw, metric: str, function_name: str, start: datetime, end: datetime) -> float:
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


def reserved_concurrency(lam, function_name: str) -> int | None:
    try:
        resp = lam.get_function_concurrency(FunctionName=function_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return resp.get("ReservedConcurrentExecutions")


def main() -> None:
    lam = boto3.client("lambda")
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    reported = []
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            name = fn["FunctionName"]
            throttles = round(metric_sum(cw, "Throttles", name, start, end))
            if throttles <= 0:
                continue
            invocations = round(metric_sum(cw, "Invocations", name, start, end))
            reported.append(
                {
                    "name": name,
                    "throttles": throttles,
                    "invocations": invocations,
                    "throttled_percent": round(throttles / (invocations + throttles) * 100, 2),
                    "reserved_concurrency": reserved_concurrency(lam, name),
                }
            )
    reported.sort(key=lambda f: (-f["throttles"], f["name"]))
    print(json.dumps({"functions": reported, "total_throttles": sum(f["throttles"] for f in reported)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
