"""Each scenario seeds into a real moto server, and boto3 sees what the scenario file describes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudinspect.cloud import Emulator, Scenario, start_emulator
from cloudinspect.cloud.inventory import count_resources
from cloudinspect.cloud.scenario import expand_all
from cloudinspect.cloud.series import WINDOW_END

pytestmark = pytest.mark.e2e

Factory = Callable[[str], Emulator]


@pytest.mark.parametrize("scenario", ["startup", "baseline", "scale"])
def test_counts_per_service_match_the_scenario(emulator: Factory, scenario: str) -> None:
    emu = emulator(scenario)
    assert emu.scenario is not None
    assert count_resources(emu.client) == emu.scenario.resource_counts()


def _sum(emu: Emulator, namespace: str, metric: str, dims: dict[str, str], stat: str = "Sum") -> float:
    now = datetime.now(UTC)
    points = emu.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(hours=24),
        EndTime=now,
        Period=86400,
        Statistics=[stat],
    )["Datapoints"]
    return float(sum(p[stat] for p in points)) if stat == "Sum" else float(max((p[stat] for p in points), default=0))


def test_baseline_security_facts(emulator: Factory) -> None:
    emu = emulator("baseline")
    ec2, s3, iam = emu.client("ec2"), emu.client("s3"), emu.client("iam")
    open_ports = {
        (g["GroupName"], p.get("FromPort"))
        for g in ec2.describe_security_groups()["SecurityGroups"]
        for p in g["IpPermissions"]
        if any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", []))
    }
    assert {
        ("prod-bastion-sg", 22),
        ("legacy-rdp-sg", 3389),
        ("staging-web-sg", 22),
        ("prod-alb-sg", 443),
    } <= open_ports
    assert ("debug-all-open-sg", None) in open_ports
    policy = json.loads(s3.get_bucket_policy(Bucket="acme-prod-assets-public")["Policy"])
    assert policy["Statement"][0]["Principal"] == "*"
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_encryption(Bucket="acme-analytics-raw")
    assert iam.list_mfa_devices(UserName="bob.schmidt")["MFADevices"] == []
    assert len(iam.list_mfa_devices(UserName="alice.nguyen")["MFADevices"]) == 1
    keys = iam.list_access_keys(UserName="svc-ci-deploy")["AccessKeyMetadata"]
    assert sorted(k["Status"] for k in keys) == ["Active", "Inactive"]
    attached = iam.list_attached_user_policies(UserName="ivan.petrov")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AdministratorAccess"]
    rds = {d["DBInstanceIdentifier"]: d for d in emu.client("rds").describe_db_instances()["DBInstances"]}
    assert rds["legacy-mysql"]["PubliclyAccessible"]
    assert not rds["legacy-mysql"]["StorageEncrypted"]
    assert rds["legacy-mysql"]["BackupRetentionPeriod"] == 0
    assert rds["orders-db"]["MultiAZ"]
    assert rds["orders-db"]["StorageEncrypted"]
    runtimes = {f["FunctionName"]: f["Runtime"] for f in emu.client("lambda").list_functions()["Functions"]}
    assert runtimes["email-sender"] == "nodejs14.x"
    assert runtimes["inventory-sync"] == "python3.8"


def test_baseline_metrics_alarms_and_logs(emulator: Factory) -> None:
    emu = emulator("baseline")
    fn = {"FunctionName": "order-processor"}
    invocations = _sum(emu, "AWS/Lambda", "Invocations", fn)
    errors = _sum(emu, "AWS/Lambda", "Errors", fn)
    assert invocations > 10_000
    assert 0.05 < errors / invocations < 0.11  # error_rate 0.08
    assert _sum(emu, "AWS/Lambda", "Duration", {"FunctionName": "payment-webhook"}, "Maximum") == 10_000.0
    assert _sum(emu, "AWS/DynamoDB", "ThrottledRequests", {"TableName": "inventory"}) > 0
    assert _sum(emu, "AWS/DynamoDB", "ThrottledRequests", {"TableName": "orders"}) == 0

    cw = emu.client("cloudwatch")
    states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms()["MetricAlarms"]}
    assert states["orders-db-cpu"] == "ALARM"
    assert states["payments-db-cpu"] == "OK"
    assert states["legacy-win-cpu"] == "INSUFFICIENT_DATA"

    logs = emu.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]}
    assert groups["/aws/lambda/order-processor"]["retentionInDays"] == 30
    assert "retentionInDays" not in groups["/aws/lambda/inventory-sync"]
    timeouts = logs.filter_log_events(logGroupName="/aws/lambda/payment-webhook", filterPattern='"Task timed out"')
    assert timeouts["events"]
    assert "Task timed out after 10.00 seconds" in timeouts["events"][0]["message"]
    tracebacks = logs.filter_log_events(logGroupName="/aws/lambda/order-processor", filterPattern="Traceback")
    assert any("KeyError: 'customer_id'" in e["message"] for e in tracebacks["events"])
    reports = logs.filter_log_events(logGroupName="/aws/lambda/image-resizer", filterPattern="REPORT")["events"]
    assert all("Max Memory Used:" in e["message"] for e in reports)


def test_data_is_inside_the_last_day(emulator: Factory) -> None:
    emu = emulator("startup")
    now = datetime.now(UTC)
    events = emu.client("logs").filter_log_events(logGroupName="/loopin/api")["events"]
    stamps = [datetime.fromtimestamp(e["timestamp"] / 1000, UTC) for e in events]
    assert min(stamps) > now - timedelta(hours=24)
    assert max(stamps) < now
    assert len(events) == 600


def test_seeded_values_follow_the_scenario_file(emulator: Factory) -> None:
    """Same scenario, same values: what the emulator holds equals what the file implies, not a fresh draw."""
    emu = emulator("startup")
    assert emu.scenario is not None
    items = emu.client("dynamodb").scan(TableName="feature-flags")["Items"]
    assert sorted(i["pk"]["S"] for i in items) == [f"FEATURE#{k:06d}" for k in range(8)]
    keys = [o["Key"] for o in emu.client("s3").list_objects_v2(Bucket="loopin-db-backups")["Contents"]]
    assert keys == [f"mysql/loopin-{i:02d}.sql.gz" for i in range(1, 8)]
    dlq = {q.name: q for q in expand_all(emu.scenario.sqs.queues)}["jobs-dlq"]
    sqs = emu.client("sqs")
    url = sqs.get_queue_url(QueueName="jobs-dlq")["QueueUrl"]
    attrs: dict[str, Any] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(attrs["Attributes"]["ApproximateNumberOfMessages"]) == dlq.messages


def test_env_points_a_child_at_the_emulator(emulator: Factory) -> None:
    emu = emulator("startup")
    env = emu.env()
    assert env["AWS_ENDPOINT_URL"] == emu.endpoint_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"]
    assert env["AWS_SECRET_ACCESS_KEY"]
    assert emu.endpoint_url.startswith("http://127.0.0.1:")


def test_list_metrics_filters_by_dimension_name_alone(emulator: Factory) -> None:
    """AWS lets ListMetrics filter on a dimension name without a value; the emulator must too."""
    cw = emulator("baseline").client("cloudwatch")
    pages = cw.get_paginator("list_metrics").paginate(
        Namespace="AWS/Lambda", MetricName="Errors", Dimensions=[{"Name": "FunctionName"}]
    )
    names = {d["Value"] for page in pages for m in page["Metrics"] for d in m["Dimensions"]}
    assert {"order-processor", "fraud-scorer"} <= names


def _instances_by_id(emu: Emulator) -> dict[str, tuple[str, str]]:
    """Instance id -> (Name tag, state)."""
    pages = emu.client("ec2").get_paginator("describe_instances").paginate()
    return {
        i["InstanceId"]: (next(t["Value"] for t in i["Tags"] if t["Key"] == "Name"), i["State"]["Name"])
        for page in pages
        for r in page["Reservations"]
        for i in r["Instances"]
    }


@pytest.mark.parametrize("scenario", ["startup", "baseline", "scale"])
def test_instance_metadata_options_follow_the_scenario(emulator: Factory, scenario: str) -> None:
    """Each instance (Auto Scaling ones too, named after their group) has the scenario's `imds` setting."""
    emu = emulator(scenario)
    assert emu.scenario is not None
    seen: dict[str, set[tuple[str, str]]] = {}
    for page in emu.client("ec2").get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                name = next(t["Value"] for t in instance["Tags"] if t["Key"] == "Name")
                options = instance["MetadataOptions"]
                seen.setdefault(name, set()).add((options["HttpTokens"], options["HttpEndpoint"]))
    expected = {i.name: i.imds for i in expand_all(emu.scenario.ec2.instances)}
    expected |= {g.name: g.imds for g in expand_all(emu.scenario.autoscaling.groups) if g.desired}
    as_aws = {
        "required": ("required", "enabled"),
        "optional": ("optional", "enabled"),
        "disabled": ("optional", "disabled"),
    }
    assert seen == {name: {as_aws[imds]} for name, imds in expected.items()}


