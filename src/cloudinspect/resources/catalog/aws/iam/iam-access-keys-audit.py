"""Reference: IAM access keys per user with status, age in days and staleness."""

import json
import os
import sys
from datetime import UTC, datetime

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MAX_AGE_DAYS = int(VARS.get("max_age_days", 90))


def main() -> None:
    iam = boto3.client("iam")
    now = datetime.now(UTC)
    users = []
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            name = user["UserName"]
            keys = []
            for key_page in iam.get_paginator("list_access_keys").paginate(UserName=name):
                for key in key_page["AccessKeyMetadata"]:
                    age = max(0, (now - key["CreateDate"]).days)
                    active = key.get("Status") == "Active"
                    keys.append(
                        {
                            "access_key_id": key["AccessKeyId"],
                            "status": key.get("Status"),
                            "age_days": age,
                            "stale": active and age > MAX_AGE_DAYS,
                        }
                    )
            if not keys:
                continue
            keys.sort(key=lambda k: k["access_key_id"])
            active_count = sum(1 for k in keys if k["status"] == "Active")
            users.append(
                {
                    "user_name": name,
                    "active_keys": active_count,
                    "inactive_keys": len(keys) - active_count,
                    "keys": keys,
                }
            )
    users.sort(key=lambda u: u["user_name"])
    summary = {
        "users_with_keys": len(users),
        "active_keys": sum(u["active_keys"] for u in users),
        "inactive_keys": sum(u["inactive_keys"] for u in users),
        "stale_keys": sum(1 for u in users for k in u["keys"] if k["stale"]),
        "users_with_two_active_keys": sum(1 for u in users if u["active_keys"] >= 2),
    }
    print(json.dumps({"users": users, "summary": summary}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
