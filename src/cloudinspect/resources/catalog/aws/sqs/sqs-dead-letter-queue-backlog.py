"""Reference: SQS dead-letter queues with a backlog, their source queues and the lowest maxReceiveCount."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MIN_MESSAGES = int(VARS.get("min_messages", 1))


def queue_attributes(sqs) -> dict[str, dict]:
    """Attributes of every queue, by queue ARN (queues deleted meanwhile are skipped)."""
    by_arn = {}
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
            by_arn[attrs["QueueArn"]] = attrs
    return by_arn


def main() -> None:
    sqs = boto3.client("sqs")
    queues = queue_attributes(sqs)
    sources: dict[str, list[tuple[str, int]]] = {}
    for arn, attrs in queues.items():
        policy = attrs.get("RedrivePolicy")
        if not policy:
            continue
        redrive = json.loads(policy)
        target = redrive.get("deadLetterTargetArn")
        if target:
            sources.setdefault(target, []).append((arn.split(":")[-1], int(redrive.get("maxReceiveCount", 0))))
    reported = []
    for dlq_arn, feeders in sources.items():
        attrs = queues.get(dlq_arn)
        if attrs is None:
            continue
        messages = int(attrs.get("ApproximateNumberOfMessages", 0))
        if messages < MIN_MESSAGES:
            continue
        reported.append(
            {
                "name": dlq_arn.split(":")[-1],
                "messages": messages,
                "source_queues": sorted(name for name, _ in feeders),
                "lowest_max_receive_count": min(count for _, count in feeders),
            }
        )
    reported.sort(key=lambda q: (-q["messages"], q["name"]))
    print(
        json.dumps(
            {
                "dead_letter_queues": reported,
                "dead_letter_queue_count": sum(1 for arn in sources if arn in queues),
                "total_messages": sum(q["messages"] for q in reported),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
