"""The modules check: imports exist in the sandbox; nothing reaches outside the inspection job."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cloudinspect.review.checks.modules import ModulesCheck, module_available, module_safety
from cloudinspect.review.pipeline import review_code
from cloudinspect.review.types import Finding, ReviewContext, Severity

from .expectations import corpus_files, expectations


def check(code: str) -> list[tuple[str, Severity, int | None]]:
    return [(f.rule, f.severity, f.line) for f in ModulesCheck().run(ReviewContext(code))]


def findings(code: str) -> list[Finding]:
    return ModulesCheck().run(ReviewContext(code))


def test_stdlib_and_runtime_modules_are_fine() -> None:
    code = (
        "import json, os, sys, re\n"
        "import os.path\n"
        "import boto3\n"
        "from botocore.exceptions import ClientError\n"
        "from botocore.config import Config\n"
        "from dateutil import parser\n"
        "import xml.etree.ElementTree as ET\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from __future__ import annotations\n"
    )
    assert check(code) == []


@pytest.mark.parametrize(
    ("code", "rule", "severity"),
    [
        ("import subprocess\n", "modules.unsafe-module", Severity.error),
        ("from subprocess import run\n", "modules.unsafe-module", Severity.error),
        ("import socket\n", "modules.unsafe-module", Severity.error),
        ("import ctypes\n", "modules.unsafe-module", Severity.error),
        ("import importlib\n", "modules.unsafe-module", Severity.error),
        ("from importlib import import_module\n", "modules.unsafe-module", Severity.error),
        ("import pty\n", "modules.unsafe-module", Severity.error),
        ("import pickle\n", "modules.unsafe-module", Severity.warning),
        ("import marshal\n", "modules.unsafe-module", Severity.warning),
        ("import shelve\n", "modules.unsafe-module", Severity.warning),
        ("import multiprocessing\n", "modules.unsafe-module", Severity.warning),
        ("from multiprocessing.pool import Pool\n", "modules.unsafe-module", Severity.warning),
        ("import http.server\n", "modules.unsafe-module", Severity.warning),
        ("import urllib.request\n", "modules.unsafe-module", Severity.warning),
        ("from urllib import request\n", "modules.unsafe-module", Severity.warning),
        ("from urllib.request import urlopen\n", "modules.unsafe-module", Severity.warning),
    ],
)
def test_unsafe_modules(code: str, rule: str, severity: Severity) -> None:
    assert check(code) == [(rule, severity, 1)]


def test_harmless_submodules_of_listed_packages_are_fine() -> None:
    assert (
        check("import urllib.parse\nfrom urllib.parse import quote\nimport http\nfrom http import HTTPStatus\n") == []
    )


@pytest.mark.parametrize(
    "code",
    [
        "import os\nos.system('ls')\n",
        "import os\nos.popen('ls')\n",
        "import os\nos.execvp('ls', ['ls'])\n",
        "import os\nos.spawnl(os.P_WAIT, '/bin/ls')\n",
        "import os as operating\noperating.system('ls')\n",
        "from os import system\nsystem('ls')\n",
        "from os import system as run\nrun('ls')\n",
        "import os\nos.fork()\n",
        "eval('1 + 1')\n",
        "exec('x = 1')\n",
        "compile('x = 1', 'f', 'exec')\n",
        "__import__('subprocess')\n",
    ],
)
def test_unsafe_calls_are_errors(code: str) -> None:
    assert check(code) == [("modules.unsafe-call", Severity.error, 2 if "\n" in code.strip() else 1)]


def test_lookalikes_are_not_unsafe_calls() -> None:
    code = (
        "import re\n"
        "pattern = re.compile('x')\n"
        "from re import compile\n"
        "compile('y')\n"
        "def eval(expression):\n"
        "    return expression\n"
        "eval('1')\n"
        "import os\n"
        "os.path.join('a', 'b')\n"
        "os.environ.get('HOME')\n"
    )
    assert check(code) == []


def test_call_message_names_the_call() -> None:
    [finding] = findings("import os\nos.system('ls')\n")
    assert "`os.system(...)` runs a shell command" in finding.message
    assert finding.col == 1


def test_missing_module_is_an_error() -> None:
    assert check("import pandas_does_not_exist\n") == [("modules.not-found", Severity.error, 1)]
    assert check("from botocore.no_such_module import x\n") == [("modules.not-found", Severity.error, 1)]
    assert check("import json.no_such_submodule\n") == [("modules.not-found", Severity.error, 1)]


def test_installed_third_party_module_is_a_warning() -> None:
    [finding] = findings("import yaml\n")
    assert (finding.rule, finding.severity) == ("modules.third-party", Severity.warning)
    assert "boto3" in finding.message


def test_imports_for_type_checking_only_are_not_checked() -> None:
    code = (
        "import typing\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from mypy_boto3_s3.client import S3Client\n"
        "    import not_installed_anywhere\n"
        "if typing.TYPE_CHECKING:\n"
        "    import subprocess\n"
        "else:\n"
        "    import not_installed_either\n"
    )
    assert check(code) == [("modules.not-found", Severity.error, 9)]


def test_relative_import_is_an_error() -> None:
    assert check("from .helpers import paginate\n") == [("modules.relative-import", Severity.error, 1)]


def test_module_available_imports_nothing() -> None:
    # A package that this process never imported: found via its spec, and still not imported afterwards.
    if "wsgiref.simple_server" in sys.modules:
        pytest.skip("wsgiref.simple_server was imported by something else")
    assert module_available("wsgiref.simple_server")
    assert "wsgiref.simple_server" not in sys.modules
    assert "wsgiref" not in sys.modules
    assert not module_available("wsgiref.no_such_thing")
    assert module_available("os.path")


def test_safety_table_is_consistent() -> None:
    table = module_safety()
    assert {"subprocess", "socket", "ctypes", "pickle", "importlib", "requests"} <= set(table.modules)
    assert {"os.system", "builtins.eval", "builtins.exec"} <= set(table.calls)
    assert all(table.modules[m].severity == "error" for m in ("subprocess", "socket", "ctypes", "importlib"))
    assert all(module_available(m) for m in table.runtime)


def test_unused_unsafe_import_removed_by_the_fixer_is_not_an_error() -> None:
    review = review_code("import json\nimport pickle\nimport pandas_does_not_exist\nprint(json.dumps(1))\n")
    by_rule = {f.rule: f for f in review.findings if f.check == "modules"}
    assert by_rule["modules.unsafe-module"].severity is Severity.info
    assert by_rule["modules.not-found"].severity is Severity.info
    assert by_rule["modules.not-found"].fixable
    assert review.ok
    assert review.fixed_code is not None
    assert "pandas" not in review.fixed_code


def test_used_unavailable_module_stays_an_error() -> None:
    review = review_code("import pandas_does_not_exist as pd\nprint(pd.DataFrame())\n")
    assert [(f.rule, f.severity) for f in review.findings if f.check == "modules"] == [
        ("modules.not-found", Severity.error)
    ]


@pytest.mark.parametrize("path", corpus_files("broken", "imp_"), ids=lambda p: p.name)
def test_broken_corpus(path: Path) -> None:
    review = review_code(path.read_text())
    found = {(f.rule, f.severity) for f in review.findings}
    for expected in expectations(path):
        assert expected in found, f"{path.name}: {expected} not in {sorted(found)}"


@pytest.mark.parametrize("path", corpus_files("valid", "imp_"), ids=lambda p: p.name)
def test_valid_corpus(path: Path) -> None:
    assert review_code(path.read_text()).errors() == []
