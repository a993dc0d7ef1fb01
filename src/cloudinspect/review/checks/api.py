"""The `api` check: every boto3 call checked against botocore's service models (see `cloudinspect.review.api`)."""

from __future__ import annotations

from typing import ClassVar

from cloudinspect.review.api import analyse_api
from cloudinspect.review.types import Finding, ReviewContext, register_check


@register_check
class ApiCheck:
    """Unknown services, operations, parameters, paginators, waiters and exceptions; missing and mistyped
    parameters; resource-style (boto3.resource) code resolved to the operations it calls."""

    name: ClassVar[str] = "api"
    order: ClassVar[int] = 20
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Analyse the submitted code's AST; shares its API calls with the other checks via `ctx.api_calls`."""
        if ctx.tree is None:
            return []
        analysis = analyse_api(ctx.tree)
        # Computing ctx.api_calls here (from the same cached analysis) puts the calls in the review even when no
        # other check asks for them.
        _ = ctx.api_calls
        return list(analysis.findings)
