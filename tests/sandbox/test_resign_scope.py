"""Scoping the profile's credentials without a role: long-term keys become a federation token under the session
policy the review derives for the script; temporary ones are kept and reported; a bridge with no run's re-signer
signs nothing. The moto server plays STS (GetFederationToken answers with keys of its own) and, behind the
recording proxy of `_upstream.py`, "real AWS"."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cloudinspect.cli import build_app
from cloudinspect.cloud import AwsTarget, Emulator
from cloudinspect.sandbox import ApiCallRecord, ExecResult, execute, scope_notes
from cloudinspect.sandbox.bridge import start_bridge
from cloudinspect.sandbox.execute import aws_resigner, review_session_policy
from cloudinspect.sandbox.resign import (
    DUMMY_ACCESS_KEY,
    READ_ONLY_ACCESS_ARN,
    SESSION_NAME_PREFIX,
    Resigner,
    ResignerSlot,
    target_credentials,
)
from tests.sandbox._upstream import (
    CANARY_KEY,
    CANARY_SECRET,
    CANARY_TOKEN,
    Recorder,
    capturing_factory,
    dummy_client,
    plant_profile,
)
from tests.sandbox.conftest import needs_sandbox

execute_module = importlib.import_module("cloudinspect.sandbox.execute")  # the package's `execute` is the function

VPCS = """
import boto3, json
print(json.dumps({"vpcs": len(boto3.client("ec2").describe_vpcs()["Vpcs"])}))
"""
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeVpcs"], "Resource": "*"}],
}


def _federation_calls(captured: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [params for operation, params in captured if operation == "GetFederationToken"]


# --- which credentials, under which policy ------------------------------------------------------------------------


def test_long_term_keys_become_a_federation_token_under_the_derived_policy(
    canary_profile: str, baseline_emulator: Emulator
) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    scoped = target_credentials(
        canary_profile,
        session_policy=POLICY,
        session_factory=capturing_factory(captured),
        sts_endpoint_url=baseline_emulator.endpoint_url,
    )
    assert scoped.scope == "federation-token-policy"
    frozen = scoped.credentials.get_frozen_credentials()
    assert frozen.access_key != CANARY_KEY
    assert frozen.secret_key != CANARY_SECRET
    assert frozen.token
    assert [operation for operation, _ in captured] == ["GetFederationToken"]
    params = captured[0][1]
    assert json.loads(params["Policy"]) == POLICY
    assert "PolicyArns.member.1.arn" not in params
    assert re.fullmatch(re.escape(SESSION_NAME_PREFIX) + r"[0-9a-f]{12}", params["Name"])
    assert len(params["Name"]) <= 32
    assert params["DurationSeconds"] == 3600


def test_a_federation_token_without_an_inline_policy_gets_read_only_access(
    canary_profile: str, baseline_emulator: Emulator
) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    huge = {"Statement": [{"Effect": "Allow", "Action": [f"ec2:Describe{i}" for i in range(300)], "Resource": "*"}]}
    for policy in (None, huge):  # none derived, or too long to pass inline (2048 packed characters)
        scoped = target_credentials(
            canary_profile,
            session_policy=policy,
            session_factory=capturing_factory(captured),
            sts_endpoint_url=baseline_emulator.endpoint_url,
        )
        assert scoped.scope == "federation-token-policy"
    calls = _federation_calls(captured)
    assert len(calls) == 2
    for params in calls:
        assert params["PolicyArns.member.1.arn"] == READ_ONLY_ACCESS_ARN
        assert "Policy" not in params


def test_temporary_credentials_are_kept_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = plant_profile(tmp_path, monkeypatch, token=CANARY_TOKEN)
    captured: list[tuple[str, dict[str, Any]]] = []
    # No STS endpoint is reachable here: GetFederationToken (refused by AWS to a session) must not be tried.
    scoped = target_credentials(profile, session_policy=POLICY, session_factory=capturing_factory(captured))
    assert scoped.scope == "unscoped-temporary"
    assert scoped.credentials.get_frozen_credentials().token == CANARY_TOKEN
    assert captured == []


# --- the bridge signs with the federation token --------------------------------------------------------------------


def test_the_bridge_signs_with_the_federation_token(
    canary_profile: str, baseline_emulator: Emulator, upstream: Recorder
) -> None:
    captured: list[tuple[str, dict[str, Any]]] = []
    resigner = aws_resigner(
        AwsTarget(profile=canary_profile),
        VPCS,
        session_factory=capturing_factory(captured),
        sts_endpoint_url=baseline_emulator.endpoint_url,
        resolve_endpoint=lambda service, region: upstream.url,
    )
    assert resigner.scope == "federation-token-policy"
    federation_key = resigner.credentials().get_frozen_credentials().access_key
    assert federation_key != CANARY_KEY
    # The STS call carried the policy the review derives for this very script.
    derived = review_session_policy(VPCS)
    assert derived is not None
    assert "ec2:DescribeVpcs" in json.dumps(derived)
    assert [json.loads(p["Policy"]) for p in _federation_calls(captured)] == [derived]
    with start_bridge(None, None, tcp_port=0, resign=resigner) as bridge:
        assert bridge.endpoint_url is not None
        assert dummy_client("ec2", bridge.endpoint_url).describe_vpcs()["Vpcs"]
    assert upstream.keys() == {federation_key}


def test_a_bridge_with_an_empty_slot_signs_nothing(upstream: Recorder) -> None:
    slot = ResignerSlot()
    with start_bridge(None, None, tcp_port=0, resign=slot) as bridge:
        assert bridge.endpoint_url is not None
        ec2 = dummy_client("ec2", bridge.endpoint_url)
        with pytest.raises(ClientError) as refused:
            ec2.describe_vpcs()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert upstream.seen == []
        before = len(bridge.calls)
        slot.set(Resigner(lambda: Credentials(CANARY_KEY, CANARY_SECRET), "us-east-1", lambda s, r: upstream.url))
        assert ec2.describe_vpcs()["Vpcs"]
        slot.set(None)
        with pytest.raises(ClientError):
            ec2.describe_vpcs()
        calls = bridge.calls
    assert len(upstream.seen) == 1
    assert upstream.keys() == {CANARY_KEY}
    unsigned = calls[:before] + calls[before + 1 :]
    assert unsigned
    assert all(c["error_code"] == "BridgeResignError" for c in unsigned)
    assert all("no run has been handed" in c["reason"] for c in unsigned)
    assert calls[before]["error_code"] is None


# --- end to end: a sandboxed run, and what `cloudinspect exec` tells the user ----------------------------------------


@needs_sandbox
def test_a_scoped_run_never_shows_the_child_any_real_key(
    canary_profile: str, baseline_emulator: Emulator, upstream: Recorder
) -> None:
    probe = """
