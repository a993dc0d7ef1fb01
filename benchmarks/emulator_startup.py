"""Emulator start-up and seeding: how long until a seeded account answers, and what our moto settings buy.

Measures, as the median of N runs (default 5):
- server start to ready (process spawn, moto import, first answer), and the first EC2 and IAM calls;
- what MOTO_EC2_LOAD_DEFAULT_AMIS=false buys: DescribeImages/DescribeSnapshots time and size vs moto's default
  (~1,300 AMIs and their snapshots), in the same run;
- what MOTO_IAM_LOAD_MANAGED_POLICIES=true costs on the first IAM call;
- seeding time per scenario (and API calls), on a fresh server each run;
- CloudWatch queries on the seeded baseline (ListMetrics, GetMetricData) with our moto patches vs without.

Writes the results as the section "## Emulator start-up and seeding" of BENCHMARKS.md (other sections untouched).

    .venv/bin/python benchmarks/emulator_startup.py [--runs 5] [--scenarios startup baseline scale] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cloudinspect.cloud import get_scenario, seed_scenario, start_emulator, start_server
from cloudinspect.cloud.emulator import ServerProcess, connect_emulator

HEADING = "## Emulator start-up and seeding"
ROOT = Path(__file__).resolve().parents[1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def start_and_probe(env: dict[str, str] | None = None) -> dict[str, float]:
    """Start a server; time ready, first IAM call, first EC2 call, DescribeImages/Snapshots; stop it."""
    t0 = time.perf_counter()
    server = start_server(env=env)
    ready = time.perf_counter() - t0
    try:
        emu = connect_emulator(server.endpoint_url)
        ec2, iam = emu.client("ec2"), emu.client("iam")
        first_iam, _ = timed(iam.list_users)
        first_ec2, _ = timed(ec2.describe_vpcs)
        images_s, images = timed(lambda: ec2.describe_images()["Images"])
        snapshots_s, snapshots = timed(lambda: ec2.describe_snapshots()["Snapshots"])
        policies = iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]
    finally:
        server.stop()
    return {
        "ready": ready,
        "first_ec2": first_ec2,
        "images_s": images_s,
        "images": len(images),
        "snapshots_s": snapshots_s,
        "snapshots": len(snapshots),
        "first_iam": first_iam,
        "aws_policies": len(policies),
    }


def seed_once(name: str) -> tuple[float, float, int]:
    """(start-to-ready s, seeding s, API calls) on a fresh server."""
    scenario = get_scenario(name)
    t0 = time.perf_counter()
    server = start_server()
    ready = time.perf_counter() - t0
    try:
        report = seed_scenario(server.endpoint_url, scenario)
    finally:
        server.stop()
    return ready, report.total_s, report.calls


def cloudwatch_queries(server: ServerProcess) -> tuple[float, float]:
    """(ListMetrics over every page, GetMetricData of one instance's CPU over 24 h) in seconds."""
    emu = connect_emulator(server.endpoint_url)
    cw, ec2 = emu.client("cloudwatch"), emu.client("ec2")
    list_s, _ = timed(lambda: sum(len(p["Metrics"]) for p in cw.get_paginator("list_metrics").paginate()))
    instance = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["orders-api-01"]}])
    instance_id = instance["Reservations"][0]["Instances"][0]["InstanceId"]
    now = datetime.now(UTC)
    query = {
        "Id": "cpu",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/EC2",
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
            },
            "Period": 300,
            "Stat": "Average",
        },
    }
    data_s, _ = timed(
        lambda: cw.get_metric_data(MetricDataQueries=[query], StartTime=now - timedelta(hours=24), EndTime=now)
    )
    return list_s, data_s


def queries_with_and_without_patches(runs: int) -> dict[str, float]:
    scenario = get_scenario("baseline")
    out: dict[str, list[float]] = {"list_patched": [], "data_patched": [], "list_moto": [], "data_moto": []}
    for patches, suffix in ((True, "patched"), (False, "moto")):
        server = start_server(patches=patches)
        try:
            seed_scenario(server.endpoint_url, scenario)
            for _ in range(runs):
                list_s, data_s = cloudwatch_queries(server)
                out[f"list_{suffix}"].append(list_s)
                out[f"data_{suffix}"].append(data_s)
        finally:
            server.stop()
    return {k: median(v) for k, v in out.items()}


