"""Reference: IAM users, groups and roles with full administrator access, and where it comes from."""

import json
import os
import sys
from urllib.parse import unquote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
INCLUDE_ROLES = bool(VARS.get("include_roles", True))


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


class Inspector:
    def __init__(self) -> None:
        self.iam = boto3.client("iam")
        self.managed: dict[str, bool] = {}

    def items(self, operation: str, key: str, **kwargs) -> list:
        return [item for page in self.iam.get_paginator(operation).paginate(**kwargs) for item in page[key]]

    def managed_is_admin(self, arn: str) -> bool:
        if arn not in self.managed:
            policy = self.iam.get_policy(PolicyArn=arn)["Policy"]
            version = self.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
            self.managed[arn] = grants_admin(document(version["PolicyVersion"]["Document"]))
        return self.managed[arn]

    def sources(self, kind: str, name: str) -> list[str]:
        """Admin sources from the principal's own attached and inline policies."""
        title = kind.capitalize()
        arg = {f"{title}Name": name}
        found = []
        for policy in self.items(f"list_attached_{kind}_policies", "AttachedPolicies", **arg):
            if self.managed_is_admin(policy["PolicyArn"]):
                found.append(f"managed:{policy['PolicyName']}")
        for policy_name in self.items(f"list_{kind}_policies", "PolicyNames", **arg):
            inline = getattr(self.iam, f"get_{kind}_policy")(**arg, PolicyName=policy_name)
            if grants_admin(document(inline["PolicyDocument"])):
                found.append(f"inline:{policy_name}")
        return found


def main() -> None:
    inspector = Inspector()
    principals = []
    admin_groups = set()
    for group in inspector.items("list_groups", "Groups"):
        sources = inspector.sources("group", group["GroupName"])
        if sources:
            admin_groups.add(group["GroupName"])
            principals.append({"type": "group", "name": group["GroupName"], "sources": sorted(sources)})
    for user in inspector.items("list_users", "Users"):
        name = user["UserName"]
        sources = inspector.sources("user", name)
        for group in inspector.items("list_groups_for_user", "Groups", UserName=name):
            if group["GroupName"] in admin_groups:
                sources.append(f"group:{group['GroupName']}")
        if sources:
            principals.append({"type": "user", "name": name, "sources": sorted(set(sources))})
    if INCLUDE_ROLES:
        for role in inspector.items("list_roles", "Roles"):
            sources = inspector.sources("role", role["RoleName"])
            if sources:
                principals.append({"type": "role", "name": role["RoleName"], "sources": sorted(sources)})
    principals.sort(key=lambda p: (p["type"], p["name"]))
    counts = {kind: sum(1 for p in principals if p["type"] == kind) for kind in ("user", "group", "role")}
    print(json.dumps({"principals": principals, "counts": counts}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
