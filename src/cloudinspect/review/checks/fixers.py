"""The fixers: `imports` (unused imports out, missing imports in) and `format` (ruff format).

Both run ruff's binary from the installed `ruff` package (one `ruff check` and one `ruff format` per review,
~7 ms each), isolated from any project configuration. They chain: each works on the previous fixer's output
(`ctx.fixed_code`, else the submitted code), set `ctx.fixed_code` only when they change something and record
one `Change` per edit. With `ReviewOptions.fix` off they still report what they would fix, but change nothing.

Missing imports: an undefined name (ruff F821) listed in `resources/review/imports.yaml` gets its import inserted
after the module docstring, `from __future__` imports and the leading import block; the finding is a fixable
warning (an error when fixing is off, since the code as submitted raises NameError). An undefined name that the
table does not map stays an error (`imports.undefined-name`), with a "did you mean" from the names in scope.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import json
import re
import subprocess
from functools import cache
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.config import resources_dir
from cloudinspect.review.types import Change, Finding, ReviewContext, Severity, register_check
from cloudinspect.yamlfiles import load_model

RUFF_TIMEOUT_S = 10.0
LINE_LENGTH = 120
_RUFF_COMMON = ["--isolated", "--target-version", "py311"]


class KnownImport(BaseModel):
    """How to import one name: a statement, or the module itself when used as `name.<attribute>`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    statement: str = Field(alias="import")
    module_if_attribute: list[str] = Field(default_factory=list)


class KnownImports(BaseModel):
    """`resources/review/imports.yaml`: undefined name -> the import that defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    names: dict[str, str | KnownImport]

    def lookup(self, name: str) -> KnownImport | None:
        """The import for `name`, if the table knows it."""
        entry = self.names.get(name)
        if entry is None or isinstance(entry, KnownImport):
            return entry
        return KnownImport(statement=entry)


@cache
def known_imports() -> KnownImports:
    """The name -> import table (loaded once)."""
    return load_model(resources_dir() / "review" / "imports.yaml", KnownImports)


@cache
def ruff_binary() -> str:
    """Path of the ruff binary shipped by the `ruff` package."""
    from ruff import find_ruff_bin  # type: ignore[import-untyped]

    return str(find_ruff_bin())


class RuffError(Exception):
    """ruff could not run or failed on the code."""


def run_ruff(args: list[str], code: str) -> str:
    """Run ruff with `code` on stdin; return its stdout. Raises RuffError on failure or timeout."""
    try:
        proc = subprocess.run(  # noqa: S603 - fixed binary and arguments; the code goes to stdin only
            [ruff_binary(), *args],
            input=code,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=RUFF_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuffError(f"ruff {args[0]} did not run: {exc}") from exc
    if proc.returncode not in (0, 1):
        raise RuffError(f"ruff {args[0]} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def _ruff_failed(check: str, exc: RuffError) -> Finding:
    return Finding(check=check, rule=f"{check}.ruff-failed", severity=Severity.warning, message=str(exc))


def _offsets(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(starts: list[int], location: dict[str, int]) -> int:
    row, column = location["row"], location["column"]
    if row - 1 >= len(starts) - 1:
        return starts[-1]
    return min(starts[row - 1] + column - 1, starts[row])


def _apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply ruff fix edits (1-based rows and character columns); identical duplicates once, overlaps skipped."""
    starts = _offsets(text)
    spans = sorted(
        {(_offset(starts, e["location"]), _offset(starts, e["end_location"]), e.get("content") or "") for e in edits}
    )
    result: list[str] = []
    position = 0
    for start, end, content in spans:
        if start < position:
            continue
        result.append(text[position:start])
        result.append(content)
        position = end
    result.append(text[position:])
    return "".join(result)


_UNDEFINED = re.compile(r"Undefined name `(?P<name>[^`]+)`")
_UNUSED = re.compile(r"`(?P<name>[^`]+)` imported but unused")
REMOVED_IMPORTS = "imports.removed"
"""Key in `ReviewContext.extra`: the imports (dotted, as ruff names them) that the imports fixer removed."""