import boto3, json, os
seen = []
for path in ["/proc/self/environ", "/proc/1/environ", os.path.expanduser("~/.aws/credentials")]:
    try:
        seen.append(open(path, "rb").read().decode("utf-8", "replace"))
    except OSError as exc:
        seen.append(repr(exc))
vpcs = boto3.client("ec2").describe_vpcs()["Vpcs"]
print(json.dumps({"vpcs": len(vpcs), "env": dict(os.environ), "seen": seen}))
"""
    resigner = aws_resigner(
        AwsTarget(profile=canary_profile),
        probe,
        sts_endpoint_url=baseline_emulator.endpoint_url,
        resolve_endpoint=lambda service, region: upstream.url,
    )
    federation = resigner.credentials().get_frozen_credentials()
    result = execute(probe, AwsTarget(profile=canary_profile), resigner=resigner)
    assert result.status == "ok", result.stderr
    assert result.credential_scope == "federation-token-policy"
    assert result.route == "aws-resigning-bridge"
    assert result.output_json["vpcs"] > 0
    assert result.output_json["env"]["AWS_ACCESS_KEY_ID"] == DUMMY_ACCESS_KEY
    text = result.to_json()
    for secret in (CANARY_KEY, CANARY_SECRET, federation.access_key, federation.secret_key, federation.token):
        assert secret not in text
    assert upstream.keys() == {federation.access_key}
    assert scope_notes(result) == []


@needs_sandbox
def test_exec_tells_the_user_to_pass_a_role_for_temporary_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream: Recorder
) -> None:
    profile = plant_profile(tmp_path, monkeypatch, token=CANARY_TOKEN)
    real = execute_module.aws_resigner
    # The CLI resolves the target itself: only the endpoints of "AWS" are redirected to the stand-in.
    monkeypatch.setattr(
        execute_module,
        "aws_resigner",
        lambda target, code, **options: real(
            target, code, resolve_endpoint=lambda service, region: upstream.url, **options
        ),
    )
    script = tmp_path / "vpcs.py"
    script.write_text(VPCS)
    out = CliRunner().invoke(build_app(), ["exec", str(script), "--target", f"aws:{profile}", "--json"])
    assert out.exit_code == 0, out.output
    assert "add ?role=ARN to the target" in out.stderr
    document = json.loads(out.stdout)
    assert document["credential_scope"] == "unscoped-temporary"
    assert CANARY_TOKEN not in out.output
    assert upstream.keys() == {CANARY_KEY}


# --- the notes themselves -------------------------------------------------------------------------------------------


def _result(scope: Any, calls: list[ApiCallRecord] | None = None) -> ExecResult:
    return ExecResult(
        status="error",
        exit_code=1,
        duration_ms=1.0,
        api_calls=calls or [],
        credential_scope=scope,
        route="aws-resigning-bridge",
    )


def test_notes_say_what_the_user_can_do() -> None:
    assert scope_notes(_result("none")) == []
    assert scope_notes(_result("role-session-policy")) == []
    assert "role=" in scope_notes(_result("unscoped-temporary"))[0]
    assert "unscoped" in scope_notes(_result("unscoped-long-term"))[0]
    refused = [
        ApiCallRecord(service="iam", operation="ListUsers", error_code="AccessDenied"),
        ApiCallRecord(service="sts", operation="GetCallerIdentity"),
        ApiCallRecord(service="ec2", operation="DescribeVpcs", error_code="UnauthorizedOperation"),
    ]
    [note] = scope_notes(_result("federation-token-policy", refused))
    assert note.startswith("iam:ListUsers failed")
    assert "role=" in note
    assert scope_notes(_result("federation-token-policy", refused[1:])) == []


def test_old_results_still_validate() -> None:
    old = {"status": "ok", "exit_code": 0, "duration_ms": 1.0}
    assert ExecResult.model_validate_json(json.dumps(old)).credential_scope == "none"
