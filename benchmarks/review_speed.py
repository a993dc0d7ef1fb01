"""Review speed: the whole static review (every registered check) of each catalogue reference script, in process.

Measures, in one run:
- warm: each reference script reviewed N times (default 5) in this process; the per-script median, then the
  median / p90 / max over all scripts, and the median time of each check;
- cold: in fresh child processes (median of 3), the time to import the review package, the first review (it
  loads the botocore and boto3 models it needs, warms Bandit and ruff) and the second review of the same script;
- baseline: Bandit run as a subprocess on one reference script (median of N), what the issue measured at
  ~135 ms and what running it as a library avoids.

Prints a markdown summary (for BENCHMARKS.md) or, with --json, the raw numbers. The target: median <= 150 ms warm.

    .venv/bin/python benchmarks/review_speed.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "src" / "cloudinspect" / "resources" / "catalog" / "aws"
TARGET_MS = 150.0


def reference_scripts() -> list[Path]:
    return sorted(CATALOG.glob("**/*.py"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_child(path: Path) -> None:
    """Run in a fresh process: import, first and second review of one script; print JSON."""
    t0 = time.perf_counter()
    from cloudinspect.review import review_code

    imported = time.perf_counter()
    code = path.read_text(encoding="utf-8")
    first = review_code(code)
    after_first = time.perf_counter()
    review_code(code)
    after_second = time.perf_counter()
    print(
        json.dumps(
            {
                "import_ms": (imported - t0) * 1000,
                "first_ms": (after_first - imported) * 1000,
                "second_ms": (after_second - after_first) * 1000,
                "checks": first.checks_run,
            }
        )
    )


def measure_cold(path: Path, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, __file__, "--cold-child", str(path)], capture_output=True, text=True, check=True
        )
        samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(s[key] for s in samples) for key in ("import_ms", "first_ms", "second_ms")}


def measure_warm(scripts: list[Path], runs: int) -> dict[str, Any]:
    from cloudinspect.review import review_code

    per_script: dict[str, float] = {}
    per_check: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for path in scripts:
        code = path.read_text(encoding="utf-8")
        review_code(code)  # this script's models are loaded once; later runs are the warm case
        samples = []
        for _ in range(runs):
            timings: dict[str, float] = {}
            started = time.perf_counter()
            review = review_code(code, timings=timings)
            samples.append((time.perf_counter() - started) * 1000)
            for name, ms in timings.items():
                per_check.setdefault(name, []).append(ms)
        per_script[path.stem] = statistics.median(samples)
        errors[path.stem] = len(review.errors())
    values = list(per_script.values())
    return {
        "scripts": len(values),
        "median_ms": statistics.median(values),
        "p90_ms": percentile(values, 0.9),
        "max_ms": max(values),
        "slowest": max(per_script, key=per_script.__getitem__),
        "per_check_median_ms": {name: statistics.median(ms) for name, ms in per_check.items()},
        "per_script_ms": per_script,
        "scripts_with_errors": sorted(name for name, n in errors.items() if n),
    }


def measure_bandit_subprocess(path: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bandit", "-q", "-f", "json", str(path)], capture_output=True, check=False
        )
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def markdown(result: dict[str, Any]) -> str:
    warm, cold = result["warm"], result["cold"]
    load = result["load_average"]
    lines = [
        "## Static review speed",
        "",
        f"`benchmarks/review_speed.py`, {result['date']} on {result['machine']}, Python {result['python']} "
        f"(load average {load} at the end). Whole review (checks: {', '.join(result['checks'])}) of each of the "
        f"{warm['scripts']} catalogue reference scripts, in process; warm = median of {result['runs']} runs per "
        "script after a first review of it.",
        "",
        "| measure | ms |",
        "|---|---:|",
        f"| warm review, median over scripts (target <= {TARGET_MS:.0f}) | {warm['median_ms']:.1f} |",
        f"| warm review, p90 | {warm['p90_ms']:.1f} |",
        f"| warm review, max ({warm['slowest']}) | {warm['max_ms']:.1f} |",
        f"| cold: import cloudinspect.review (fresh process, median of 3) | {cold['import_ms']:.0f} |",
        f"| cold: first review in a fresh process (loads models) | {cold['first_ms']:.0f} |",
        f"| cold: second review of the same script | {cold['second_ms']:.1f} |",
        f"| baseline: Bandit as a subprocess on one script | {result['bandit_subprocess_ms']:.0f} |",
        "",
        f"Ratios in this run: first review / warm median {cold['first_ms'] / warm['median_ms']:.1f}x; "
        f"Bandit subprocess alone / whole warm review {result['bandit_subprocess_ms'] / warm['median_ms']:.1f}x.",
        "",
        "Per check (warm, median over every run of every script):",
        "",
        "| check | ms |",
        "|---|---:|",
    ]
    for name, ms in warm["per_check_median_ms"].items():
        lines.append(f"| {name} | {ms:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Warm runs per script (and Bandit subprocess runs).")
    parser.add_argument("--json", action="store_true", help="Print the raw numbers as JSON.")
    parser.add_argument("--cold-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_child(args.cold_child)
        return
    scripts = reference_scripts()
    probe = CATALOG / "logs" / "logs-error-count-by-group.py"
    cold = measure_cold(probe, 3)
    warm = measure_warm(scripts, args.runs)
    from cloudinspect.review import registered_checks

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "runs": args.runs,
        "checks": list(registered_checks()),
        "warm": warm,
        "cold": cold,
        "bandit_subprocess_ms": measure_bandit_subprocess(probe, args.runs),
        "load_average": "/".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(markdown(result))
    if warm["median_ms"] > TARGET_MS:
        print(f"warm median {warm['median_ms']:.1f} ms is above the {TARGET_MS:.0f} ms target", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
