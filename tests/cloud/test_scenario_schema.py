"""The scenario schema: errors that name file, field and line; generators; references; built-in scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudinspect.cloud import get_scenario, load_scenario_file, load_scenarios
from cloudinspect.cloud.scenario import SERVICE_SECTIONS, IamUser, Scenario, expand_all
from cloudinspect.errors import InputError, UnknownIdError

BUILTIN = load_scenarios([])
GENERAL = {name: s for name, s in BUILTIN.items() if s.fault is None}
"""The built-in scenarios that describe whole accounts (fault scenarios are small on purpose: tests/troubleshoot)."""

MINIMAL = """\
name: {name}
description: A tiny scenario for tests.
"""


def write(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problem_of(exc: pytest.ExceptionInfo[InputError]) -> tuple[str | None, int | None, str]:
    problem = exc.value.problems[0]
    return problem.field, problem.line, problem.message


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.format(name="tiny") + "iam:\n  users: [{name: a\n")
    with pytest.raises(InputError) as exc:
        load_scenario_file(path)
    assert "malformed YAML" in str(exc.value)
    assert str(path) in str(exc.value)
    assert exc.value.problems[0].line is not None


def test_unknown_field_names_field_and_line(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + "s3:\n  buckets:\n    - name: b1\n      encrypton: none\n"
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    assert problem_of(exc) == ("s3.buckets.0.encrypton", 6, "unknown field (not part of the schema)")
    assert exc.value.exit_code == 2


def test_bad_type_names_field_line_and_value(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + "lambda:\n  functions:\n    - name: f\n      role: r\n      memory: lots\n"
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    fields = {p.field: p for p in exc.value.problems}
    assert fields["lambda.functions.0.memory"].line == 7
    assert "'lots'" in fields["lambda.functions.0.memory"].message


def test_name_must_match_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, MINIMAL.format(name="other")))
    assert problem_of(exc)[0] == "name"


def test_dangling_reference_names_field_and_line(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + (
        "sqs:\n  queues:\n    - {name: q1}\n    - {name: q2, dead_letter_queue: q1-dlq}\n"
    )
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    field, line, message = problem_of(exc)
    assert field == "sqs.queues.1.dead_letter_queue"
    assert line == 6
    assert "no queue named 'q1-dlq'" in message


def test_generator_needs_a_placeholder(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + "iam:\n  users:\n    - {name: svc-user, count: 3}\n"
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    field, line, message = problem_of(exc)
    assert field == "iam.users.0"
    assert line == 5
    assert "'{i}'" in message


def test_cycle_rejects_unknown_fields_and_bad_values(tmp_path: Path) -> None:
    bad_field = MINIMAL.format(name="tiny") + 'iam:\n  users:\n    - {name: "u{i}", count: 2, cycle: {colour: [red]}}\n'
    with pytest.raises(InputError, match="colour"):
        load_scenario_file(write(tmp_path, bad_field))
    bad_value = (
        MINIMAL.format(name="tiny") + 'iam:\n  users:\n    - {name: "u{i}", count: 2, cycle: {mfa: [yes-please]}}\n'
    )
    with pytest.raises(InputError, match="generated item 'u1'"):
        load_scenario_file(write(tmp_path, bad_value))


def test_generators_expand_names_cycles_tags_and_nested_names() -> None:
    user = IamUser.model_validate(
        {"name": "svc-user-{i:03d}", "count": 5, "cycle": {"console": [True, False]}, "tags": {"Id": "u{i}"}}
    )
    users = user.expand()
    assert [u.name for u in users] == [f"svc-user-{i:03d}" for i in range(1, 6)]
    assert [u.console for u in users] == [True, False, True, False, True]
    assert users[2].tags == {"Id": "u3"}

    scenario = BUILTIN["baseline"]
    workers = [i for i in expand_all(scenario.ec2.instances) if i.name.startswith("payments-worker")]
    assert [v.name for w in workers for v in w.volumes] == ["payments-worker-01-data", "payments-worker-02-data"]
    lakes = [b for b in expand_all(scenario.s3.buckets) if b.name.startswith("acme-data-lake")]
    assert len(lakes) == 3
    assert all(len(expand_all(b.objects)) == 4 for b in lakes)  # nested generators keep their own numbering


def test_builtin_scenarios_are_valid_complete_and_different() -> None:
    assert {"baseline", "startup", "scale"} <= set(BUILTIN)
    counts = {name: s.resource_counts() for name, s in BUILTIN.items()}
    for name, scenario in GENERAL.items():
        assert scenario.services == list(SERVICE_SECTIONS), name  # every service has resources
        assert len(scenario.services) >= 13
    for a, b in [("baseline", "startup"), ("baseline", "scale"), ("startup", "scale")]:
        assert counts[a] != counts[b]
        fns_a = {f.name for f in expand_all(BUILTIN[a].lambda_.functions)}
        fns_b = {f.name for f in expand_all(BUILTIN[b].lambda_.functions)}
        assert not fns_a & fns_b, f"{a} and {b} share function names"


def test_scale_is_beyond_first_pages() -> None:
    counts = BUILTIN["scale"].resource_counts()
    assert counts["iam"]["users"] > 100
    assert counts["iam"]["roles"] > 100
    assert counts["lambda"]["functions"] > 50
    assert counts["logs"]["log_groups"] > 50
    assert counts["sns"]["topics"] > 100
    assert counts["dynamodb"]["tables"] > 100
    assert counts["sqs"]["queues"] > 100
    assert counts["secretsmanager"]["secrets"] > 100
    assert counts["cloudwatch"]["alarms"] > 100
    biggest = max(len(expand_all(b.objects)) for b in expand_all(BUILTIN["scale"].s3.buckets))
    assert biggest > 1000


def test_user_directory_overrides_builtin_by_name(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL.format(name="baseline"), name="baseline")
    write(tmp_path, MINIMAL.format(name="tiny"), name="tiny")
    assert get_scenario("baseline", [tmp_path]).description == "A tiny scenario for tests."
    assert set(load_scenarios([tmp_path])) >= {"baseline", "startup", "scale", "tiny"}


def test_unknown_scenario_is_an_input_error() -> None:
    with pytest.raises(UnknownIdError) as exc:
        get_scenario("baselin", [])
    assert exc.value.exit_code == 2
    assert "did you mean 'baseline'" in str(exc.value)


def test_scenario_dump_round_trips() -> None:
    scenario = BUILTIN["startup"]
    again = Scenario.model_validate(scenario.model_dump(by_alias=True, exclude_defaults=True))
    assert again.resource_counts() == scenario.resource_counts()


def test_privileged_containers_need_ec2(tmp_path: Path) -> None:
    fargate = (
        MINIMAL.format(name="tiny") + "ecs:\n  task_definitions:\n    - {family: agent, image: a:1, privileged: true}\n"
    )
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, fargate))
    field, line, message = problem_of(exc)
    assert (field, line) == ("ecs.task_definitions.0", 5)
    assert "compatibility: EC2" in message
    ec2 = fargate.replace("privileged: true", "privileged: true, compatibility: EC2")
    assert expand_all(load_scenario_file(write(tmp_path, ec2)).ecs.task_definitions)[0].privileged


def test_service_launch_type_must_suit_its_task_definition(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + (
        "ecs:\n  task_definitions:\n    - {family: agent, image: a:1, compatibility: EC2}\n"
        "  clusters:\n    - name: c\n      services:\n        - {name: s, task_definition: agent}\n"
    )
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    field, _, message = problem_of(exc)
    assert field == "ecs.clusters.0.services.0.launch_type"
    assert message == "launch type FARGATE but task definition 'agent' requires EC2"
    fixed = text.replace("task_definition: agent}", "task_definition: agent, launch_type: EC2}")
    assert list(load_scenario_file(write(tmp_path, fixed)).reference_problems()) == []


def test_imds_is_a_choice_and_only_some_builtin_instances_accept_imdsv1(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + "ec2:\n  instances:\n    - {name: a, subnet: s, imds: sometimes}\n"
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    assert problem_of(exc)[0] == "ec2.instances.0.imds"
    for name, scenario in GENERAL.items():
        settings = {i.imds for i in expand_all(scenario.ec2.instances)}
        assert {"required", "optional"} <= settings, name
    accepting = {
        name: sorted(i.name for i in expand_all(s.ec2.instances) if i.imds == "optional") for name, s in GENERAL.items()
    }
    assert len({tuple(names) for names in accepting.values()}) == len(accepting)


FAULT = """\
fault:
  name: slow-fn
  root_cause: fn times out because its downstream hangs.
  problem: Our function keeps failing since this morning.
  expected_findings: [{label}]
  evidence_prompts: [lambda-duration-near-timeout]
  resources: [{resource}]
