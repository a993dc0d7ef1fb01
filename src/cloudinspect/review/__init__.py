"""Static review of generated inspection code: syntax, formatting and imports, API calls against botocore's
models, read-only enforcement, Bandit, and the least-privilege IAM policy the code needs."""

from cloudinspect.review.iam import derive_iam_policy
from cloudinspect.review.pipeline import review_code, review_file
from cloudinspect.review.types import (
    ApiCall,
    Change,
    Check,
    Finding,
    Review,
    ReviewContext,
    ReviewOptions,
    Severity,
    register_check,
    registered_checks,
)

__all__ = [
    "ApiCall",
    "Change",
    "Check",
    "Finding",
    "Review",
    "ReviewContext",
    "ReviewOptions",
    "Severity",
    "derive_iam_policy",
    "register_check",
    "registered_checks",
    "review_code",
    "review_file",
]
