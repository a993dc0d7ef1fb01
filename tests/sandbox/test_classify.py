"""Error classification and traceback trimming from a child's stderr (pure, no process)."""

from __future__ import annotations

import pytest

from cloudinspect.sandbox.classify import classify_failure, trim_traceback

SCRIPT = "/tmp/cloudinspect-exec-x/main.py"
HEAD = """Traceback (most recent call last):
  File "/run/cloudinspect/launcher.py", line 67, in <module>
    main()
  File "<frozen runpy>", line 88, in _run_code
  File "/tmp/cloudinspect-exec-x/main.py", line 3, in <module>
    ec2.describe_vpcs()
"""
BOTO = """  File "/venv/lib/python3.11/site-packages/botocore/client.py", line 1094, in _make_api_call
    raise error_class(parsed_response, operation_name)
"""


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            BOTO + "botocore.exceptions.ParamValidationError: Parameter validation failed:\nUnknown parameter",
            "parameter_validation",
        ),
        (BOTO + "botocore.exceptions.UnknownServiceError: Unknown service: 'ec3'", "hallucinated_api"),
        (
            '  File "/venv/lib/python3.11/site-packages/botocore/client.py", line 973, in __getattr__\n'
            "    raise AttributeError(\nAttributeError: 'EC2' object has no attribute 'describe_vpcz'",
            "hallucinated_api",
        ),
        ("AttributeError: 'dict' object has no attribute 'foo'", "runtime"),
        (
            BOTO + "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the "
            "ListKeys operation: no",
            "access_denied",
        ),
        (
            BOTO + "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the "
            "ListKeys operation (reached max retries: 0): Rate exceeded",
            "throttling",
        ),
        (
            BOTO + "botocore.exceptions.ClientError: An error occurred (500) when calling the LookupEvents operation "
            "(reached max retries: 0): <!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>",
            "emulator_unsupported",
        ),
        (
            BOTO + "botocore.errorfactory.NoSuchEntityException: An error occurred (NoSuchEntity) when calling the "
            "GetRole operation: Role nope not found",
            "runtime",
        ),
        ("ModuleNotFoundError: No module named 'boto4'", "import"),
        ("MemoryError", "resource_limit"),
        ("OSError: [Errno 24] Too many open files: 'f'", "resource_limit"),
        ("OSError: [Errno 27] File too large", "resource_limit"),
        ("BlockingIOError: [Errno 11] Resource temporarily unavailable", "resource_limit"),
        ("KeyError: 'Vpcs'", "runtime"),
    ],
)
def test_classification(tail: str, expected: str) -> None:
    assert classify_failure(HEAD + tail + "\n", SCRIPT).error_class == expected


def test_syntax_error_and_trimmed_traceback() -> None:
    stderr = """Traceback (most recent call last):
  File "/run/cloudinspect/launcher.py", line 67, in <module>
    main()
  File "<frozen runpy>", line 259, in _get_code_from_file
  File "/tmp/cloudinspect-exec-x/main.py", line 1
    x = (
        ^
SyntaxError: '(' was never closed
"""
    failure = classify_failure(stderr, SCRIPT)
    assert failure.error_class == "syntax"
    assert failure.exception == "SyntaxError"
    assert failure.traceback is not None
    assert "launcher" not in failure.traceback
    assert "runpy" not in failure.traceback
    assert "x = (" in failure.traceback
    assert failure.traceback.endswith("SyntaxError: '(' was never closed")


def test_trim_keeps_only_script_frames() -> None:
    trimmed = trim_traceback(HEAD + BOTO + "KeyError: 'x'\n", SCRIPT)
    assert trimmed == (
        "Traceback (most recent call last):\n"
        '  File "/tmp/cloudinspect-exec-x/main.py", line 3, in <module>\n'
        "    ec2.describe_vpcs()\n"
        "KeyError: 'x'"
    )


def test_no_traceback_is_runtime() -> None:
    failure = classify_failure("Killed\n", SCRIPT)
    assert failure.error_class == "runtime"
    assert failure.traceback is None
