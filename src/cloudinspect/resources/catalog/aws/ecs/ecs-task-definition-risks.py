"""Reference: risky container settings in the latest active revision of each ECS task definition family."""

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
ISSUES = ("privileged", "secret-in-environment", "mutable-image-tag", "no-log-configuration")


def mutable_tag(image: str) -> bool:
    if "@sha256:" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return tag in ("", "latest")


def main() -> None:
    ecs = boto3.client("ecs")
    families = [
        f
        for page in ecs.get_paginator("list_task_definition_families").paginate(status="ACTIVE")
        for f in page["families"]
    ]
    containers = []
    counts = dict.fromkeys(ISSUES, 0)
    for family in sorted(set(families)):
        task_def = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        for container in task_def.get("containerDefinitions", []):
            secret_names = sorted(
                {e["name"] for e in container.get("environment", []) if SECRET_NAME.search(e.get("name", ""))}
            )
            image = container.get("image", "")
            issues = []
            if container.get("privileged"):
                issues.append("privileged")
            if secret_names:
                issues.append("secret-in-environment")
            if mutable_tag(image):
                issues.append("mutable-image-tag")
            if not container.get("logConfiguration"):
                issues.append("no-log-configuration")
            for issue in issues:
                counts[issue] += 1
            if issues:
                containers.append(
                    {
                        "family": task_def["family"],
                        "revision": task_def["revision"],
                        "container": container["name"],
                        "image": image,
                        "issues": issues,
                        "secret_env_names": secret_names,
                    }
                )
    containers.sort(key=lambda c: (c["family"], c["container"]))
    print(json.dumps({"containers": containers, "families_checked": len(set(families)), "issue_counts": counts}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
