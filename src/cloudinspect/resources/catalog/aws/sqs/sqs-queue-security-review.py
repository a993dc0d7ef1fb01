"""Reference: per SQS queue, server-side encryption and dead-letter coverage, with findings."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    sqs = boto3.client("sqs")
    queues = {}
    for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000}):
        for url in page.get("QueueUrls", []):
            try:
                attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] in (
                    "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist",
                ):
                    continue
                raise
            queues[attrs["QueueArn"]] = attrs
    targets = set()
    for attrs in queues.values():
        if attrs.get("RedrivePolicy"):
            target = json.loads(attrs["RedrivePolicy"]).get("deadLetterTargetArn")
            if target:
                targets.add(target)
    report = []
    for arn, attrs in queues.items():
        name = arn.split(":")[-1]
        if not name.startswith(PREFIX):
            continue
        kms_key = attrs.get("KmsMasterKeyId") or None
        if kms_key:
            encryption = "SSE-KMS"
        elif attrs.get("SqsManagedSseEnabled", "false").lower() == "true":
            encryption = "SSE-SQS"
        else:
            encryption = "none"
        redrive = json.loads(attrs["RedrivePolicy"]) if attrs.get("RedrivePolicy") else {}
        has_dlq = bool(redrive.get("deadLetterTargetArn"))
        is_dlq = arn in targets
        findings = []
        if encryption == "none":
            findings.append("not-encrypted")
        if not has_dlq and not is_dlq:
            findings.append("no-dead-letter-queue")
        report.append(
            {
                "name": name,
                "encryption": encryption,
                "kms_key": kms_key,
                "has_dead_letter_queue": has_dlq,
                "is_dead_letter_queue": is_dlq,
                "findings": sorted(findings),
            }
        )
    report.sort(key=lambda q: q["name"])
    print(json.dumps({"queues": report, "queues_with_findings": sum(bool(q["findings"]) for q in report)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
