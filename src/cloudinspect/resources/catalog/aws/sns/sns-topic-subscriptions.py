"""Reference: SNS topics without subscriptions, subscriptions per protocol, and the busiest topics."""

import json
import os
import sys
from collections import Counter

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
PREFIX = VARS.get("name_prefix", "")


def main() -> None:
    sns = boto3.client("sns")
    topics = {
        t["TopicArn"]: t["TopicArn"].split(":")[-1]
        for page in sns.get_paginator("list_topics").paginate()
        for t in page["Topics"]
        if t["TopicArn"].split(":")[-1].startswith(PREFIX)
    }
    per_topic = Counter()
    per_protocol = Counter()
    for page in sns.get_paginator("list_subscriptions").paginate():
        for sub in page["Subscriptions"]:
            if sub["TopicArn"] not in topics:
                continue
            per_topic[sub["TopicArn"]] += 1
            per_protocol[sub["Protocol"]] += 1
    busiest = sorted(
        ({"name": topics[arn], "subscriptions": n} for arn, n in per_topic.items()),
        key=lambda t: (-t["subscriptions"], t["name"]),
    )[:5]
    print(
        json.dumps(
            {
                "topics_without_subscriptions": sorted(name for arn, name in topics.items() if not per_topic[arn]),
                "subscriptions_by_protocol": dict(sorted(per_protocol.items())),
                "topic_count": len(topics),
                "subscription_count": sum(per_protocol.values()),
                "busiest_topics": busiest,
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