def test_stopped_instances_stay_registered_as_unused_targets(emulator: Factory) -> None:
    """Registered while running, then stopped: moto (like AWS) reports such a target 'unused'."""
    emu = emulator("baseline")
    elb = emu.client("elbv2")
    instances = _instances_by_id(emu)
    health = {}
    for group in ["staging-web-tg", "legacy-admin-tg"]:
        arn = elb.describe_target_groups(Names=[group])["TargetGroups"][0]["TargetGroupArn"]
        for desc in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            target = desc["TargetHealth"]
            health[instances[desc["Target"]["Id"]]] = (target["State"], target.get("Reason"))
    assert health == {
        ("staging-web-01", "running"): ("healthy", None),
        ("staging-web-02", "running"): ("healthy", None),
        ("staging-web-03", "stopped"): ("unused", "Target.InvalidState"),
        ("legacy-win-01", "stopped"): ("unused", "Target.InvalidState"),
    }


def test_task_definition_container_settings(emulator: Factory) -> None:
    ecs = emulator("baseline").client("ecs")
    agent = ecs.describe_task_definition(taskDefinition="datadog-agent")["taskDefinition"]
    assert agent["requiresCompatibilities"] == ["EC2"]
    assert agent["containerDefinitions"][0]["privileged"] is True
    orders = ecs.describe_task_definition(taskDefinition="orders-api")["taskDefinition"]["containerDefinitions"][0]
    assert orders["readonlyRootFilesystem"] is True
    assert orders["user"] == "1000"
    assert not orders.get("privileged")


