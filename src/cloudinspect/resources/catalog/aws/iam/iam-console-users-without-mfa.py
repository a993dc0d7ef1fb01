"""Reference: IAM users with a console password (login profile) and no MFA device."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PATH_PREFIX = VARS.get("path_prefix", "/")


def has_login_profile(iam, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return False
        raise
    return True


def main() -> None:
    iam = boto3.client("iam")
    console_users = 0
    found = []
    for page in iam.get_paginator("list_users").paginate(PathPrefix=PATH_PREFIX):
        for user in page["Users"]:
            name = user["UserName"]
            if not has_login_profile(iam, name):
                continue
            console_users += 1
            mfa = [d for p in iam.get_paginator("list_mfa_devices").paginate(UserName=name) for d in p["MFADevices"]]
            if mfa:
                continue
            groups = [
                g["GroupName"]
                for p in iam.get_paginator("list_groups_for_user").paginate(UserName=name)
                for g in p["Groups"]
            ]
            keys = [
                k for p in iam.get_paginator("list_access_keys").paginate(UserName=name) for k in p["AccessKeyMetadata"]
            ]
            found.append(
                {
                    "user_name": name,
                    "groups": sorted(groups),
                    "active_access_keys": sum(1 for k in keys if k.get("Status") == "Active"),
                }
            )
    found.sort(key=lambda u: u["user_name"])
    print(json.dumps({"users": found, "console_user_count": console_users, "without_mfa_count": len(found)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
