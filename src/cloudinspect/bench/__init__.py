"""The model comparison benchmark: catalogue prompts x scenarios x models, graded by execution, resumable.

from pathlib import Path
from cloudinspect.bench import BenchConfig, run_benchmark

summary = run_benchmark(BenchConfig(models=["smollm2-135m", "gemma3-270m"], prompts=["service:s3"]), Path("out"))
print(summary.models["smollm2-135m"].pass_rate)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "publish_to_langsmith": "cloudinspect.bench.langsmith",
    "BenchConfig": "cloudinspect.bench.types",
    "BenchStore": "cloudinspect.bench.store",
    "BenchSummary": "cloudinspect.bench.types",
    "CanonicalAnswers": "cloudinspect.bench.grade",
    "Cell": "cloudinspect.bench.types",
    "CellResult": "cloudinspect.bench.types",
    "ModelSummary": "cloudinspect.bench.types",
    "ScenarioGrade": "cloudinspect.bench.types",
    "Task": "cloudinspect.bench.types",
    "build_cells": "cloudinspect.bench.tasks",
    "grade_script": "cloudinspect.bench.grade",
    "run_benchmark": "cloudinspect.bench.runner",
    "select_tasks": "cloudinspect.bench.tasks",
    "TroubleshootBenchConfig": "cloudinspect.bench.troubleshoot",
    "TroubleshootSummary": "cloudinspect.bench.troubleshoot",
    "run_troubleshoot_benchmark": "cloudinspect.bench.troubleshoot",
}

__all__ = [
    "BenchConfig",
    "BenchStore",
    "BenchSummary",
    "CanonicalAnswers",
    "Cell",
    "CellResult",
    "ModelSummary",
    "ScenarioGrade",
    "Task",
    "TroubleshootBenchConfig",
    "TroubleshootSummary",
    "build_cells",
    "grade_script",
    "publish_to_langsmith",
    "run_benchmark",
    "run_troubleshoot_benchmark",
    "select_tasks",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cloudinspect.bench' has no attribute {name!r}")
