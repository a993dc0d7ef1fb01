"""Reference: metric alarms in a given state with their metric, dimensions, statistic and threshold."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
STATE = VARS.get("state", "ALARM")


def main() -> None:
    cw = boto3.client("cloudwatch")
    alarms = []
    for page in cw.get_paginator("describe_alarms").paginate(StateValue=STATE, AlarmTypes=["MetricAlarm"]):
        for alarm in page.get("MetricAlarms", []):
            single_metric = "MetricName" in alarm
            alarms.append(
                {
                    "name": alarm["AlarmName"],
                    "namespace": alarm.get("Namespace"),
                    "metric_name": alarm.get("MetricName"),
                    "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                    "statistic": alarm.get("Statistic") or alarm.get("ExtendedStatistic"),
                    "comparison_operator": alarm["ComparisonOperator"],
                    "threshold": alarm.get("Threshold"),
                    "period_s": alarm.get("Period") if single_metric else None,
                    "evaluation_periods": alarm["EvaluationPeriods"],
                    "alarm_actions": sorted(alarm.get("AlarmActions", [])),
                }
            )
    alarms.sort(key=lambda a: a["name"])
    print(json.dumps({"state": STATE, "alarms": alarms, "count": len(alarms)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
