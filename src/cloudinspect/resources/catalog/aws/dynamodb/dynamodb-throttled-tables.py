"""Reference: DynamoDB tables with table-level read/write throttle events in the window."""

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
HOURS = int(VARS.get("hours", 24))


def metric_sum(cw, metric: str, table: str, start: datetime, end: datetime) -> int:
    resp = cw.get_metric_statistics(
        Namespace="AWS/DynamoDB",
        MetricName=metric,
        Dimensions=[{"Name": "TableName", "Value": table}],
        StartTime=start,
        EndTime=end,
        Period=3600,
        Statistics=["Sum"],
    )
    return round(sum(dp["Sum"] for dp in resp["Datapoints"]))


def main() -> None:
    ddb = boto3.client("dynamodb")
    cw = boto3.client("cloudwatch")
    end = datetime.now(UTC)
    start = end - timedelta(hours=HOURS)
    names = [name for page in ddb.get_paginator("list_tables").paginate() for name in page["TableNames"]]
    reported = []
    for name in names:
        reads = metric_sum(cw, "ReadThrottleEvents", name, start, end)
        writes = metric_sum(cw, "WriteThrottleEvents", name, start, end)
        if reads + writes <= 0:
            continue
        try:
            table = ddb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TableNotFoundException", "ResourceNotFoundException"):
                continue
            raise
        mode = table.get("BillingModeSummary", {}).get("BillingMode") or "PROVISIONED"
        throughput = table.get("ProvisionedThroughput", {})
        provisioned = mode == "PROVISIONED"
        reported.append(
            {
                "name": name,
                "billing_mode": mode,
                "read_capacity_units": int(throughput.get("ReadCapacityUnits", 0)) if provisioned else None,
                "write_capacity_units": int(throughput.get("WriteCapacityUnits", 0)) if provisioned else None,
                "read_throttle_events": reads,
                "write_throttle_events": writes,
            }
        )
    reported.sort(key=lambda t: (-(t["read_throttle_events"] + t["write_throttle_events"]), t["name"]))
    total = sum(t["read_throttle_events"] + t["write_throttle_events"] for t in reported)
    print(json.dumps({"tables": reported, "tables_checked": len(names), "total_throttle_events": total}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
