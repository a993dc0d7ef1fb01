"""Reference: DynamoDB tables with billing mode, provisioned capacity, items and GSIs; totals per mode."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    ddb = boto3.client("dynamodb")
    tables = []
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            if not name.startswith(PREFIX):
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
            tables.append(
                {
                    "name": name,
                    "billing_mode": mode,
                    "read_capacity_units": int(throughput.get("ReadCapacityUnits", 0)) if provisioned else None,
                    "write_capacity_units": int(throughput.get("WriteCapacityUnits", 0)) if provisioned else None,
                    "item_count": int(table.get("ItemCount", 0)),
                    "gsi_count": len(table.get("GlobalSecondaryIndexes") or []),
                }
            )
    tables.sort(key=lambda t: t["name"])
    on_demand = [t for t in tables if t["billing_mode"] == "PAY_PER_REQUEST"]
    provisioned = [t for t in tables if t["billing_mode"] == "PROVISIONED"]
    summary = {
        "PAY_PER_REQUEST": {"tables": len(on_demand), "items": sum(t["item_count"] for t in on_demand)},
        "PROVISIONED": {
            "tables": len(provisioned),
            "items": sum(t["item_count"] for t in provisioned),
            "read_capacity_units": sum(t["read_capacity_units"] for t in provisioned),
            "write_capacity_units": sum(t["write_capacity_units"] for t in provisioned),
        },
    }
    print(json.dumps({"tables": tables, "by_billing_mode": summary}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
