"""The `modules` check (the issue's "import" check): what the script imports and which escapes it calls.

Named `modules` so that it is not confused with the `imports` fixer (unused and missing imports).

- Every imported module must exist in the sandbox environment: the sandbox runs this interpreter, so a module is
  available when it is found here (`modules.not-found`, error). Found third-party modules other than boto3 and
  its dependencies are a warning (`modules.third-party`): inspection code should need nothing else.
- Modules and calls that reach outside the inspection job (processes, sockets, native code, exec-like calls,
  direct HTTP, pickle...) are findings with the severity of `resources/review/modules.yaml`
  (`modules.unsafe-module`, `modules.unsafe-call`).
- Relative imports cannot work in a standalone script (`modules.relative-import`, error).

Modules are looked up without importing them: the top-level name with `importlib.util.find_spec` (which imports
nothing), submodules with the path finder over the parent package's locations.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from fnmatch import fnmatchcase
from functools import cache, lru_cache
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from cloudinspect.config import resources_dir
from cloudinspect.review.checks.fixers import REMOVED_IMPORTS
from cloudinspect.review.types import Finding, ReviewContext, Severity, register_check
from cloudinspect.yamlfiles import load_model


def _if_removed(findings: list[Finding], removed: bool) -> list[Finding]:
    """An import that the imports fixer removed (unused) is no longer a problem of the fixed code."""
    if not removed:
        return findings
    return [
        f.model_copy(
            update={
                "severity": Severity.info,
                "fixable": True,
                "message": f"{f.message} (unused: the imports fixer removed it)",
            }
        )
        for f in findings
    ]


class Hazard(BaseModel):
    """Why a module or call is a finding, and how bad it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Literal["error", "warning"]
    reason: str


class ModuleSafety(BaseModel):
    """`resources/review/modules.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runtime: list[str]
    modules: dict[str, Hazard]
    calls: dict[str, Hazard]


@cache
def module_safety() -> ModuleSafety:
    """The module safety table (loaded once)."""
    return load_model(resources_dir() / "review" / "modules.yaml", ModuleSafety)


@lru_cache(maxsize=2048)
def module_available(name: str) -> bool:
    """Whether `name` (dotted) can be imported by this interpreter, found without importing it."""
    if name in sys.modules:
        return True
    top, _, rest = name.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    qualified = top
    for part in rest.split(".") if rest else []:
        locations = spec.submodule_search_locations
        if locations is None:
            return False
        qualified = f"{qualified}.{part}"
        if qualified in sys.modules:
            module_spec = sys.modules[qualified].__spec__
            if module_spec is None:
                return True
            spec = module_spec
            continue
        found = importlib.machinery.PathFinder.find_spec(qualified, list(locations))
        if found is None:
            return False
        spec = found
    return True


def _hazard_for_module(name: str) -> tuple[str, Hazard] | None:
    table = module_safety().modules
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in table:
            return candidate, table[candidate]
    return None


def _hazard_for_call(qualified: str) -> Hazard | None:
    for pattern, hazard in module_safety().calls.items():
        if fnmatchcase(qualified, pattern):
            return hazard
    return None


class _Names(ast.NodeVisitor):
    """Import aliases (local name -> qualified name) and every name the module binds."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.bound: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.bound.add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.bound.add(node.name)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            self.bound.add(arg.arg)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bound.add(node.name)
        self.generic_visit(node)


def _typing_only(tree: ast.Module) -> set[int]:
    """Nodes under `if TYPE_CHECKING:`: never run, so their imports need not exist in the sandbox."""
    nodes: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
        if name == "TYPE_CHECKING":
            nodes.update(id(sub) for child in node.body for sub in ast.walk(child))
    return nodes