def _log_events_after(emu: Emulator, after_ms: int) -> list[tuple[str, int]]:
    logs = emu.client("logs")
    found = []
    for page in logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            name = group["logGroupName"]
            events = logs.filter_log_events(logGroupName=name, startTime=after_ms + 1, limit=10)["events"]
            found += [(name, e["timestamp"]) for e in events]
    return found


def _datapoints_after(emu: Emulator, after: datetime) -> list[tuple[str, datetime]]:
    cw = emu.client("cloudwatch")
    metrics = [m for page in cw.get_paginator("list_metrics").paginate() for m in page["Metrics"]]
    found = []
    for start in range(0, len(metrics), 500):
        queries = [
            {"Id": f"m{k}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "SampleCount"}}
            for k, metric in enumerate(metrics[start : start + 500])
        ]
        results = cw.get_metric_data(
            MetricDataQueries=queries, StartTime=after + timedelta(seconds=1), EndTime=after + timedelta(days=2)
        )["MetricDataResults"]
        found += [(r["Label"], stamp) for r in results for stamp in r["Timestamps"]]
    return found


@pytest.mark.parametrize("scenario", ["startup", "baseline", "scale"])
def test_no_log_event_or_datapoint_after_the_window(emulator: Factory, scenario: str) -> None:
    """Nothing is later than the data window's end (anchor - 5 min), so nothing is in the future either."""
    emu = emulator(scenario)
    assert emu.seed_report is not None
    end = emu.seed_report.anchor - WINDOW_END
    end_ms = int(end.timestamp() * 1000)
    assert _log_events_after(emu, end_ms) == []
    assert _datapoints_after(emu, end) == []
    # The same queries do see the data just before the end of the window.
    assert _log_events_after(emu, end_ms - 3_600_000)
    assert _datapoints_after(emu, end - timedelta(hours=1))


def test_long_invocations_end_inside_the_window() -> None:
    """A function that always runs into its 15-minute timeout: even the last invocations end in the window."""
    activity = {
        "invocations": {"base": 2},
        "duration_ms": {"base": 890_000},
        "timeout_rate": 1.0,
        "log_invocations": 2000,
    }
    scenario = Scenario.model_validate(
        {
            "name": "long-runs",
            "description": "One slow function that always times out.",
            "iam": {"roles": [{"name": "slow-role", "trust": ["lambda.amazonaws.com"]}]},
            "lambda": {"functions": [{"name": "slow", "role": "slow-role", "timeout": 900, "activity": activity}]},
        }
    )
    with start_emulator(scenario) as emu:
        assert emu.seed_report is not None
        end_ms = int((emu.seed_report.anchor - WINDOW_END).timestamp() * 1000)
        pages = emu.client("logs").get_paginator("filter_log_events").paginate(logGroupName="/aws/lambda/slow")
        events = [e for page in pages for e in page["events"]]
    starts = {e["message"].split()[2]: e["timestamp"] for e in events if e["message"].startswith("START")}
    ends = {e["message"].split()[2]: e["timestamp"] for e in events if e["message"].startswith("END")}
    assert len(starts) == len(ends) == 2000
    assert max(e["timestamp"] for e in events) <= end_ms
    assert all(ends[rid] - starts[rid] >= 900_000 for rid in starts)
