"""The syntax check: compile errors with line and column, truncation, indentation, compiler warnings."""

from __future__ import annotations

import pytest

from cloudinspect.review.checks.syntax import syntax_findings
from cloudinspect.review.types import Severity


def test_valid_code_has_no_finding() -> None:
    assert syntax_findings("import json\nprint(json.dumps({'a': 1}))\n") == []


def test_error_with_line_column_and_compiler_message() -> None:
    (finding,) = syntax_findings("import boto3\nfor page in pages\n    print(page)\nprint('done')\n")
    assert (finding.rule, finding.severity) == ("syntax.error", Severity.error)
    assert (finding.line, finding.col) == (2, 18)
    assert finding.message.startswith("expected ':'")
    assert "for page in pages" in finding.message


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("import json\nprint(json.dumps({'count': len(items", 2),
        ('def f():\n    """Return the\n', 2),
        ("for page in pages:\n", 1),
        ("x = 1 +\n", 1),
        ("result = {\n    'a': 1,\n", 1),
    ],
)
def test_code_cut_at_its_end_is_truncated(code: str, line: int) -> None:
    (finding,) = syntax_findings(code)
    assert finding.rule == "syntax.truncated"
    assert finding.line == line
    assert finding.suggestion is not None
    assert "truncated" in finding.suggestion


def test_unclosed_bracket_in_the_middle_is_an_error_not_truncation() -> None:
    (finding,) = syntax_findings("x = {'a': 1\ny = 2\nz = 3\nprint(x, y, z)\nprint('end')\n")
    assert finding.rule == "syntax.error"
    assert finding.line == 1
    assert finding.suggestion == "close the bracket opened here"


@pytest.mark.parametrize(
    "code",
    [
        "def f():\n    if True:\n        x = 1\n      y = 2\n    return 3\n\nf()\n",
        "def f():\n    x = 1\n\tif x:\n        pass\n    return x\n\nf()\n",
    ],
)
def test_indentation_errors(code: str) -> None:
    (finding,) = syntax_findings(code)
    assert finding.rule == "syntax.indentation"
    assert finding.line in {3, 4}


def test_errors_only_the_compiler_finds() -> None:
    (finding,) = syntax_findings("import sys\nif len(sys.argv) < 2:\n    return\nprint(sys.argv)\n")
    assert finding.rule == "syntax.error"
    assert "'return' outside function" in finding.message
    assert finding.line == 3


def test_compiler_warnings_are_warnings() -> None:
    (finding,) = syntax_findings('import re\nPATTERN = re.compile("\\d+ errors")\n')
    assert (finding.rule, finding.severity, finding.line) == ("syntax.warning", Severity.warning, 2)
    assert finding.suggestion is not None
    assert "raw string" in finding.suggestion


def test_null_bytes() -> None:
    (finding,) = syntax_findings("x = 1\x00\n")
    assert finding.rule == "syntax.error"
    assert "null" in finding.message
