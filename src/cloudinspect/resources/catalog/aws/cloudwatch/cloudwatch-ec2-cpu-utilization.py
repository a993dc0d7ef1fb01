"""Reference: running EC2 instances classified hot / idle / normal / no_data by CPUUtilization."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
IDLE = float(VARS.get("idle_percent", 10))
HOT = float(VARS.get("hot_percent", 90))


def cpu_stats(cw, instance_id: str, start: datetime, end: datetime) -> tuple[float | None, float | None]:
    """(average, maximum) over the window; the average is weighted by samples, not a mean of periods."""
    resp = cw.get_metric_statistics(
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )
    points = resp["Datapoints"]
    samples = sum(dp["SampleCount"] for dp in points)
    if not points or samples <= 0:
        return None, None
    return sum(dp["Sum"] for dp in points) / samples, max(dp["Maximum"] for dp in points)


def main() -> None:
    ec2 = boto3.client("ec2")
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    instances = []
    counts = {"hot": 0, "idle": 0, "normal": 0, "no_data": 0}
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}]
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for inst in reservation["Instances"]:
                avg, peak = cpu_stats(cw, inst["InstanceId"], start, end)
                if avg is None or peak is None:
                    status = "no_data"
                elif peak >= HOT:
                    status = "hot"
                elif avg < IDLE:
                    status = "idle"
                else:
                    status = "normal"
                counts[status] += 1
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                instances.append(
                    {
                        "instance_id": inst["InstanceId"],
                        "instance_type": inst["InstanceType"],
                        "name": tags.get("Name"),
                        "average_cpu_percent": None if avg is None else round(avg, 2),
                        "max_cpu_percent": None if peak is None else round(peak, 2),
                        "status": status,
                    }
                )
    instances.sort(key=lambda i: i["instance_id"])
    print(json.dumps({"instances": instances, "counts": counts}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
