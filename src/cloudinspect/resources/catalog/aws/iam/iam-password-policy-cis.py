"""Reference: the IAM account password policy compared with CIS requirements."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MIN_LENGTH = int(VARS.get("min_length", 14))
REUSE = int(VARS.get("reuse_prevention", 24))
MAX_AGE = int(VARS.get("max_age_days", 90))
CHECKS = (
    "minimum_length",
    "reuse_prevention",
    "require_uppercase",
    "require_lowercase",
    "require_numbers",
    "require_symbols",
    "max_age",
)


def password_policy(iam) -> dict | None:
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise


def evaluate(policy: dict) -> list[dict]:
    length = policy.get("MinimumPasswordLength", 0)
    reuse = policy.get("PasswordReusePrevention")
    expires = bool(policy.get("ExpirePasswords")) and bool(policy.get("MaxPasswordAge"))
    max_age = policy.get("MaxPasswordAge") if expires else None
    flags = {
        "require_uppercase": bool(policy.get("RequireUppercaseCharacters", False)),
        "require_lowercase": bool(policy.get("RequireLowercaseCharacters", False)),
        "require_numbers": bool(policy.get("RequireNumbers", False)),
        "require_symbols": bool(policy.get("RequireSymbols", False)),
    }
    checks = [
        {"check": "minimum_length", "actual": length, "compliant": length >= MIN_LENGTH},
        {"check": "reuse_prevention", "actual": reuse, "compliant": reuse is not None and reuse >= REUSE},
    ]
    checks += [{"check": name, "actual": value, "compliant": value} for name, value in flags.items()]
    checks.append({"check": "max_age", "actual": max_age, "compliant": max_age is not None and max_age <= MAX_AGE})
    return checks


def main() -> None:
    policy = password_policy(boto3.client("iam"))
    if policy is None:
        checks = [{"check": name, "actual": None, "compliant": False} for name in CHECKS]
    else:
        checks = evaluate(policy)
    passed = sum(1 for c in checks if c["compliant"])
    print(
        json.dumps(
            {
                "policy_exists": policy is not None,
                "checks": checks,
                "compliant_count": passed,
                "compliant": passed == len(checks),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
