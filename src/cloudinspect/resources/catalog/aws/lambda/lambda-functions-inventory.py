"""Reference: inventory of Lambda functions with runtime, memory, timeout and env var count."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
RUNTIME_PREFIX = VARS.get("runtime_prefix", "")


def main() -> None:
    client = boto3.client("lambda")
    functions = []
    for page in client.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            runtime = fn.get("Runtime")
            if RUNTIME_PREFIX and not (runtime or "").startswith(RUNTIME_PREFIX):
                continue
            functions.append(
                {
                    "name": fn["FunctionName"],
                    "runtime": runtime,
                    "memory_mb": fn.get("MemorySize", 128),
                    "timeout_s": fn.get("Timeout", 3),
                    "env_var_count": len(fn.get("Environment", {}).get("Variables", {})),
                }
            )
    functions.sort(key=lambda f: f["name"])
    print(json.dumps({"functions": functions, "count": len(functions)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