iam:
  roles: [{{name: r, trust: [lambda.amazonaws.com]}}]
lambda:
  functions: [{{name: fn, role: r}}]
"""


def test_fault_fields_are_normalised_and_resources_checked(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + FAULT.format(label="lambda-timeout", resource="fn")
    fault = load_scenario_file(write(tmp_path, text)).fault
    assert fault is not None
    assert fault.root_cause == "fn times out because its downstream hangs."
    assert fault.evidence_prompts == ["lambda-duration-near-timeout"]

    text = MINIMAL.format(name="tiny") + FAULT.format(label="lambda-timeout", resource="fn-typo")
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    assert problem_of(exc) == ("fault.resources.0", 9, "no resource named 'fn-typo' in this scenario")


def test_unknown_finding_label_is_an_input_error_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + FAULT.format(label="lambda-slowness", resource="fn")
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    field, line, message = problem_of(exc)
    assert (field, line) == ("fault.expected_findings", 7)
    assert "unknown finding label(s) 'lambda-slowness'" in message


def test_fault_needs_a_problem(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + FAULT.format(label="lambda-timeout", resource="fn").replace(
        "  problem: Our function keeps failing since this morning.\n", ""
    )
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    assert problem_of(exc)[0] == "fault.problem"


def test_key_history_cannot_describe_more_keys_than_the_user_has() -> None:
    with pytest.raises(ValueError, match="key_history describes 2 keys but the user has 1"):
        IamUser.model_validate({"name": "u", "access_keys": 1, "key_history": [{"created": "-9d"}, {}]})
    history = [{"created": "-9d", "last_used": "-10d"}]
    with pytest.raises(ValueError, match="last_used is before created"):
        IamUser.model_validate({"name": "u", "access_keys": 1, "key_history": history})


def test_unhealthy_targets_must_be_targets_of_the_group(tmp_path: Path) -> None:
    text = MINIMAL.format(name="tiny") + (
        "ec2:\n"
        "  vpcs: [{name: v, cidr: 10.0.0.0/16, subnets: [{name: s, cidr: 10.0.1.0/24, az: a}]}]\n"
        "  instances: [{name: web-1, subnet: s}, {name: api-1, subnet: s}]\n"
        "elbv2:\n"
        "  target_groups:\n"
        "    - name: tg\n"
        "      vpc: v\n"
        "      targets: [web-*]\n"
        "      unhealthy: [{targets: [web-1, api-1]}]\n"
    )
    with pytest.raises(InputError) as exc:
        load_scenario_file(write(tmp_path, text))
    assert problem_of(exc) == (
        "elbv2.target_groups.0.unhealthy.0.targets.1",
        11,
        "'api-1' matches no instance among the group's targets",
    )


def test_fault_scenario_dump_round_trips() -> None:
    for name in ("fault-iam-stale-admin-key", "fault-alb-unhealthy-targets"):
        scenario = BUILTIN[name]
        again = Scenario.model_validate(scenario.model_dump(by_alias=True, exclude_defaults=True))
        assert again == scenario
