"""The repair loop: generate, review, execute, evaluate, diagnose and repair until the script passes.

from cloudinspect.loop import run_repair_loop

record = run_repair_loop("ec2-instance-inventory", "smollm2-135m", target="emulator:baseline")
print(record.status, [a.error_class for a in record.attempts])
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Attempt": "cloudinspect.loop.state",
    "LoopEvent": "cloudinspect.loop.context",
    "LoopLimits": "cloudinspect.loop.context",
    "ProgressPrinter": "cloudinspect.loop.progress",
    "RepairContext": "cloudinspect.loop.context",
    "RepairState": "cloudinspect.loop.state",
    "RunRecord": "cloudinspect.loop.state",
    "RunStatus": "cloudinspect.loop.state",
    "Verdict": "cloudinspect.loop.state",
    "attempts_table": "cloudinspect.loop.progress",
    "build_repair_graph": "cloudinspect.loop.graph",
    "evaluate_output": "cloudinspect.loop.evaluate",
    "repair_graph_mermaid": "cloudinspect.loop.graph",
    "resume_repair_loop": "cloudinspect.loop.run",
    "run_repair_loop": "cloudinspect.loop.run",
    "runs_table": "cloudinspect.loop.progress",
}

__all__ = [
    "Attempt",
    "LoopEvent",
    "LoopLimits",
    "ProgressPrinter",
    "RepairContext",
    "RepairState",
    "RunRecord",
    "RunStatus",
    "Verdict",
    "attempts_table",
    "build_repair_graph",
    "evaluate_output",
    "repair_graph_mermaid",
    "resume_repair_loop",
    "run_repair_loop",
    "runs_table",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cloudinspect.loop' has no attribute {name!r}")
