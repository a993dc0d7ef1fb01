"""botocore documentation for a model that called an API wrong, from the real botocore models (no mocks)."""

from __future__ import annotations

import pytest

from cloudinspect.loop.apidocs import operation_doc, service_doc_for_unknown


def test_hallucinated_ec2_operation_suggests_the_real_one_with_its_paginator() -> None:
    text = service_doc_for_unknown("ec2", "describe_instance")
    assert "no operation 'describe_instance'" in text
    closest = text.split("Closest ec2 operations:\n", 1)[1].splitlines()
    assert closest[0].strip() == 'describe_instances (paginated: get_paginator("describe_instances"))'
    # The best candidate's documentation follows: its paginator, result key and response keys.
    assert "Documentation of ec2.describe_instances:" in text
    assert 'client.get_paginator("describe_instances").paginate(...)' in text
    assert "results under Reservations" in text
    assert "Filters (list of Filter{Name, Values})" in text


def test_hallucinated_s3_version_points_to_list_objects_v2_and_never_to_a_write() -> None:
    text = service_doc_for_unknown("s3", "list_objects_v3")
    closest = text.split("Closest s3 operations:\n", 1)[1].split("Documentation", 1)[0]
    assert closest.splitlines()[0].strip().startswith("list_objects_v2 (paginated")
    assert "delete" not in closest
    assert "put_" not in closest
    assert "Documentation of s3.list_objects_v2:" in text
    assert "Required parameters:\n  Bucket (string)" in text


def test_pascal_case_names_are_understood() -> None:
    assert operation_doc("logs", "FilterLogEvents") == operation_doc("logs", "filter_log_events")
    assert "list_objects_v2" in service_doc_for_unknown("s3", "ListObjectsV3")


def test_parameter_documentation_of_filter_log_events() -> None:
    text = operation_doc("logs", "filter_log_events")
    assert text is not None
    assert text.startswith("logs.filter_log_events (FilterLogEvents, keyword arguments only): ")
    assert "Required parameters: none" in text
    for name in ("logGroupName (string)", "logStreamNames (list of string)", "startTime (long)", "limit (integer)"):
        assert f"  {name}" in text
    # Units that the types alone do not say stay even when space is short.
    assert "milliseconds" in text
    assert 'get_paginator("filter_log_events")' in text
    assert "results under events, searchedLogStreams" in text
    assert "it manages nextToken itself" in text
    assert "Returns a dict with keys: events (list of FilteredLogEvent{" in text


def test_required_parameters_enums_and_non_pageable_operations() -> None:
    text = operation_doc("cloudwatch", "get_metric_statistics")
    assert text is not None
    required = text.split("Required parameters:\n", 1)[1].split("Optional parameters:", 1)[0]
    assert {line.split(" (")[0].strip() for line in required.splitlines()} == {
        "Namespace",
        "MetricName",
        "StartTime",
        "EndTime",
        "Period",
    }
    assert "Statistics (list of string, one of: SampleCount, Average, Sum, Minimum, Maximum)" in text
    assert "StartTime (timestamp (datetime))" in text
    assert "Pagination: none" in text


@pytest.mark.parametrize("max_chars", [250, 600, 1000, 1500])
def test_documentation_is_capped(max_chars: int) -> None:
    for service, operation in (
        ("ec2", "describe_instances"),
        ("s3", "list_objects_v2"),
        ("rds", "DescribeDBInstances"),
    ):
        text = operation_doc(service, operation, max_chars=max_chars)
        assert text is not None
        assert len(text) <= max_chars
        assert text.startswith(f"{service}.")
    assert len(service_doc_for_unknown("ec2", "describe_instance", max_chars=max_chars)) <= max_chars


def test_short_caps_drop_parameter_docs_before_parameters() -> None:
    full = operation_doc("ec2", "describe_instances")
    assert full is not None
    short = operation_doc("ec2", "describe_instances", max_chars=len(full) - 1)
    assert short is not None
    assert "The instance IDs." in full
    assert "The instance IDs." not in short
    assert "  InstanceIds (list of string)\n" in short
    assert "  Filters (list of Filter{Name, Values})\n" in short


def test_unknown_operation_or_service_has_no_operation_doc() -> None:
    assert operation_doc("ec2", "describe_instance") is None
    assert operation_doc("cloudwatchlogs", "filter_log_events") is None


def test_unknown_service_suggests_the_closest_names_and_the_operation_there() -> None:
    text = service_doc_for_unknown("cloudwatchlogs", "filter_log_events")
    assert "boto3 has no service named 'cloudwatchlogs'." in text
    assert "Closest service names: logs" in text
    assert "logs.filter_log_events (FilterLogEvents" in text
    assert "Closest service names: logs" in service_doc_for_unknown("cloudwatch-logs", "")


def test_operation_of_another_service_is_pointed_there() -> None:
    text = service_doc_for_unknown("ec2", "list_log_groups")
    assert "list_log_groups is an operation of logs: use boto3.client('logs')" in text
    assert "Documentation of logs.list_log_groups:" in text


def test_existing_operation_gets_its_documentation() -> None:
    text = service_doc_for_unknown("ec2", "describe_vpcs")
    assert text.startswith("ec2.describe_vpcs exists")
    assert "results under Vpcs" in text


def test_lookups_are_memoised() -> None:
    first = operation_doc("ec2", "describe_security_groups")
    assert operation_doc("ec2", "describe_security_groups") is first
    assert service_doc_for_unknown("ec2", "describe_security_group") is service_doc_for_unknown(
        "ec2", "describe_security_group"
    )
