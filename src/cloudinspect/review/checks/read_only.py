"""The `read_only` check: every AWS call must be a read, judged by the IAM access level of the actions it needs.

A call is a read when every IAM action it needs has access level Read or List (cloudinspect.review.access);
Write, Permissions management and Tagging are violations (`read_only.mutating-call`, error), whatever the
method's name. Reads that return secret values (`read_only.secret-read`, warning) and reads charged beyond
ordinary requests (`read_only.paid-read`, info or warning) are flagged separately (resources/iam/read_only.yaml).
A secret read that depends on a parameter (ssm `WithDecryption`) is judged by the parameter's literal value
(`ApiCall.values`): absent or a literal False is not a secret read; True, or a value unknown statically, is.
Calls that are not valid against botocore's models are the api check's business and are left unjudged.

The check sets `ApiCall.read_only` on the context's calls, so that the review reports the verdict per call.
"""

from __future__ import annotations

from typing import ClassVar

from cloudinspect.review.access import OperationAccess, operation_access, read_only_data
from cloudinspect.review.types import ApiCall, Finding, ReviewContext, Severity, register_check

# Only for operations that no IAM data knows: a guess by verb, reported as such.
_READ_VERBS = ("Describe", "List", "Get", "Head", "BatchGet", "Search", "Lookup", "Query", "Scan")


def _secret_read(when_param: str | None, call: ApiCall) -> bool:
    """Whether a read listed as secret returns secrets here: always without a condition; otherwise when the
    condition parameter is passed and its value is not a literal False (or None, 0, ""): `WithDecryption=True`
    or a value unknown statically is a secret read, `WithDecryption=False` or leaving it out is not."""
    if when_param is None:
        return True
    if when_param not in call.params:
        return False
    if when_param in call.values:
        return bool(call.values[when_param])
    return True


@register_check
class ReadOnlyCheck:
    """Judges every valid API call read-only or not, and flags secret and paid reads."""

    name: ClassVar[str] = "read_only"
    order: ClassVar[int] = 50
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Judge each call; store the judged calls back on the context."""
        findings: list[Finding] = []
        judged: list[ApiCall] = []
        for call in ctx.api_calls:
            if not call.valid:
                judged.append(call)
                continue
            access = operation_access(call.service, call.operation)
            read_only = access.read_only
            if read_only is None:
                read_only = call.operation.startswith(_READ_VERBS)
                findings.append(self._unknown(call, access, read_only))
            judged.append(call.model_copy(update={"read_only": read_only}))
            if not read_only:
                findings.append(self._mutating(call, access))
                continue
            findings.extend(self._sensitive(call))
        # ApiCall is frozen: replace the cached list so that the review reports the judged calls.
        ctx.__dict__["api_calls"] = judged
        return findings

    def _mutating(self, call: ApiCall, access: OperationAccess) -> Finding:
        needs = ", ".join(
            f"{a.action} ({' / '.join(sorted(a.levels)) or 'unknown'}{'; ' + a.override if a.override else ''})"
            for a in access.actions
            if not a.is_read
        )
        return Finding(
            check=self.name,
            rule="read_only.mutating-call",
            severity=Severity.error,
            message=f"`{call.method}` calls {call.service} {call.operation}, which is not a read: it needs {needs}",
            line=call.line,
            col=call.col,
            suggestion="inspection code must only read; remove the call (it would be refused at run time)",
        )

    def _unknown(self, call: ApiCall, access: OperationAccess, guess: bool) -> Finding:
        actions = ", ".join(a.action for a in access.actions)
        verdict = "a read" if guess else "not a read"
        return Finding(
            check=self.name,
            rule="read_only.unknown-access",
            severity=Severity.info,
            message=f"no IAM access level is known for {call.service} {call.operation} ({actions}); "
            f"judged {verdict} by its name",
            line=call.line,
            col=call.col,
        )

    def _sensitive(self, call: ApiCall) -> list[Finding]:
        data = read_only_data()
        found = []
        secret = data.secret_reads.get(call.service, {}).get(call.operation)
        if secret is not None and _secret_read(secret.when_param, call):
            maybe = "" if secret.when_param is None or secret.when_param in call.values else "may "
            reason = secret.reason if not maybe else secret.reason.replace("returns ", "return ", 1)
            found.append(
                Finding(
                    check=self.name,
                    rule="read_only.secret-read",
                    severity=Severity.warning,
                    message=f"`{call.method}` ({call.service} {call.operation}) {maybe}{reason}"
                    + (f" ({secret.when_param} is not a literal)" if maybe else ""),
                    line=call.line,
                    col=call.col,
                    suggestion="inspect metadata instead of values; never print secrets",
                )
            )
        paid_by_op = data.paid_reads.get(call.service, {})
        paid = paid_by_op.get(call.operation) or paid_by_op.get("*")
        if paid is not None:
            found.append(
                Finding(
                    check=self.name,
                    rule="read_only.paid-read",
                    severity=Severity(paid.severity),
                    message=f"`{call.method}` ({call.service} {call.operation}) costs money: {paid.reason}",
                    line=call.line,
                    col=call.col,
                )
            )
        return found