@register_check
class ImportsFixer:
    """Removes unused imports and inserts the missing imports of known names; reports unknown undefined names."""

    name: ClassVar[str] = "imports"
    order: ClassVar[int] = 10
    fixes: ClassVar[bool] = True
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """One `ruff check --select F401,F821` on the current code; edits applied here."""
        if ctx.tree is None:
            return []
        source = ctx.fixed_code if ctx.fixed_code is not None else ctx.code
        try:
            out = run_ruff(["check", *_RUFF_COMMON, "--select", "F401,F821", "--output-format", "json", "-"], source)
            diagnostics: list[dict[str, Any]] = json.loads(out or "[]")
        except RuffError as exc:
            return [_ruff_failed(self.name, exc)]
        except ValueError as exc:
            return [_ruff_failed(self.name, RuffError(f"ruff check printed no JSON: {exc}"))]
        findings: list[Finding] = []
        changes: list[Change] = []
        removed: set[str] = set()
        fixed = self._remove_unused(source, diagnostics, findings, changes, removed)
        fixed = self._insert_missing(fixed, source, diagnostics, findings, changes, fixing=ctx.options.fix)
        if ctx.options.fix and fixed != source:
            ctx.fixed_code = fixed
            ctx.changes.extend(changes)
            # The modules check reads this: an unavailable or unsafe module that is only imported, never used,
            # is gone from the fixed code.
            ctx.extra[REMOVED_IMPORTS] = removed
        return findings

    def _remove_unused(
        self,
        source: str,
        diagnostics: list[dict[str, Any]],
        findings: list[Finding],
        changes: list[Change],
        removed: set[str],
    ) -> str:
        edits: dict[str, tuple[dict[str, Any], list[str]]] = {}
        for diag in diagnostics:
            if diag.get("code") != "F401":
                continue
            row = diag["location"]["row"]
            findings.append(
                Finding(
                    check=self.name,
                    rule="imports.unused-import",
                    severity=Severity.info,
                    message=str(diag["message"]),
                    line=row,
                    col=diag["location"]["column"],
                    fixable=True,
                )
            )
            fix = diag.get("fix") or {}
            if fix.get("applicability") != "safe":
                continue
            imported = _UNUSED.match(str(diag["message"]))
            name = imported["name"] if imported else str(diag["message"])
            removed.add(name)
            for edit in fix.get("edits") or []:
                entry = edits.setdefault(json.dumps(edit, sort_keys=True), (edit, []))
                entry[1].append(name)
        if not edits:
            return source
        for edit, names in edits.values():
            changes.append(
                Change(
                    check=self.name,
                    description=f"removed unused import {', '.join(f'`{n}`' for n in names)}",
                    line=edit["location"]["row"],
                )
            )
        return _apply_edits(source, [edit for edit, _ in edits.values()])

    def _insert_missing(
        self,
        text: str,
        source: str,
        diagnostics: list[dict[str, Any]],
        findings: list[Finding],
        changes: list[Change],
        *,
        fixing: bool,
    ) -> str:
        first_use: dict[str, dict[str, Any]] = {}
        for diag in diagnostics:
            match = _UNDEFINED.match(str(diag.get("message", ""))) if diag.get("code") == "F821" else None
            if match is not None:
                first_use.setdefault(match["name"], diag)
        if not first_use:
            return text
        attributes = _attribute_uses(source)
        table = known_imports()
        statements: dict[str, str] = {}
        for name, diag in first_use.items():
            line, col = diag["location"]["row"], diag["location"]["column"]
            known = table.lookup(name)
            if known is None:
                findings.append(self._undefined(name, line, col, source))
                continue
            statement = known.statement
            if attributes.get(name, set()) & set(known.module_if_attribute):
                statement = f"import {_module_of(statement)}"
            statements[name] = statement
            findings.append(
                Finding(
                    check=self.name,
                    rule="imports.missing-import",
                    severity=Severity.warning if fixing else Severity.error,
                    message=f"undefined name `{name}`: missing `{statement}`",
                    line=line,
                    col=col,
                    suggestion=f"add `{statement}`",
                    fixable=True,
                )
            )
        if not statements:
            return text
        block = _merge(statements.values())
        fixed, inserted_at = _insert_block(text, block)
        changes.extend(
            Change(check=self.name, description=f"inserted `{stmt}`", line=inserted_at + i)
            for i, stmt in enumerate(block)
        )
        return fixed

    def _undefined(self, name: str, line: int, col: int, source: str) -> Finding:
        candidates = _names_in_scope(source) | set(known_imports().names)
        close = difflib.get_close_matches(name, sorted(candidates), n=3, cutoff=0.75)
        return Finding(
            check=self.name,
            rule="imports.undefined-name",
            severity=Severity.error,
            message=f"undefined name `{name}`",
            line=line,
            col=col,
            suggestion=f"did you mean {', '.join(f'`{c}`' for c in close)}?" if close else None,
        )


