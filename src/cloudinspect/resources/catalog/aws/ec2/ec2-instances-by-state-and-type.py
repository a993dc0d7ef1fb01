"""Reference: EC2 instance counts by state and by (instance type, state)."""

import json
import os
import sys
from collections import Counter

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
INCLUDE_TERMINATED = bool(VARS.get("include_terminated", False))


def main() -> None:
    ec2 = boto3.client("ec2")
    by_state: Counter[str] = Counter()
    by_type: Counter[tuple[str, str]] = Counter()
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                state = instance.get("State", {}).get("Name", "unknown")
                if state == "terminated" and not INCLUDE_TERMINATED:
                    continue
                by_state[state] += 1
                by_type[(instance.get("InstanceType", "unknown"), state)] += 1
    rows = [{"instance_type": t, "state": s, "count": n} for (t, s), n in sorted(by_type.items())]
    print(json.dumps({"total": sum(by_state.values()), "by_state": dict(sorted(by_state.items())), "by_type": rows}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
