"""SQS (queues, dead-letter redrive, encryption, waiting messages) and SNS (topics, subscriptions)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cloudinspect.cloud._seeders._util import chunks, dumps, tag_list
from cloudinspect.cloud.scenario import Queue, Topic, expand_all
from cloudinspect.cloud.seed import SeedContext, seeder
from cloudinspect.cloud.series import stable_rng


@seeder("sqs", after=("kms",))
def seed_sqs(ctx: SeedContext) -> None:
    """Queues first, then redrive policies (they need the DLQ's ARN), then messages (send_message_batch)."""
    sqs = ctx.client("sqs")
    queues = expand_all(ctx.scenario.sqs.queues)

    def create(queue: Queue) -> None:
        attrs: dict[str, str] = {
            "VisibilityTimeout": str(queue.visibility_timeout),
            "MessageRetentionPeriod": str(queue.retention_seconds),
            "DelaySeconds": str(queue.delay_seconds),
        }
        if queue.fifo:
            attrs |= {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        if queue.encryption == "sqs":
            attrs["SqsManagedSseEnabled"] = "true"
        elif queue.encryption == "kms":
            key = queue.kms_key or "aws/sqs"
            attrs["KmsMasterKeyId"] = f"alias/{key}" if key.startswith("aws/") else ctx.kms_arn(key) or ""
        else:
            attrs["SqsManagedSseEnabled"] = "false"
        url = sqs.create_queue(QueueName=queue.name, Attributes=attrs, tags=queue.tags)["QueueUrl"]
        ctx.put_id("queue_url", queue.name, url)
        ctx.put_id("queue_arn", queue.name, ctx.arn("sqs", queue.name))

    ctx.map(create, queues)

    def redrive(queue: Queue) -> None:
        if queue.dead_letter_queue:
            policy = {
                "deadLetterTargetArn": ctx.id("queue_arn", queue.dead_letter_queue),
                "maxReceiveCount": str(queue.max_receive_count),
            }
            sqs.set_queue_attributes(
                QueueUrl=ctx.id("queue_url", queue.name), Attributes={"RedrivePolicy": dumps(policy)}
            )

    ctx.map(redrive, queues)

    def send(batch: tuple[Queue, Sequence[int]]) -> None:
        queue, numbers = batch
        entries: list[dict[str, Any]] = []
        for k in numbers:
            rng = stable_rng(ctx.scenario.seed, "sqs", queue.name, k)
            body = {
                "id": f"{queue.name}-{k:06d}",
                "attempt": rng.randrange(1, 6),
                "amount": round(rng.uniform(1, 900), 2),
            }
            entry: dict[str, Any] = {"Id": str(k), "MessageBody": json.dumps(body)}
            if queue.fifo:
                entry["MessageGroupId"] = f"group-{k % 4}"
            entries.append(entry)
        sqs.send_message_batch(QueueUrl=ctx.id("queue_url", queue.name), Entries=entries)

    ctx.map(send, [(q, batch) for q in queues for batch in chunks(range(q.messages), 10)])


def _endpoint(ctx: SeedContext, protocol: str, endpoint: str) -> str:
    if endpoint.startswith("arn:"):
        return endpoint
    if protocol == "sqs":
        return ctx.id("queue_arn", endpoint)
    if protocol == "lambda":
        return ctx.id("function_arn", endpoint)
    return endpoint


@seeder("sns", after=("sqs", "lambda", "kms"))
def seed_sns(ctx: SeedContext) -> None:
    """Topics (encrypted or not, tags) and their subscriptions of several protocols."""
    sns = ctx.client("sns")

    def create(topic: Topic) -> None:
        attrs: dict[str, str] = {}
        if topic.display_name:
            attrs["DisplayName"] = topic.display_name
        if topic.kms_key:
            attrs["KmsMasterKeyId"] = (
                f"alias/{topic.kms_key}" if topic.kms_key.startswith("aws/") else ctx.kms_arn(topic.kms_key) or ""
            )
        args: dict[str, Any] = {"Name": topic.name, "Attributes": attrs}
        if topic.tags:
            args["Tags"] = tag_list(topic.tags)
        arn = sns.create_topic(**args)["TopicArn"]
        ctx.put_id("topic_arn", topic.name, arn)
        for sub in topic.subscriptions:
            sns.subscribe(TopicArn=arn, Protocol=sub.protocol, Endpoint=_endpoint(ctx, sub.protocol, sub.endpoint))

    ctx.map(create, expand_all(ctx.scenario.sns.topics))
