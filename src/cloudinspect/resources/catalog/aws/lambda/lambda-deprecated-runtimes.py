"""Reference: Lambda functions whose runtime is in the given deprecated list, counted per runtime."""

import json
import os
import sys
from collections import Counter

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
DEPRECATED = set(VARS.get("deprecated_runtimes", []))


def main() -> None:
    lam = boto3.client("lambda")
    total = 0
    found = []
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            total += 1
            runtime = fn.get("Runtime")
            if runtime and runtime in DEPRECATED:
                found.append(
                    {
                        "name": fn["FunctionName"],
                        "runtime": runtime,
                        "memory_mb": fn.get("MemorySize", 128),
                    }
                )
    found.sort(key=lambda f: f["name"])
    by_runtime = Counter(f["runtime"] for f in found)
    print(
        json.dumps(
            {
                "functions": found,
                "by_runtime": dict(sorted(by_runtime.items())),
                "count": len(found),
                "total_functions": total,
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
