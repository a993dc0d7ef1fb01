"""Reference: customer-managed KMS keys with aliases, state, rotation status and findings."""

import json
import os
import sys
from collections import defaultdict

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
INCLUDE_COMPLIANT = bool(VARS.get("include_compliant", False))
FINDINGS = ("rotation-disabled", "disabled", "pending-deletion")


def main() -> None:
    kms = boto3.client("kms")
    aliases = defaultdict(list)
    for page in kms.get_paginator("list_aliases").paginate():
        for alias in page["Aliases"]:
            if alias.get("TargetKeyId"):
                aliases[alias["TargetKeyId"]].append(alias["AliasName"])
    keys = []
    customer = 0
    counts = dict.fromkeys(FINDINGS, 0)
    for page in kms.get_paginator("list_keys").paginate():
        for entry in page["Keys"]:
            meta = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER" or any(a.startswith("alias/aws/") for a in aliases[meta["KeyId"]]):
                continue
            customer += 1
            state = meta.get("KeyState")
            spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
            rotation = None
            if state == "Enabled" and spec == "SYMMETRIC_DEFAULT":
                rotation = bool(kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"])
            findings = []
            if rotation is False:
                findings.append("rotation-disabled")
            if state == "Disabled":
                findings.append("disabled")
            if state == "PendingDeletion":
                findings.append("pending-deletion")
            for finding in findings:
                counts[finding] += 1
            if findings or INCLUDE_COMPLIANT:
                keys.append(
                    {
                        "key_id": meta["KeyId"],
                        "aliases": sorted(aliases[meta["KeyId"]]),
                        "state": state,
                        "key_spec": spec,
                        "rotation_enabled": rotation,
                        "findings": findings,
                    }
                )
    keys.sort(key=lambda k: k["key_id"])
    print(json.dumps({"keys": keys, "customer_key_count": customer, "finding_counts": counts}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
