"""Repair messages and failure signatures, from real review findings, real sandbox runs against the emulator
and real botocore models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from cloudinspect.catalog.compare import compare_outputs
from cloudinspect.cloud import Emulator
from cloudinspect.loop.feedback import (
    attempt_signature,
    describe_error_class,
    failure_feedback,
    failure_signature,
    summary_line,
)
from cloudinspect.loop.state import Attempt, AttemptErrorClass, FindingRecord, Verdict
from cloudinspect.review import review_code
from cloudinspect.sandbox import execute
from tests.sandbox.conftest import needs_sandbox

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CLOSING = "Reply with the complete corrected script in one ```python code block."
DOCS = "botocore's documentation of the API involved:"


def _attempt(**fields: Any) -> Attempt:
    fields.setdefault("n", 1)
    fields.setdefault("code", "import boto3\n")
    return Attempt(started_at=NOW, finished_at=NOW, **fields)


def _reviewed(code: str, n: int = 1) -> Attempt:
    """An attempt the static review stopped, classified as the loop classifies it."""
    review = review_code(code)
    findings = [
        FindingRecord(
            check=f.check,
            rule=f.rule,
            severity=str(f.severity),
            message=f.message,
            line=f.line,
            suggestion=f.suggestion,
            fixable=f.fixable,
        )
        for f in review.findings
    ]
    errors = [f for f in findings if f.severity == "error"]
    assert errors, "the review should have found an error"
    error_class = "parameter_validation" if "parameter" in errors[0].rule else "hallucinated_api"
    return _attempt(
        n=n,
        code=code,
        findings=findings,
        review_ok=False,
        error_class=error_class,
        error_message=f"{errors[0].rule} (line {errors[0].line}): {errors[0].message}",
    )


def _ends_with_the_instruction(text: str) -> None:
    assert text.rstrip().endswith("print exactly one JSON document valid against the same output contract.")
    assert CLOSING in text


# ------------------------------------------------------------------------------------------------ review failures


def test_review_hallucinated_operation_gets_findings_and_the_real_operation() -> None:
    attempt = _reviewed("import boto3\n\nec2 = boto3.client('ec2')\nr = ec2.describe_instance()\n")
    text = failure_feedback(attempt)
    assert "- line 4 [api.unknown-operation]: ec2 client has no operation 'describe_instance'" in text
    assert "Fix: did you mean 'describe_instances'" in text
    assert DOCS in text
    assert 'describe_instances (paginated: get_paginator("describe_instances"))' in text
    assert "results under Reservations" in text
    # The format check's info finding is not an error: it is not in the message.
    assert "format." not in text
    _ends_with_the_instruction(text)


def test_review_bad_parameter_gets_the_operation_parameters() -> None:
    attempt = _reviewed("import boto3\n\nlogs = boto3.client('logs')\nr = logs.filter_log_events(LogGroup='x')\n")
    text = failure_feedback(attempt)
    assert "[api.unknown-parameter]" in text
    assert "Fix: did you mean 'logGroupName'?" in text
    assert "logs.filter_log_events (FilterLogEvents" in text
    assert "  logGroupName (string)" in text


def test_review_wrong_type_finds_the_call_from_the_line() -> None:
    attempt = _reviewed("import boto3\n\nboto3.client('ec2').describe_vpcs(VpcIds='vpc-1')\n")
    text = failure_feedback(attempt)
    assert "[api.wrong-type]" in text
    assert "ec2.describe_vpcs (DescribeVpcs" in text
    assert "VpcIds (list of string)" in text


def test_review_unknown_service_gets_the_closest_service_names() -> None:
    text = failure_feedback(_reviewed("import boto3\n\nc = boto3.client('cloudwatchlogs')\n"))
    assert "Closest service names: logs" in text


def test_review_failure_that_is_not_about_apis_has_no_api_docs() -> None:
    attempt = _reviewed("import boto3\n\nboto3.client('s3').delete_bucket(Bucket='x')\n")
    attempt = attempt.model_copy(update={"error_class": "read_only_violation"})
    text = failure_feedback(attempt)
    assert "[read_only.mutating-call]" in text
    assert "Call only operations that read" in text
    assert DOCS not in text


# --------------------------------------------------------------------------------------------- real executions

SCRIPTS = {
    "attribute": "import boto3\nec2 = boto3.client('ec2')\nr = ec2.describe_instance()\n",
    "logs_attribute": "import boto3\nlogs = boto3.client('logs')\nr = logs.describe_log_group()\n",
    "service": "import boto3\nc = boto3.client('cloudwatchlogs')\n",
    "parameter": "import boto3\nlogs = boto3.client('logs')\nr = logs.filter_log_events(LogGroup='x')\n",
    "paginate": (
        "import boto3\np = boto3.client('logs').get_paginator('describe_log_groups')\n"
        "for page in p.paginate(Prefix='a'):\n    pass\n"
    ),
    "paginator": "import boto3\np = boto3.client('s3').get_paginator('list_objects_v3')\n",
    "key": "import boto3\nr = boto3.client('ec2').describe_vpcs()\nprint(r['Vpc'])\n",
    "not_json": "print('hello world')\n",
}


@pytest.fixture(scope="module")
def executed(emulator: Callable[[str], Emulator]) -> dict[str, Attempt]:
    """Each script run once in the sandbox against the baseline account, as a failed attempt."""
    endpoint = f"endpoint:{emulator('baseline').endpoint_url}"
    attempts = {}
    for name, code in SCRIPTS.items():
        result = execute(code, endpoint, isolation="none")
        attempts[name] = _attempt(
            code=code,
            exec_result=result.model_dump(mode="json"),
            error_class=result.error_class,
            error_message=(result.error_message or "")[:500],
        )
    return attempts


@needs_sandbox
def test_hallucinated_client_method_at_run_time(executed: dict[str, Attempt]) -> None:
    attempt = executed["attribute"]
    assert attempt.error_class == "hallucinated_api"
    text = failure_feedback(attempt)
    assert 'File "script.py", line 3' in text
    assert "/tmp/" not in text
    assert "AttributeError: 'EC2' object has no attribute 'describe_instance'" in text
    assert "Documentation of ec2.describe_instances:" in text
    # The client class name is not the service name: CloudWatchLogs is logs.
    assert "Documentation of logs.describe_log_groups:" in failure_feedback(executed["logs_attribute"])


@needs_sandbox
def test_unknown_service_at_run_time_omits_botocores_list(executed: dict[str, Attempt]) -> None:
    text = failure_feedback(executed["service"])
    assert "Valid service names are: (list omitted)" in text
    assert "xray" not in text
    assert "Closest service names: logs" in text


@needs_sandbox
def test_parameter_validation_at_run_time(executed: dict[str, Attempt]) -> None:
    text = failure_feedback(executed["parameter"])
    assert executed["parameter"].error_class == "parameter_validation"
    assert 'Unknown parameter in input: "LogGroup"' in text
    assert "logs.filter_log_events (FilterLogEvents" in text
    # A paginator's paginate() documents the paginated operation.
    assert "logs.describe_log_groups (DescribeLogGroups" in failure_feedback(executed["paginate"])


@needs_sandbox
def test_unknown_paginator_name_is_a_hallucination_even_as_a_key_error(executed: dict[str, Attempt]) -> None:
    attempt = executed["paginator"]
    assert attempt.error_class == "runtime"
    text = failure_feedback(attempt)
    assert "KeyError: 'list_objects_v3'" in text
    assert "Documentation of s3.list_objects_v2:" in text


@needs_sandbox
def test_runtime_error_has_the_traceback_and_no_api_docs(executed: dict[str, Attempt]) -> None:
    text = failure_feedback(executed["key"])
    assert "KeyError: 'Vpc'" in text
    assert "print(r['Vpc'])" in text
    assert DOCS not in text
    _ends_with_the_instruction(text)


@needs_sandbox
def test_output_not_json_shows_what_was_printed(executed: dict[str, Attempt]) -> None:
    text = failure_feedback(executed["not_json"])
    assert "hello world" in text
    assert "Print exactly one JSON document" in text


# -------------------------------------------------------------------------------------------- every error class


def _classes() -> list[str]:
    found: list[str] = []
    for arg in get_args(AttemptErrorClass):
        found += list(get_args(arg)) or [arg]
    return [c for c in found if c != "none"]


@pytest.mark.parametrize("error_class", _classes())
def test_every_error_class_gets_a_message(error_class: str) -> None:
    text = failure_feedback(_attempt(error_class=error_class, error_message="something failed"))
    assert text.startswith(f"Attempt 1 failed: {describe_error_class(error_class)}.")
    assert "(" + error_class + ")" not in describe_error_class(error_class)
    _ends_with_the_instruction(text)


def test_describe_error_class() -> None:
    assert describe_error_class("timeout") == "the script ran past the time limit"
    assert describe_error_class("no-such-class") == "the attempt failed (no-such-class)"


def test_timeout_and_resource_limit_advice() -> None:
    text = failure_feedback(_attempt(error_class="timeout", exec_result={"status": "timeout", "stderr": ""}))
    assert "paginators" in text
    assert "every loop ends" in text
    text = failure_feedback(_attempt(error_class="resource_limit", exec_result={"status": "killed", "stderr": ""}))
    assert "Process the pages of a paginator as they come" in text.replace("\n", " ")


def test_not_the_models_fault_says_so() -> None:
    text = failure_feedback(_attempt(error_class="emulator_unsupported", error_message="ClientError (500)"))
    assert "not from a mistake in the script" in text


def test_traceback_is_trimmed_and_stderr_never_sent_whole() -> None:
    stderr = "\n".join(f"noise line {i}" for i in range(500))
    frames = "\n".join(
        f'  File "/tmp/cloudinspect-exec-abc/main.py", line {i}, in f{i}\n    f{i + 1}()' for i in range(40)
    )
    traceback = f"Traceback (most recent call last):\n{frames}\nRecursionError: deepest frame"
    result = {"status": "error", "stderr": stderr + "\n" + traceback, "traceback": traceback}
    text = failure_feedback(_attempt(error_class="runtime", exec_result=result, error_message="RecursionError"))
    assert "noise line" not in text
    assert "RecursionError: deepest frame" in text
    assert "in f39" in text
    assert "in f0\n" not in text
    assert "(earlier lines omitted)" in text


def test_stderr_tail_when_there_is_no_traceback() -> None:
    stderr = "\n".join(f"line {i}" for i in range(300)) + "\nKilled: out of memory"
    text = failure_feedback(
        _attempt(error_class="resource_limit", exec_result={"status": "killed", "stderr": stderr, "traceback": None})
    )
    assert "Killed: out of memory" in text
    assert "line 10\n" not in text


def test_output_not_json_shows_only_the_start_of_stdout() -> None:
    stdout = "START " + "x" * 3000 + " END"
    text = failure_feedback(_attempt(error_class="output_not_json", exec_result={"status": "error", "stdout": stdout}))
    assert "START xxx" in text
    assert " END" not in text
    assert "x" * 600 not in text


def test_contract_lists_schema_errors() -> None:
    errors = [f".functions[{i}].name: {i} is not of type 'string'" for i in range(30)]
    verdict = Verdict(passed=False, schema_errors=errors)
    text = failure_feedback(_attempt(error_class="contract", verdict=verdict))
    assert ".functions[0].name: 0 is not of type 'string'" in text
    assert "(30 error(s))" in text
    assert "... and 15 more." in text


SECRET = "sk-live-EXPECTED-9f8e7d6c5b4a"  # noqa: S105 - a planted value that must not leak


def test_wrong_output_never_leaks_expected_values() -> None:
    expected = {"function": {"name": "orders-api", "token": SECRET, "errors": 3}, "owner": SECRET}
    actual = {"function": {"name": "orders-api", "token": "guess", "errors": 2}, "extra": 1}
    differences = compare_outputs(expected, actual)
    hidden = [d.render(show_expected=False) for d in differences]
    # One difference rendered carelessly, with the expected value: the feedback strips it all the same.
    careless = differences[0].render(show_expected=True)
    assert SECRET in careless
    verdict = Verdict(
        passed=False,
        compared=True,
        differences=[careless, *hidden],
        difference_count=len(differences) + 1,
        summary=f"differs: expected {SECRET}",
    )
    attempt = _attempt(error_class="wrong_output", verdict=verdict, error_message=f"differs: expected {SECRET}")
    text = failure_feedback(attempt)
    assert SECRET not in text
    assert 'function.token: wrong value (got "guess")' in text
    assert "owner: missing" in text
    assert "compute them from the account" in text
    assert SECRET not in summary_line(attempt)
    assert summary_line(attempt).startswith("1: wrong_output: 5 difference(s), such as function.token: wrong value")


def test_message_fits_max_chars_and_keeps_the_instruction() -> None:
    attempt = _reviewed(
        "import boto3\n\nlogs = boto3.client('logs')\n"
        + "".join(f"r{i} = logs.filter_log_events(LogGroup{i}='x')\n" for i in range(30))
    )
    for max_chars in (800, 1500, 4000):
        text = failure_feedback(attempt, max_chars=max_chars)
        assert len(text) <= max_chars
        _ends_with_the_instruction(text)
    assert len(failure_feedback(attempt, max_chars=4000)) > len(failure_feedback(attempt, max_chars=1500))


# ----------------------------------------------------------------------------------------------------- repeats


def test_a_repeated_mistake_asks_for_another_approach() -> None:
    first = _reviewed("import boto3\nec2 = boto3.client('ec2')\nr = ec2.describe_instance()\n", n=1)
    second = _reviewed("import boto3\n\n\nec2 = boto3.client('ec2')\n\nr = ec2.describe_instance()\n", n=2)
    other = _reviewed("import boto3\nec2 = boto3.client('ec2')\nr = ec2.describe_vpcz()\n", n=2)
    assert "same mistake as in attempt 1" in failure_feedback(second, previous=[first])
    assert "same mistake" not in failure_feedback(other, previous=[first])
    assert "same mistake" not in failure_feedback(second)


# -------------------------------------------------------------------------------------------------- signatures


def _finding(rule: str, message: str, line: int, severity: str = "error") -> FindingRecord:
    return FindingRecord(check="api", rule=rule, severity=severity, message=message, line=line)


def test_same_error_with_other_lines_ids_times_and_numbers_has_the_same_signature() -> None:
    a = failure_signature(
        "runtime",
        'File "/tmp/cloudinspect-exec-abc123/main.py", line 12: ClientError: An error occurred (NoSuchEntity) when '
        "calling the GetRole operation: Role r-7 not found (RequestId: 4f1c2d3e-1111-2222-3333-444455556666) at "
        "2026-01-01T10:00:00Z <obj at 0x7f00deadbeef>",
        [],
        [],
    )
    b = failure_signature(
        "runtime",
        'File "/tmp/cloudinspect-exec-zz9/main.py", line 40: ClientError: An error occurred (NoSuchEntity) when '
        "calling the GetRole operation: Role r-12 not found (RequestId: 0a0b0c0d-9999-8888-7777-666655554444) at "
        "2026-03-04T05:06:07.123+00:00 <obj at 0x55aa11>",
        [],
        [],
    )
    assert a == b
    assert a.startswith("runtime:")


def test_findings_signature_ignores_lines_and_non_errors() -> None:
    one = [_finding("api.unknown-operation", "ec2 client has no operation 'describe_instance'", 3)]
    two = [
        _finding("api.unknown-operation", "ec2 client has no operation 'describe_instance'", 17),
        _finding("format.unformatted", "the code is not formatted", 1, severity="info"),
    ]
    assert failure_signature("hallucinated_api", "api.unknown-operation (line 3): x", one, []) == failure_signature(
        "hallucinated_api", "api.unknown-operation (line 17): x", two, []
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        # another operation
        (
            "AttributeError: 'EC2' object has no attribute 'describe_instance'",
            "AttributeError: 'EC2' object has no attribute 'describe_vpcz'",
        ),
        ("KeyError: 'list_objects_v2'", "KeyError: 'list_objects_v3'"),
        # another parameter
        ('Unknown parameter in input: "LogGroup"', 'Unknown parameter in input: "LogStream"'),
        # another exception
        ("KeyError: 'Vpcs'", "TypeError: 'Vpcs'"),
    ],
)
def test_different_mistakes_have_different_signatures(left: str, right: str) -> None:
    assert failure_signature("runtime", left, [], []) != failure_signature("runtime", right, [], [])


def test_different_error_class_or_finding_has_another_signature() -> None:
    assert failure_signature("runtime", "x", [], []) != failure_signature("timeout", "x", [], [])
    op = [_finding("api.unknown-operation", "ec2 client has no operation 'describe_instance'", 3)]
    other_op = [_finding("api.unknown-operation", "ec2 client has no operation 'describe_vpcz'", 3)]
    param = [_finding("api.unknown-parameter", "logs.filter_log_events() has no parameter 'LogGroup'", 3)]
    signatures = {failure_signature("review", "", f, []) for f in (op, other_op, param)}
    assert len(signatures) == 3


def test_differences_signature_follows_where_not_the_values() -> None:
    a = failure_signature("wrong_output", "2 difference(s): x", [], ["functions[name=a].errors: wrong value (got 5)"])
    b = failure_signature("wrong_output", "2 difference(s): y", [], ["functions[name=a].errors: wrong value (got 7)"])
    c = failure_signature("wrong_output", "2 difference(s): y", [], ["functions[name=b].errors: wrong value (got 7)"])
    assert a == b
    assert a != c


def test_attempt_signature_uses_the_stored_one_or_computes_it() -> None:
    assert attempt_signature(_attempt(error_class="runtime", signature="runtime:abc")) == "runtime:abc"
    computed = attempt_signature(_attempt(error_class="runtime", error_message="KeyError: 'Vpc'"))
    assert computed == failure_signature("runtime", "KeyError: 'Vpc'", [], [])


def test_summary_line() -> None:
    attempt = _reviewed("import boto3\nec2 = boto3.client('ec2')\nr = ec2.describe_instance()\n", n=2)
    assert summary_line(attempt).startswith("2: hallucinated_api at line 3: api.unknown-operation")
