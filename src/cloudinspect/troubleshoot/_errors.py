"""The troubleshooting workflow's own error."""

from __future__ import annotations

from cloudinspect.errors import CloudInspectError


class TroubleshootError(CloudInspectError):
    """A troubleshooting run could not go on: the planner model failed for good at a step (the message names the
    step and the provider's failure). Exit code 1, without a traceback."""
