"""The fault scenarios: each validates, names labels of the vocabulary and prompts of the catalogue, and, seeded
on a real moto server, its evidence prompts' reference scripts flag the faulty resources and not a noise one."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.reference import run_reference
from cloudinspect.cloud import Emulator, load_scenarios, start_emulator
from cloudinspect.troubleshoot.findings import check_fault, load_findings, unknown_labels

CATALOG = load_catalog([])
SCENARIOS = load_scenarios([])
FAULTS = {name: scenario.fault for name, scenario in sorted(SCENARIOS.items()) if scenario.fault is not None}

NOISE = {
    "fault-alb-unhealthy-targets": "api-internal-tg",
    "fault-dynamodb-throttling": "product-catalog",
    "fault-ebs-unencrypted-prod": "prod-app-1",
    "fault-ec2-cpu-saturated": "build-runner",
    "fault-iam-stale-admin-key": "ci-pipeline",
    "fault-lambda-timeout": "invoice-renderer",
    "fault-rds-storage-full": "analytics-db",
    "fault-s3-public-bucket": "acme-web-assets",
    "fault-sg-ssh-open": "prod-api-2",
    "fault-sqs-dlq-growing": "email-jobs-dlq",
}
"""A resource of each scenario that resembles the faulty one but is fine: the evidence must not flag it."""


def _instance_names(emu: Emulator, ids: list[str]) -> list[str]:
    if not ids:
        return []
    reservations = emu.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    tags = [t for r in reservations for i in r["Instances"] for t in i.get("Tags", [])]
    return [t["Value"] for t in tags if t["Key"] == "Name"]


def _open_groups(out: Any, emu: Emulator) -> list[str]:
    exposed = [g for g in out["groups"] if g["running_instance_ids"]]
    ids = sorted({i for g in exposed for i in g["running_instance_ids"]})
    return [g["group_name"] for g in exposed] + _instance_names(emu, ids)


FLAGGED: dict[str, Callable[[Any, Emulator], list[str]]] = {
    "lambda-duration-near-timeout": lambda out, _: [f["name"] for f in out["functions"]],
    "logs-lambda-timeouts": lambda out, _: [f["function"] for f in out["functions"]],
    "s3-public-buckets": lambda out, _: [b["bucket"] for b in out["buckets"] if b["effectively_public"]],
    "ec2-open-security-groups": _open_groups,
    "cloudwatch-ec2-cpu-utilization": lambda out, _: [i["name"] for i in out["instances"] if i["status"] == "hot"],
    "sqs-dead-letter-queue-backlog": lambda out, _: [
        name for q in out["dead_letter_queues"] for name in [q["name"], *q["source_queues"]]
    ],
    "dynamodb-throttled-tables": lambda out, _: [t["name"] for t in out["tables"]],
    "elbv2-target-group-health": lambda out, _: [
        name
        for tg in out["target_groups"]
        if tg["issue"] == "unhealthy-targets"
        for name in [tg["name"], *(t["instance_name"] for t in tg["problem_targets"])]
    ],
    "iam-access-keys-audit": lambda out, _: [
        u["user_name"] for u in out["users"] if any(k["stale"] for k in u["keys"])
    ],
    "iam-admin-principals": lambda out, _: [p["name"] for p in out["principals"] if p["type"] == "user"],
    "ec2-unencrypted-volumes-in-use": lambda out, _: [v["instance_name"] for v in out["volumes"]],
    "rds-free-storage-headroom": lambda out, _: [i["db_instance_id"] for i in out["instances"] if i["low"]],
}
"""What an evidence prompt's output flags (names of resources), by prompt id."""


def test_at_least_ten_fault_scenarios_spread_over_services() -> None:
    assert len(FAULTS) >= 10
    assert set(NOISE) == set(FAULTS), "every fault scenario needs a noise resource here"
    services = {s for fault in FAULTS.values() for p in fault.evidence_prompts for s in CATALOG[p].services}
    assert len(services) >= 8, services
    assert len({label for fault in FAULTS.values() for label in fault.expected_findings}) >= 10


@pytest.mark.parametrize("name", FAULTS)
def test_fault_is_complete_and_known(name: str) -> None:
    scenario, fault = SCENARIOS[name], FAULTS[name]
    check_fault(scenario, CATALOG)
    assert unknown_labels(fault.expected_findings) == []
    assert fault.evidence_prompts
    assert fault.resources
    assert set(fault.evidence_prompts) <= set(FLAGGED), "add an extractor to FLAGGED for the new evidence prompt"
    for label in fault.expected_findings:
        assert label not in fault.problem.lower(), "the problem must not name the root cause"
        # the vocabulary points at the same evidence the scenario declares, at least in part
        assert set(load_findings()[label].evidence_prompts) & set(fault.evidence_prompts), label
    assert NOISE[name] not in fault.resources
    scale = sum(sum(kinds.values()) for kinds in scenario.resource_counts().values())
    assert 8 <= scale <= 300, f"{name} has {scale} resources: keep fault scenarios small"
    assert len(scenario.services) >= 3, "a fault scenario needs other services around the fault (noise)"


@pytest.mark.e2e
@pytest.mark.parametrize("name", FAULTS)
def test_evidence_flags_the_faulty_resources(name: str) -> None:
    fault = FAULTS[name]
    with start_emulator(name) as emu:

        def flagged(prompt_id: str) -> tuple[str, list[str]]:
            prompt = CATALOG[prompt_id]
            run = run_reference(prompt, emu.env())
            assert run.returncode == 0, f"{prompt_id}: exit {run.returncode}\n{run.stderr[-1500:]}"
            assert prompt.contract.validate_output(run.output) == [], prompt_id
            return prompt_id, FLAGGED[prompt_id](run.output, emu)

        with ThreadPoolExecutor(max_workers=2) as pool:
            by_prompt = dict(pool.map(flagged, fault.evidence_prompts))
    for prompt_id, names in by_prompt.items():
        assert set(names) & set(fault.resources), f"{prompt_id} flags {names}, none of {fault.resources}"
        assert NOISE[name] not in names, f"{prompt_id} flags the noise resource {NOISE[name]}"
    everything = {n for names in by_prompt.values() for n in names}
    assert set(fault.resources) <= everything, f"not shown by any evidence prompt: {set(fault.resources) - everything}"
