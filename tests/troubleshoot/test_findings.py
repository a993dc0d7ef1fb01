"""The finding vocabulary: loads, points at real catalogue prompts, covers every fault scenario with distractors
beside, renders its command templates, and rejects bad files and unknown labels with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cloudinspect.catalog import load_catalog
from cloudinspect.cloud import load_scenarios
from cloudinspect.cloud.scenario import Scenario
from cloudinspect.errors import InputError, UnknownIdError
from cloudinspect.troubleshoot.findings import (
    check_fault,
    check_labels,
    findings_file,
    get_finding,
    load_findings,
    load_findings_file,
    unknown_labels,
)

FINDINGS = load_findings()


def test_every_label_points_at_prompts_of_the_catalogue() -> None:
    catalog = load_catalog([])
    for label, finding in FINDINGS.items():
        assert finding.id == label
        missing = [p for p in finding.evidence_prompts if p not in catalog]
        assert not missing, f"{label}: no catalogue prompt {missing}"
        # a label's services are among those its evidence prompts inspect
        inspected = {s for p in finding.evidence_prompts for s in catalog[p].services}
        assert set(finding.services) & inspected, label


def test_fault_labels_are_covered_and_each_has_a_distractor() -> None:
    faults = [s.fault for s in load_scenarios([]).values() if s.fault is not None]
    used = {label for fault in faults for label in fault.expected_findings}
    assert used <= set(FINDINGS)
    distractors = set(FINDINGS) - used
    assert len(distractors) >= 10
    for expected in ("lambda-throttling", "lambda-errors-after-deploy", "iam-user-without-mfa"):
        assert expected in distractors
    # every fault label has a distractor on one of its services, so a diagnosis has to choose between them
    for label in used:
        rivals = [d for d in distractors if set(FINDINGS[d].services) & set(FINDINGS[label].services)]
        assert rivals, label


def test_remediation_templates_render_named_placeholders_only() -> None:
    guide = get_finding("lambda-timeout").remediation
    assert guide.placeholders() == ["function_name", "alias", "previous_version", "timeout_seconds"]
    rendered = guide.render({"function_name": "order-processor", "timeout_seconds": "10"})
    assert rendered[2] == "aws lambda update-function-configuration --function-name order-processor --timeout 10"
    assert "--name {alias}" in rendered[1]
    # JSON arguments keep their braces; the placeholder inside is still one
    sqs = get_finding("sqs-queue-without-dlq").remediation
    assert sqs.placeholders() == ["queue_url", "dlq_arn"]
    assert '"deadLetterTargetArn\\":\\"arn:aws:sqs:x\\"' in sqs.render({"dlq_arn": "arn:aws:sqs:x"})[0]


def test_load_findings_is_read_once_and_safe_to_change() -> None:
    first = load_findings()
    first.pop("lambda-timeout")
    assert "lambda-timeout" in load_findings()
    assert load_findings()["lambda-timeout"] is get_finding("lambda-timeout")


def test_unknown_labels_are_input_errors() -> None:
    assert unknown_labels(["lambda-timeout", "lambda-slow", "lambda-slow", "x"]) == ["lambda-slow", "x"]
    with pytest.raises(UnknownIdError) as exc:
        get_finding("lambda-timout")
    assert exc.value.exit_code == 2
    assert "did you mean 'lambda-timeout'" in str(exc.value)
    with pytest.raises(InputError) as bad:
        check_labels(["lambda-timeout", "made-up"], "diagnosis.json", "hypotheses.0.labels")
    assert [(p.field, p.message) for p in bad.value.problems] == [
        ("hypotheses.0.labels", "unknown finding label 'made-up'")
    ]


def test_check_fault_names_evidence_prompts_the_catalogue_lacks() -> None:
    scenario = load_scenarios([])["fault-lambda-timeout"]
    check_fault(scenario, load_catalog([]))
    assert scenario.fault is not None
    broken = Scenario.model_validate(
        {
            **scenario.model_dump(by_alias=True, exclude_defaults=True),
            "fault": {**scenario.fault.model_dump(), "evidence_prompts": ["logs-lambda-timeouts", "lambda-slowness"]},
        }
    )
    with pytest.raises(InputError) as exc:
        check_fault(broken, load_catalog([]), source="fault-lambda-timeout.yaml")
    assert [(p.field, p.message) for p in exc.value.problems] == [
        ("fault.evidence_prompts.1", "no catalogue prompt 'lambda-slowness'")
    ]
    assert "fault-lambda-timeout.yaml" in str(exc.value)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda f: f[0].update(id="Lambda_Timeout"), "findings.0.id", "String should match pattern"),
        (lambda f: f[0].update(services=["lambda", "lamda"]), "findings.0.services", "not botocore service names"),
        (
            lambda f: f[0]["remediation"].update(commands=["rm -rf /"]),
            "findings.0.remediation.commands",
            "not an AWS CLI command",
        ),
        (lambda f: f[0].update(evidence_prompts=[]), "findings.0.evidence_prompts", "at least 1 item"),
        (lambda f: f.append(dict(f[0])), "findings", "label 'lambda-timeout' is defined twice"),
        (lambda f: f[0].update(remedy="x"), "findings.0.remedy", "unknown field"),
    ],
)
def test_bad_vocabulary_files_name_the_field(tmp_path: Path, change: object, field: str, message: str) -> None:
    data = yaml.safe_load(findings_file().read_text(encoding="utf-8"))
    change(data["findings"])  # type: ignore[operator]
    path = tmp_path / "findings.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_findings_file(path)
    problem = exc.value.problems[0]
    assert problem.field == field
    assert message in problem.message
    assert problem.line is not None
