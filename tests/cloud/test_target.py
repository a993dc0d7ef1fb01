"""Targets: 'emulator:NAME', 'endpoint:URL', 'aws:PROFILE' parse into typed models; bad strings are input errors."""

from __future__ import annotations

import pytest

from cloudinspect.cloud import AwsTarget, EmulatorTarget, EndpointTarget, parse_target
from cloudinspect.errors import InputError


def test_parses_each_kind() -> None:
    assert parse_target("emulator:baseline") == EmulatorTarget(scenario="baseline")
    endpoint = parse_target("endpoint:http://127.0.0.1:5000/")
    assert isinstance(endpoint, EndpointTarget)
    assert endpoint.url == "http://127.0.0.1:5000"
    assert endpoint.env()["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert endpoint.env()["AWS_CONFIG_FILE"]  # never the user's files
    aws = parse_target("aws:readonly-audit")
    assert isinstance(aws, AwsTarget)
    assert aws.env()["AWS_PROFILE"] == "readonly-audit"
    assert "AWS_ENDPOINT_URL" not in aws.env()
    assert str(aws) == "aws:readonly-audit"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("baseline", "expected 'emulator:SCENARIO'"),
        ("emulator:", "expected 'emulator:SCENARIO'"),
        ("gcp:project", "unknown kind 'gcp'"),
        ("emulator:Base Line", "is not valid"),
        ("endpoint:localhost:5000", "http(s) URL"),
        ("aws:bad profile", "is not valid"),
    ],
)
def test_bad_strings_are_input_errors(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_target(text)
    assert fragment in str(exc.value)
    assert exc.value.exit_code == 2


def test_aws_options_parse_and_print_back() -> None:
    target = parse_target("aws:audit?role=arn:aws:iam::123456789012:role/ReadOnly&region=eu-west-1&scope=none")
    assert isinstance(target, AwsTarget)
    assert (target.role_arn, target.region, target.scope) == (
        "arn:aws:iam::123456789012:role/ReadOnly",
        "eu-west-1",
        "none",
    )
    assert parse_target(target.spec) == target
    assert parse_target("aws:audit").scope == "policy"


@pytest.mark.parametrize("text", ["aws:audit?scope=all", "aws:audit?scope=none&scope=none", "aws:audit?colour=red"])
def test_bad_aws_options_are_input_errors(text: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_target(text)
    assert "target" in str(exc.value) or exc.value.problems
