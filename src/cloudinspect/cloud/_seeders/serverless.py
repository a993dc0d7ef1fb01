"""Lambda functions and CloudWatch Logs (application log groups and /aws/lambda/<fn> invocation logs)."""

from __future__ import annotations

import io
import math
import random
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from cloudinspect.cloud.scenario import LambdaActivity, LambdaFunction, LogGroup, LogMessage, expand_all
from cloudinspect.cloud.seed import SeedContext, seeder
from cloudinspect.cloud.series import WINDOW_END, spread_times, stable_rng

Event = tuple[int, str]
"""(timestamp in ms, message)"""

_MAX_BATCH_EVENTS = 10_000
_MAX_BATCH_BYTES = 1_000_000  # AWS: 1,048,576 including 26 bytes of overhead per event


@cache
def _package(runtime_family: str) -> bytes:
    sources = {
        "python": ("app.py", "def handler(event, context):\n    return {'statusCode': 200}\n"),
        "nodejs": ("index.js", "exports.handler = async () => ({ statusCode: 200 });\n"),
        "other": ("bootstrap", "#!/bin/sh\necho ok\n"),
    }
    name, text = sources[runtime_family]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def _family(runtime: str) -> str:
    if runtime.startswith("python"):
        return "python"
    return "nodejs" if runtime.startswith("nodejs") else "other"


@seeder("lambda", after=("iam", "kms"))
def seed_lambda(ctx: SeedContext) -> None:
    """Functions with runtimes (deprecated ones too), memory, timeouts, env vars, tags, roles, concurrency."""
    lam = ctx.client("lambda")

    def create(fn: LambdaFunction) -> None:
        args: dict[str, Any] = {
            "FunctionName": fn.name,
            "Runtime": fn.runtime,
            "Role": ctx.id("role_arn", fn.role),
            "Handler": fn.default_handler(),
            "Code": {"ZipFile": _package(_family(fn.runtime))},
            "Description": fn.description,
            "MemorySize": fn.memory,
            "Timeout": fn.timeout,
            "Architectures": [fn.architecture],
            "Tags": fn.tags,
        }
        if fn.env:
            args["Environment"] = {"Variables": fn.env}
        if fn.kms_key:
            args["KMSKeyArn"] = ctx.kms_arn(fn.kms_key)
        made = lam.create_function(**args)
        ctx.put_id("function_arn", fn.name, made["FunctionArn"])
        if fn.reserved_concurrency is not None:
            lam.put_function_concurrency(FunctionName=fn.name, ReservedConcurrentExecutions=fn.reserved_concurrency)

    ctx.map(create, expand_all(ctx.scenario.lambda_.functions))


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _request_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _error_parts(error: str) -> tuple[str, str]:
    kind, _, message = error.partition(":")
    return kind.strip(), message.strip()


def _invocation_lines(
    fn: LambdaFunction, act: LambdaActivity, ts: datetime, latest: datetime, rng: random.Random
) -> list[Event]:
    """The log lines one invocation writes: START, app lines, error/timeout, END, REPORT.

    An invocation that would still be running at `latest` (the end of the data window) starts earlier instead,
    so that its END and REPORT lines are never later than the rest of the data.
    """
    rid = _request_id(rng)
    roll = rng.random()
    outcome = "timeout" if roll < act.timeout_rate else "error" if roll < act.timeout_rate + act.error_rate else "ok"
    base_ms = max(1.0, act.duration_ms.base + rng.gauss(0, act.duration_ms.noise or act.duration_ms.base * 0.2))
    duration = (
        fn.timeout * 1000.0 + rng.uniform(0, 40) if outcome == "timeout" else min(base_ms, fn.timeout * 1000.0 - 1)
    )
    if act.memory_used_mb is not None:
        used = act.memory_used_mb.base + rng.gauss(0, act.memory_used_mb.noise)
    else:
        used = fn.memory * 0.4 + rng.gauss(0, fn.memory * 0.03)
    used_mb = int(min(fn.memory, max(30, used)))
    python = fn.runtime.startswith("python")
    node = fn.runtime.startswith("nodejs")
    ts = min(ts, latest - timedelta(milliseconds=math.ceil(duration) + 2))
    t0 = int(ts.timestamp() * 1000)
    lines: list[Event] = [(t0, f"START RequestId: {rid} Version: $LATEST")]
    order = rng.randrange(10_000, 99_999)
    info = f"Processing request {order} for {fn.name}"
    if python:
        lines.append((t0 + 2, f"[INFO]\t{_iso(ts)}\t{rid}\t{info}"))
    elif node:
        lines.append((t0 + 2, f"{_iso(ts)}\t{rid}\tINFO\t{info}"))
    else:
        lines.append((t0 + 2, f"{_iso(ts)} INFO {info}"))
    end = t0 + int(duration)
    if outcome == "error":
        kind, message = _error_parts(act.error)
        if python:
            trace = (
                f"[ERROR] {act.error}\nTraceback (most recent call last):\n"
                f'  File "/var/task/app.py", line {40 + order % 60}, in handler\n'
                f"    result = process(event)\n"
                f'  File "/var/task/app.py", line {12 + order % 20}, in process\n'
                f"    raise {kind}({message!r})\n{act.error}"
            )
            lines.append((end - 1, trace))
        else:
            payload = (
                f'{{"errorType":"{kind}","errorMessage":"{message}",'
                f'"stack":["{kind}: {message}","    at process (/var/task/index.js:{12 + order % 20}:11)",'
                f'"    at Runtime.handler (/var/task/index.js:{40 + order % 60}:5)"]}}'
            )
            lines.append((end - 1, f"{_iso(ts)}\t{rid}\tERROR\tInvoke Error \t{payload}"))
    elif outcome == "timeout":
        lines.append(
            (end, f"{_iso(ts + timedelta(milliseconds=duration))} {rid} Task timed out after {fn.timeout:.2f} seconds")
        )
    lines.append((end + 1, f"END RequestId: {rid}"))
    report = (
        f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration)} ms\t"
        f"Memory Size: {fn.memory} MB\tMax Memory Used: {used_mb} MB"
    )
    if rng.random() < 0.05:
        report += f"\tInit Duration: {rng.uniform(150, 900):.2f} ms"
    lines.append((end + 2, report))
    return lines


