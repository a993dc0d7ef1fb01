"""Every boto3 call of a script, resolved against botocore's service models and boto3's resource models.

`analyse_api(tree)` runs a small abstract interpreter over the module: it follows clients, resources, sessions,
paginators and waiters through assignments, containers, attributes (`self.ec2 = ...`), function and method
parameters (each function is analysed once per distinct call context, so a helper called with an EC2 client and
with an S3 client is checked against each), return values, f-strings built from known parts, and `**kwargs`
dicts with literal keys. Where it cannot know a value it stays silent: findings are about what is certain.

It yields the `ApiCall`s (the operations the script may call, kind client / paginator / waiter / resource) and the
findings of the `api` check (rule ids `api.*`, 1-based columns). The result is cached on the tree object, so the
checks that share `ReviewContext.api_calls` (api, read_only, iam) analyse a script once.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from cloudinspect.review import awsmodels as models
from cloudinspect.review._shapes import Arg, CallArgs, Problem, attr_loc, check_arguments, loc
from cloudinspect.review._values import (
    UNKNOWN,
    Atom,
    ClientV,
    CollectionV,
    Const,
    DictV,
    ExceptionsV,
    ExecutorV,
    GenV,
    ListV,
    MetaV,
    MethodV,
    PagesV,
    PaginatorV,
    Pattern,
    Ref,
    ResourceV,
    SessionV,
    Str,
    Typed,
    Value,
    WaiterV,
    union,
    value_key,
)
from cloudinspect.review.types import ApiCall, ApiKind, Finding, Severity

__all__ = ["ApiAnalysis", "analyse_api", "extract_api_calls"]

CHECK = "api"
_MAX_CONTEXTS = 32
_MAX_DEPTH = 12
# Bounds the work on pathological scripts (each analysis is one function body in one call context).
_MAX_ANALYSES = 600
_BUILTINS = frozenset(dir(builtins))
_CLIENT_KWARGS = frozenset(
    {
        "service_name",
        "region_name",
        "api_version",
        "use_ssl",
        "verify",
        "endpoint_url",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "config",
        "aws_account_id",
    }
)
_SESSION_KWARGS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "region_name",
        "botocore_session",
        "profile_name",
        "aws_account_id",
    }
)
_PAGINATION_CONFIG = ("MaxItems", "PageSize", "StartingToken")
_WAITER_CONFIG = ("Delay", "MaxAttempts")
_COLLECTION_METHODS = ("all", "filter", "limit", "page_size", "pages", "iterator")
_DATETIME_FACTORIES = frozenset(
    {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp", "fromisoformat", "strptime", "combine"}
)
_STR_TO_STR = frozenset({"lower", "upper", "capitalize", "title", "strip", "lstrip", "rstrip", "casefold", "swapcase"})
_AWS_ATOMS = (ClientV, ResourceV, CollectionV, PaginatorV, WaiterV, ExceptionsV, MetaV, SessionV)


@dataclass(frozen=True)
class ApiAnalysis:
    """The result of analysing one module: its API calls and the api check's findings."""

    calls: list[ApiCall]
    findings: list[Finding]


def analyse_api(tree: ast.Module) -> ApiAnalysis:
    """Analyse a parsed module (cached on the tree: analysing the same tree twice costs nothing)."""
    cached = getattr(tree, "_cloudinspect_api", None)
    if isinstance(cached, ApiAnalysis):
        return cached
    result = _Analyzer(tree).run()
    tree._cloudinspect_api = result  # type: ignore[attr-defined]
    return result


def extract_api_calls(tree: ast.Module) -> list[ApiCall]:
    """Every AWS API call found in a parsed module (see `analyse_api`)."""
    return analyse_api(tree).calls


# ----------------------------------------------------------------------------------------------- program model


class Scope:
    """Variables of a module, function, class body or comprehension; lookups fall back to the parent."""

    __slots__ = ("parent", "vars")

    def __init__(self, parent: Scope | None) -> None:
        self.parent = parent
        self.vars: dict[str, Value] = {}

    def lookup(self, name: str) -> Value | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return None


@dataclass
class Frame:
    """The state of one function (or module) being analysed."""

    scope: Scope
    returns: list[Value] = field(default_factory=list)
    yields: list[Value] = field(default_factory=list)


@dataclass(eq=False)
class ClassInfo:
    """A class defined in the module."""

    name: str
    bases: list[ClassInfo]
    methods: dict[str, FuncV] = field(default_factory=dict)
    attrs: dict[str, Value] = field(default_factory=dict)
    class_vars: dict[str, Value] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    dataclass: bool = False
    instance: InstanceV | None = None

    def mro(self) -> Iterator[ClassInfo]:
        seen: set[int] = set()
        todo = [self]
        while todo:
            info = todo.pop(0)
            if id(info) not in seen:
                seen.add(id(info))
                yield info
                todo.extend(info.bases)


FuncNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(eq=False)
class FuncV(Atom):
    """A function, method or lambda of the module, with the scope it closes over."""

    node: FuncNode
    closure: Scope
    cls: ClassInfo | None = None
    kind: str = "function"

    def key(self) -> Hashable:
        return ("func", id(self.node))


@dataclass(eq=False)
class ClassV(Atom):
    """A class of the module (calling it makes an instance)."""

    info: ClassInfo

    def key(self) -> Hashable:
        return ("class", id(self.info))


@dataclass(eq=False)
class InstanceV(Atom):
    """An instance of a class of the module (one atom per class: attributes are shared)."""

    info: ClassInfo

    def key(self) -> Hashable:
        return ("instance", id(self.info))


def _did_you_mean(names: list[str]) -> str | None:
    return f"did you mean {', '.join(repr(n) for n in names)}?" if names else None


# -------------------------------------------------------------------------------------------------- analysis


