"""CloudWatch: metric data for the last day (put_metric_data, 1,000 datums a call) and alarms in each state."""

from __future__ import annotations

import fnmatch
import math
from datetime import datetime
from typing import Any

from cloudinspect.cloud._seeders._util import chunks, tag_list
from cloudinspect.cloud.scenario import NAMESPACE_KINDS, Alarm, LambdaFunction, Metric, Scenario, expand_all
from cloudinspect.cloud.seed import SeedContext, seeder
from cloudinspect.cloud.series import stable_rng, window_times

Datum = dict[str, Any]

_DIMENSION = {
    "instance": "InstanceId",
    "function": "FunctionName",
    "db_instance": "DBInstanceIdentifier",
    "queue": "QueueName",
    "table": "TableName",
    "load_balancer": "LoadBalancer",
    "topic": "TopicName",
}


def metric_resources(scenario: Scenario, namespace: str) -> list[str]:
    """Names of the resources that publish metrics in an AWS namespace (running instances, available DBs...)."""
    kind = NAMESPACE_KINDS[namespace]
    if kind == "instance":
        return [i.name for i in expand_all(scenario.ec2.instances) if i.state == "running"]
    if kind == "function":
        return [f.name for f in expand_all(scenario.lambda_.functions)]
    if kind == "db_instance":
        return [d.name for d in expand_all(scenario.rds.instances) if d.state == "available"]
    if kind == "queue":
        return [q.name for q in expand_all(scenario.sqs.queues)]
    if kind == "table":
        return [t.name for t in expand_all(scenario.dynamodb.tables)]
    if kind == "topic":
        return [t.name for t in expand_all(scenario.sns.topics)]
    wanted = "application" if namespace == "AWS/ApplicationELB" else "network"
    return [lb.name for lb in expand_all(scenario.elbv2.load_balancers) if lb.type == wanted]


def _dimension_value(ctx: SeedContext, kind: str, name: str) -> str:
    if kind == "instance":
        return ctx.id("instance", name)
    if kind == "load_balancer":
        return ctx.id("load_balancer_dimension", name)
    return name


def _datums(
    name: str, unit: str, dims: list[dict[str, str]], times: list[datetime], values: list[float]
) -> list[Datum]:
    return [
        {"MetricName": name, "Dimensions": dims, "Timestamp": ts, "Value": value, "Unit": unit}
        for ts, value in zip(times, values, strict=True)
    ]


def _metric_datums(ctx: SeedContext) -> dict[str, list[Datum]]:
    """Datums by namespace for `cloudwatch.metrics`; later entries override earlier ones for a resource."""
    chosen: dict[tuple[str, str, str], tuple[Metric, list[dict[str, str]]]] = {}
    for metric in expand_all(ctx.scenario.cloudwatch.metrics):
        if metric.dimensions is not None:
            dims = [{"Name": k, "Value": v} for k, v in metric.dimensions.items()]
            chosen[(metric.namespace, metric.name, repr(dims))] = (metric, dims)
            continue
        kind = NAMESPACE_KINDS[metric.namespace]
        for resource in metric_resources(ctx.scenario, metric.namespace):
            if any(fnmatch.fnmatchcase(resource, pattern) for pattern in metric.resources):
                dims = [{"Name": _DIMENSION[kind], "Value": _dimension_value(ctx, kind, resource)}]
                chosen[(metric.namespace, metric.name, resource)] = (metric, dims)
    out: dict[str, list[Datum]] = {}
    for (namespace, name, resource), (metric, dims) in chosen.items():
        times = window_times(ctx.anchor, metric.period)
        values = metric.series.values(times, ctx.scenario.seed, namespace, name, resource)
        out.setdefault(namespace, []).extend(_datums(name, metric.unit, dims, times, values))
    return out


