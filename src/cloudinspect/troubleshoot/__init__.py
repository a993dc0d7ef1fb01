"""Troubleshooting: from a problem in words to evidence-backed, cited diagnosis (docs/troubleshooting.md).

from cloudinspect.troubleshoot import troubleshoot, render_result

result = troubleshoot("Our order processor Lambda keeps timing out since yesterday", model="smollm2-135m",
                      target="emulator:fault-lambda-timeout")
print(render_result(result, "markdown"))

Exports are loaded on first use: loading a fault scenario imports `cloudinspect.troubleshoot.findings` (its labels
are validated against the vocabulary), and that must not pull in LangGraph or the repair loop.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_TYPES = "cloudinspect.troubleshoot.types"
_EXPORTS = {
    "troubleshoot": "cloudinspect.troubleshoot.run",
    "TroubleshootError": "cloudinspect.troubleshoot._errors",
    "TroubleshootLimits": "cloudinspect.troubleshoot.state",
    "build_troubleshoot_graph": "cloudinspect.troubleshoot.graph",
    "troubleshoot_graph_mermaid": "cloudinspect.troubleshoot.graph",
    "score_result": "cloudinspect.troubleshoot.score",
    "TroubleshootScore": "cloudinspect.troubleshoot.score",
    "render_result": "cloudinspect.troubleshoot.render",
    "render_text": "cloudinspect.troubleshoot.render",
    "render_markdown": "cloudinspect.troubleshoot.render",
    "render_json": "cloudinspect.troubleshoot.render",
    "build_bundle": "cloudinspect.troubleshoot.evidence",
    "bundle_to_markdown": "cloudinspect.troubleshoot.evidence",
    "bundle_to_json": "cloudinspect.troubleshoot.evidence",
    "load_findings": "cloudinspect.troubleshoot.findings",
    "ProblemStatement": _TYPES,
    "PlannedInspection": _TYPES,
    "Plan": _TYPES,
    "InspectionOutcome": _TYPES,
    "Provenance": _TYPES,
    "EvidenceItem": _TYPES,
    "EvidenceBundle": _TYPES,
    "Hypothesis": _TYPES,
    "Remediation": _TYPES,
    "Diagnosis": _TYPES,
    "StepUsage": _TYPES,
    "TroubleshootResult": _TYPES,
}

__all__ = [
    "Diagnosis",
    "EvidenceBundle",
    "EvidenceItem",
    "Hypothesis",
    "InspectionOutcome",
    "Plan",
    "PlannedInspection",
    "ProblemStatement",
    "Provenance",
    "Remediation",
    "StepUsage",
    "TroubleshootError",
    "TroubleshootLimits",
    "TroubleshootResult",
    "TroubleshootScore",
    "build_bundle",
    "build_troubleshoot_graph",
    "bundle_to_json",
    "bundle_to_markdown",
    "load_findings",
    "render_json",
    "render_markdown",
    "render_result",
    "render_text",
    "score_result",
    "troubleshoot",
    "troubleshoot_graph_mermaid",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cloudinspect.troubleshoot' has no attribute {name!r}")
