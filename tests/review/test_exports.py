"""The review's public names: `derive_iam_policy` from cloudinspect.review and from the facade."""

from __future__ import annotations

import cloudinspect
import cloudinspect.review
from cloudinspect.review.iam import derive_iam_policy


def test_derive_iam_policy_is_exported() -> None:
    assert "derive_iam_policy" in cloudinspect.review.__all__
    assert cloudinspect.review.derive_iam_policy is derive_iam_policy
    assert cloudinspect.derive_iam_policy is derive_iam_policy
    assert cloudinspect.review_code is cloudinspect.review.review_code


def test_facade_all_is_sorted_and_resolvable() -> None:
    names = [n for n in cloudinspect.__all__ if n != "__version__"]
    assert cloudinspect.__all__ == sorted(cloudinspect.__all__)
    assert {"derive_iam_policy", "review_code"} <= set(names)
    for name in ("derive_iam_policy", "review_code"):
        assert callable(getattr(cloudinspect, name))


def test_facade_policy_from_a_review() -> None:
    review = cloudinspect.review_code('import boto3\nprint(boto3.client("s3").list_buckets())\n')
    policy = cloudinspect.derive_iam_policy(review.api_calls)
    actions = [a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert actions == ["s3:ListAllMyBuckets"]