class _Analyzer:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.calls: dict[tuple[Any, ...], _Recorded] = {}
        self.findings: dict[tuple[Any, ...], Problem] = {}
        self.memo: dict[Hashable, Value] = {}
        self.active: set[Hashable] = set()
        self.contexts: dict[int, int] = {}
        self.analysed: set[int] = set()
        self.defined: list[tuple[FuncV, Atom | None]] = []
        self.buffers: list[list[tuple[str, Any]]] = []
        self.depth = 0
        self.analyses = 0
        self.module = Scope(None)

    # ------------------------------------------------------------------------------------------------ output

    def run(self) -> ApiAnalysis:
        self.exec_block(self.tree.body, Frame(self.module))
        index = 0
        while index < len(self.defined):
            func, bound = self.defined[index]
            index += 1
            if id(func.node) not in self.analysed:
                self.invoke(func, CallArgs(), bound, generic=True)
        calls = [
            ApiCall(
                service=service,
                operation=operation,
                method=method,
                kind=kind,
                line=line or 0,
                col=col or 0,
                valid=valid,
                params=list(recorded.params),
                values={k: v for k, v in recorded.values.items() if k not in recorded.conflicts},
            )
            for (line, col, service, operation, kind, method, valid), recorded in self.calls.items()
        ]
        calls.sort(key=lambda c: (c.line, c.col, c.service, c.operation))
        findings = [
            Finding(
                check=CHECK,
                rule=p.rule,
                severity=p.severity,
                message=p.message,
                line=p.line,
                col=p.col,
                suggestion=p.suggestion,
            )
            for p in self.findings.values()
        ]
        findings.sort(key=lambda f: (f.line or 0, f.col or 0, f.rule))
        return ApiAnalysis(calls, findings)

    def report(self, problem: Problem, inferred: bool = False) -> None:
        if inferred and problem.severity is Severity.error:
            problem = replace(
                problem,
                severity=Severity.warning,
                message=f"{problem.message} (the client's service is only inferred from a parameter name)",
            )
        if self.buffers:
            self.buffers[-1].append(("finding", problem))
            return
        key = (problem.line, problem.col, problem.rule, problem.message)
        self.findings.setdefault(key, problem)

    def problem(
        self,
        rule: str,
        message: str,
        node: ast.AST | None,
        suggestion: str | None = None,
        severity: Severity = Severity.error,
        at: Str | None = None,
        inferred: bool = False,
    ) -> None:
        line: int | None
        col: int | None
        if at is not None and at.line is not None:
            line, col = at.line, at.col
        elif node is not None:
            line, col = attr_loc(node)
        else:
            line, col = None, None
        self.report(Problem(rule, severity, message, line, col, suggestion), inferred)

    def record(
        self,
        service: str,
        operation: str,
        method: str,
        kind: ApiKind,
        node: ast.AST | None,
        valid: bool = True,
        args: CallArgs | None = None,
    ) -> None:
        line, col = attr_loc(node) if node is not None else (None, None)
        key = (line, col, service, operation, kind, method, valid)
        if not valid and self.buffers:
            self.buffers[-1].append(("call", (key, args)))
            return
        self.store_call(key, args)

    def store_call(self, key: tuple[Any, ...], args: CallArgs | None) -> None:
        recorded = self.calls.setdefault(key, _Recorded())
        for arg in args.keywords if args is not None else []:
            recorded.params.setdefault(arg.name, None)
            value = _literal(arg.value)
            if value is _NOT_LITERAL or (arg.name in recorded.values and recorded.values[arg.name] != value):
                recorded.conflicts.add(arg.name)
            else:
                recorded.values[arg.name] = value

    @contextmanager
    def isolated(self) -> Iterator[None]:
        """Analyse a function body: its findings do not belong to the caller's alternatives."""
        saved = self.buffers
        self.buffers = []
        try:
            yield
        finally:
            self.buffers = saved

    def each(self, value: Value, fn: Callable[[Atom], Value]) -> Value:
        """Apply `fn` to every alternative; an AWS problem is reported only if every AWS alternative has one."""
        if len(value) <= 1:
            return union(*(fn(atom) for atom in value))
        results: list[Value] = []
        opinions: list[list[tuple[str, Any]]] = []
        for atom in value:
            self.buffers.append([])
            try:
                results.append(fn(atom))
            finally:
                entries = self.buffers.pop()
            if isinstance(atom, _AWS_ATOMS) or (isinstance(atom, MethodV) and isinstance(atom.owner, _AWS_ATOMS)):
                opinions.append(entries)
            else:
                self.flush(entries)
        if opinions and all(opinions):
            self.flush(opinions[0])
        return union(*results)

    def flush(self, entries: list[tuple[str, Any]]) -> None:
        for kind, item in entries:
            if kind == "finding":
                self.report(item)
            elif self.buffers:
                self.buffers[-1].append((kind, item))
            else:
                key, args = item
                self.store_call(key, args)

    # ------------------------------------------------------------------------------------------- statements

    def exec_block(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt: ast.stmt, frame: Frame) -> None:
        if isinstance(stmt, ast.Expr):
            self.ev(stmt.value, frame)
        elif isinstance(stmt, ast.Assign):
            value = self.ev(stmt.value, frame)
            for target in stmt.targets:
                self.assign(target, value, frame)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                value = self.ev(stmt.value, frame)
                hinted = self.annotation(stmt.annotation, frame.scope)
                self.assign(stmt.target, value or hinted, frame)
            elif isinstance(stmt.target, ast.Name):
                hinted = self.annotation(stmt.annotation, frame.scope)
                if hinted:
                    frame.scope.vars[stmt.target.id] = hinted
        elif isinstance(stmt, ast.AugAssign):
            value = self.ev(stmt.value, frame)
            if isinstance(stmt.target, ast.Name) and isinstance(stmt.op, ast.Add):
                for atom in frame.scope.lookup(stmt.target.id) or ():
                    if isinstance(atom, ListV):
                        atom.items.append(self.iterate(value, stmt.value))
                        atom.complete = False
            else:
                self.ev(stmt.target, frame)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            elems = self.iterate(self.ev(stmt.iter, frame), stmt.iter)
            self.assign(stmt.target, elems, frame)
            self.exec_block(stmt.body, frame)
            self.exec_block(stmt.orelse, frame)
        elif isinstance(stmt, ast.While | ast.If):
            self.ev(stmt.test, frame)
            self.exec_block(stmt.body, frame)
            self.exec_block(stmt.orelse, frame)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                value = self.ev(item.context_expr, frame)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, value, frame)
            self.exec_block(stmt.body, frame)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            self.exec_block(stmt.body, frame)
            for handler in stmt.handlers:
                if handler.type is not None:
                    self.ev(handler.type, frame)
                if handler.name:
                    frame.scope.vars[handler.name] = UNKNOWN
                self.exec_block(handler.body, frame)
            self.exec_block(stmt.orelse, frame)
            self.exec_block(stmt.finalbody, frame)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self.define_function(stmt, frame)
        elif isinstance(stmt, ast.ClassDef):
            self.define_class(stmt, frame)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                frame.returns.append(self.ev(stmt.value, frame))
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    frame.scope.vars[alias.asname] = (Ref(alias.name),)
                else:
                    top = alias.name.split(".")[0]
                    frame.scope.vars[top] = (Ref(top),)
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.module and not stmt.level:
                for alias in stmt.names:
                    if alias.name != "*":
                        frame.scope.vars[alias.asname or alias.name] = (Ref(f"{stmt.module}.{alias.name}"),)
        elif isinstance(stmt, ast.Raise):
            if stmt.exc is not None:
                self.ev(stmt.exc, frame)
        elif isinstance(stmt, ast.Assert):
            self.ev(stmt.test, frame)
        elif isinstance(stmt, ast.Match):
            self.ev(stmt.subject, frame)
            for case in stmt.cases:
                self.exec_block(case.body, frame)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self.ev(target, frame)

    def define_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, frame: Frame, cls: ClassInfo | None = None
    ) -> FuncV:
        kind = "function"
        for deco in node.decorator_list:
            name = deco.id if isinstance(deco, ast.Name) else deco.attr if isinstance(deco, ast.Attribute) else ""
            if name in {"staticmethod", "classmethod", "property", "cached_property"}:
                kind = "property" if name == "cached_property" else name
        func = FuncV(node, frame.scope, cls, kind)
        if cls is None:
            frame.scope.vars[node.name] = (func,)
            self.defined.append((func, None))
        return func

    def define_class(self, node: ast.ClassDef, frame: Frame) -> None:
        bases = [atom.info for base in node.bases for atom in self.ev(base, frame) if isinstance(atom, ClassV)]
        info = ClassInfo(node.name, bases)
        info.instance = InstanceV(info)
        info.dataclass = any(
            (d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else "") == "dataclass"
            or (isinstance(d, ast.Call) and "dataclass" in ast.unparse(d.func))
            for d in node.decorator_list
        )
        body_frame = Frame(Scope(frame.scope))
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                func = self.define_function(stmt, frame, info)
                info.methods[stmt.name] = func
                bound: Atom | None = (
                    None
                    if func.kind == "staticmethod"
                    else ClassV(info)
                    if func.kind == "classmethod"
                    else info.instance
                )
                self.defined.append((func, bound))
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                info.fields.append(stmt.target.id)
                if stmt.value is not None:
                    info.class_vars[stmt.target.id] = self.ev(stmt.value, body_frame)
            elif isinstance(stmt, ast.Assign):
                value = self.ev(stmt.value, body_frame)
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        info.class_vars[target.id] = value
            else:
                self.exec_stmt(stmt, body_frame)
        frame.scope.vars[node.name] = (ClassV(info),)

    def assign(self, target: ast.expr, value: Value, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            frame.scope.vars[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            self.unpack(target.elts, value, frame)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, (ListV([value], complete=False),), frame)
        elif isinstance(target, ast.Attribute):
            for atom in self.ev(target.value, frame):
                if isinstance(atom, InstanceV):
                    atom.info.attrs[target.attr] = union(atom.info.attrs.get(target.attr, UNKNOWN), value)
                elif isinstance(atom, ClassV):
                    atom.info.class_vars[target.attr] = union(atom.info.class_vars.get(target.attr, UNKNOWN), value)
        elif isinstance(target, ast.Subscript):
            owner = self.ev(target.value, frame)
            index = self.ev(target.slice, frame)
            for atom in owner:
                if isinstance(atom, DictV):
                    if len(index) == 1 and isinstance(index[0], Str):
                        atom.keys[index[0].value] = union(atom.keys.get(index[0].value, UNKNOWN), value)
                        atom.locations.setdefault(index[0].value, target.slice)
                    else:
                        atom.complete = False
                        atom.other = union(atom.other, value)
                elif isinstance(atom, ListV):
                    atom.items.append(value)

    def unpack(self, targets: list[ast.expr], value: Value, frame: Frame) -> None:
        per_target: list[list[Value]] = [[] for _ in targets]
        starred = next((i for i, t in enumerate(targets) if isinstance(t, ast.Starred)), None)
        for atom in value:
            if isinstance(atom, ListV) and atom.complete and starred is None and len(atom.items) == len(targets):
                for i, item in enumerate(atom.items):
                    per_target[i].append(item)
            elif isinstance(atom, ListV) and not atom.complete:
                elems = union(*atom.items)
                for i in range(len(targets)):
                    per_target[i].append(elems)
        for i, target in enumerate(targets):
            self.assign(target, union(*per_target[i]), frame)

    # ------------------------------------------------------------------------------------------ expressions

    def ev(self, node: ast.expr, frame: Frame) -> Value:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                line, col = loc(node)
                return (Str(node.value, line, col),)
            return (Const(node.value),)
        if isinstance(node, ast.Name):
            found = frame.scope.lookup(node.id)
            if found is not None:
                return found
            return (Ref(f"builtins.{node.id}"),) if node.id in _BUILTINS else UNKNOWN
        if isinstance(node, ast.Attribute):
            owner = self.ev(node.value, frame)
            return self.each(owner, lambda atom: self.attr(atom, node.attr, node))
        if isinstance(node, ast.Call):
            return self.ev_call(node, frame)
        if isinstance(node, ast.JoinedStr):
            return self.ev_fstring(node, frame)
        if isinstance(node, ast.Dict):
            return (self.ev_dict(node, frame),)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items: list[Value] = []
            complete = True
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    items.append(self.iterate(self.ev(elt.value, frame), elt.value))
                    complete = False
                else:
                    items.append(self.ev(elt, frame))
            kind = "set" if isinstance(node, ast.Set) else "tuple" if isinstance(node, ast.Tuple) else "list"
            return (ListV(items, complete, kind),)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            return self.ev_comprehension(node, frame)
        if isinstance(node, ast.Subscript):
            return self.ev_subscript(node, frame)
        if isinstance(node, ast.IfExp):
            self.ev(node.test, frame)
            return union(self.ev(node.body, frame), self.ev(node.orelse, frame))
        if isinstance(node, ast.BoolOp):
            return union(*(self.ev(v, frame) for v in node.values))
        if isinstance(node, ast.BinOp):
            return self.ev_binop(node, frame)
        if isinstance(node, ast.UnaryOp):
            operand = self.ev(node.operand, frame)
            if isinstance(node.op, ast.Not):
                return (Typed("bool"),)
            if isinstance(node.op, ast.USub) and len(operand) == 1 and isinstance(operand[0], Const):
                try:
                    return (Const(-operand[0].value),)
                except TypeError:
                    return UNKNOWN
            return operand if isinstance(node.op, ast.UAdd) else UNKNOWN
        if isinstance(node, ast.Compare):
            self.ev(node.left, frame)
            for comparator in node.comparators:
                self.ev(comparator, frame)
            return (Typed("bool"),)
        if isinstance(node, ast.Lambda):
            func = FuncV(node, frame.scope)
            self.defined.append((func, None))
            return (func,)
        if isinstance(node, ast.NamedExpr):
            value = self.ev(node.value, frame)
            self.assign(node.target, value, frame)
            return value
        if isinstance(node, ast.Await):
            return self.ev(node.value, frame)
        if isinstance(node, ast.Starred):
            return self.ev(node.value, frame)
        if isinstance(node, ast.Yield):
            value = self.ev(node.value, frame) if node.value is not None else (Const(None),)
            frame.yields.append(value)
            return UNKNOWN
        if isinstance(node, ast.YieldFrom):
            frame.yields.append(self.iterate(self.ev(node.value, frame), node.value))
            return UNKNOWN
        if isinstance(node, ast.FormattedValue):
            self.ev(node.value, frame)
            return (Typed("str"),)
        return UNKNOWN

    def ev_dict(self, node: ast.Dict, frame: Frame) -> DictV:
        result = DictV()
        for key, item in zip(node.keys, node.values, strict=True):
            value = self.ev(item, frame)
            if key is None:
                spread = [a for a in value if isinstance(a, DictV)]
                if not spread or len(spread) != len(value):
                    result.complete = False
                for other in spread:
                    for k, v in other.keys.items():
                        result.keys[k] = union(result.keys.get(k, UNKNOWN), v)
                        if k in other.locations:
                            result.locations.setdefault(k, other.locations[k])
                    result.complete = result.complete and other.complete
                continue
            keys = self.ev(key, frame)
            if len(keys) == 1 and isinstance(keys[0], Str):
                result.keys[keys[0].value] = value
                result.locations[keys[0].value] = key
            else:
                result.complete = False
                result.other = union(result.other, value)
        return result

    def ev_fstring(self, node: ast.JoinedStr, frame: Frame) -> Value:
        pieces: list[list[str]] = []
        regex: list[str] = []
        literal = 0
        known = True
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                pieces.append([part.value])
                regex.append(re.escape(part.value))
                literal += len(part.value)
            elif isinstance(part, ast.FormattedValue):
                value = self.ev(part.value, frame)
                texts = [
                    a.value if isinstance(a, Str) else str(a.value)
                    for a in value
                    if isinstance(a, Str) or (isinstance(a, Const) and not isinstance(a.value, bytes))
                ]
                if part.format_spec is None and part.conversion in (-1, 115) and value and len(texts) == len(value):
                    pieces.append(texts)
                    regex.append("(?:" + "|".join(re.escape(t) for t in texts) + ")")
                else:
                    known = False
                    regex.append(".*")
                    if part.format_spec is not None:
                        self.ev(part.format_spec, frame)
        line, col = loc(node)
        if known:
            combos = list(itertools.islice(itertools.product(*pieces), 17))
            if len(combos) <= 16:
                return tuple(Str("".join(c), line, col) for c in combos)
        if literal >= 3:
            text = "".join(p[0] if len(p) == 1 else "{...}" for p in pieces)
            return (Pattern("^" + "".join(regex) + "$", text),)
        return (Typed("str"),)

    def ev_binop(self, node: ast.BinOp, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        right = self.ev(node.right, frame)
        out: list[Atom] = []
        for a, b in itertools.islice(itertools.product(left, right), 16):
            out += self.binop(node.op, a, b, node)
        return union(out)

    def binop(self, op: ast.operator, a: Atom, b: Atom, node: ast.AST) -> list[Atom]:
        line, col = loc(node)
        if isinstance(op, ast.Add):
            if isinstance(a, Str) and isinstance(b, Str):
                return [Str(a.value + b.value, line, col)]
            if isinstance(a, ListV) and isinstance(b, ListV):
                return [ListV([*a.items, *b.items], a.complete and b.complete)]
        if isinstance(a, Str | Pattern | Typed) and _kind(a) == "str":
            if isinstance(op, ast.Add) and isinstance(a, Str):
                return [Pattern("^" + re.escape(a.value) + ".*$", a.value + "{...}")]
            return [Typed("str")]
        if isinstance(a, Const) and isinstance(b, Const):
            return _const_op(op, a.value, b.value)
        kinds = {_kind(a), _kind(b)}
        if "datetime" in kinds and isinstance(op, ast.Add | ast.Sub):
            return [Typed("timedelta" if kinds == {"datetime"} and isinstance(op, ast.Sub) else "datetime")]
        if kinds <= {"int", "float", "bool"} and None not in kinds:
            is_float = "float" in kinds or isinstance(op, ast.Div)
            return [Typed("float" if is_float else "int")]
        return []

    def ev_subscript(self, node: ast.Subscript, frame: Frame) -> Value:
        owner = self.ev(node.value, frame)
        index = self.ev(node.slice, frame)
        out: list[Atom] = []
        for atom in owner:
            if isinstance(atom, DictV):
                if len(index) == 1 and isinstance(index[0], Str):
                    out += atom.keys.get(index[0].value, atom.other)
                else:
                    out += union(atom.other, *atom.keys.values())
            elif isinstance(atom, ListV):
                if isinstance(node.slice, ast.Slice):
                    out.append(atom)
                elif len(index) == 1 and isinstance(index[0], Const) and isinstance(index[0].value, int):
                    i = index[0].value
                    if atom.complete and -len(atom.items) <= i < len(atom.items):
                        out += atom.items[i]
                    else:
                        out += union(*atom.items)
                else:
                    out += union(*atom.items)
            elif isinstance(atom, Ref) and atom.path == "os.environ":
                out.append(Typed("str"))
        return union(out)

    def ev_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, frame: Frame
    ) -> Value:
        inner = Frame(Scope(frame.scope), frame.returns, frame.yields)
        for gen in node.generators:
            elems = self.iterate(self.ev(gen.iter, inner), gen.iter)
            self.assign(gen.target, elems, inner)
            for cond in gen.ifs:
                self.ev(cond, inner)
        if isinstance(node, ast.DictComp):
            self.ev(node.key, inner)
            return (DictV(complete=False, other=self.ev(node.value, inner)),)
        elt = self.ev(node.elt, inner)
        if isinstance(node, ast.GeneratorExp):
            return (GenV(elt),)
        return (ListV([elt], complete=False, kind="set" if isinstance(node, ast.SetComp) else "list"),)

    def iterate(self, value: Value, node: ast.AST) -> Value:
        """The elements of iterating over a value."""
        out: list[Atom] = []
        for atom in value:
            if isinstance(atom, CollectionV):
                if atom.manager:
                    self.problem(
                        "api.not-iterable",
                        f"{atom.service} {atom.item} collection manager is not iterable",
                        node,
                        "iterate over .all() or .filter(...) instead",
                    )
                out.append(ResourceV(atom.service, atom.item, loaded=True))
            elif isinstance(atom, ListV):
                out += union(*atom.items)
            elif isinstance(atom, GenV):
                out += atom.elems
            elif isinstance(atom, DictV):
                line, col = loc(node)
                out += [Str(k, line, col) for k in atom.keys]
            elif isinstance(atom, Str | Pattern) or (isinstance(atom, Typed) and atom.type == "str"):
                out.append(Typed("str"))
        return union(out)

    # ---------------------------------------------------------------------------------------------- calls

    def call_args(self, node: ast.Call, frame: Frame) -> CallArgs:
        args = CallArgs()
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.star = True
                self.ev(arg.value, frame)
            else:
                args.positional.append((arg, self.ev(arg, frame)))
        for kw in node.keywords:
            value = self.ev(kw.value, frame)
            if kw.arg is not None:
                args.keywords.append(Arg(kw.arg, value, kw))
                continue
            dicts = [a for a in value if isinstance(a, DictV)]
            if not dicts or len(dicts) != len(value):
                args.opaque = True
            for d in dicts:
                if not d.complete:
                    args.opaque = True
                for key, item in d.keys.items():
                    args.keywords.append(Arg(key, item, d.locations.get(key, kw)))
        seen: dict[str, Arg] = {}
        for a in args.keywords:
            if a.name in seen:
                seen[a.name].value = union(seen[a.name].value, a.value)
            else:
                seen[a.name] = a
        args.keywords = list(seen.values())
        return args

    def ev_call(self, node: ast.Call, frame: Frame) -> Value:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = self.ev(func.value, frame)
            args = self.call_args(node, frame)
            return self.each(owner, lambda atom: self.call_method(atom, func.attr, node, func, args, frame))
        callee = self.ev(func, frame)
        args = self.call_args(node, frame)
        return self.each(callee, lambda atom: self.call_atom(atom, node, args, frame))

    def call_atom(self, atom: Atom, node: ast.Call, args: CallArgs, frame: Frame) -> Value:
        if isinstance(atom, Ref):
            return self.call_ref(atom.path, node, args, frame)
        if isinstance(atom, MethodV):
            return self.call_method(atom.owner, atom.name, node, atom.node or node.func, args, frame)
        if isinstance(atom, FuncV):
            return self.invoke(atom, args, None)
        if isinstance(atom, ClassV):
            return self.instantiate(atom.info, args)
        return UNKNOWN

    def call_method(self, owner: Atom, name: str, node: ast.Call, func: ast.AST, args: CallArgs, frame: Frame) -> Value:
        if isinstance(owner, ClientV):
            return self.client_call(owner, name, node, func, args)
        if isinstance(owner, ResourceV):
            return self.resource_call(owner, name, func, args)
        if isinstance(owner, CollectionV):
            return self.collection_call(owner, name, func, args)
        if isinstance(owner, PaginatorV):
            return self.paginate(owner, name, func, args)
        if isinstance(owner, WaiterV):
            return self.wait(owner, name, func, args)
        if isinstance(owner, SessionV):
            if name in {"client", "resource", "create_client"}:
                return self.construct("resource" if name == "resource" else "client", node, args)
            return UNKNOWN
        if isinstance(owner, PagesV):
            if name == "search":
                return (GenV(),)
            return UNKNOWN
        if isinstance(owner, ExecutorV):
            return self.executor_call(name, node, args, frame)
        if isinstance(owner, InstanceV | ClassV):
            return self.object_call(owner, name, node, args, frame)
        if isinstance(owner, Ref):
            return self.call_ref(f"{owner.path}.{name}", node, args, frame)
        if isinstance(owner, DictV | ListV):
            return self.container_call(owner, name, node, args)
        if isinstance(owner, Str | Pattern | Typed):
            return _builtin_method(owner, name)
        result = self.attr(owner, name, func)
        return self.each(result, lambda atom: self.call_atom(atom, node, args, frame))

    # ------------------------------------------------------------------------------------- boto3 objects

    def construct(self, kind: str, node: ast.Call, args: CallArgs) -> Value:
        """`boto3.client(...)`, `boto3.resource(...)`, `session.client(...)`, `session.create_client(...)`."""
        service: Value = args.positional[0][1] if args.positional else UNKNOWN
        for arg in args.keywords:
            if arg.name == "service_name":
                service = arg.value
            elif arg.name not in _CLIENT_KWARGS:
                close = models.suggest_name(arg.name, sorted(_CLIENT_KWARGS))
                line, col = loc(arg.node)
                self.report(
                    Problem(
                        "api.unknown-parameter",
                        Severity.error,
                        f"boto3.{kind}() has no parameter {arg.name!r}",
                        line,
                        col,
                        _did_you_mean(close[:1]),
                    )
                )
        out: list[Atom] = []
        for atom in service:
            if not isinstance(atom, Str):
                continue
            resolved = models.resolve_service(atom.value)
            if resolved is None:
                close = models.suggest_service(atom.value)
                self.problem(
                    "api.unknown-service",
                    f"unknown AWS service {atom.value!r}: botocore has no model for it",
                    node,
                    _did_you_mean(close),
                    at=atom,
                )
                out.append(ClientV(atom.value, valid=False))
            elif kind == "resource":
                if not models.has_resources(resolved):
                    self.problem(
                        "api.unknown-service",
                        f"{resolved!r} has no boto3 resource interface "
                        f"(resources exist for: {', '.join(models.resource_services())})",
                        node,
                        f"use boto3.client({resolved!r})",
                        at=atom,
                    )
                    continue
                out.append(ResourceV(resolved, None))
            else:
                out.append(ClientV(resolved))
        return tuple(out)

    def client_call(self, client: ClientV, name: str, node: ast.Call, func: ast.AST, args: CallArgs) -> Value:
        if not client.valid:
            self.record(client.service, name, name, "client", func, valid=False, args=args)
            return UNKNOWN
        service = client.service
        ops = models.operations(service)
        if name in ops:
            operation = ops[name]
            self.record(service, operation, name, "client", func, args=args)
            problems = check_arguments(
                label=f"{service}.{name}",
                shape=models.input_shape(service, operation),
                service=service,
                operation=operation,
                args=args,
                call_node=func,
            )
            for p in problems:
                self.report(p, client.inferred)
            return UNKNOWN
        if name == "get_paginator":
            return self.get_paginator(client, node, args)
        if name == "get_waiter":
            return self.get_waiter(client, node, args)
        if name == "can_paginate":
            return (Typed("bool"),)
        if name == "generate_presigned_url":
            method = args.positional[0][1] if args.positional else UNKNOWN
            for arg in args.keywords:
                if arg.name == "ClientMethod":
                    method = arg.value
            for atom in method:
                if isinstance(atom, Str) and atom.value not in ops:
                    self.problem(
                        "api.unknown-operation",
                        f"{service} has no operation {atom.value!r} to presign",
                        func,
                        _did_you_mean(models.suggest_operation(service, atom.value)),
                        at=atom,
                        inferred=client.inferred,
                    )
            return (Typed("str"),)
        helpers = models.client_helpers(service)
        if name in helpers:
            for operation in helpers[name]:
                self.record(service, operation, name, "client", func)
            return UNKNOWN
        return self.attr(client, name, func)

    def get_paginator(self, client: ClientV, node: ast.Call, args: CallArgs) -> Value:
        service = client.service
        names = _first_argument(args, "operation_name")
        table = models.paginators(service)
        out: list[Atom] = []
        for atom in names:
            if isinstance(atom, Pattern):
                matches = [n for n in table if re.match(atom.regex, n)]
                if 0 < len(matches) <= 8:
                    out += [PaginatorV(service, n, table[n]) for n in matches]
                continue
            if not isinstance(atom, Str):
                continue
            info = table.get(atom.value)
            out.append(PaginatorV(service, atom.value, info))
            if info is not None:
                continue
            ops = models.operations(service)
            wanted = atom.value
            hint: str | None
            close = models.suggest_name(wanted, list(table))
            if wanted in ops:
                message = (
                    f"{service} operation {ops[wanted]} cannot be paginated "
                    f"(can_paginate({wanted!r}) is False, get_paginator raises OperationNotPageableError)"
                )
                hint = _did_you_mean(close) or "call the operation directly and follow its next-token yourself"
            elif models.xform(wanted) in table:
                message = f"get_paginator() takes the snake_case operation name, not {wanted!r}"
                hint = _did_you_mean([models.xform(wanted)])
            else:
                message = f"{service} has no paginator {wanted!r} (and no such operation)"
                hint = _did_you_mean(close)
            self.problem("api.unknown-paginator", message, node.func, hint, at=atom, inferred=client.inferred)
        return tuple(out)

    def get_waiter(self, client: ClientV, node: ast.Call, args: CallArgs) -> Value:
        service = client.service
        names = _first_argument(args, "waiter_name")
        table = models.waiters(service)
        out: list[Atom] = []
        for atom in names:
            if not isinstance(atom, Str):
                continue
            info = table.get(atom.value)
            out.append(WaiterV(service, atom.value, info))
            if info is not None:
                continue
            hint: str | None
            if not table:
                message = f"{service} has no waiters at all (get_waiter({atom.value!r}) raises ValueError)"
                hint = "poll the describe/get operation in a loop with time.sleep"
            elif models.xform(atom.value) in table:
                message = f"get_waiter() takes the snake_case waiter name, not {atom.value!r}"
                hint = _did_you_mean([models.xform(atom.value)])
            else:
                close = models.suggest_name(atom.value, list(table))
                listing = "" if close else f" (waiters: {', '.join(sorted(table)[:15])})"
                message = f"{service} has no waiter {atom.value!r}{listing}"
                hint = _did_you_mean(close)
            self.problem("api.unknown-waiter", message, node.func, hint, at=atom, inferred=client.inferred)
        return tuple(out)

    def paginate(self, pag: PaginatorV, name: str, func: ast.AST, args: CallArgs) -> Value:
        if name != "paginate":
            return UNKNOWN
        info = pag.info
        if info is None:
            self.record(pag.service, pag.name, "paginate", "paginator", func, valid=False, args=args)
            return (PagesV(),)
        self.record(pag.service, info.operation, "paginate", "paginator", func, args=args)
        managed = {
            token: f"paginate() manages {token} itself; to start from a token pass "
            f"PaginationConfig={{'StartingToken': ...}}"
            for token in info.input_tokens
        }
        if info.limit_key:
            managed[info.limit_key] = (
                f"paginate() sets {info.limit_key} from PaginationConfig={{'PageSize': n}}; pass the page size there"
            )
        shape = models.input_shape(pag.service, info.operation)
        members = shape.members if shape is not None else {}  # type: ignore[attr-defined]
        problems = check_arguments(
            label=f"{pag.service} paginator {pag.name!r}: paginate",
            shape=shape,
            service=pag.service,
            operation=info.operation,
            args=args,
            call_node=func,
            extras={
                "PaginationConfig": lambda arg: self.pagination_config(arg, info.limit_key),
                **{key: _misplaced_pagination_key for key in _PAGINATION_CONFIG if key not in members},
            },
            managed=managed,
            fixed=frozenset(info.input_tokens),
        )
        for p in problems:
            self.report(p)
        return (PagesV(),)

    def pagination_config(self, arg: Arg, limit_key: str | None) -> list[Problem]:
        problems: list[Problem] = []
        for atom in arg.value:
            if not isinstance(atom, DictV):
                continue
            for key in atom.keys:
                line, col = loc(atom.locations.get(key, arg.node))
                if key not in _PAGINATION_CONFIG:
                    problems.append(
                        Problem(
                            "api.unknown-parameter",
                            Severity.warning,
                            f"PaginationConfig has no key {key!r} (botocore ignores it; keys: "
                            f"{', '.join(_PAGINATION_CONFIG)})",
                            line,
                            col,
                            _did_you_mean(models.suggest_name(key, list(_PAGINATION_CONFIG))[:1]),
                        )
                    )
                elif key == "PageSize" and limit_key is None:
                    problems.append(
                        Problem(
                            "api.unknown-parameter",
                            Severity.error,
                            "this paginator takes no PageSize (botocore raises PaginationError)",
                            line,
                            col,
                            "remove PageSize",
                        )
                    )
        return problems

    def wait(self, waiter: WaiterV, name: str, func: ast.AST, args: CallArgs) -> Value:
        if name != "wait":
            return UNKNOWN
        info = waiter.info
        if info is None:
            self.record(waiter.service, waiter.name, "wait", "waiter", func, valid=False, args=args)
            return UNKNOWN
        self.record(waiter.service, info.operation, "wait", "waiter", func, args=args)
        problems = check_arguments(
            label=f"{waiter.service} waiter {waiter.name!r}: wait",
            shape=models.input_shape(waiter.service, info.operation),
            service=waiter.service,
            operation=info.operation,
            args=args,
            call_node=func,
            extras={"WaiterConfig": self.waiter_config},
        )
        for p in problems:
            self.report(p)
        return UNKNOWN

    def waiter_config(self, arg: Arg) -> list[Problem]:
        problems: list[Problem] = []
        for atom in arg.value:
            if not isinstance(atom, DictV):
                continue
            for key in atom.keys:
                if key not in _WAITER_CONFIG:
                    line, col = loc(atom.locations.get(key, arg.node))
                    problems.append(
                        Problem(
                            "api.unknown-parameter",
                            Severity.warning,
                            f"WaiterConfig has no key {key!r} (botocore ignores it; keys: Delay, MaxAttempts)",
                            line,
                            col,
                            _did_you_mean(models.suggest_name(key, list(_WAITER_CONFIG))[:1]),
                        )
                    )
        return problems

    def resource_call(self, res: ResourceV, name: str, func: ast.AST, args: CallArgs) -> Value:
        info = models.resource_info(res.service, res.rtype)
        if info is None:
            return UNKNOWN
        member = info.members.get(name)
        if member is None:
            self.unknown_resource_member(res, info, name, func, called=True)
            return UNKNOWN
        service = res.service
        label = f"{service} {info.name}.{name}"
        if member.kind in {"action", "load", "custom"}:
            for operation in member.operations:
                self.record(service, operation, name, "resource", func, args=args)
            if member.kind == "action" and member.operations:
                problems = check_arguments(
                    label=label,
                    shape=models.input_shape(service, member.operations[0]),
                    service=service,
                    operation=member.operations[0],
                    args=args,
                    call_node=func,
                    fixed=member.fixed,
                    check_types=service != "dynamodb",
                )
                for p in problems:
                    self.report(p)
            if member.name == "get_available_subresources":
                return (ListV([(Typed("str"),)], complete=False),)
            if member.kind == "load":
                res.loaded = True
            return (ResourceV(service, member.resource, loaded=True),) if member.resource else UNKNOWN
        if member.kind == "waiter":
            for operation in member.operations:
                self.record(service, operation, name, "waiter", func, args=args)
            if member.operations:
                problems = check_arguments(
                    label=label,
                    shape=models.input_shape(service, member.operations[0]),
                    service=service,
                    operation=member.operations[0],
                    args=args,
                    call_node=func,
                    fixed=member.fixed,
                    extras={"WaiterConfig": self.waiter_config},
                    check_required=False,
                )
                for p in problems:
                    self.report(p)
            return UNKNOWN
        if member.kind == "subresource" and member.resource:
            given = len(args.positional) + len(args.keywords)
            if not args.star and not args.opaque and given != member.inputs:
                line, col = attr_loc(func)
                self.report(
                    Problem(
                        "api.missing-parameter" if given < member.inputs else "api.unknown-parameter",
                        Severity.error,
                        f"{label}() takes {member.inputs} identifier(s), got {given}",
                        line,
                        col,
                    )
                )
            return (ResourceV(service, member.resource),)
        self.resource_attr(res, name, func)
        return UNKNOWN

    def resource_attr(self, res: ResourceV, name: str, node: ast.AST) -> Value:
        info = models.resource_info(res.service, res.rtype)
        if info is None:
            return UNKNOWN
        member = info.members.get(name)
        if member is None:
            if not name.startswith("_"):
                self.unknown_resource_member(res, info, name, node, called=False)
            return UNKNOWN
        if member.kind == "meta":
            return (MetaV(res.service, resource=True),)
        if member.kind == "collection" and member.resource:
            return (CollectionV(res.service, member.resource, member.operations[0], member.fixed, manager=True),)
        if member.kind in {"attribute", "reference"}:
            self.implicit_load(res, info, node)
            if member.kind == "reference" and member.resource:
                return (ResourceV(res.service, member.resource),)
            return UNKNOWN
        if member.kind == "identifier":
            return (Typed("str"),)
        return (MethodV(res, name, node),)

    def implicit_load(self, res: ResourceV, info: models.ResourceInfo, node: ast.AST) -> None:
        if res.loaded:
            return
        load = info.members.get("load")
        if load is not None:
            for operation in load.operations:
                self.record(res.service, operation, "load", "resource", node)
        res.loaded = True

    def unknown_resource_member(
        self, res: ResourceV, info: models.ResourceInfo, name: str, node: ast.AST, called: bool
    ) -> None:
        service = res.service
        what = f"{service} {'service' if res.rtype is None else info.name} resource"
        hint: str | None
        if name in models.operations(service):
            hint = f"{name} is a client method: call it on boto3.client({service!r}) or on <resource>.meta.client"
        else:
            hint = _did_you_mean(models.suggest_name(name, list(info.members))) or None
        rule = "api.unknown-operation" if called else "api.unknown-attribute"
        self.problem(rule, f"{what} has no {'method' if called else 'attribute'} {name!r}", node, hint)
        if called:
            self.record(service, name, name, "resource", node, valid=False)

    def collection_call(self, coll: CollectionV, name: str, func: ast.AST, args: CallArgs) -> Value:
        service = coll.service
        if name in _COLLECTION_METHODS:
            if coll.manager or name in {"filter", "iterator"}:
                self.record(service, coll.operation, name, "resource", func, args=args)
            if name in {"filter", "iterator"}:
                problems = check_arguments(
                    label=f"{service} {coll.item} collection .{name}",
                    shape=models.input_shape(service, coll.operation),
                    service=service,
                    operation=coll.operation,
                    args=args,
                    call_node=func,
                    fixed=coll.fixed,
                    check_required=False,
                )
                for p in problems:
                    self.report(p)
            item = ResourceV(service, coll.item, loaded=True)
            if name == "pages":
                return (GenV((ListV([(item,)], complete=False),)),)
            return (CollectionV(service, coll.item, coll.operation, coll.fixed, manager=False),)
        info = models.resource_info(service, coll.item)
        batch = info.batch_actions if info is not None else {}
        if name in batch:
            if coll.manager:
                self.record(service, coll.operation, name, "resource", func)
            for operation in batch[name].operations:
                self.record(service, operation, name, "resource", func, args=args)
            return UNKNOWN
        if not name.startswith("_"):
            self.problem(
                "api.unknown-operation",
                f"{service} {coll.item} collection has no method {name!r}",
                func,
                _did_you_mean(models.suggest_name(name, [*_COLLECTION_METHODS, *batch]))
                or "use .all() or .filter(...)",
            )
        return UNKNOWN

    # ----------------------------------------------------------------------------------------- attributes

    def attr(self, atom: Atom, name: str, node: ast.AST) -> Value:
        if isinstance(atom, Ref):
            return self.ref_attr(atom, name, node)
        if isinstance(atom, ClientV):
            return self.client_attr(atom, name, node)
        if isinstance(atom, ResourceV):
            return self.resource_attr(atom, name, node)
        if isinstance(atom, CollectionV):
            info = models.resource_info(atom.service, atom.item)
            batch = info.batch_actions if info is not None else {}
            if name in _COLLECTION_METHODS or name in batch:
                return (MethodV(atom, name, node),)
            if not name.startswith("_"):
                self.problem(
                    "api.unknown-attribute",
                    f"{atom.service} {atom.item} collection has no attribute {name!r}",
                    node,
                    _did_you_mean(models.suggest_name(name, [*_COLLECTION_METHODS, *batch])),
                )
            return UNKNOWN
        if isinstance(atom, ExceptionsV):
            return self.exception_attr(atom, name, node)
        if isinstance(atom, MetaV):
            if atom.resource and name == "client":
                return (ClientV(atom.service),)
            return UNKNOWN
        if isinstance(atom, InstanceV):
            return self.object_attr(atom, name, node)
        if isinstance(atom, ClassV):
            for cls in atom.info.mro():
                if name in cls.class_vars:
                    return cls.class_vars[name]
                if name in cls.methods:
                    return (MethodV(atom, name, node),)
            return UNKNOWN
        if isinstance(
            atom, SessionV | PaginatorV | WaiterV | PagesV | ExecutorV | DictV | ListV | Str | Typed | Pattern
        ):
            return (MethodV(atom, name, node),)
        return UNKNOWN

    def client_attr(self, client: ClientV, name: str, node: ast.AST) -> Value:
        if not client.valid or name.startswith("_"):
            return UNKNOWN
        service = client.service
        if name == "meta":
            return (MetaV(service, resource=False),)
        if name == "exceptions":
            return (ExceptionsV(service),)
        if name in models.operations(service) or name in models.client_helpers(service):
            return (MethodV(client, name, node),)
        hint = _did_you_mean(models.suggest_operation(service, name))
        elsewhere = models.services_with_operation(name, service)
        if elsewhere:
            hint = (
                f"{name} is an operation of {', '.join(repr(s) for s in elsewhere)}: use boto3.client({elsewhere[0]!r})"
            )
        elif models.has_resources(service) and models.resource_info(service, None) is not None:
            info = models.resource_info(service, None)
            if info is not None and name in info.members:
                hint = f"{name} belongs to the resource interface: use boto3.resource({service!r}).{name}"
        self.problem(
            "api.unknown-operation",
            f"{service} client has no operation {name!r} (not in botocore's {service} model)",
            node,
            hint,
            inferred=client.inferred,
        )
        self.record(service, name, name, "client", node, valid=False)
        return UNKNOWN

    def exception_attr(self, exc: ExceptionsV, name: str, node: ast.AST) -> Value:
        if name.startswith("_") or name == "ClientError":
            return (Ref("botocore.exceptions.ClientError"),)
        known = models.error_names(exc.service)
        if name not in known:
            close = models.suggest_name(name, sorted(known))
            hint = _did_you_mean(close) or "catch ClientError and compare e.response['Error']['Code']"
            listing = "" if close else f" (declared: {', '.join(sorted(known)[:10]) or 'none'})"
            self.problem(
                "api.unknown-exception",
                f"{exc.service} model declares no error {name!r}: client.exceptions.{name} raises AttributeError"
                f"{listing}",
                node,
                hint,
                Severity.warning,
            )
        return (Ref("botocore.exceptions.ClientError"),)

    def ref_attr(self, ref: Ref, name: str, node: ast.AST) -> Value:
        if ref.path in {"botocore.exceptions", "boto3.exceptions"} and not name.startswith("_"):
            import boto3.exceptions
            import botocore.exceptions

            module = botocore.exceptions if ref.path.startswith("botocore") else boto3.exceptions
            if not hasattr(module, name):
                names = [n for n in dir(module) if n[:1].isupper()]
                self.problem(
                    "api.unknown-exception",
                    f"{ref.path} has no {name!r}",
                    node,
                    _did_you_mean(models.suggest_name(name, names))
                    or "service errors are ClientError: compare e.response['Error']['Code']",
                    Severity.warning,
                )
        return (Ref(f"{ref.path}.{name}"),)

    # --------------------------------------------------------------------------------------- module code

    def object_attr(self, inst: InstanceV, name: str, node: ast.AST) -> Value:
        for info in inst.info.mro():
            func = info.methods.get(name)
            if func is not None and func.kind == "property":
                return self.invoke(func, CallArgs(), inst)
        for info in inst.info.mro():
            if name in info.attrs:
                return info.attrs[name]
        for info in inst.info.mro():
            if name in info.methods:
                return (MethodV(inst, name, node),)
            if name in info.class_vars:
                return info.class_vars[name]
        return UNKNOWN

    def object_call(self, owner: InstanceV | ClassV, name: str, node: ast.Call, args: CallArgs, frame: Frame) -> Value:
        for info in owner.info.mro():
            func = info.methods.get(name)
            if func is None:
                continue
            if func.kind == "staticmethod":
                return self.invoke(func, args, None)
            if func.kind == "classmethod":
                return self.invoke(func, args, ClassV(owner.info))
            if isinstance(owner, InstanceV):
                return self.invoke(func, args, owner)
            return self.invoke(func, args, None)
        value = self.attr(owner, name, node.func)
        return self.each(value, lambda atom: self.call_atom(atom, node, args, frame))

    def instantiate(self, info: ClassInfo, args: CallArgs) -> Value:
        inst = info.instance
        if inst is None:
            return UNKNOWN
        for cls in info.mro():
            init = cls.methods.get("__init__")
            if init is not None:
                self.invoke(init, args, inst)
                return (inst,)
        if info.dataclass:
            fields = [f for cls in reversed(list(info.mro())) for f in cls.fields]
            for name, (_, value) in zip(fields, args.positional, strict=False):
                info.attrs[name] = union(info.attrs.get(name, UNKNOWN), value)
            for arg in args.keywords:
                info.attrs[arg.name] = union(info.attrs.get(arg.name, UNKNOWN), arg.value)
        return (inst,)

    def invoke(self, func: FuncV, args: CallArgs, bound: Atom | None, generic: bool = False) -> Value:
        """Analyse a function of the module for one call context; the result is the union of its returns."""
        fnode = func.node
        spec = fnode.args
        params = [*spec.posonlyargs, *spec.args]
        positional: list[Value] = [v for _, v in args.positional]
        if bound is not None:
            positional.insert(0, (bound,))
        values: dict[str, Value] = {}
        for param, value in zip(params, positional, strict=False):
            values[param.arg] = value
        remaining = {a.name: a for a in args.keywords}
        for param in [*params, *spec.kwonlyargs]:
            if param.arg in remaining and param.arg not in values:
                values[param.arg] = remaining.pop(param.arg).value
        defaults = dict(zip([p.arg for p in params][len(params) - len(spec.defaults) :], spec.defaults, strict=True))
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
            if default is not None:
                defaults[param.arg] = default
        all_params = [*params, *spec.kwonlyargs]
        contexts = self.contexts.get(id(fnode), 0)
        if generic or contexts >= _MAX_CONTEXTS:
            values = {p: v for p, v in values.items() if bound is not None and p == params[0].arg} if params else {}
            generic = True
        closure_frame = Frame(func.closure)
        for param in all_params:
            if not values.get(param.arg):
                hinted = self.param_hint(param, func.closure)
                if hinted:
                    values[param.arg] = hinted
                elif param.arg in defaults and param.arg not in values:
                    values[param.arg] = self.ev(defaults[param.arg], closure_frame)
        if spec.vararg is not None:
            extra = positional[len(params) :] if not generic else []
            values[spec.vararg.arg] = (ListV(list(extra), complete=not args.star and not generic, kind="tuple"),)
        if spec.kwarg is not None:
            extra_kw = {} if generic else {k: a.value for k, a in remaining.items()}
            locations = {} if generic else {k: a.node for k, a in remaining.items()}
            values[spec.kwarg.arg] = (DictV(extra_kw, complete=not args.opaque and not generic, locations=locations),)
        names = [p.arg for p in all_params] + [a.arg for a in (spec.vararg, spec.kwarg) if a is not None]
        key = (
            (id(fnode), "generic") if generic else (id(fnode), tuple(value_key(values.get(n, UNKNOWN)) for n in names))
        )
        if key in self.memo:
            return self.memo[key]
        if key in self.active or self.depth >= _MAX_DEPTH or (self.analyses >= _MAX_ANALYSES and not generic):
            return UNKNOWN
        self.analyses += 1
        self.contexts[id(fnode)] = contexts + 1
        self.analysed.add(id(fnode))
        self.active.add(key)
        self.depth += 1
        frame = Frame(Scope(func.closure))
        frame.scope.vars.update(values)
        try:
            with self.isolated():
                if isinstance(fnode, ast.Lambda):
                    frame.returns.append(self.ev(fnode.body, frame))
                else:
                    self.exec_block(fnode.body, frame)
        finally:
            self.depth -= 1
            self.active.discard(key)
        result = union(*frame.returns)
        if frame.yields:
            result = (GenV(union(*frame.yields)),)
        self.memo[key] = result
        return result

    def param_hint(self, param: ast.arg, scope: Scope) -> Value:
        """What a parameter holds when no call tells: its type annotation, or a `<service>_client` name."""
        if param.annotation is not None:
            hinted = self.annotation(param.annotation, scope)
            if hinted:
                return hinted
        match = re.fullmatch(r"(\w+?)_client|client_(\w+)", param.arg.lower())
        if match:
            candidate = match.group(1) or match.group(2)
            service = (
                models.resolve_service(candidate)
                or models.resolve_service(candidate.replace("_", "-"))
                or models.SERVICE_ALIASES.get(candidate)
            )
            if service:
                return (ClientV(service, inferred=True),)
        return UNKNOWN

    def annotation(self, node: ast.expr, scope: Scope) -> Value:
        """The value a type annotation promises, for boto3 stub types (mypy_boto3_* / types_boto3_*)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return UNKNOWN
            return self.annotation(parsed, scope)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return union(self.annotation(node.left, scope), self.annotation(node.right, scope))
        if isinstance(node, ast.Subscript):
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return union(*(self.annotation(e, scope) for e in inner))
        if not isinstance(node, ast.Name | ast.Attribute):
            return UNKNOWN
        with self.isolated():
            value = self.ev(node, Frame(scope))
        return union(*(_stub_value(a.path) for a in value if isinstance(a, Ref)))

    def container_call(self, owner: DictV | ListV, name: str, node: ast.Call, args: CallArgs) -> Value:
        first = args.positional[0][1] if args.positional else UNKNOWN
        if isinstance(owner, DictV):
            if name in {"get", "pop", "setdefault"}:
                default = args.positional[1][1] if len(args.positional) > 1 else UNKNOWN
                if len(first) == 1 and isinstance(first[0], Str):
                    found = owner.keys.get(first[0].value)
                    if found is None and name == "setdefault":
                        owner.keys[first[0].value] = default
                    return union(found or owner.other, default)
                return union(owner.other, default, *owner.keys.values())
            if name == "items":
                line, col = loc(node)
                items: list[Value] = [(ListV([(Str(k, line, col),), v], kind="tuple"),) for k, v in owner.keys.items()]
                if not owner.complete:
                    items.append((ListV([(Typed("str"),), owner.other], kind="tuple"),))
                return (ListV(items, complete=owner.complete),)
            if name == "values":
                return (ListV([*owner.keys.values(), owner.other], complete=False),)
            if name == "keys":
                line, col = loc(node)
                return (ListV([(Str(k, line, col),) for k in owner.keys], complete=owner.complete),)
            if name == "copy":
                return (owner,)
            if name == "update":
                for atom in first:
                    if isinstance(atom, DictV):
                        owner.keys.update(atom.keys)
                        owner.locations.update(atom.locations)
                        owner.complete = owner.complete and atom.complete
                if first and not all(isinstance(a, DictV) for a in first):
                    owner.complete = False
                for arg in args.keywords:
                    owner.keys[arg.name] = arg.value
                    owner.locations[arg.name] = arg.node
                return (Const(None),)
            return UNKNOWN
        if name == "append":
            owner.items.append(first)
        elif name == "extend":
            owner.items.append(self.iterate(first, node))
            owner.complete = False
        elif name == "insert" and len(args.positional) > 1:
            owner.items.append(args.positional[1][1])
        elif name in {"pop", "copy"}:
            return union(*owner.items) if name == "pop" else (owner,)
        return UNKNOWN

    def executor_call(self, name: str, node: ast.Call, args: CallArgs, frame: Frame) -> Value:
        if not args.positional:
            return UNKNOWN
        funcs = args.positional[0][1]
        if name == "submit":
            rest = CallArgs(args.positional[1:], args.keywords, args.opaque, args.star)
            self.each(funcs, lambda atom: self.call_atom(atom, node, rest, frame))
            return UNKNOWN
        if name == "map":
            rest = CallArgs([(n, self.iterate(v, n)) for n, v in args.positional[1:]])
            return (GenV(self.each(funcs, lambda atom: self.call_atom(atom, node, rest, frame))),)
        return UNKNOWN

    def call_ref(self, path: str, node: ast.Call, args: CallArgs, frame: Frame) -> Value:
        if path == "boto3.client":
            return self.construct("client", node, args)
        if path == "boto3.resource":
            return self.construct("resource", node, args)
        if path in {"boto3.Session", "boto3.session.Session"}:
            for arg in args.keywords:
                if arg.name not in _SESSION_KWARGS:
                    line, col = loc(arg.node)
                    close = models.suggest_name(arg.name, sorted(_SESSION_KWARGS))
                    self.report(
                        Problem(
                            "api.unknown-parameter",
                            Severity.error,
                            f"boto3.Session() has no parameter {arg.name!r}",
                            line,
                            col,
                            _did_you_mean(close[:1]),
                        )
                    )
            return (SessionV(),)
        if path in {"botocore.session.get_session", "botocore.session.Session"}:
            return (SessionV(botocore=True),)
        if path.startswith("builtins."):
            return self.call_builtin(path[len("builtins.") :], node, args, frame)
        if path.startswith("datetime."):
            parts = path.split(".")
            if path == "datetime.date.today":
                return (Typed("date"),)  # botocore rejects a date where it wants a timestamp
            if path == "datetime.datetime" or (
                parts[:2] == ["datetime", "datetime"] and parts[-1] in _DATETIME_FACTORIES
            ):
                return (Typed("datetime"),)
            if parts[-1] == "timedelta":
                return (Typed("timedelta"),)
            return UNKNOWN
        if path == "time.time":
            return (Typed("float"),)
        if path == "decimal.Decimal":
            return (Typed("decimal"),)
        if path in {"io.BytesIO", "io.StringIO"}:
            return (Typed("file"),)  # what botocore takes for a blob (anything with read())
        if path in {"time.time_ns", "time.monotonic_ns"}:
            return (Typed("int"),)
        if path == "json.dumps":
            return (Typed("str"),)
        if path in {"os.environ.get", "os.getenv"}:
            default = args.positional[1][1] if len(args.positional) > 1 else (Const(None),)
            return union((Typed("str"),), default)
        if path in {"concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor"}:
            return (ExecutorV(),)
        if path in {"collections.defaultdict", "collections.Counter", "collections.OrderedDict"}:
            return (DictV(complete=False),)
        return UNKNOWN

    def call_builtin(self, name: str, node: ast.Call, args: CallArgs, frame: Frame) -> Value:
        first = args.positional[0][1] if args.positional else UNKNOWN
        if name == "str":
            if len(first) == 1 and isinstance(first[0], Str | Const) and not isinstance(first[0].value, bytes):
                line, col = loc(node)
                return (Str(first[0].value if isinstance(first[0], Str) else str(first[0].value), line, col),)
            return (Typed("str"),)
        if name == "int":
            if len(first) == 1 and isinstance(first[0], Const) and isinstance(first[0].value, int):
                return first
            if len(first) == 1 and isinstance(first[0], Str) and first[0].value.strip().lstrip("-").isdigit():
                return (Const(int(first[0].value)),)
            return (Typed("int"),)
        if name in {"float", "bool", "bytes", "bytearray"}:
            return (Typed(name),)
        if name == "open":
            return (Typed("file"),)
        if name == "len":
            return (Typed("int"),)
        if name == "round":
            return (Typed("int" if len(args.positional) == 1 else "float"),)
        if name in {"list", "tuple", "sorted", "reversed", "set", "frozenset"}:
            kind = "set" if name in {"set", "frozenset"} else "list"
            if not args.positional:
                return (ListV([], complete=True, kind=kind),)
            if name in {"list", "tuple"} and len(first) == 1 and isinstance(first[0], ListV) and first[0].complete:
                return (ListV(list(first[0].items), complete=True, kind=kind),)
            return (ListV([self.iterate(first, node)], complete=False, kind=kind),)
        if name == "dict":
            result = DictV(complete=not args.positional)
            for atom in first:
                if isinstance(atom, DictV):
                    result.keys.update(atom.keys)
                    result.complete = atom.complete
            for arg in args.keywords:
                result.keys[arg.name] = arg.value
                result.locations[arg.name] = arg.node
            return (result,)
        if name == "range":
            return (ListV([(Typed("int"),)], complete=False),)
        if name == "enumerate":
            return (ListV([(ListV([(Typed("int"),), self.iterate(first, node)], kind="tuple"),)], False),)
        if name == "zip":
            elems = [self.iterate(v, n) for n, v in args.positional]
            return (ListV([(ListV(elems, kind="tuple"),)], complete=False),)
        if name == "getattr" and len(args.positional) >= 2:
            return self.builtin_getattr(node, args)
        if name == "next":
            default = args.positional[1][1] if len(args.positional) > 1 else UNKNOWN
            return union(self.iterate(first, node), default)
        if name == "iter":
            return (GenV(self.iterate(first, node)),)
        if name in {"min", "max"}:
            if len(args.positional) == 1:
                return self.iterate(first, node)
            return union(*(v for _, v in args.positional))
        if name in {"isinstance", "hasattr", "callable", "any", "all"}:
            return (Typed("bool"),)
        if name == "abs":
            return first
        if name == "map" and len(args.positional) >= 2:
            rest = CallArgs([(n, self.iterate(v, n)) for n, v in args.positional[1:]])
            return (GenV(self.each(first, lambda atom: self.call_atom(atom, node, rest, frame))),)
        if name == "filter" and len(args.positional) == 2:
            source, values = args.positional[1]
            kept = self.iterate(values, source)
            self.each(first, lambda atom: self.call_atom(atom, node, CallArgs([(source, kept)]), frame))
            return (GenV(kept),)
        if name == "print":
            return (Const(None),)
        return UNKNOWN

    def builtin_getattr(self, node: ast.Call, args: CallArgs) -> Value:
        owner = args.positional[0][1]
        names = args.positional[1][1]
        has_default = len(args.positional) > 2
        out: list[Atom] = []
        where: ast.AST = node if has_default else args.positional[1][0]
        for name in names:
            if not isinstance(name, Str):
                continue
            text = name.value
            if has_default:
                self.buffers.append([])  # a probe with a default: whatever is missing is not a finding
            try:
                out += self.each(owner, lambda atom, text=text: self.attr(atom, text, where))  # type: ignore[misc]
            finally:
                if has_default:
                    self.buffers.pop()
        return union(out)


# ------------------------------------------------------------------------------------------------- helpers


@dataclass
class _Recorded:
    """What is known of one API call site, over every context it was analysed in."""

    params: dict[str, None] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)


_NOT_LITERAL = object()


def _literal(value: Value) -> Any:
    """The JSON-able Python value of an argument when it is one known literal (or a list of them)."""
    if len(value) != 1:
        return _NOT_LITERAL
    atom = value[0]
    if isinstance(atom, Str):
        return atom.value
    if isinstance(atom, Const) and not isinstance(atom.value, bytes):
        return atom.value
    if isinstance(atom, ListV) and atom.complete and atom.kind != "set":
        items = [_literal(item) for item in atom.items]
        return _NOT_LITERAL if any(i is _NOT_LITERAL for i in items) else items
    return _NOT_LITERAL


def _misplaced_pagination_key(arg: Arg) -> list[Problem]:
    line, col = loc(arg.node)
    return [
        Problem(
            "api.unknown-parameter",
            Severity.error,
            f"paginate() has no parameter {arg.name!r}: it belongs in PaginationConfig",
            line,
            col,
            f"pass PaginationConfig={{{arg.name!r}: ...}}",
        )
    ]


def _kind(atom: Atom) -> str | None:
    from cloudinspect.review._values import kind_of

    return kind_of(atom)


def _const_op(op: ast.operator, a: Any, b: Any) -> list[Atom]:
    ops: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
        ast.Add: lambda x, y: x + y,
        ast.Sub: lambda x, y: x - y,
        ast.Mult: lambda x, y: x * y,
        ast.FloorDiv: lambda x, y: x // y,
        ast.Div: lambda x, y: x / y,
        ast.Mod: lambda x, y: x % y,
    }
    fn = ops.get(type(op))
    if fn is None or not all(isinstance(v, int | float) for v in (a, b)):
        return []
    try:
        result = fn(a, b)
    except (ArithmeticError, TypeError, ValueError):
        return []
    if isinstance(result, int | float) and abs(result) < 10**15:
        return [Const(result)]
    return []


def _builtin_method(owner: Atom, name: str) -> Value:
    kind = _kind(owner)
    if kind == "str":
        if name in _STR_TO_STR:
            if isinstance(owner, Str):
                return (Str(getattr(owner.value, name)(), owner.line, owner.col),)
            return (Typed("str"),)
        if name in {"replace", "format", "join", "zfill", "ljust", "rjust", "center", "removeprefix", "removesuffix"}:
            return (Typed("str"),)
        if name in {"split", "rsplit", "splitlines", "partition", "rpartition"}:
            return (ListV([(Typed("str"),)], complete=False),)
        if name.startswith("is") or name in {"startswith", "endswith"}:
            return (Typed("bool"),)
        if name == "encode":
            return (Typed("bytes"),)
        if name in {"count", "find", "index", "rfind"}:
            return (Typed("int"),)
        return UNKNOWN
    if kind == "datetime":
        if name in {"isoformat", "strftime", "ctime"}:
            return (Typed("str"),)
        if name == "timestamp":
            return (Typed("float"),)
        if name in {"replace", "astimezone"}:
            return (Typed("datetime"),)
        return UNKNOWN
    if kind == "timedelta" and name == "total_seconds":
        return (Typed("float"),)
    return UNKNOWN


def _stub_value(path: str) -> Value:
    """The value a boto3 stub type stands for (`mypy_boto3_s3.S3Client` -> an s3 client)."""
    parts = path.split(".")
    module = parts[0]
    for prefix in ("mypy_boto3_", "types_boto3_"):
        if module.startswith(prefix):
            raw = module[len(prefix) :]
            break
    else:
        return UNKNOWN
    service = models.resolve_service(raw.replace("_", "-")) or models.resolve_service(raw)
    if service is None or len(parts) < 2:
        return UNKNOWN
    cls = parts[-1]
    if cls.endswith("ServiceResource"):
        return (ResourceV(service, None, loaded=True),)
    if cls.endswith("Client"):
        return (ClientV(service),)
    if cls.endswith("Paginator"):
        snake = models.xform(cls[: -len("Paginator")])
        info = models.paginators(service).get(snake)
        return (PaginatorV(service, snake, info),) if info else UNKNOWN
    if cls.endswith("Waiter"):
        snake = models.xform(cls[: -len("Waiter")])
        waiter = models.waiters(service).get(snake)
        return (WaiterV(service, snake, waiter),) if waiter else UNKNOWN
    if models.resource_info(service, cls) is not None:
        return (ResourceV(service, cls, loaded=True),)
    return UNKNOWN


def _first_argument(args: CallArgs, keyword: str) -> Value:
    """The value of a call's first parameter, passed positionally or as `keyword`."""
    names = args.positional[0][1] if args.positional else UNKNOWN
    for arg in args.keywords:
        if arg.name == keyword:
            names = arg.value
    return names
