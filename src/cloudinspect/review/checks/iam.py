"""The `iam` check: derive the least-privilege IAM policy of the script's calls (see cloudinspect.review.iam)."""

from __future__ import annotations

from typing import ClassVar

from cloudinspect.review.iam import plan_policy, policy_document
from cloudinspect.review.types import Finding, ReviewContext, Severity, register_check


@register_check
class IamCheck:
    """Sets `ctx.iam_policy`; warns about calls whose IAM action no data knows (left out of the policy).

    Calls left out because they are not reads are the read_only check's findings, not this one's.
    """

    name: ClassVar[str] = "iam"
    order: ClassVar[int] = 90
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Derive the policy; report unknown actions."""
        plan = plan_policy(ctx.api_calls)
        ctx.iam_policy = policy_document(plan.actions)
        findings = []
        seen: set[tuple[str, str, int]] = set()
        for call, access, reason in plan.excluded:
            if access.known or (call.service, call.operation, call.line) in seen:
                continue
            seen.add((call.service, call.operation, call.line))
            findings.append(
                Finding(
                    check=self.name,
                    rule="iam.unknown-action",
                    severity=Severity.warning,
                    message=f"no IAM action data for {call.service} {call.operation} ({reason}); "
                    "it is left out of the policy, so the call will be denied",
                    line=call.line,
                    col=call.col,
                    suggestion="refresh AWS's service reference (cloudinspect.review.access.refresh_service_reference) "
                    "or add the operation to resources/iam/operation_actions.yaml",
                )
            )
        return findings
