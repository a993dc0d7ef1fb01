"""Reference: S3 buckets public through a bucket policy (Principal "*") or ACL grants to global groups."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")
GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_public_principal(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def public_policy_actions(s3, bucket: str) -> set[str]:
    try:
        document = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucketPolicy":
            return set()
        raise
    actions = set()
    for statement in as_list(document.get("Statement")):
        if statement.get("Effect") == "Allow" and is_public_principal(statement.get("Principal")):
            actions |= set(as_list(statement.get("Action")))
    return actions


def public_acl_grants(s3, bucket: str) -> set[str]:
    grants = set()
    for grant in s3.get_bucket_acl(Bucket=bucket).get("Grants", []):
        group = GROUPS.get(grant.get("Grantee", {}).get("URI", ""))
        if group:
            grants.add(f"{group}:{grant['Permission']}")
    return grants


def public_access_block(s3, bucket: str) -> dict:
    try:
        return s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
            return {}
        raise


def main() -> None:
    s3 = boto3.client("s3")
    names = set()
    for page in s3.get_paginator("list_buckets").paginate():
        names |= {b["Name"] for b in page.get("Buckets", []) if b["Name"].startswith(PREFIX)}
    found = []
    for name in sorted(names):
        actions = public_policy_actions(s3, name)
        grants = public_acl_grants(s3, name)
        if not actions and not grants:
            continue
        pab = public_access_block(s3, name)
        policy_neutralised = pab.get("RestrictPublicBuckets") is True
        acl_neutralised = pab.get("IgnorePublicAcls") is True
        found.append(
            {
                "bucket": name,
                "public_policy_actions": sorted(actions),
                "public_acl_grants": sorted(grants),
                "policy_neutralised": policy_neutralised,
                "acl_neutralised": acl_neutralised,
                "effectively_public": bool((actions and not policy_neutralised) or (grants and not acl_neutralised)),
            }
        )
    print(json.dumps({"buckets": found, "count": len(found)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
