"""Reference: ALB HTTP listeners whose default actions do not redirect to HTTPS."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
INTERNET_FACING_ONLY = bool(VARS.get("internet_facing_only", False))


def redirects_to_https(actions: list[dict]) -> bool:
    return any(
        a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS" for a in actions
    )


def main() -> None:
    elbv2 = boto3.client("elbv2")
    found = []
    checked = 0
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        for lb in page["LoadBalancers"]:
            if lb.get("Type") != "application":
                continue
            if INTERNET_FACING_ONLY and lb.get("Scheme") != "internet-facing":
                continue
            checked += 1
            for listener_page in elbv2.get_paginator("describe_listeners").paginate(
                LoadBalancerArn=lb["LoadBalancerArn"]
            ):
                for listener in listener_page["Listeners"]:
                    actions = listener.get("DefaultActions", [])
                    if listener.get("Protocol") != "HTTP" or redirects_to_https(actions):
                        continue
                    ordered = sorted(enumerate(actions), key=lambda ia: (ia[1].get("Order", 0), ia[0]))
                    found.append(
                        {
                            "load_balancer": lb["LoadBalancerName"],
                            "scheme": lb.get("Scheme", ""),
                            "port": listener["Port"],
                            "default_action": ordered[0][1].get("Type") if ordered else None,
                        }
                    )
    found.sort(key=lambda f: (f["load_balancer"], f["port"]))
    print(json.dumps({"listeners": found, "count": len(found), "load_balancers_checked": checked}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
