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
