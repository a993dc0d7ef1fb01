"""State that moto cannot produce, set by the seeder through the emulator's private endpoints: an access key's
creation and last use, and targets failing their health checks; a plain moto server refuses it clearly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudinspect.cloud import Emulator, Scenario, SeedError, seed_scenario, start_emulator, start_server

pytestmark = pytest.mark.e2e

SCENARIO = Scenario.model_validate(
    {
        "name": "fault-state",
        "description": "Old keys and failing targets.",
        "iam": {
            "users": [
                {
                    "name": "old-admin",
                    "access_keys": 2,
                    "key_history": [{"created": "-400d", "last_used": "-200d", "service": "cloudformation"}],
                },
                {"name": "fresh", "access_keys": 1},
            ]
        },
        "ec2": {
            "vpcs": [
                {"name": "v", "cidr": "10.0.0.0/16", "subnets": [{"name": "s", "cidr": "10.0.1.0/24", "az": "a"}]}
            ],
            "instances": [
                {"name": "web-1", "subnet": "s"},
                {"name": "web-2", "subnet": "s"},
                {"name": "web-3", "subnet": "s", "state": "stopped"},
            ],
        },
        "elbv2": {
            "target_groups": [
                {
                    "name": "web",
                    "vpc": "v",
                    "targets": ["web-*"],
                    "unhealthy": [
                        {"targets": ["web-2"], "reason": "Target.Timeout", "description": "Request timed out"},
                        {"targets": ["web-3"]},
                    ],
                },
                {"name": "other", "vpc": "v", "targets": ["web-2"]},
            ]
        },
    }
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with start_emulator(SCENARIO) as emulator:
        yield emulator


def _keys(emu: Emulator, user: str) -> list[dict[str, Any]]:
    return emu.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]  # type: ignore[no-any-return]


def test_access_key_history_is_what_the_scenario_says(emu: Emulator) -> None:
    assert emu.seed_report is not None
    anchor = emu.seed_report.anchor
    iam = emu.client("iam")
    keys = _keys(emu, "old-admin")
    old = next(k for k in keys if k["CreateDate"] < anchor - timedelta(days=300))
    assert abs(old["CreateDate"] - (anchor - timedelta(days=400))) < timedelta(minutes=1)
    used = iam.get_access_key_last_used(AccessKeyId=old["AccessKeyId"])["AccessKeyLastUsed"]
    assert abs(used["LastUsedDate"] - (anchor - timedelta(days=200))) < timedelta(minutes=1)
    assert used["ServiceName"] == "cloudformation"
    (new,) = (k for k in keys if k is not old)
    assert datetime.now(UTC) - new["CreateDate"] < timedelta(hours=1)
    assert "LastUsedDate" not in iam.get_access_key_last_used(AccessKeyId=new["AccessKeyId"])["AccessKeyLastUsed"]
    (fresh,) = _keys(emu, "fresh")
    assert datetime.now(UTC) - fresh["CreateDate"] < timedelta(hours=1)


def test_failing_targets_report_unhealthy_and_only_in_their_group(emu: Emulator) -> None:
    elb = emu.client("elbv2")
    names = {
        i["InstanceId"]: next(t["Value"] for t in i["Tags"] if t["Key"] == "Name")
        for r in emu.client("ec2").describe_instances()["Reservations"]
        for i in r["Instances"]
    }

    def health(group: str) -> dict[str, tuple[str, str | None, str | None]]:
        arn = elb.describe_target_groups(Names=[group])["TargetGroups"][0]["TargetGroupArn"]
        described = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        return {
            names[d["Target"]["Id"]]: (
                d["TargetHealth"]["State"],
                d["TargetHealth"].get("Reason"),
                d["TargetHealth"].get("Description"),
            )
            for d in described
        }

    assert health("web") == {
        "web-1": ("healthy", None, None),
        "web-2": ("unhealthy", "Target.Timeout", "Request timed out"),
        # a stopped target reports that, whatever its health checks said before
        "web-3": ("unused", "Target.InvalidState", "Target is in the stopped state"),
    }
    assert health("other") == {"web-2": ("healthy", None, None)}


def test_a_plain_moto_server_cannot_take_the_state() -> None:
    server = start_server(patches=False)
    try:
        with pytest.raises(SeedError, match=r"cannot set access key .*only cloudinspect's emulator can"):
            seed_scenario(server.endpoint_url, SCENARIO)
    finally:
        server.stop()
