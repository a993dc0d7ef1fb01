"""Reference: ELBv2 target groups with no targets or with targets that are not healthy."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def instance_names(ec2, instance_ids: set[str]) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    if not instance_ids:
        return names
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-id", "Values": sorted(instance_ids)}]
    ):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = {t["Key"]: t.get("Value") for t in instance.get("Tags", [])}
                names[instance["InstanceId"]] = tags.get("Name")
    return names


def main() -> None:
    elbv2 = boto3.client("elbv2")
    lb_names = {}
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        for lb in page["LoadBalancers"]:
            lb_names[lb["LoadBalancerArn"]] = lb["LoadBalancerName"]
    checked = 0
    flagged = []
    instance_ids = set()
    for page in elbv2.get_paginator("describe_target_groups").paginate():
        for tg in page["TargetGroups"]:
            if not tg["TargetGroupName"].startswith(PREFIX):
                continue
            checked += 1
            health = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
            problems = []
            for desc in health:
                state = desc.get("TargetHealth", {}).get("State", "unknown")
                if state == "healthy":
                    continue
                target_id = desc["Target"]["Id"]
                if tg.get("TargetType") == "instance":
                    instance_ids.add(target_id)
                problems.append(
                    {
                        "id": target_id,
                        "port": desc["Target"].get("Port"),
                        "state": state,
                        "reason": desc.get("TargetHealth", {}).get("Reason"),
                        "instance_name": None,
                    }
                )
            if health and not problems:
                continue
            flagged.append(
                {
                    "name": tg["TargetGroupName"],
                    "target_type": tg.get("TargetType"),
                    "load_balancers": sorted(lb_names.get(arn, arn) for arn in tg.get("LoadBalancerArns", [])),
                    "registered": len(health),
                    "healthy": len(health) - len(problems),
                    "issue": "unhealthy-targets" if health else "no-targets",
                    "problem_targets": sorted(problems, key=lambda p: (p["id"], p["port"] or 0)),
                }
            )
    names = instance_names(boto3.client("ec2"), instance_ids)
    for tg in flagged:
        if tg["target_type"] == "instance":
            for target in tg["problem_targets"]:
                target["instance_name"] = names.get(target["id"])
    flagged.sort(key=lambda t: t["name"])
    print(json.dumps({"target_groups": flagged, "checked_count": checked, "issue_count": len(flagged)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
