"""Reference: HTTPS/TLS listeners whose SSL security policy is not on the approved list."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
APPROVED = set(
    VARS.get(
        "approved_policies",
        [
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
            "ELBSecurityPolicy-TLS13-1-3-2021-06",
            "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
            "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        ],
    )
)


def main() -> None:
    elbv2 = boto3.client("elbv2")
    found = []
    checked = 0
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        for lb in page["LoadBalancers"]:
            for listener_page in elbv2.get_paginator("describe_listeners").paginate(
                LoadBalancerArn=lb["LoadBalancerArn"]
            ):
                for listener in listener_page["Listeners"]:
                    if listener.get("Protocol") not in ("HTTPS", "TLS"):
                        continue
                    checked += 1
                    policy = listener.get("SslPolicy") or None
                    if policy in APPROVED:
                        continue
                    found.append(
                        {
                            "load_balancer": lb["LoadBalancerName"],
                            "type": lb.get("Type", ""),
                            "protocol": listener["Protocol"],
                            "port": listener["Port"],
                            "ssl_policy": policy,
                        }
                    )
    found.sort(key=lambda f: (f["load_balancer"], f["port"]))
    print(json.dumps({"listeners": found, "tls_listeners_checked": checked, "non_compliant_count": len(found)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)
