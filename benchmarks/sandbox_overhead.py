"""Sandbox overhead: what one execution costs in the cold process sandbox, the warm pool, and Docker.

Per script (a trivial `print("{}")` and one `describe_vpcs` against a moto server on loopback), the median of N
runs (default 7) of the wall time of `Sandbox.run` (work dir, bridge, bubblewrap, uid drop, guard, the script,
clean-up), and the overhead: that minus the same script run in this process with boto3 already imported. The
warm pool is timed with its children ready (replenishing happens in the background between runs, off the
critical path: that is the latency a caller sees when runs do not arrive faster than the pool refills); the
back-to-back line runs without waiting. Docker is measured when a daemon is reachable, otherwise skipped.

Prints a markdown section for BENCHMARKS.md (the lead pastes it; this script writes nothing).

    .venv/bin/python benchmarks/sandbox_overhead.py [--runs 7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cloudinspect.cloud.emulator import connect_emulator, start_server
from cloudinspect.sandbox import Endpoint, ExecResult, ProcessSandbox, get_sandbox, sandbox_names
from cloudinspect.sandbox.pool import warm_pool

SCRIPTS = {
    'trivial `print("{}")`': 'print("{}")\n',
    "one `describe_vpcs`": (
        'import boto3, json\nprint(json.dumps({"vpcs": len(boto3.client("ec2").describe_vpcs()["Vpcs"])}))\n'
    ),
}


def docker_reachable() -> bool:
    if "docker" not in sandbox_names() or not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def in_process(code: str, env: dict[str, str]) -> float:
    """The script itself, in this process, boto3 already imported: what any sandbox adds is measured on top."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, "<bench>", "exec"), {"__name__": "__main__"})  # noqa: S102 - our own two scripts
        return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)


def timed_runs(runs: int, once: Callable[[], ExecResult], before: Callable[[], object] | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - start)
        if result.status != "ok":
            raise SystemExit(f"benchmark run failed: {result.status} {result.error_message}\n{result.stderr[-2000:]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    import boto3  # noqa: F401  # warm the in-process reference

    server = start_server()
    try:
        emu = connect_emulator(server.endpoint_url)
        env = emu.env()
        endpoint = Endpoint(server.endpoint_url)
        cold = ProcessSandbox()
        docker = docker_reachable()
        rows = []
        with warm_pool(endpoint, size=2) as pool:
            pool.wait_ready()
            for label, code in SCRIPTS.items():
                in_process(code, env)  # first call loads models: not part of the reference
                base = statistics.median(in_process(code, env) for _ in range(args.runs))
                cold_t = timed_runs(args.runs, lambda code=code: cold.run(code, env, endpoint=endpoint))
                warm_t = timed_runs(args.runs, lambda code=code: pool.run(code, env), before=pool.wait_ready)
                burst_t = timed_runs(args.runs, lambda code=code: pool.run(code, env))
                docker_t: list[float] | None = None
                if docker:
                    runner = get_sandbox("docker")
                    docker_t = timed_runs(
                        args.runs, lambda code=code, runner=runner: runner.run(code, env, endpoint=endpoint)
                    )
                rows.append((label, base, cold_t, warm_t, burst_t, docker_t))
                pool.wait_ready()
    finally:
        server.stop()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print("## Sandbox overhead\n")
    print(
        f"`benchmarks/sandbox_overhead.py`, median of {args.runs} runs, {datetime.now(UTC):%Y-%m-%d} on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()} (load average {load} at "
        "the end: other work shared the machine). Wall time of one `Sandbox.run` in ms; overhead = that minus the "
        "same script in-process with boto3 imported; ratios within a run are the reliable part.\n"
    )
    print("| script | in-process | cold | warm (pool ready) | warm back-to-back | Docker | warm/cold overhead |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, base, cold_t, warm_t, burst_t, docker_t in rows:
        c, w, b = (statistics.median(t) for t in (cold_t, warm_t, burst_t))
        d = f"{statistics.median(docker_t) * 1000:.0f}" if docker_t else "skipped: no Docker daemon"
        ratio = (w - base) / (c - base)
        print(
            f"| {label} | {base * 1000:.1f} | {c * 1000:.0f} | {w * 1000:.0f} | {b * 1000:.0f} | {d} | "
            f"{ratio:.2f} (1/{1 / ratio:.1f}) |"
        )
    print()
    print(
        "Cold: a fresh bubblewrap sandbox per run (new uid, work dir, bridge, interpreter start, boto3 import). "
        "Warm: the same sandbox per run, started ahead of time by the pool (sandbox `warm`, size 2), which has "
        "already imported boto3, botocore and the guard, parsed the ec2/iam/s3/sts models into a loader shared by "
        "every session and frozen the collector, and waits for the run's environment on a pipe; each child serves "
        "one run; the child's clean-up (bridge, work dir) runs after the result is returned. "
        "Back-to-back: runs without waiting for the pool to refill (with 2 children the third run "
        f"waits for a cold start). Docker: {'measured' if docker else 'skipped: no Docker daemon'}."
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
