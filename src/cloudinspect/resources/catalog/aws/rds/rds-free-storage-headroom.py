"""Reference: minimum FreeStorageSpace of each non-Aurora RDS instance in the window vs allocated storage."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))
THRESHOLD_GIB = float(VARS.get("threshold_gib", 10))
GIB = 1024**3


def min_free_bytes(cw, db_id: str, start: datetime, end: datetime) -> float | None:
    resp = cw.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="FreeStorageSpace",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": db_id}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["Minimum"],
    )
    values = [dp["Minimum"] for dp in resp["Datapoints"]]
    return min(values) if values else None


def main() -> None:
    rds = boto3.client("rds")
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    instances = []
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page["DBInstances"]:
            engine = db["Engine"]
            if engine.startswith("aurora"):
                continue
            db_id = db["DBInstanceIdentifier"]
            allocated = int(db.get("AllocatedStorage", 0))
            free = min_free_bytes(cw, db_id, start, end)
            instances.append(
                {
                    "db_instance_id": db_id,
                    "engine": engine,
                    "allocated_gib": allocated,
                    "min_free_gib": None if free is None else round(free / GIB, 2),
                    "free_percent": None
                    if free is None or allocated <= 0
                    else round(free / (allocated * GIB) * 100, 2),
                    "low": free is not None and free < THRESHOLD_GIB * GIB,
                }
            )
    instances.sort(key=lambda i: i["db_instance_id"])
    print(json.dumps({"instances": instances, "low_count": sum(i["low"] for i in instances)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
