"""The least-privilege IAM policy derived from a script's API calls, and the `iam` check."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from cloudinspect.config import get_settings, resources_dir
from cloudinspect.review.access import operation_access
from cloudinspect.review.checks.iam import IamCheck
from cloudinspect.review.iam import derive_iam_policy, plan_policy
from cloudinspect.review.types import ApiCall, ReviewContext

CATALOG = resources_dir() / "catalog" / "aws"
REFERENCE_SCRIPTS = sorted(CATALOG.rglob("*.py"))


@pytest.fixture(autouse=True)
def _no_refreshed_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CLOUDINSPECT_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def call(service: str, operation: str, *, valid: bool = True, line: int = 1) -> ApiCall:
    return ApiCall(service=service, operation=operation, method=xform_name(operation), line=line, valid=valid)


def test_policy_groups_by_service_with_sorted_real_action_names() -> None:
    policy = derive_iam_policy(
        [
            call("s3", "ListObjectsV2"),
            call("s3", "ListBuckets"),
            call("s3", "HeadObject"),
            call("s3", "GetObject"),
            call("cloudwatch", "GetMetricStatistics"),
            call("elbv2", "DescribeLoadBalancers"),
            call("elbv2", "DescribeTargetHealth"),
            call("s3", "ListObjectsV2", line=9),
        ]
    )
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Cloudwatch",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricStatistics"],
                "Resource": "*",
            },
            {
                "Sid": "Elasticloadbalancing",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                "Resource": "*",
            },
            {
                "Sid": "S3",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListAllMyBuckets", "s3:ListBucket"],
                "Resource": "*",
            },
        ],
    }
    json.dumps(policy)


def test_invalid_and_permission_free_calls_add_nothing() -> None:
    policy = derive_iam_policy([call("sts", "GetCallerIdentity"), call("ec2", "DescribeFlyingSaucers", valid=False)])
    assert policy == {"Version": "2012-10-17", "Statement": []}


def test_writes_are_left_out_unless_asked_for() -> None:
    calls = [call("ec2", "DescribeInstances"), call("ec2", "TerminateInstances"), call("iam", "AttachRolePolicy")]
    read_only = derive_iam_policy(calls)
    assert [s["Action"] for s in read_only["Statement"]] == [["ec2:DescribeInstances"]]
    everything = derive_iam_policy(calls, include_writes=True)
    assert [s["Action"] for s in everything["Statement"]] == [
        ["ec2:DescribeInstances", "ec2:TerminateInstances"],
        ["iam:AttachRolePolicy"],
    ]
    plan = plan_policy(calls)
    assert [reason for _, _, reason in plan.excluded] == [
        "ec2:TerminateInstances is not a read (access level Write)",
        "iam:AttachRolePolicy is not a read (access level Permissions management, Write)",
    ]


def test_sid_is_alphanumeric() -> None:
    policy = derive_iam_policy([call("accessanalyzer", "ListAnalyzers")])
    assert policy["Statement"][0]["Sid"] == "AccessAnalyzer"
    assert policy["Statement"][0]["Action"] == ["access-analyzer:ListAnalyzers"]


def test_iam_check_sets_the_policy_and_warns_about_unknown_actions() -> None:
    ctx = ReviewContext("print(1)\n")
    ctx.__dict__["api_calls"] = [call("logs", "FilterLogEvents"), call("ec2", "DescribeFlyingSaucers", line=3)]
    findings = IamCheck().run(ctx)
    assert ctx.iam_policy is not None
    assert ctx.iam_policy["Statement"][0]["Action"] == ["logs:FilterLogEvents"]
    assert [(f.rule, f.severity.value, f.line) for f in findings] == [("iam.unknown-action", "warning", 3)]


# --- acceptance: every operation the catalogue's reference scripts call ---------------------------------------


@cache
def _operations_by_method(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def _grep_operations(path: Path) -> set[tuple[str, str]]:
    """Operations a reference script calls, found without the api analysis: method names (and paginator and
    waiter names) of the services it creates clients for, matched against botocore's operation names."""
    source = path.read_text()
    services = set(re.findall(r"""\.(?:client|resource)\(\s*["']([\w-]+)["']""", source))
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get_paginator", "get_waiter")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    found = set()
    for service in services:
        methods = _operations_by_method(service)
        found |= {(service, methods[name]) for name in names if name in methods}
    return found


def _catalogue_operations() -> set[tuple[str, str]]:
    operations: set[tuple[str, str]] = set()
    for path in REFERENCE_SCRIPTS:
        operations |= _grep_operations(path)
    return operations


def test_the_catalogue_calls_many_operations() -> None:
    operations = _catalogue_operations()
    assert len(REFERENCE_SCRIPTS) >= 50
    assert len(operations) >= 50
    assert ("s3", "ListObjectsV2") in operations


@pytest.mark.parametrize(("service", "operation"), sorted(_catalogue_operations()))
def test_catalogue_operation_maps_to_a_read_action(service: str, operation: str) -> None:
    found = operation_access(service, operation)
    assert found.known, f"{service} {operation}: {found}"
    assert found.read_only is True
    for action in found.actions:
        assert action.levels <= {"Read", "List"}, action


def test_catalogue_operations_found_by_the_api_analysis_map_to_read_actions() -> None:
    api = pytest.importorskip("cloudinspect.review.api", reason="the api analysis is not there yet")
    seen: set[tuple[str, str]] = set()
    for path in REFERENCE_SCRIPTS:
        calls = api.extract_api_calls(ast.parse(path.read_text()))
        assert all(c.valid for c in calls), [c for c in calls if not c.valid]
        seen |= {(c.service, c.operation) for c in calls}
    assert len(seen) >= 50
    for service, operation in sorted(seen):
        found = operation_access(service, operation)
        assert found.read_only is True, f"{service} {operation}: {found}"
        assert all(a.is_read for a in found.actions)
