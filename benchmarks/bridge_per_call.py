"""Benchmark the cost of one AWS API call through the sandbox's bridge, against the same call made directly.

A script makes CALLS `describe_vpcs` calls against a seeded emulator (scenario `startup`). It runs in the process
sandbox three ways, each RUNS times (median):

- `direct`: isolation "none": the child talks to the emulator itself (the baseline);
- `bridge`: full isolation: every request goes child -> relay (TCP, in the child's network namespace) -> the
  bridge's Unix socket (read-only policy, call record) -> the emulator;
- `bridge, Nagle on`: as `bridge`, with the relay's TCP_NODELAY switched off again (what the relay did before
  2026-11-25): the bridge answers in two writes (headers, then body) and the second waited for the client's
  delayed ACK.

Per call = (script run time - the same script with one call) / (CALLS - 1), so interpreter and client set-up
cancel out. Prints a markdown section for BENCHMARKS.md.

    .venv/bin/python benchmarks/bridge_per_call.py [--calls 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from cloudinspect.cloud import start_emulator
from cloudinspect.cloud.target import EndpointTarget
from cloudinspect.sandbox import execute, process

SCRIPT = """
import boto3
ec2 = boto3.client("ec2")
for _ in range({calls}):
    ec2.describe_vpcs()
print("{{}}")
"""
LAUNCHER = process._LAUNCHER
NODELAY = "conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)"


def run_ms(target: EndpointTarget, calls: int, isolation: str) -> float:
    result = execute(SCRIPT.format(calls=calls), target, sandbox="process", isolation=isolation)  # type: ignore[arg-type]
    if result.status != "ok":
        raise SystemExit(f"run failed: {result.status} {result.error_message}")
    return result.duration_ms


def per_call(target: EndpointTarget, calls: int, runs: int, isolation: str) -> tuple[float, float]:
    """(median per-call ms, median run ms of the CALLS-call script)."""
    many = [run_ms(target, calls, isolation) for _ in range(runs)]
    one = [run_ms(target, 1, isolation) for _ in range(runs)]
    return (statistics.median(many) - statistics.median(one)) / (calls - 1), statistics.median(many)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with start_emulator("startup") as emulator:
        target = EndpointTarget(url=emulator.endpoint_url, region=emulator.region)
        run_ms(target, 1, "full")  # warm-up
        rows.append(("direct (isolation none)", *per_call(target, args.calls, args.runs, "none")))
        rows.append(("bridge (full isolation)", *per_call(target, args.calls, args.runs, "full")))
        source = LAUNCHER.read_text(encoding="utf-8")
        if NODELAY not in source:
            raise SystemExit(f"{LAUNCHER} no longer sets TCP_NODELAY as this benchmark expects")
        with tempfile.TemporaryDirectory(prefix="bridge-bench-") as tmp:
            nagle = Path(tmp) / "_launcher.py"
            nagle.write_text(source.replace(NODELAY, "pass"), encoding="utf-8")
            os.chmod(tmp, 0o755)  # noqa: S103 - the sandbox uid must read the launcher
            nagle.chmod(0o644)
            with mock.patch.object(process, "_LAUNCHER", nagle):  # the file bind-mounted as the child's launcher
                rows.append(("bridge, Nagle on (before)", *per_call(target, args.calls, args.runs, "full")))
    direct = rows[0][1]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print("## The bridge's hop per API call\n")
    print(
        f"`benchmarks/bridge_per_call.py`, median of {args.runs} runs, {datetime.now(UTC):%Y-%m-%d} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()} (load average {load} at "
        f"the end). A script making {args.calls} `describe_vpcs` calls against the `startup` emulator, in the "
        "process sandbox; per call = (run time - run time of the same script with one call) / "
        f"{args.calls - 1}.\n"
    )
    print(f"| route | per call ms | run of {args.calls} calls ms | per call / direct |")
    print("|---|---:|---:|---:|")
    for label, call_ms, run in rows:
        print(f"| {label} | {call_ms:.2f} | {run:.0f} | {call_ms / direct:.2f} |")


if __name__ == "__main__":
    main()
