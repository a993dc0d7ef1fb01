"""Reference: security groups open to the internet on sensitive ports, with the running instances in them."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PORTS = sorted({int(p) for p in VARS.get("ports", ["22", "3389", "3306", "5432", "6379", "27017"])})
PROTOCOLS = {"tcp", "udp", "6", "17"}


def exposed_ports(permission: dict) -> set[int]:
    open_v4 = any(r.get("CidrIp") == "0.0.0.0/0" for r in permission.get("IpRanges", []))
    open_v6 = any(r.get("CidrIpv6") == "::/0" for r in permission.get("Ipv6Ranges", []))
    if not (open_v4 or open_v6):
        return set()
    protocol = str(permission.get("IpProtocol", ""))
    if protocol == "-1":
        return set(PORTS)
    if protocol not in PROTOCOLS:
        return set()
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low is None or high is None:
        return set()
    return {p for p in PORTS if low <= p <= high}


def main() -> None:
    ec2 = boto3.client("ec2")
    flagged = {}
    for page in ec2.get_paginator("describe_security_groups").paginate():
        for group in page["SecurityGroups"]:
            ports = set()
            for permission in group.get("IpPermissions", []):
                ports |= exposed_ports(permission)
            if ports:
                flagged[group["GroupId"]] = {
                    "group_id": group["GroupId"],
                    "group_name": group.get("GroupName", ""),
                    "vpc_id": group.get("VpcId") or None,
                    "exposed_ports": sorted(ports),
                    "running_instance_ids": set(),
                }
    filters = [{"Name": "instance-state-name", "Values": ["running"]}]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance.get("State", {}).get("Name") != "running":
                    continue
                group_ids = {g["GroupId"] for g in instance.get("SecurityGroups", [])}
                for eni in instance.get("NetworkInterfaces", []):
                    group_ids |= {g["GroupId"] for g in eni.get("Groups", [])}
                for group_id in group_ids & flagged.keys():
                    flagged[group_id]["running_instance_ids"].add(instance["InstanceId"])
    groups = [flagged[g] for g in sorted(flagged)]
    exposed = set()
    for group in groups:
        exposed |= group["running_instance_ids"]
        group["running_instance_ids"] = sorted(group["running_instance_ids"])
    print(json.dumps({"groups": groups, "count": len(groups), "exposed_running_instance_count": len(exposed)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
