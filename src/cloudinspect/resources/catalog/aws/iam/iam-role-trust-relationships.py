"""Reference: what each IAM role's trust policy lets in (services, external accounts, federation, anyone)."""

import json
import os
import re
import sys
from urllib.parse import unquote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PATH_PREFIX = VARS.get("path_prefix", "/")


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def document(raw) -> dict:
    if isinstance(raw, str):
        return json.loads(unquote(raw))
    return raw or {}


def account_of(principal: str) -> str | None:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    parts = principal.split(":")
    if principal.startswith("arn:") and len(parts) > 4 and parts[4]:
        return parts[4]
    return None


def analyse(policy: dict, own_account: str) -> dict:
    services, accounts, federated, anyone = set(), set(), set(), False
    for statement in as_list(policy.get("Statement")):
        if statement.get("Effect") != "Allow" or "Principal" not in statement:
            continue
        principal = statement["Principal"]
        if principal == "*":
            anyone = True
            continue
        if not isinstance(principal, dict):
            continue
        services |= set(as_list(principal.get("Service")))
        federated |= set(as_list(principal.get("Federated")))
        for aws in as_list(principal.get("AWS")):
            if aws == "*":
                anyone = True
                continue
            account = account_of(aws)
            if account and account != own_account:
                accounts.add(account)
    return {
        "trusted_services": sorted(services),
        "external_account_ids": sorted(accounts),
        "federated_providers": sorted(federated),
        "trusts_anyone": anyone,
    }


def main() -> None:
    own_account = boto3.client("sts").get_caller_identity()["Account"]
    iam = boto3.client("iam")
    roles = []
    for page in iam.get_paginator("list_roles").paginate(PathPrefix=PATH_PREFIX):
        for role in page["Roles"]:
            roles.append(
                {
                    "role_name": role["RoleName"],
                    **analyse(document(role.get("AssumeRolePolicyDocument")), own_account),
                }
            )
    roles.sort(key=lambda r: r["role_name"])
    print(
        json.dumps(
            {
                "roles": roles,
                "role_count": len(roles),
                "cross_account_role_count": sum(1 for r in roles if r["external_account_ids"]),
                "anyone_role_count": sum(1 for r in roles if r["trusts_anyone"]),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
