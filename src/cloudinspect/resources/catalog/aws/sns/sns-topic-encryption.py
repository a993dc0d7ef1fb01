"""Reference: SNS topics by server-side encryption kind (none / AWS managed / customer managed)."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    sns = boto3.client("sns")
    unencrypted = []
    customer = []
    counts = {"none": 0, "aws-managed": 0, "customer-managed": 0}
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            arn = topic["TopicArn"]
            name = arn.split(":")[-1]
            if not name.startswith(PREFIX):
                continue
            try:
                attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "NotFound":
                    continue
                raise
            key = attrs.get("KmsMasterKeyId") or ""
            if not key:
                counts["none"] += 1
                unencrypted.append(name)
            elif key == "alias/aws/sns" or key.endswith(":alias/aws/sns"):
                counts["aws-managed"] += 1
            else:
                counts["customer-managed"] += 1
                customer.append({"name": name, "kms_key": key})
    customer.sort(key=lambda t: t["name"])
    print(json.dumps({"unencrypted_topics": sorted(unencrypted), "counts": counts, "customer_managed": customer}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
