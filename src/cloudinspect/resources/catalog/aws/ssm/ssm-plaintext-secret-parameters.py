"""Reference: SSM parameters with secret-looking names that are not SecureString."""

import json
import os
import re
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
SECRET_NAME = re.compile(
    VARS.get("secret_name_pattern", "password|passwd|secret|token|api_?key|access_?key|private_?key|credential"),
    re.IGNORECASE,
)


def main() -> None:
    ssm = boto3.client("ssm")
    found = []
    total = secret_like = 0
    for page in ssm.get_paginator("describe_parameters").paginate():
        for param in page["Parameters"]:
            total += 1
            if not SECRET_NAME.search(param["Name"]):
                continue
            secret_like += 1
            if param.get("Type") != "SecureString":
                found.append({"name": param["Name"], "type": param.get("Type"), "tier": param.get("Tier")})
    found.sort(key=lambda p: p["name"])
    print(
        json.dumps(
            {
                "parameters": found,
                "count": len(found),
                "secret_like_count": secret_like,
                "parameter_count": total,
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