def _module_of(statement: str) -> str:
    words = statement.split()
    return words[1]


def _merge(statements: Any) -> list[str]:
    """Plain imports first, then one `from X import a, b` per module, each group sorted."""
    plain: set[str] = set()
    members: dict[str, set[str]] = {}
    for statement in statements:
        words = statement.split()
        if words[0] == "from":
            members.setdefault(words[1], set()).add(" ".join(words[3:]))
        else:
            plain.add(statement)
    return sorted(plain) + [f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(members.items())]


def _insert_block(text: str, block: list[str]) -> tuple[str, int]:
    """Insert import lines after the docstring, `__future__` and leading imports; return text and 1-based line."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    try:
        body = ast.parse(text).body
    except SyntaxError:
        body = []
    after = 0
    for i, node in enumerate(body):
        is_docstring = (
            i == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if is_docstring or isinstance(node, ast.Import | ast.ImportFrom):
            after = node.end_lineno or node.lineno
            continue
        break
    if after == 0 and body:
        first = body[0]
        decorators = getattr(first, "decorator_list", [])
        after = min([first.lineno, *(d.lineno for d in decorators)]) - 1
    elif after == 0:
        after = len(lines)
    new = [f"{stmt}\n" for stmt in block]
    following = lines[after] if after < len(lines) else ""
    if following.strip() and not following.lstrip().startswith(("import ", "from ")):
        new.append("\n")
    return "".join(lines[:after] + new + lines[after:]), after + 1


def _attribute_uses(source: str) -> dict[str, set[str]]:
    """name -> attributes used on it (`datetime.now` -> {"datetime": {"now"}})."""
    uses: dict[str, set[str]] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return uses
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            uses.setdefault(node.value.id, set()).add(node.attr)
    return uses


def _names_in_scope(source: str) -> set[str]:
    names = set(dir(builtins))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


@register_check
class FormatFixer:
    """Formats the code with `ruff format` (line length 120), reporting one change per reformatted region."""

    name: ClassVar[str] = "format"
    order: ClassVar[int] = 20
    fixes: ClassVar[bool] = True
    needs_ast: ClassVar[bool] = True

    def run(self, ctx: ReviewContext) -> list[Finding]:
        """One `ruff format` on the current code."""
        if ctx.tree is None:
            return []
        source = ctx.fixed_code if ctx.fixed_code is not None else ctx.code
        try:
            formatted = run_ruff(["format", *_RUFF_COMMON, "--line-length", str(LINE_LENGTH), "-"], source)
        except RuffError as exc:
            return [_ruff_failed(self.name, exc)]
        if formatted == source or not formatted:
            return []
        before, after = source.splitlines(), formatted.splitlines()
        hunks = [
            op for op in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if op[0] != "equal"
        ]
        if ctx.options.fix:
            ctx.fixed_code = formatted
            ctx.changes.extend(
                Change(check=self.name, description=_describe_hunk(tag, i1, i2, j1, j2), line=i1 + 1)
                for tag, i1, i2, j1, j2 in hunks
            )
        first = hunks[0][1] + 1 if hunks else None
        return [
            Finding(
                check=self.name,
                rule="format.unformatted",
                severity=Severity.info,
                message=f"the code is not formatted as `ruff format` would ({len(hunks) or 1} region(s) differ)",
                line=first,
                fixable=True,
            )
        ]


def _describe_hunk(tag: str, i1: int, i2: int, j1: int, j2: int) -> str:
    if tag == "insert":
        return f"inserted {j2 - j1} line(s) before line {i1 + 1}"
    if tag == "delete":
        return f"removed line(s) {i1 + 1}-{i2}" if i2 - i1 > 1 else f"removed line {i1 + 1}"
    where = f"line(s) {i1 + 1}-{i2}" if i2 - i1 > 1 else f"line {i1 + 1}"
    return f"reformatted {where}"
