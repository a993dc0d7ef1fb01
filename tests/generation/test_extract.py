"""Finding the script in free-text replies: prose, several blocks, no fences, cut-off fences."""

from __future__ import annotations

import pytest

from cloudinspect.generation import extract_code, services_in, syntax_error

SCRIPT = """import json

import boto3


def main():
    s3 = boto3.client("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    print(json.dumps({"buckets": names}))


main()
"""


def fenced(code: str, tag: str = "python") -> str:
    return f"```{tag}\n{code.rstrip()}\n```"


def test_prose_around_one_block() -> None:
    result = extract_code(f"Sure! Here is the script:\n\n{fenced(SCRIPT)}\n\nIt lists every bucket.")
    assert result.code == SCRIPT
    assert (result.method, result.complete, result.warnings) == ("fenced", True, [])
    assert result.explanation == "Sure! Here is the script:\n\nIt lists every bucket."


@pytest.mark.parametrize("tag", ["py", "python3", "Python", "py3", "python title=check.py", "{.python}"])
def test_python_tag_variants(tag: str) -> None:
    result = extract_code(
        f"Script:\n{fenced(SCRIPT, tag)}\nRun it with `python check.py`:\n{fenced('python check.py', 'bash')}"
    )
    assert result.code == SCRIPT


def test_untagged_block_and_tilde_fence() -> None:
    assert extract_code(f"```\n{SCRIPT}```").code == SCRIPT
    assert extract_code(f"~~~python\n{SCRIPT}~~~\n").code == SCRIPT


def test_json_example_block_is_not_the_script() -> None:
    reply = (
        'The output looks like this:\n```\n{"buckets": ["a", "b"]}\n```\n'
        f"and here is the code:\n{fenced(SCRIPT, '')}\n"
        'Example output:\n```json\n{"buckets": []}\n```'
    )
    result = extract_code(reply)
    assert result.code == SCRIPT
    assert result.blocks == 3
    assert result.warnings == []


def test_python_tagged_json_document_is_not_the_script() -> None:
    reply = f'{fenced(SCRIPT)}\nPrints:\n```python\n{{"buckets": ["logs"]}}\n```'
    assert extract_code(reply).code == SCRIPT


def test_revised_version_last_wins() -> None:
    first = SCRIPT.replace("names = ", "names = sorted(").replace('["Buckets"]]', '["Buckets"]])')
    reply = f"{fenced(first)}\nWait, sorting is not needed. Corrected version:\n{fenced(SCRIPT)}"
    result = extract_code(reply)
    assert result.code == SCRIPT
    assert "took block 2" in result.warnings[0]


def test_short_usage_snippet_after_the_script_does_not_win() -> None:
    snippet = 'import boto3\nprint(boto3.client("s3").list_buckets())'
    result = extract_code(f"{fenced(SCRIPT)}\nQuick check:\n{fenced(snippet)}")
    assert result.code == SCRIPT


def test_script_split_over_several_blocks_is_joined() -> None:
    reply = (
        "First the imports:\n```python\nimport json\n\nimport boto3\n```\n"
        "Then a function:\n"
        '```python\ndef names(s3):\n    return [b["Name"] for b in s3.list_buckets()["Buckets"]]\n```\n'
        'Finally the entry point:\n```python\nprint(json.dumps({"buckets": names(boto3.client("s3"))}))\n```'
    )
    result = extract_code(reply)
    assert result.code.startswith("import json\n\nimport boto3\n\ndef names(s3):")
    assert result.code.rstrip().endswith('print(json.dumps({"buckets": names(boto3.client("s3"))}))')
    assert result.parses
    assert "split over 3 code blocks" in result.warnings[0]


def test_blocks_redefining_a_function_are_versions_not_parts() -> None:
    v1 = 'import boto3\n\ndef main():\n    print(boto3.client("s3").list_buckets())\n'
    v2 = (
        "import boto3\nimport json\n\n"
        'def main():\n    print(json.dumps(boto3.client("s3").list_buckets(), default=str))\n'
    )
    result = extract_code(f"{fenced(v1)}\nImproved:\n{fenced(v2)}")
    assert result.code == v2


def test_no_fences_raw_code() -> None:
    result = extract_code(SCRIPT)
    assert (result.code, result.method, result.warnings) == (SCRIPT, "raw", [])


def test_no_fences_with_prose_before_and_after() -> None:
    reply = f"Here is a script that lists the buckets:\n{SCRIPT}\nThis script prints the bucket names as JSON.\n"
    result = extract_code(reply)
    assert result.code == SCRIPT
    assert result.method == "raw"
    assert "prints the bucket names" in result.explanation


def test_unclosed_final_fence_is_kept_and_flagged() -> None:
    cut = SCRIPT[: SCRIPT.index("names =") + 12]
    result = extract_code(f"Here you go:\n```python\n{cut}")
    assert result.code == cut.rstrip() + "\n"
    assert result.complete is False
    assert not result.parses
    assert any("unclosed code block" in w for w in result.warnings)
    assert any("does not parse" in w for w in result.warnings)


def test_closing_fence_glued_to_the_last_line() -> None:
    result = extract_code(f"```python\n{SCRIPT.rstrip()}```\nDone.")
    assert result.code == SCRIPT
    assert result.complete


def test_stray_closing_fence_after_raw_code() -> None:
    result = extract_code(f"{SCRIPT}```\n")
    assert result.code == SCRIPT
    assert result.warnings == []


def test_new_opening_fence_inside_an_open_block() -> None:
    result = extract_code(f"```python\nimport os\n```python\n{SCRIPT}```")
    assert result.code == SCRIPT


def test_reasoning_is_dropped() -> None:
    reply = f"<think>I could use ```python\nimport subprocess``` but no.</think>\n{fenced(SCRIPT)}"
    assert extract_code(reply).code == SCRIPT


def test_reply_without_code() -> None:
    result = extract_code("I cannot help with that.")
    assert result.method == "raw"
    assert result.code == ""
    assert result.explanation == "I cannot help with that."
    assert result.warnings == ["the reply contains no code"]


def test_empty_reply() -> None:
    result = extract_code("")
    assert result.code == ""
    assert result.warnings == ["the reply contains no code"]


def test_only_a_non_python_block() -> None:
    result = extract_code("Run:\n```bash\naws s3 ls\n```")
    assert result.code == ""
    assert "no code" in result.warnings[0]


def test_code_is_normalised() -> None:
    result = extract_code("```python\n\n\nimport boto3   \nprint(boto3)\t\n\n\n```")
    assert result.code == "import boto3\nprint(boto3)\n"


def test_services_in_code() -> None:
    code = (
        'a = boto3.client("s3")\nb = session.client(service_name="logs")\n'
        "c = boto3.resource('ec2')\nd = boto3.client(\"s3\")"
    )
    assert services_in(code) == ["s3", "logs", "ec2"]


def test_syntax_error_names_the_line() -> None:
    assert syntax_error("x = 1\ndef f(:\n") == "line 2: invalid syntax"
    assert syntax_error(SCRIPT) is None
