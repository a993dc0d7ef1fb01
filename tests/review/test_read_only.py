"""The read_only check: IAM access levels, not method names, decide; secret and paid reads are flagged apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore import xform_name

from cloudinspect.config import get_settings
from cloudinspect.review.checks.read_only import ReadOnlyCheck
from cloudinspect.review.pipeline import review_code
from cloudinspect.review.types import ApiCall, Finding, ReviewContext, Severity

from .expectations import corpus_files, expectations


@pytest.fixture(autouse=True)
def _no_refreshed_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CLOUDINSPECT_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def call(
    service: str,
    operation: str,
    *,
    valid: bool = True,
    params: list[str] | None = None,
    values: dict[str, object] | None = None,
) -> ApiCall:
    return ApiCall(
        service=service,
        operation=operation,
        method=xform_name(operation),
        line=7,
        col=5,
        valid=valid,
        params=params or [],
        values=values or {},
    )


def judge(*calls: ApiCall) -> tuple[list[Finding], list[ApiCall]]:
    ctx = ReviewContext("pass\n")
    ctx.__dict__["api_calls"] = list(calls)
    findings = ReadOnlyCheck().run(ctx)
    return findings, ctx.api_calls


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("ec2", "TerminateInstances"),
        ("ec2", "RunInstances"),  # no telltale prefix
        ("ec2", "CreateTags"),  # Tagging
        ("iam", "AttachRolePolicy"),  # Permissions management
        ("s3", "CopyObject"),
        ("s3", "PutBucketPolicy"),
        ("lambda", "Invoke"),
        ("sqs", "SendMessage"),
        ("sqs", "ReceiveMessage"),  # Read in IAM, overridden: it hides messages from consumers
        ("kms", "Decrypt"),  # Write in IAM
        ("athena", "StartQueryExecution"),  # Write in IAM: results go to S3
        ("dynamodb", "ExecuteStatement"),  # PartiQL may write
    ],
)
def test_non_reads_are_errors(service: str, operation: str) -> None:
    findings, judged = judge(call(service, operation))
    assert [(f.rule, f.severity) for f in findings] == [("read_only.mutating-call", Severity.error)]
    assert (findings[0].line, findings[0].col) == (7, 5)
    assert judged[0].read_only is False


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("ec2", "DescribeInstances"),
        ("s3", "ListObjectsV2"),
        ("s3", "HeadObject"),
        ("iam", "GenerateCredentialReport"),  # "Generate" sounds like a write; IAM says Read
        ("sqs", "GetQueueUrl"),
        ("sts", "GetCallerIdentity"),  # needs no permission at all
        ("apigateway", "GetRestApis"),
        ("dynamodb", "Query"),
        ("dynamodb", "Scan"),
    ],
)
def test_reads_pass(service: str, operation: str) -> None:
    findings, judged = judge(call(service, operation))
    assert findings == []
    assert judged[0].read_only is True


def test_invalid_calls_are_left_to_the_api_check() -> None:
    findings, judged = judge(call("ec2", "TerminateEverything", valid=False))
    assert findings == []
    assert judged[0].read_only is None


def test_judged_calls_replace_the_context_calls() -> None:
    original = [call("ec2", "DescribeInstances"), call("ec2", "StopInstances")]
    _, judged = judge(*original)
    assert [c.read_only for c in judged] == [True, False]
    assert [c.read_only for c in original] == [None, None]  # frozen originals are untouched


def test_message_names_the_action_and_its_level() -> None:
    findings, _ = judge(call("iam", "AttachRolePolicy"))
    assert "iam:AttachRolePolicy (Permissions management / Write)" in findings[0].message
    assert "`attach_role_policy`" in findings[0].message
    findings, _ = judge(call("sqs", "ReceiveMessage"))
    assert "visibility timeout" in findings[0].message


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("secretsmanager", "GetSecretValue", []),
        ("secretsmanager", "BatchGetSecretValue", []),
        ("ssm", "GetParameter", ["Name", "WithDecryption"]),
        ("ssm", "GetParametersByPath", ["Path", "WithDecryption"]),
        ("s3", "GetObject", ["Bucket", "Key"]),
        ("lambda", "GetFunction", ["FunctionName"]),
        ("ecr", "GetAuthorizationToken", []),
    ],
)
def test_secret_reads_are_warnings(service: str, operation: str, params: list[str]) -> None:
    findings, judged = judge(call(service, operation, params=params))
    assert [(f.rule, f.severity) for f in findings] == [("read_only.secret-read", Severity.warning)]
    assert judged[0].read_only is True


def test_ssm_parameter_without_decryption_is_no_secret_read() -> None:
    findings, _ = judge(call("ssm", "GetParameter", params=["Name"]))
    assert findings == []


@pytest.mark.parametrize("operation", ["GetParameter", "GetParameters", "GetParametersByPath"])
@pytest.mark.parametrize(
    ("values", "secret"),
    [
        ({"WithDecryption": True}, True),
        ({"WithDecryption": False}, False),
        ({"WithDecryption": None}, False),
        ({}, True),  # passed, but not a literal: it may decrypt
    ],
)
def test_ssm_decryption_is_judged_by_the_literal_value(operation: str, values: dict[str, object], secret: bool) -> None:
    findings, _ = judge(call("ssm", operation, params=["Name", "WithDecryption"], values=values))
    assert [f.rule for f in findings] == (["read_only.secret-read"] if secret else [])
    if secret and not values:
        assert "may return decrypted" in findings[0].message
        assert "not a literal" in findings[0].message


@pytest.mark.parametrize(
    ("code", "secret"),
    [
        ('ssm.get_parameter(Name="/db/password", WithDecryption=True)', True),
        ('ssm.get_parameter(Name="/db/password", WithDecryption=False)', False),
        ('ssm.get_parameter(Name="/db/password")', False),
        ('ssm.get_parameters(Names=["/a", "/b"], WithDecryption=DECRYPT)', False),
        ('ssm.get_parameters(Names=["/a", "/b"], WithDecryption=os.environ.get("D") == "1")', True),
        ('ssm.get_parameters_by_path(Path="/app", WithDecryption=False)', False),
        ('ssm.get_paginator("get_parameters_by_path").paginate(Path="/app", WithDecryption=True)', True),
        ('ssm.get_paginator("get_parameters_by_path").paginate(Path="/app", WithDecryption=False)', False),
    ],
)
def test_ssm_decryption_in_reviewed_code(code: str, secret: bool) -> None:
    source = f'import os\nimport boto3\nDECRYPT = False\nssm = boto3.client("ssm")\nprint({code})\n'
    review = review_code(source)
    rules = [f.rule for f in review.findings if f.check == "read_only"]
    assert rules == (["read_only.secret-read"] if secret else []), review.findings
    assert review.ok


@pytest.mark.parametrize(
    ("service", "operation", "severity"),
    [
        ("cloudwatch", "GetMetricData", Severity.info),
        ("logs", "StartQuery", Severity.warning),
        ("ce", "GetCostAndUsage", Severity.warning),
        ("ce", "GetCostForecast", Severity.warning),
    ],
)
def test_paid_reads(service: str, operation: str, severity: Severity) -> None:
    findings, _ = judge(call(service, operation))
    assert [(f.rule, f.severity) for f in findings] == [("read_only.paid-read", severity)]


def test_free_metric_reads_are_not_paid_reads() -> None:
    findings, _ = judge(call("cloudwatch", "GetMetricStatistics"), call("logs", "FilterLogEvents"))
    assert findings == []


def test_a_mutating_paid_call_is_reported_once_as_mutating() -> None:
    findings, _ = judge(call("athena", "StartQueryExecution"))
    assert [f.rule for f in findings] == ["read_only.mutating-call"]


def test_unknown_operations_are_judged_by_name_and_reported() -> None:
    findings, judged = judge(call("ec2", "DescribeFlyingSaucers"), call("ec2", "LaunchFlyingSaucers"))
    assert [(f.rule, f.severity) for f in findings] == [
        ("read_only.unknown-access", Severity.info),
        ("read_only.unknown-access", Severity.info),
        ("read_only.mutating-call", Severity.error),
    ]
    assert [c.read_only for c in judged] == [True, False]


# --- real code, through the whole review --------------------------------------------------------------------


def test_review_reports_judged_calls() -> None:
    review = review_code(
        "import boto3\n\n"
        "ec2 = boto3.resource('ec2')\n"
        "for instance in ec2.instances.all():\n"
        "    instance.stop()\n"
        "print(boto3.client('sts').get_caller_identity()['Account'])\n"
    )
    assert not review.ok
    verdicts = {(c.operation, c.kind): c.read_only for c in review.api_calls}
    assert verdicts[("StopInstances", "resource")] is False
    assert verdicts[("GetCallerIdentity", "client")] is True
    assert [f.line for f in review.findings if f.rule == "read_only.mutating-call"] == [5]


@pytest.mark.parametrize("path", corpus_files("broken", "ro_"), ids=lambda p: p.name)
def test_broken_corpus(path: Path) -> None:
    review = review_code(path.read_text())
    found = {(f.rule, f.severity) for f in review.findings}
    for expected in expectations(path):
        assert expected in found, f"{path.name}: {expected} not in {sorted(found)}"


# What the valid corpus must still be told about (as warnings or info, never errors).
VALID_FLAGS = {
    "ro_secret_value_rotation.py": ("read_only.secret-read", Severity.warning),
    "ro_ssm_parameters_decrypted.py": ("read_only.secret-read", Severity.warning),
    "ro_cloudwatch_metric_data.py": ("read_only.paid-read", Severity.info),
    "ro_logs_insights_query.py": ("read_only.paid-read", Severity.warning),
    "ro_cost_explorer.py": ("read_only.paid-read", Severity.warning),
}


@pytest.mark.parametrize("path", corpus_files("valid", "ro_"), ids=lambda p: p.name)
def test_valid_corpus(path: Path) -> None:
    review = review_code(path.read_text())
    assert review.errors() == []
    assert review.api_calls
    assert all(c.read_only for c in review.api_calls)
    flags = {(f.rule, f.severity) for f in review.findings if f.check == "read_only"}
    assert flags == ({VALID_FLAGS[path.name]} if path.name in VALID_FLAGS else set())


def test_corpus_share_is_large_enough() -> None:
    assert len(corpus_files("broken", "ro_")) >= 15
    assert len(corpus_files("valid", "ro_")) >= 8
