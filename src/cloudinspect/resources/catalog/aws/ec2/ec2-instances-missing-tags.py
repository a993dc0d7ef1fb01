"""Reference: EC2 instances (not terminated) missing one or more required tags."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
REQUIRED = list(dict.fromkeys(VARS.get("required_tags", ["Name", "Environment", "Owner"])))


def main() -> None:
    ec2 = boto3.client("ec2")
    instances = []
    checked = 0
    missing_by_tag = dict.fromkeys(REQUIRED, 0)
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                state = instance.get("State", {}).get("Name", "unknown")
                if state == "terminated":
                    continue
                checked += 1
                tags = {t["Key"]: (t.get("Value") or "") for t in instance.get("Tags", [])}
                missing = sorted(k for k in REQUIRED if not tags.get(k, "").strip())
                for key in missing:
                    missing_by_tag[key] += 1
                if missing:
                    instances.append(
                        {
                            "instance_id": instance["InstanceId"],
                            "state": state,
                            "instance_type": instance.get("InstanceType", ""),
                            "name": tags.get("Name") or None,
                            "missing_tags": missing,
                        }
                    )
    instances.sort(key=lambda i: i["instance_id"])
    print(
        json.dumps(
            {
                "instances": instances,
                "non_compliant_count": len(instances),
                "checked_count": checked,
                "missing_by_tag": missing_by_tag,
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
