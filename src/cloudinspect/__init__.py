"""cloudinspect: LLM-written, reviewed and sandboxed cloud inspection code, and a benchmark of the LLMs.

The public facade; names are imported lazily so that `import cloudinspect` stays cheap.

    from cloudinspect import load_catalog, start_emulator, get_model
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_catalog": "cloudinspect.catalog",
    "render_prompt": "cloudinspect.catalog",
    "resolve_variables": "cloudinspect.catalog",
    "InspectionPrompt": "cloudinspect.catalog",
    "compare_outputs": "cloudinspect.catalog.compare",
    "run_reference": "cloudinspect.catalog.reference",
    "start_emulator": "cloudinspect.cloud",
    "load_scenarios": "cloudinspect.cloud",
    "get_scenario": "cloudinspect.cloud",
    "parse_target": "cloudinspect.cloud",
    "Target": "cloudinspect.cloud",
    "generate_code": "cloudinspect.generation",
    "CodeArtifact": "cloudinspect.generation",
    "review_code": "cloudinspect.review",
    "derive_iam_policy": "cloudinspect.review",
    "get_model": "cloudinspect.models",
    "get_spec": "cloudinspect.models",
    "load_registry": "cloudinspect.models",
    "select_models": "cloudinspect.models",
    "ModelSpec": "cloudinspect.models",
    "InputError": "cloudinspect.errors",
    "CloudInspectError": "cloudinspect.errors",
}

__all__ = [
    "CloudInspectError",
    "CodeArtifact",
    "InputError",
    "InspectionPrompt",
    "ModelSpec",
    "Target",
    "__version__",
    "compare_outputs",
    "derive_iam_policy",
    "generate_code",
    "get_model",
    "get_scenario",
    "get_spec",
    "load_catalog",
    "load_registry",
    "load_scenarios",
    "parse_target",
    "render_prompt",
    "resolve_variables",
    "review_code",
    "run_reference",
    "select_models",
    "start_emulator",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cloudinspect' has no attribute {name!r}")
