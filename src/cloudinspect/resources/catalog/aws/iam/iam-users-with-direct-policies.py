"""Reference: IAM users with managed policies attached directly or inline policies."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PATH_PREFIX = VARS.get("path_prefix", "/")


def main() -> None:
    iam = boto3.client("iam")
    found = []
    checked = 0
    for page in iam.get_paginator("list_users").paginate(PathPrefix=PATH_PREFIX):
        for user in page["Users"]:
            name = user["UserName"]
            checked += 1
            attached = [
                p["PolicyName"]
                for pp in iam.get_paginator("list_attached_user_policies").paginate(UserName=name)
                for p in pp["AttachedPolicies"]
            ]
            inline = [
                n for pp in iam.get_paginator("list_user_policies").paginate(UserName=name) for n in pp["PolicyNames"]
            ]
            if attached or inline:
                found.append(
                    {
                        "user_name": name,
                        "attached_policies": sorted(attached),
                        "inline_policies": sorted(inline),
                    }
                )
    found.sort(key=lambda u: u["user_name"])
    print(json.dumps({"users": found, "count": len(found), "checked_count": checked}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