def _lambda_streams(ctx: SeedContext, fn: LambdaFunction) -> dict[str, list[Event]]:
    act = fn.activity
    if act is None or act.log_invocations == 0:
        return {}
    rng = stable_rng(ctx.scenario.seed, "lambda-logs", fn.name)
    streams: dict[str, list[Event]] = {}
    per_stream = max(1, act.log_invocations // 8)
    stream = ""
    latest = ctx.anchor - WINDOW_END
    for k, ts in enumerate(spread_times(ctx.anchor, act.log_invocations, rng)):
        if k % per_stream == 0:
            stream = f"{ts:%Y/%m/%d}/[$LATEST]{rng.getrandbits(128):032x}"
        streams.setdefault(stream, []).extend(_invocation_lines(fn, act, ts, latest, rng))
    return streams


def _app_line(message: LogMessage, ts: datetime, rng: random.Random) -> str:
    values = {
        "n": rng.randrange(1, 100_000),
        "ms": rng.randrange(3, 2500),
        "id": f"{rng.getrandbits(32):08x}",
        "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
    }
    text = message.text.format(**values)
    return f"{_iso(ts)} {message.level} {text}"


def _app_streams(ctx: SeedContext, group: LogGroup) -> dict[str, list[Event]]:
    streams: dict[str, list[Event]] = {}
    weights = [m.weight for m in group.messages]
    for s in range(group.streams):
        rng = stable_rng(ctx.scenario.seed, "logs", group.name, s)
        name = f"{group.name.strip('/').replace('/', '-')}-{s + 1:02d}-{rng.getrandbits(48):012x}"
        events: list[Event] = []
        for ts in spread_times(ctx.anchor, group.events_per_stream, rng):
            message = rng.choices(group.messages, weights)[0]
            events.append((int(ts.timestamp() * 1000), _app_line(message, ts, rng)))
        streams[name] = events
    return streams


def _batches(events: list[Event]) -> Iterator[list[Event]]:
    batch: list[Event] = []
    size = 0
    for event in events:
        cost = len(event[1].encode()) + 26
        if batch and (len(batch) >= _MAX_BATCH_EVENTS or size + cost > _MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += cost
    if batch:
        yield batch


@seeder("logs", after=("kms",))
def seed_logs(ctx: SeedContext) -> None:
    """Log groups (retention, KMS, tags), streams and events: app groups and one group per Lambda function."""
    logs = ctx.client("logs")
    plans: list[tuple[str, int | None, str | None, dict[str, str], Any]] = []
    for group in expand_all(ctx.scenario.logs.groups):
        plans.append((group.name, group.retention_days, group.kms_key, group.tags, group))
    for fn in expand_all(ctx.scenario.lambda_.functions):
        if fn.log_group:
            plans.append((f"/aws/lambda/{fn.name}", fn.log_retention_days, None, {}, fn))

    def create(plan: tuple[str, int | None, str | None, dict[str, str], Any]) -> list[tuple[str, str, list[Event]]]:
        name, retention, kms_key, tags, source = plan
        args: dict[str, Any] = {"logGroupName": name}
        if tags:
            args["tags"] = tags
        if kms_key:
            args["kmsKeyId"] = ctx.kms_arn(kms_key)
        logs.create_log_group(**args)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        streams = _app_streams(ctx, source) if isinstance(source, LogGroup) else _lambda_streams(ctx, source)
        work: list[tuple[str, str, list[Event]]] = []
        for stream, events in streams.items():
            logs.create_log_stream(logGroupName=name, logStreamName=stream)
            work.extend((name, stream, batch) for batch in _batches(sorted(events)))
        return work

    uploads = [item for work in ctx.map(create, plans) for item in work]

    def upload(item: tuple[str, str, list[Event]]) -> None:
        group, stream, batch = item
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": ts, "message": message} for ts, message in batch],
        )

    def upload_stream(items: list[tuple[str, str, list[Event]]]) -> None:
        for item in items:
            upload(item)

    # Batches of one stream must arrive in order: streams go concurrently, each stream's batches in turn.
    by_stream: dict[tuple[str, str], list[tuple[str, str, list[Event]]]] = {}
    for item in uploads:
        by_stream.setdefault((item[0], item[1]), []).append(item)
    ctx.map(upload_stream, list(by_stream.values()))
