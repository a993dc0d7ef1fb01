"""Reference: ECS services whose running task count is below the desired count."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MIN_DEFICIT = int(VARS.get("min_deficit", 1))


def target_group_names(elbv2, arns: set[str]) -> dict[str, str]:
    names = {}
    arns_list = sorted(arns)
    for start in range(0, len(arns_list), 20):
        batch = arns_list[start : start + 20]
        for tg in elbv2.describe_target_groups(TargetGroupArns=batch)["TargetGroups"]:
            names[tg["TargetGroupArn"]] = tg["TargetGroupName"]
    return names


def main() -> None:
    ecs = boto3.client("ecs")
    found = []
    checked = 0
    tg_arns = set()
    for page in ecs.get_paginator("list_clusters").paginate():
        for cluster_arn in page["clusterArns"]:
            service_arns = [
                arn
                for p in ecs.get_paginator("list_services").paginate(cluster=cluster_arn)
                for arn in p["serviceArns"]
            ]
            for start in range(0, len(service_arns), 10):
                batch = service_arns[start : start + 10]
                for svc in ecs.describe_services(cluster=cluster_arn, services=batch)["services"]:
                    checked += 1
                    deficit = svc.get("desiredCount", 0) - svc.get("runningCount", 0)
                    if deficit < MIN_DEFICIT:
                        continue
                    arns = {lb["targetGroupArn"] for lb in svc.get("loadBalancers", []) if lb.get("targetGroupArn")}
                    tg_arns |= arns
                    found.append(
                        {
                            "cluster": cluster_arn.split("/")[-1],
                            "service": svc["serviceName"],
                            "status": svc.get("status", ""),
                            "launch_type": svc.get("launchType"),
                            "task_definition": svc.get("taskDefinition", "").split("/")[-1],
                            "desired": svc.get("desiredCount", 0),
                            "running": svc.get("runningCount", 0),
                            "pending": svc.get("pendingCount", 0),
                            "deficit": deficit,
                            "target_groups": sorted(arns),
                        }
                    )
    names = target_group_names(boto3.client("elbv2"), tg_arns) if tg_arns else {}
    for svc in found:
        svc["target_groups"] = sorted(names.get(arn, arn.split("/")[-2]) for arn in svc["target_groups"])
    found.sort(key=lambda s: (s["cluster"], s["service"]))
    print(
        json.dumps(
            {
                "services": found,
                "services_checked": checked,
                "total_deficit": sum(s["deficit"] for s in found),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
