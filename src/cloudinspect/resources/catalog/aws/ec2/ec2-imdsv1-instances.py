"""Reference: EC2 instances whose metadata service still accepts IMDSv1."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
STATES = list(VARS.get("states", ["pending", "running", "stopping", "stopped"]))


def main() -> None:
    ec2 = boto3.client("ec2")
    found = []
    filters = [{"Name": "instance-state-name", "Values": STATES}]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                state = instance.get("State", {}).get("Name")
                if state not in STATES:
                    continue
                options = instance.get("MetadataOptions") or {}
                if options.get("HttpEndpoint") == "disabled" or options.get("HttpTokens") == "required":
                    continue
                tags = {t["Key"]: t.get("Value") for t in instance.get("Tags", [])}
                found.append(
                    {
                        "instance_id": instance["InstanceId"],
                        "state": state,
                        "name": tags.get("Name"),
                        "http_tokens": options.get("HttpTokens"),
                        "public_ip": instance.get("PublicIpAddress") or None,
                    }
                )
    found.sort(key=lambda i: i["instance_id"])
    public = sum(1 for i in found if i["public_ip"])
    print(json.dumps({"instances": found, "count": len(found), "public_count": public}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
