"""Reference: EC2 instances with an instance profile, and whether its role has full administrator access."""

import json
import os
import sys
from urllib.parse import unquote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
ADMIN_ONLY = bool(VARS.get("admin_only", False))


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def document(raw) -> dict:
    if isinstance(raw, str):
        return json.loads(unquote(raw))
    return raw or {}


def grants_admin(policy: dict) -> bool:
    return any(
        s.get("Effect") == "Allow" and "*" in as_list(s.get("Action")) and "*" in as_list(s.get("Resource"))
        for s in as_list(policy.get("Statement"))
    )


class RoleInspector:
    def __init__(self) -> None:
        self.iam = boto3.client("iam")
        self.profiles: dict[str, list[str]] = {}
        self.roles: dict[str, list[str]] = {}
        self.managed: dict[str, bool] = {}

    def profile_roles(self, profile: str) -> list[str]:
        if profile not in self.profiles:
            try:
                roles = self.iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"].get("Roles", [])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise
                roles = []
            self.profiles[profile] = sorted(r["RoleName"] for r in roles)
        return self.profiles[profile]

    def managed_is_admin(self, arn: str) -> bool:
        if arn not in self.managed:
            policy = self.iam.get_policy(PolicyArn=arn)["Policy"]
            version = self.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
            self.managed[arn] = grants_admin(document(version["PolicyVersion"]["Document"]))
        return self.managed[arn]

    def admin_sources(self, role: str) -> list[str]:
        if role not in self.roles:
            found = []
            for page in self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
                for policy in page["AttachedPolicies"]:
                    if self.managed_is_admin(policy["PolicyArn"]):
                        found.append(f"{role}:managed:{policy['PolicyName']}")
            for page in self.iam.get_paginator("list_role_policies").paginate(RoleName=role):
                for name in page["PolicyNames"]:
                    inline = self.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                    if grants_admin(document(inline)):
                        found.append(f"{role}:inline:{name}")
            self.roles[role] = found
        return self.roles[role]


def main() -> None:
    ec2 = boto3.client("ec2")
    inspector = RoleInspector()
    found = []
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                state = instance.get("State", {}).get("Name")
                profile_arn = (instance.get("IamInstanceProfile") or {}).get("Arn")
                if state == "terminated" or not profile_arn:
                    continue
                profile = profile_arn.split("/")[-1]
                roles = inspector.profile_roles(profile)
                sources = sorted(s for role in roles for s in inspector.admin_sources(role))
                if ADMIN_ONLY and not sources:
                    continue
                tags = {t["Key"]: t.get("Value") for t in instance.get("Tags", [])}
                found.append(
                    {
                        "instance_id": instance["InstanceId"],
                        "state": state,
                        "name": tags.get("Name"),
                        "instance_profile": profile,
                        "roles": roles,
                        "admin": bool(sources),
                        "admin_sources": sources,
                    }
                )
    found.sort(key=lambda i: i["instance_id"])
    admins = [i for i in found if i["admin"]]
    print(
        json.dumps(
            {
                "instances": found,
                "count": len(found),
                "admin_count": len(admins),
                "admin_running_count": sum(1 for i in admins if i["state"] == "running"),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
