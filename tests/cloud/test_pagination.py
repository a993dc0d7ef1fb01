"""The scale scenario really pages: the first page of each default list call carries a continuation token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudinspect.cloud import Emulator

pytestmark = pytest.mark.e2e

Factory = Callable[[str], Emulator]

# (service, operation, arguments, result key, token key in the first page)
CALLS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("iam", "list_users", {}, "Users", "Marker"),
    ("iam", "list_roles", {}, "Roles", "Marker"),
    ("lambda", "list_functions", {}, "Functions", "NextMarker"),
    ("logs", "describe_log_groups", {}, "logGroups", "nextToken"),
    ("sns", "list_topics", {}, "Topics", "NextToken"),
    ("dynamodb", "list_tables", {}, "TableNames", "LastEvaluatedTableName"),
    ("s3", "list_objects_v2", {"Bucket": "globex-data-lake"}, "Contents", "NextContinuationToken"),
    ("secretsmanager", "list_secrets", {}, "SecretList", "NextToken"),
    ("ssm", "describe_parameters", {}, "Parameters", "NextToken"),
    ("cloudwatch", "list_metrics", {}, "Metrics", "NextToken"),
    ("sqs", "list_queues", {"MaxResults": 100}, "QueueUrls", "NextToken"),
    (
        "logs",
        "filter_log_events",
        {"logGroupName": "/globex/gateway/access"},
        "events",
        "nextToken",
    ),
]


@pytest.mark.parametrize(("service", "operation", "args", "key", "token"), CALLS, ids=[f"{c[0]}.{c[1]}" for c in CALLS])
def test_first_page_is_truncated(
    emulator: Factory, service: str, operation: str, args: dict[str, Any], key: str, token: str
) -> None:
    client = emulator("scale").client(service)
    first = getattr(client, operation)(**args)
    assert first.get(token), f"{service}.{operation}: no {token} on the first page"
    everything = [item for page in client.get_paginator(operation).paginate(**args) for item in page[key]]
    assert len(everything) > len(first[key])


def test_get_log_events_pages_a_long_stream(emulator: Factory) -> None:
    logs = emulator("scale").client("logs")
    stream = logs.describe_log_streams(logGroupName="/globex/gateway/access")["logStreams"][0]["logStreamName"]
    first = logs.get_log_events(logGroupName="/globex/gateway/access", logStreamName=stream, startFromHead=True)
    assert len(first["events"]) == 10_000
    second = logs.get_log_events(
        logGroupName="/globex/gateway/access",
        logStreamName=stream,
        startFromHead=True,
        nextToken=first["nextForwardToken"],
    )
    assert len(second["events"]) == 2_500


def test_unpaged_by_moto_as_documented(emulator: Factory) -> None:
    """moto answers these in one page although AWS pages them; the scale description says so."""
    emu = emulator("scale")
    alarms = emu.client("cloudwatch").describe_alarms()
    assert len(alarms["MetricAlarms"]) == 120
    assert not alarms.get("NextToken")
    queues = emu.client("sqs").list_queues()  # AWS too: up to 1,000 without MaxResults
    assert len(queues["QueueUrls"]) == 110
    assert not queues.get("NextToken")
    assert emu.scenario is not None
    assert "DescribeAlarms" in emu.scenario.description
