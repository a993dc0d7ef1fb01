"""Reference: single-metric alarms whose metric has no datapoint in the window."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))


def sample_count(cw, alarm: dict, start: datetime, end: datetime) -> float:
    resp = cw.get_metric_statistics(
        Namespace=alarm["Namespace"],
        MetricName=alarm["MetricName"],
        Dimensions=alarm.get("Dimensions", []),
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["SampleCount"],
    )
    return sum(dp["SampleCount"] for dp in resp["Datapoints"])


def main() -> None:
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    checked = 0
    silent = []
    for page in cw.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        for alarm in page.get("MetricAlarms", []):
            if "MetricName" not in alarm or "Namespace" not in alarm:
                continue
            checked += 1
            if sample_count(cw, alarm, start, end) > 0:
                continue
            silent.append(
                {
                    "name": alarm["AlarmName"],
                    "namespace": alarm["Namespace"],
                    "metric_name": alarm["MetricName"],
                    "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                    "state": alarm["StateValue"],
                }
            )
    silent.sort(key=lambda a: a["name"])
    print(json.dumps({"alarms": silent, "checked": checked}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
