"""The prompt catalogue: inspection prompts, their variables and output contracts."""

from cloudinspect.catalog.loader import Catalog, builtin_catalog_dir, load_catalog, load_prompt_file
from cloudinspect.catalog.render import parse_var_options, render_prompt, resolve_variables
from cloudinspect.catalog.schema import (
    Adjustment,
    Category,
    CompareRules,
    InspectionPrompt,
    OutputContract,
    Tolerance,
    Variable,
    VarType,
)

__all__ = [
    "Adjustment",
    "Catalog",
    "Category",
    "CompareRules",
    "InspectionPrompt",
    "OutputContract",
    "Tolerance",
    "VarType",
    "Variable",
    "builtin_catalog_dir",
    "load_catalog",
    "load_prompt_file",
    "parse_var_options",
    "render_prompt",
    "resolve_variables",
]
