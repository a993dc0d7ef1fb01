"""Reference: SNS sqs/lambda subscriptions (same account and region) whose queue or function is gone."""

import json
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def existing_queue_arns(sqs) -> set[str]:
    arns = set()
    for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000}):
        for url in page.get("QueueUrls", []):
            try:
                attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] in (
                    "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist",
                ):
                    continue
                raise
            arns.add(attrs["QueueArn"])
    return arns


def main() -> None:
    session = boto3.session.Session()
    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    sns = session.client("sns")
    subscriptions = [s for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]]
    queues = existing_queue_arns(session.client("sqs"))
    functions = {
        fn["FunctionName"]
        for page in session.client("lambda").get_paginator("list_functions").paginate()
        for fn in page["Functions"]
    }
    checked = 0
    missing = []
    for sub in subscriptions:
        protocol = sub["Protocol"]
        endpoint = sub.get("Endpoint", "")
        parts = endpoint.split(":")
        if protocol not in ("sqs", "lambda") or len(parts) < 6 or parts[3] != region or parts[4] != account:
            continue
        checked += 1
        # A lambda endpoint is arn:aws:lambda:region:account:function:name[:qualifier].
        function_gone = len(parts) < 7 or parts[6] not in functions
        if (endpoint not in queues) if protocol == "sqs" else function_gone:
            missing.append({"topic": sub["TopicArn"].split(":")[-1], "protocol": protocol, "endpoint": endpoint})
    missing.sort(key=lambda m: (m["topic"], m["protocol"], m["endpoint"]))
    print(json.dumps({"missing_targets": missing, "checked": checked, "subscriptions_total": len(subscriptions)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
