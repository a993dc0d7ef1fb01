"""The fixers: unused imports out, known missing imports in, ruff format; chained, each change reported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cloudinspect.config import resources_dir
from cloudinspect.review.checks import fixers
from cloudinspect.review.checks.fixers import FormatFixer, ImportsFixer, known_imports
from cloudinspect.review.pipeline import review_code
from cloudinspect.review.types import ReviewContext, ReviewOptions, Severity

from .expectations import corpus_files, expectations


def fix(code: str, *, fixing: bool = True) -> ReviewContext:
    ctx = ReviewContext(code, ReviewOptions(fix=fixing))
    ctx.extra["findings"] = ImportsFixer().run(ctx) + FormatFixer().run(ctx)
    return ctx


def rules(ctx: ReviewContext) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in ctx.extra["findings"]]


def test_missing_known_imports_are_inserted_after_docstring_and_imports() -> None:
    code = '"""Doc."""\n\nfrom __future__ import annotations\n\nimport boto3\n\nprint(json.dumps(boto3.__name__))\n'
    ctx = fix(code)
    assert ctx.fixed_code == (
        '"""Doc."""\n\nfrom __future__ import annotations\n\nimport boto3\nimport json\n\n'
        "print(json.dumps(boto3.__name__))\n"
    )
    assert rules(ctx) == [("imports.missing-import", Severity.warning)]
    [finding] = ctx.extra["findings"]
    assert finding.fixable
    assert (finding.line, finding.col) == (7, 7)
    assert [(c.check, c.description, c.line) for c in ctx.changes] == [("imports", "inserted `import json`", 6)]


def test_imports_of_one_module_are_merged() -> None:
    ctx = fix("print(datetime.now(timezone.utc) - timedelta(days=1))\n")
    assert ctx.fixed_code == (
        "from datetime import datetime, timedelta, timezone\n\nprint(datetime.now(timezone.utc) - timedelta(days=1))\n"
    )


def test_datetime_module_or_class_by_use() -> None:
    assert fix("print(datetime.datetime.now())\n").fixed_code == "import datetime\n\nprint(datetime.datetime.now())\n"
    assert fix("print(datetime.now())\n").fixed_code == "from datetime import datetime\n\nprint(datetime.now())\n"
    assert fix("pprint({})\n").fixed_code == "from pprint import pprint\n\npprint({})\n"


def test_aws_names() -> None:
    code = (
        "s3 = boto3.client('s3', config=Config(retries={'max_attempts': 3}))\n"
        "try:\n"
        "    s3.list_buckets()\n"
        "except (ClientError, NoCredentialsError):\n"
        "    pass\n"
    )
    fixed = fix(code).fixed_code
    assert fixed is not None
    assert fixed.startswith(
        "import boto3\n"
        "from botocore.config import Config\n"
        "from botocore.exceptions import ClientError, NoCredentialsError\n"
    )
    compile(fixed, "fixed.py", "exec")


def test_insertion_keeps_a_shebang_and_leading_comments() -> None:
    ctx = fix("#!/usr/bin/env python3\n# a comment\nprint(json.dumps(1))\n")
    assert ctx.fixed_code == "#!/usr/bin/env python3\n# a comment\nimport json\n\nprint(json.dumps(1))\n"


def test_unknown_undefined_name_is_an_error_with_a_suggestion() -> None:
    code = 'import json\n\nresponse = {"a": 1}\nprint(json.dumps(reponse))\n'
    ctx = fix(code)
    assert rules(ctx) == [("imports.undefined-name", Severity.error)]
    [finding] = ctx.extra["findings"]
    assert finding.line == 4
    assert finding.suggestion == "did you mean `response`?"
    assert not finding.fixable
    assert ctx.fixed_code is None


def test_unused_imports_are_removed_one_change_per_edit() -> None:
    code = "import os, sys\nfrom collections import Counter, defaultdict\nimport json\n\nprint(json.dumps(Counter()))\n"
    ctx = fix(code)
    assert ctx.fixed_code == "from collections import Counter\nimport json\n\nprint(json.dumps(Counter()))\n"
    assert rules(ctx) == [("imports.unused-import", Severity.info)] * 3
    assert all(f.fixable for f in ctx.extra["findings"])
    assert [(c.description, c.line) for c in ctx.changes] == [
        ("removed unused import `os`, `sys`", 1),
        ("removed unused import `collections.defaultdict`", 2),
    ]


def test_format_reports_each_reformatted_region() -> None:
    code = "import json\nx = { 'a':1 }\n\n\n\n\ny=[1,\n2]\nprint(json.dumps([x,y]))\n"
    ctx = fix(code)
    assert ctx.fixed_code == 'import json\n\nx = {"a": 1}\n\n\ny = [1, 2]\nprint(json.dumps([x, y]))\n'
    assert rules(ctx) == [("format.unformatted", Severity.info)]
    assert [(c.description, c.line) for c in ctx.changes] == [("reformatted line 2", 2), ("reformatted line(s) 5-9", 5)]
    assert {c.check for c in ctx.changes} == {"format"}
    assert all(c.line is not None for c in ctx.changes)


def test_formatting_uses_line_length_120_and_no_project_config() -> None:
    long_call = "print(" + ", ".join(f'"value{i}"' for i in range(11)) + ")\n"
    assert 88 < len(long_call) < 120
    assert fix(long_call).fixed_code is None


def test_fixers_chain() -> None:
    ctx = fix("import os\nprint( json.dumps( {'a':1} ) )\n")
    assert ctx.fixed_code == 'import json\n\nprint(json.dumps({"a": 1}))\n'
    assert [c.check for c in ctx.changes][:2] == ["imports", "imports"]
    assert ctx.changes[-1].check == "format"


def test_clean_code_is_left_alone() -> None:
    ctx = fix('"""Clean."""\n\nimport json\n\nprint(json.dumps({"a": 1}))\n')
    assert ctx.fixed_code is None
    assert ctx.changes == []
    assert rules(ctx) == []


def test_without_fixing_nothing_changes_and_missing_imports_are_errors() -> None:
    ctx = fix("import os\nprint( json.dumps(1) )\n", fixing=False)
    assert ctx.fixed_code is None
    assert ctx.changes == []
    assert ("imports.missing-import", Severity.error) in rules(ctx)
    assert ("format.unformatted", Severity.info) in rules(ctx)


def test_code_that_does_not_parse_is_left_to_the_syntax_check() -> None:
    ctx = fix("def broken(:\n    json\n")
    assert rules(ctx) == []
    assert ctx.fixed_code is None


def test_ruff_failure_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fixers, "ruff_binary", lambda: "/nonexistent/ruff")
    ctx = fix("print(json)\n")
    assert rules(ctx) == [("imports.ruff-failed", Severity.warning), ("format.ruff-failed", Severity.warning)]
    assert ctx.fixed_code is None


def test_import_table_statements_are_valid_and_importable() -> None:
    for name in known_imports().names:
        entry = known_imports().lookup(name)
        assert entry is not None
        namespace: dict[str, object] = {}
        exec(compile(ast.parse(entry.statement), name, "exec"), namespace)  # noqa: S102 - the table's own imports
        assert name in namespace, f"{entry.statement!r} does not define {name}"


def test_reference_scripts_need_no_fixing() -> None:
    for path in sorted((resources_dir() / "catalog" / "aws").rglob("*.py")):
        ctx = fix(path.read_text())
        assert ctx.fixed_code is None, (path.name, ctx.changes)


def test_review_writes_fixed_code_that_reviews_clean() -> None:
    review = review_code(
        "import os\nimport boto3\nprint( json.dumps(boto3.client('s3').list_buckets()['Buckets'], default=str) )\n"
    )
    assert review.ok
    assert review.fixed_code is not None
    again = review_code(review.fixed_code)
    assert again.ok
    assert again.fixed_code is None
    assert [f for f in again.findings if f.check in ("imports", "format")] == []


@pytest.mark.parametrize("path", corpus_files("broken", "fmt_"), ids=lambda p: p.name)
def test_broken_corpus(path: Path) -> None:
    review = review_code(path.read_text())
    found = {(f.rule, f.severity) for f in review.findings}
    for expected in expectations(path):
        assert expected in found, f"{path.name}: {expected} not in {sorted(found)}"


@pytest.mark.parametrize(
    "path", corpus_files("valid", "fmt_") + corpus_files("valid", "imp_missing"), ids=lambda p: p.name
)
def test_valid_corpus_is_fixed(path: Path) -> None:
    review = review_code(path.read_text())
    assert review.errors() == []
    assert review.fixed_code is not None
    compile(review.fixed_code, path.name, "exec")
    assert review_code(review.fixed_code).fixed_code is None  # fixing is idempotent