def _qualified(node: ast.expr, names: _Names) -> str | None:
    """The qualified name a called expression refers to (os.system, builtins.eval), if it is a plain name."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    if node.id in names.aliases:
        base = names.aliases[node.id]
    elif node.id in names.bound:
        return None
    else:
        base = f"builtins.{node.id}"
    return ".".join([base, *reversed(attrs)])


@register_check
class ModulesCheck:
    """Imported modules exist in the sandbox; nothing reaches outside the inspection job."""

    name: ClassVar[str] = "modules"
    order: ClassVar[int] = 20
    fixes: ClassVar[bool] = False
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """Check every import statement and every call of the submitted code."""
        tree = ctx.tree
        if tree is None:
            return []
        names = _Names()
        names.visit(tree)
        removed: set[str] = ctx.extra.get(REMOVED_IMPORTS, set())
        typing_only = _typing_only(tree)
        findings: list[Finding] = []
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    findings.extend(_if_removed(self._module(alias.name, node), alias.name in removed))
            elif isinstance(node, ast.ImportFrom):
                gone = bool(node.module) and all(f"{node.module}.{a.name}" in removed for a in node.names)
                findings.extend(_if_removed(self._import_from(node), gone))
            elif isinstance(node, ast.Call):
                qualified = _qualified(node.func, names)
                hazard = _hazard_for_call(qualified) if qualified else None
                if qualified and hazard:
                    shown = qualified.removeprefix("builtins.")
                    findings.append(
                        self._finding(
                            "modules.unsafe-call",
                            Severity(hazard.severity),
                            f"`{shown}(...)` {hazard.reason}: inspection code must not reach outside its job",
                            node,
                        )
                    )
        return sorted(findings, key=lambda f: (f.line or 0, f.col or 0, f.rule))

    def _import_from(self, node: ast.ImportFrom) -> list[Finding]:
        if node.level:
            return [
                self._finding(
                    "modules.relative-import",
                    Severity.error,
                    "relative import in a standalone script cannot work",
                    node,
                    suggestion="import modules by their absolute name",
                )
            ]
        module = node.module or ""
        findings = self._module(module, node)
        if any(f.rule == "modules.unsafe-module" for f in findings):
            return findings
        for alias in node.names:
            # `from urllib import request` imports urllib.request
            hazard = _hazard_for_module(f"{module}.{alias.name}")
            if hazard is not None and _hazard_for_module(module) is None:
                findings.append(self._unsafe_module(hazard[0], hazard[1], node))
        return findings

    def _module(self, module: str, node: ast.stmt) -> list[Finding]:
        hazard = _hazard_for_module(module)
        if hazard is not None:
            return [self._unsafe_module(hazard[0], hazard[1], node)]
        top = module.split(".", maxsplit=1)[0]
        if top in sys.stdlib_module_names:
            if not module_available(module):
                return [self._not_found(module, node)]
            return []
        if not module_available(module):
            return [self._not_found(module, node)]
        if top not in module_safety().runtime:
            return [
                self._finding(
                    "modules.third-party",
                    Severity.warning,
                    f"third-party module '{module}' is not part of the inspection runtime "
                    f"({', '.join(module_safety().runtime)} and the standard library)",
                    node,
                    suggestion="use boto3 and the standard library only",
                )
            ]
        return []

    def _unsafe_module(self, module: str, hazard: Hazard, node: ast.stmt) -> Finding:
        return self._finding(
            "modules.unsafe-module",
            Severity(hazard.severity),
            f"module '{module}' {hazard.reason}: inspection code must not reach outside its job",
            node,
        )

    def _not_found(self, module: str, node: ast.stmt) -> Finding:
        return self._finding(
            "modules.not-found",
            Severity.error,
            f"module '{module}' is not available in the sandbox",
            node,
            suggestion="use boto3 and the standard library only",
        )

    def _finding(
        self, rule: str, severity: Severity, message: str, node: ast.AST, suggestion: str | None = None
    ) -> Finding:
        return Finding(
            check=self.name,
            rule=rule,
            severity=severity,
            message=message,
            line=getattr(node, "lineno", None),
            col=getattr(node, "col_offset", -1) + 1 or None,
            suggestion=suggestion,
        )