def render(results: dict[str, Any], runs: int) -> str:
    ours, amis = results["ours"], results["default_amis"]
    no_policies = results["no_managed_policies"]
    lines = [
        HEADING,
        "",
        f"`benchmarks/emulator_startup.py`, median of {runs} runs, {results['when']} on {results['machine']} "
        f"(load average {results['load']} at the end: other work shared the machine). Times in seconds; ratios "
        "within a run are the reliable part.",
        "",
        "Start-up (a fresh moto server process on loopback, ours: `MOTO_EC2_LOAD_DEFAULT_AMIS=false`,",
        "`MOTO_IAM_LOAD_MANAGED_POLICIES=true`):",
        "",
        "| measure | ours | moto default AMIs | ratio |",
        "|---|---:|---:|---:|",
        f"| start to ready | {ours['ready']:.2f} | {amis['ready']:.2f} | {amis['ready'] / ours['ready']:.1f}x |",
        f"| first EC2 call (DescribeVpcs) | {ours['first_ec2']:.2f} | {amis['first_ec2']:.2f} | "
        f"{amis['first_ec2'] / ours['first_ec2']:.1f}x |",
        f"| DescribeImages | {ours['images_s']:.3f} ({ours['images']:.0f} images) | "
        f"{amis['images_s']:.3f} ({amis['images']:.0f} images) | {amis['images_s'] / ours['images_s']:.0f}x |",
        f"| DescribeSnapshots | {ours['snapshots_s']:.3f} ({ours['snapshots']:.0f} snapshots) | "
        f"{amis['snapshots_s']:.3f} ({amis['snapshots']:.0f} snapshots) | "
        f"{amis['snapshots_s'] / ours['snapshots_s']:.0f}x |",
        "",
        f"AWS managed IAM policies ({ours['aws_policies']:.0f} loaded, so scenarios can attach AdministratorAccess "
        f"and friends by ARN) cost {ours['first_iam']:.2f} s on the first IAM call vs "
        f"{no_policies['first_iam']:.2f} s without them.",
        "",
        "Seeding (a fresh server per run; calls = API requests the seeder made):",
        "",
        "| scenario | resources | start to ready | seeding | API calls | start + seed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in results["seeding"].items():
        lines.append(
            f"| {name} | {row['resources']} | {row['ready']:.2f} | {row['seed']:.2f} | {row['calls']} | "
            f"{row['ready'] + row['seed']:.2f} |"
        )
    q = results["queries"]
    lines += [
        "",
        "CloudWatch queries on the seeded baseline (our server-side patches replace moto's quadratic ListMetrics",
        "deduplication and per-period GetMetricData scan; same answers):",
        "",
        "| query | patched | moto as is | ratio |",
        "|---|---:|---:|---:|",
        f"| ListMetrics, every page | {q['list_patched']:.3f} | {q['list_moto']:.3f} | "
        f"{q['list_moto'] / q['list_patched']:.0f}x |",
        f"| GetMetricData, one instance, 24 h at 5 min | {q['data_patched']:.3f} | {q['data_moto']:.3f} | "
        f"{q['data_moto'] / q['data_patched']:.0f}x |",
        "",
        "Why: moto loads ~1,300 default AMIs (and a snapshot each) on the first DescribeImages/DescribeSnapshots,",
        "which swamps inventory answers and costs about a second; scenarios never need them. Server-side, moto also",
        "lists its package directory and tries every service's URL pattern on each request; the emulator caches",
        "both (see `cloudinspect/cloud/_patches.py`). Most of a seeding's time is moto's one-time work (imports,",
        "botocore service models, one Flask app per service) and per-request parsing in a single server process.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, path: Path) -> None:
    """Replace (or append) our section of BENCHMARKS.md, leaving every other section as it is."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start = current.find(HEADING)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(HEADING))
        updated = current[:start] + text + (current[end + 1 :] if end != -1 else "")
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=["startup", "baseline", "scale"])
    parser.add_argument("--no-write", action="store_true", help="Print the section instead of writing it.")
    args = parser.parse_args()

    def probe(env: dict[str, str] | None) -> dict[str, float]:
        rows = [start_and_probe(env) for _ in range(args.runs)]
        return {key: median([r[key] for r in rows]) for key in rows[0]}

    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "ours": probe(None),
        "default_amis": probe({"MOTO_EC2_LOAD_DEFAULT_AMIS": "true"}),
        "no_managed_policies": probe({"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}),
        "seeding": {},
    }
    for name in args.scenarios:
        runs = [seed_once(name) for _ in range(args.runs)]
        counts = get_scenario(name).resource_counts()
        results["seeding"][name] = {
            "resources": sum(sum(kinds.values()) for kinds in counts.values()),
            "ready": median([r[0] for r in runs]),
            "seed": median([r[1] for r in runs]),
            "calls": runs[0][2],
        }
        print(f"{name}: {results['seeding'][name]}", flush=True)
    results["queries"] = queries_with_and_without_patches(args.runs)
    results["load"] = "/".join(f"{x:.1f}" for x in os.getloadavg())
    text = render(results, args.runs)
    if args.no_write:
        print(text)
    else:
        write_section(text, ROOT / "BENCHMARKS.md")
        print(text)


if __name__ == "__main__":
    with start_emulator(None):  # warm the OS file cache and bytecode so the first measured run is not an outlier
        pass
    main()
