"""Reference: the largest S3 buckets by total size of current objects, with object counts and average size."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
TOP_N = int(VARS.get("top_n", 5))


def main() -> None:
    s3 = boto3.client("s3")
    names = set()
    for page in s3.get_paginator("list_buckets").paginate():
        names |= {b["Name"] for b in page.get("Buckets", [])}
    rows = []
    for name in sorted(names):
        count = size = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                count += 1
                size += obj.get("Size", 0)
        rows.append(
            {
                "bucket": name,
                "object_count": count,
                "total_bytes": size,
                "average_object_bytes": round(size / count, 2) if count else None,
            }
        )
    top = sorted(rows, key=lambda r: (-r["total_bytes"], -r["object_count"], r["bucket"]))[:TOP_N]
    print(
        json.dumps(
            {
                "buckets": top,
                "bucket_count": len(rows),
                "account_object_count": sum(r["object_count"] for r in rows),
                "account_total_bytes": sum(r["total_bytes"] for r in rows),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