def _lambda_datums(ctx: SeedContext, fn: LambdaFunction) -> list[Datum]:
    """Invocations, Errors, Throttles and Duration per 5 minutes, consistent with each other."""
    act = fn.activity
    if act is None:
        return []
    times = window_times(ctx.anchor, 300)
    invocations = act.invocations.values(times, ctx.scenario.seed, "invocations", fn.name)
    durations = act.duration_ms.values(times, ctx.scenario.seed, "duration", fn.name)
    rng = stable_rng(ctx.scenario.seed, "lambda-metrics", fn.name)
    dims = [{"Name": "FunctionName", "Value": fn.name}]
    timeout_ms = fn.timeout * 1000.0
    out: list[Datum] = []

    def draw(n: int, rate: float) -> int:
        if rate <= 0 or n <= 0:
            return 0
        spread = math.sqrt(n * rate * (1 - rate))
        return max(0, min(n, round(n * rate + rng.gauss(0, spread))))

    for ts, inv_f, dur in zip(times, invocations, durations, strict=True):
        inv = int(inv_f)
        if inv <= 0:
            continue
        timeouts = draw(inv, act.timeout_rate)
        errors = min(inv, timeouts + draw(inv - timeouts, act.error_rate))
        throttles = draw(inv, act.throttle_rate)
        normal = min(dur, timeout_ms - 1)
        total = normal * (inv - timeouts) + timeout_ms * timeouts
        longest = timeout_ms if timeouts else min(timeout_ms - 1, normal * rng.uniform(1.4, 2.6))
        out += [
            {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": ts, "Value": float(inv), "Unit": "Count"},
            {"MetricName": "Errors", "Dimensions": dims, "Timestamp": ts, "Value": float(errors), "Unit": "Count"},
            {
                "MetricName": "Throttles",
                "Dimensions": dims,
                "Timestamp": ts,
                "Value": float(throttles),
                "Unit": "Count",
            },
            {
                "MetricName": "Duration",
                "Dimensions": dims,
                "Timestamp": ts,
                "StatisticValues": {
                    "SampleCount": float(inv),
                    "Sum": round(total, 2),
                    "Minimum": round(normal * rng.uniform(0.3, 0.7), 2),
                    "Maximum": round(max(longest, normal), 2),
                },
                "Unit": "Milliseconds",
            },
        ]
    return out


def _alarm_dimensions(ctx: SeedContext, alarm: Alarm) -> list[dict[str, str]]:
    dims = [{"Name": k, "Value": v} for k, v in alarm.dimensions.items()]
    if alarm.resource is not None and alarm.namespace in NAMESPACE_KINDS:
        kind = NAMESPACE_KINDS[alarm.namespace]
        dims.insert(0, {"Name": _DIMENSION[kind], "Value": _dimension_value(ctx, kind, alarm.resource)})
    return dims


@seeder("cloudwatch", after=("ec2", "lambda", "rds", "sqs", "dynamodb", "elbv2", "sns"))
def seed_cloudwatch(ctx: SeedContext) -> None:
    """Metric data for every series of the scenario (1,000 datums a call) and alarms set to their state."""
    cw = ctx.client("cloudwatch")
    by_namespace = _metric_datums(ctx)
    for fn in expand_all(ctx.scenario.lambda_.functions):
        lambda_datums = _lambda_datums(ctx, fn)
        if lambda_datums:
            by_namespace.setdefault("AWS/Lambda", []).extend(lambda_datums)
    calls = [(ns, list(batch)) for ns, datums in by_namespace.items() for batch in chunks(datums, 1000)]
    ctx.map(lambda call: cw.put_metric_data(Namespace=call[0], MetricData=call[1]), calls)

    def put_alarm(alarm: Alarm) -> None:
        cw.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=alarm.description,
            Namespace=alarm.namespace,
            MetricName=alarm.metric,
            Dimensions=_alarm_dimensions(ctx, alarm),
            Statistic=alarm.statistic,
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,
            TreatMissingData=alarm.treat_missing_data,
            ActionsEnabled=alarm.actions_enabled,
            AlarmActions=[ctx.id("topic_arn", t) for t in alarm.actions],
            Tags=tag_list(alarm.tags),
        )
        # moto starts every alarm in OK (AWS: INSUFFICIENT_DATA), so the state is always set explicitly.
        default_reasons = {
            "ALARM": f"Threshold Crossed: {alarm.evaluation_periods} datapoint(s) crossed the threshold "
            f"({alarm.threshold}) ({alarm.comparison})",
            "OK": "Threshold not crossed",
            "INSUFFICIENT_DATA": "Insufficient Data: 1 datapoint was unknown.",
        }
        cw.set_alarm_state(
            AlarmName=alarm.name, StateValue=alarm.state, StateReason=alarm.reason or default_reasons[alarm.state]
        )

    ctx.map(put_alarm, expand_all(ctx.scenario.cloudwatch.alarms))
