"""Reference: sum/average/min/max/sample count of one metric over the window, per value of one dimension."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
NAMESPACE = VARS.get("namespace", "AWS/Lambda")
METRIC = VARS.get("metric_name", "Invocations")
DIMENSION = VARS.get("dimension_name", "FunctionName")
HOURS = int(VARS.get("hours", 24))


def window_stats(cw, value: str, start: datetime, end: datetime) -> dict:
    resp = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": DIMENSION, "Value": value}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )
    points = resp["Datapoints"]
    samples = sum(dp["SampleCount"] for dp in points)
    if not points or samples <= 0:
        return {"sum": None, "average": None, "minimum": None, "maximum": None, "sample_count": 0}
    total = sum(dp["Sum"] for dp in points)
    return {
        "sum": round(total, 4),
        "average": round(total / samples, 4),
        "minimum": round(min(dp["Minimum"] for dp in points), 4),
        "maximum": round(max(dp["Maximum"] for dp in points), 4),
        "sample_count": round(samples),
    }


def main() -> None:
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    values = set()
    for page in cw.get_paginator("list_metrics").paginate(Namespace=NAMESPACE, MetricName=METRIC):
        for metric in page["Metrics"]:
            dims = metric.get("Dimensions", [])
            if len(dims) == 1 and dims[0]["Name"] == DIMENSION:
                values.add(dims[0]["Value"])
    series = [{"dimension_value": v, **window_stats(cw, v, start, end)} for v in sorted(values)]
    print(json.dumps({"namespace": NAMESPACE, "metric_name": METRIC, "dimension_name": DIMENSION, "series": series}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
