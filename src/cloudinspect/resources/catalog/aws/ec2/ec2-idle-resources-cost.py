"""Reference: monthly cost of unattached EBS volumes and unassociated Elastic IPs at stated prices."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
EIP_MONTHLY = float(VARS.get("eip_monthly_usd", 3.65))
PRICES = {
    "gp3": float(VARS.get("gp3_gib_month_usd", 0.08)),
    "gp2": 0.10,
    "io1": 0.125,
    "io2": 0.125,
    "st1": 0.045,
    "sc1": 0.015,
    "standard": 0.05,
}
DEFAULT_PRICE = 0.10


def main() -> None:
    ec2 = boto3.client("ec2")
    volumes = []
    volumes_total = 0.0
    filters = [{"Name": "status", "Values": ["available"]}]
    for page in ec2.get_paginator("describe_volumes").paginate(Filters=filters):
        for volume in page["Volumes"]:
            if volume.get("State") != "available":
                continue
            cost = volume["Size"] * PRICES.get(volume.get("VolumeType", ""), DEFAULT_PRICE)
            volumes_total += cost
            volumes.append(
                {
                    "volume_id": volume["VolumeId"],
                    "volume_type": volume.get("VolumeType", ""),
                    "size_gib": volume["Size"],
                    "monthly_cost_usd": round(cost, 2),
                }
            )
    addresses = []
    for address in ec2.describe_addresses()["Addresses"]:
        if address.get("AssociationId"):
            continue
        addresses.append(
            {
                "public_ip": address["PublicIp"],
                "allocation_id": address.get("AllocationId"),
                "monthly_cost_usd": round(EIP_MONTHLY, 2),
            }
        )
    addresses_total = EIP_MONTHLY * len(addresses)
    volumes.sort(key=lambda v: v["volume_id"])
    addresses.sort(key=lambda a: a["public_ip"])
    print(
        json.dumps(
            {
                "volumes": volumes,
                "addresses": addresses,
                "volumes_monthly_cost_usd": round(volumes_total, 2),
                "addresses_monthly_cost_usd": round(addresses_total, 2),
                "total_monthly_cost_usd": round(volumes_total + addresses_total, 2),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
