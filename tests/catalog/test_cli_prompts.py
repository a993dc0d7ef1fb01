"""`cloudinspect prompts ...` through the real console entry point (a subprocess, as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.cloud import Emulator


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudinspect", *args], capture_output=True, text=True, check=False, env=env
    )


def test_list_json_covers_the_catalogue() -> None:
    proc = cli("prompts", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    assert {i["id"] for i in items} == set(load_catalog([]))
    for item in items:
        assert {"id", "title", "services", "category", "tags"} <= item.keys()


def test_list_filters_by_service_and_tag() -> None:
    items = json.loads(cli("prompts", "list", "--service", "lambda", "--json").stdout)
    assert items
    assert all("lambda" in i["services"] for i in items)
    tag = items[0]["tags"][0]
    tagged = json.loads(cli("prompts", "list", "--tag", tag, "--json").stdout)
    assert tagged
    assert all(tag in i["tags"] for i in tagged)


def test_show_json_includes_template_contract_and_reference() -> None:
    data = json.loads(cli("prompts", "show", "lambda-functions-inventory", "--json").stdout)
    assert "{{" in data["template"] or data["template"]
    assert data["contract"]["schema"]["type"] == "object"
    assert "boto3" in data["reference_code"]


def test_render_validates_variables() -> None:
    ok = cli("prompts", "render", "lambda-functions-inventory", "--var", "runtime_prefix=python")
    assert ok.returncode == 0
    assert '"python"' in ok.stdout
    bad = cli("prompts", "render", "lambda-functions-inventory", "--var", "runtime_prefix=Not Valid!")
    assert bad.returncode == 2
    assert "runtime_prefix" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_unknown_prompt_exits_2_with_suggestion() -> None:
    proc = cli("prompts", "show", "lambda-functions-inventry")
    assert proc.returncode == 2
    assert "did you mean 'lambda-functions-inventory'" in proc.stderr


def test_broken_user_catalogue_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "aws" / "x" / "broken.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("id: broken\ntitle: [unclosed\n")
    proc = cli("prompts", "list", "--catalog", str(tmp_path))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr
    assert "line" in proc.stderr


@pytest.mark.e2e
def test_answer_runs_the_reference_on_an_endpoint(emulator: Callable[[str], Emulator]) -> None:
    emu = emulator("startup")
    proc = cli("prompts", "answer", "lambda-functions-inventory", "--target", f"endpoint:{emu.endpoint_url}")
    assert proc.returncode == 0, proc.stderr
    names = {f["name"] for f in json.loads(proc.stdout)["functions"]}
    expected = {f["FunctionName"] for f in emu.client("lambda").list_functions()["Functions"]}
    assert names == expected
    assert names


def test_answer_rejects_a_bad_target() -> None:
    proc = cli("prompts", "answer", "lambda-functions-inventory", "--target", "mainframe:x")
    assert proc.returncode == 2
    assert "mainframe:x" in proc.stderr
