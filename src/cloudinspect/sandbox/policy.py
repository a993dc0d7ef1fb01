"""The IAM policy a run actually needed: `observed_iam_policy(calls)` from the calls the guard and bridge recorded.

Only calls that went out count (allowed ones; a refused call reached nothing). The bridge's records are the
sandbox's own observation and the guard's are the child's word: both are merged, since with isolation "none" there
is no bridge. The policy is `cloudinspect.review.iam.derive_iam_policy` of those (service, operation) pairs, so it
grants reads only, under their real IAM names (s3 ListObjectsV2 -> s3:ListBucket).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cloudinspect.sandbox.result import ApiCallRecord


def observed_operations(calls: Iterable[ApiCallRecord]) -> list[tuple[str, str]]:
    """The distinct (service, operation) pairs of the calls that were allowed out, sorted."""
    pairs = {
        (c.service, c.operation)
        for c in calls
        if c.allowed and c.service and c.operation and c.service != "None" and c.operation != "None"
    }
    return sorted(pairs)


def observed_iam_policy(calls: Iterable[ApiCallRecord]) -> dict[str, Any]:
    """The least-privilege IAM policy document for the calls that were actually made (reads only)."""
    from cloudinspect.review.iam import derive_iam_policy
    from cloudinspect.review.types import ApiCall

    api_calls = [
        ApiCall(service=service, operation=operation, method=operation, line=0, valid=True)
        for service, operation in observed_operations(calls)
    ]
    return derive_iam_policy(api_calls)
