"""Redaction speed: `redact_text` over 1 MB of text of several kinds, and `redact_data` over structured records.

Kinds of text: Python code (the package's own sources, repeated), JSON as boto3 returns it, a random base64 blob,
and prose dense with secret-sounding words (a needle every few characters: the slow case). Each is timed N times
(default 5) and the best is kept. The target: 1 MB of code or JSON in well under 100 ms.

    .venv/bin/python benchmarks/redact_speed.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloudinspect.redact import redact_data, redact_text

ROOT = Path(__file__).resolve().parents[1]
SIZE = 1_000_000


def _records(count: int) -> list[dict[str, Any]]:
    rng = random.Random(1)  # noqa: S311 - reproducible test data, not secrets
    return [
        {
            "InstanceId": f"i-0{rng.getrandbits(64):016x}",
            "State": {"Name": "running", "Code": 16},
            "Tags": [{"Key": "Name", "Value": f"web-{i}"}, {"Key": "env", "Value": "prod"}],
            "NextToken": "page-2",
            "LaunchTime": "2026-01-01T00:00:00Z",
        }
        for i in range(count)
    ]


def texts() -> dict[str, str]:
    code = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "src" / "cloudinspect").rglob("*.py")))
    rng = random.Random(2)  # noqa: S311 - reproducible test data, not secrets
    blob = "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(SIZE))
    prose = "the token limit and the secret password key for auth " * (SIZE // 50)
    return {
        "code": (code * (SIZE // len(code) + 1))[:SIZE],
        "json": json.dumps(_records(20_000))[:SIZE],
        "base64": blob,
        "dense prose": prose[:SIZE],
    }


def best_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {
        f"redact_text {name} (1 MB)": best_ms(lambda t=text: redact_text(t), args.runs)
        for name, text in texts().items()
    }
    records = _records(10_000)
    results["redact_data 10k records (2.2 MB as JSON)"] = best_ms(lambda: redact_data(records), args.runs)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("| case | best ms |\n| --- | --- |")
    for name, ms in results.items():
        print(f"| {name} | {ms:.1f} |")


if __name__ == "__main__":
    main()
