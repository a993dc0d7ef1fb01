"""Reference: unencrypted EBS volumes attached to running instances, with the instance Name tag."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MIN_SIZE = int(VARS.get("min_size_gib", 1))


def main() -> None:
    ec2 = boto3.client("ec2")
    running = {}
    filters = [{"Name": "instance-state-name", "Values": ["running"]}]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance.get("State", {}).get("Name") == "running":
                    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                    running[instance["InstanceId"]] = tags.get("Name")
    entries = []
    sizes = {}
    for page in ec2.get_paginator("describe_volumes").paginate():
        for volume in page["Volumes"]:
            if volume.get("Encrypted") or volume.get("Size", 0) < MIN_SIZE:
                continue
            for attachment in volume.get("Attachments", []):
                instance_id = attachment.get("InstanceId")
                if attachment.get("State") != "attached" or instance_id not in running:
                    continue
                sizes[volume["VolumeId"]] = volume["Size"]
                entries.append(
                    {
                        "volume_id": volume["VolumeId"],
                        "size_gib": volume["Size"],
                        "volume_type": volume.get("VolumeType", ""),
                        "instance_id": instance_id,
                        "instance_name": running[instance_id],
                        "device": attachment.get("Device"),
                    }
                )
    entries.sort(key=lambda e: (e["volume_id"], e["instance_id"]))
    print(json.dumps({"volumes": entries, "count": len(entries), "total_size_gib": sum(sizes.values())}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
