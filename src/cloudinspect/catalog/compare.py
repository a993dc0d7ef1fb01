"""Comparing two outputs of the same contract, following its comparison rules.

Used to grade a generated script's output against the canonical script's output on the same account:
lists of objects are matched by identity keys, other lists as multisets unless declared ordered, numbers
within tolerances, and ignored fields left out. Each difference names where it is, with item identities
in the path (``functions[name=orders-api].timeout_s``) so a model can act on it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from cloudinspect.catalog.schema import CompareRules, Tolerance

DiffKind = Literal["missing", "extra", "changed", "type", "length"]


@dataclass(frozen=True)
class Difference:
    """One way in which the actual output differs from the expected one."""

    kind: DiffKind
    where: str
    expected: Any = None
    actual: Any = None

    def render(self, *, show_expected: bool = True) -> str:
        """A one-line description; `show_expected=False` hides expected values (for repair prompts)."""
        where = self.where or "(root)"
        if self.kind == "missing":
            return f"{where}: missing" + (f" (expected {_short(self.expected)})" if show_expected else "")
        if self.kind == "extra":
            return f"{where}: unexpected {_short(self.actual)}"
        if self.kind == "length":
            return f"{where}: expected {self.expected} items, got {self.actual}"
        if self.kind == "type":
            return f"{where}: expected a {self.expected}, got {_type(self.actual)} {_short(self.actual)}"
        tail = (
            f"expected {_short(self.expected)}, got {_short(self.actual)}"
            if show_expected
            else f"got {_short(self.actual)}"
        )
        return f"{where}: wrong value ({tail})"


def _short(value: Any, limit: int = 80) -> str:
    import json

    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _child(rule_path: str, key: str) -> str:
    return f"{rule_path}.{key}" if rule_path else key


class _Comparer:
    def __init__(self, rules: CompareRules) -> None:
        self.rules = rules
        self.ignore = set(rules.ignore)
        self.ordered = set(rules.ordered)

    def tolerance(self, rule_path: str) -> Tolerance:
        return self.rules.tolerances.get(rule_path, self.rules.default_tolerance)

    def numbers_equal(self, a: float, b: float, rule_path: str) -> bool:
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        tol = self.tolerance(rule_path)
        return abs(a - b) <= max(tol.abs, tol.rel * max(abs(a), abs(b)))

    def compare(self, exp: Any, act: Any, rule_path: str, where: str) -> list[Difference]:
        if rule_path in self.ignore:
            return []
        exp_num = isinstance(exp, int | float) and not isinstance(exp, bool)
        act_num = isinstance(act, int | float) and not isinstance(act, bool)
        if exp_num and act_num:
            return [] if self.numbers_equal(exp, act, rule_path) else [Difference("changed", where, exp, act)]
        if isinstance(exp, dict) and isinstance(act, dict):
            return self.compare_dicts(exp, act, rule_path, where)
        if isinstance(exp, list) and isinstance(act, list):
            return self.compare_lists(exp, act, rule_path, where)
        if _type(exp) != _type(act) and exp is not None and act is not None:
            return [Difference("type", where, _type(exp), act)]
        return [] if exp == act else [Difference("changed", where, exp, act)]

    def compare_dicts(self, exp: dict[str, Any], act: dict[str, Any], rule_path: str, where: str) -> list[Difference]:
        diffs: list[Difference] = []
        for key, exp_value in exp.items():
            child_rule, child_where = _child(rule_path, key), _child(where, key)
            if child_rule in self.ignore:
                continue
            if key not in act:
                diffs.append(Difference("missing", child_where, exp_value))
            else:
                diffs += self.compare(exp_value, act[key], child_rule, child_where)
        for key, act_value in act.items():
            if key not in exp and _child(rule_path, key) not in self.ignore:
                diffs.append(Difference("extra", _child(where, key), None, act_value))
        return diffs

    def compare_lists(self, exp: list[Any], act: list[Any], rule_path: str, where: str) -> list[Difference]:
        item_rule = f"{rule_path}[]"
        key_fields = self.rules.keys.get(rule_path)
        if key_fields:
            return self.compare_keyed(exp, act, key_fields, item_rule, where)
        if rule_path in self.ordered:
            diffs = [] if len(exp) == len(act) else [Difference("length", where, len(exp), len(act))]
            for i, (e, a) in enumerate(zip(exp, act, strict=False)):
                diffs += self.compare(e, a, item_rule, f"{where}[{i}]")
            return diffs
        return self.compare_multiset(exp, act, item_rule, where)

    def compare_keyed(
        self, exp: list[Any], act: list[Any], key_fields: list[str], item_rule: str, where: str
    ) -> list[Difference]:
        def identity(item: Any) -> tuple[Any, ...] | None:
            if not isinstance(item, dict):
                return None
            return tuple(_freeze(item.get(k)) for k in key_fields)

        def label(ident: tuple[Any, ...]) -> str:
            return f"{where}[{','.join(f'{k}={v}' for k, v in zip(key_fields, ident, strict=True))}]"

        diffs: list[Difference] = []
        actual_by_id: dict[tuple[Any, ...], list[Any]] = {}
        for item in act:
            ident = identity(item)
            if ident is None:
                diffs.append(Difference("type", f"{where}[]", "object", item))
                continue
            actual_by_id.setdefault(ident, []).append(item)
        for item in exp:
            ident = identity(item)
            if ident is None:
                continue
            candidates = actual_by_id.get(ident)
            if not candidates:
                diffs.append(Difference("missing", label(ident), item))
                continue
            diffs += self.compare(item, candidates.pop(0), item_rule, label(ident))
        for ident, leftovers in actual_by_id.items():
            diffs += [Difference("extra", label(ident), None, item) for item in leftovers]
        return diffs

    def compare_multiset(self, exp: list[Any], act: list[Any], item_rule: str, where: str) -> list[Difference]:
        if all(isinstance(x, str | int | bool) or x is None for x in [*exp, *act]) and not any(
            isinstance(x, float) for x in [*exp, *act]
        ):
            missing = Counter(_freeze(x) for x in exp) - Counter(_freeze(x) for x in act)
            extra = Counter(_freeze(x) for x in act) - Counter(_freeze(x) for x in exp)
            return [Difference("missing", f"{where}[]", v) for v in missing.elements()] + [
                Difference("extra", f"{where}[]", None, v) for v in extra.elements()
            ]
        remaining = list(act)
        diffs: list[Difference] = []
        for item in exp:
            for i, cand in enumerate(remaining):
                if not self.compare(item, cand, item_rule, where):
                    del remaining[i]
                    break
            else:
                diffs.append(Difference("missing", f"{where}[]", item))
        diffs += [Difference("extra", f"{where}[]", None, item) for item in remaining]
        return diffs


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def compare_outputs(expected: Any, actual: Any, rules: CompareRules | None = None) -> list[Difference]:
    """Every difference between `actual` and `expected` under the contract's rules (empty when they match)."""
    return _Comparer(rules or CompareRules()).compare(expected, actual, "", "")
