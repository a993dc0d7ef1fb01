"""Output comparison follows the contract's rules: identity keys, multisets, order, tolerances, ignores."""

from __future__ import annotations

from cloudinspect.catalog.compare import compare_outputs
from cloudinspect.catalog.schema import CompareRules

RULES = CompareRules.model_validate(
    {
        "keys": {"functions": ["name"]},
        "ordered": ["top"],
        "tolerances": {"functions[].avg_ms": {"abs": 0.5}},
        "ignore": ["generated_at", "functions[].last_modified"],
    }
)
EXPECTED = {
    "functions": [
        {"name": "a", "avg_ms": 10.0, "last_modified": "x"},
        {"name": "b", "avg_ms": 20.0, "last_modified": "y"},
    ],
    "top": ["b", "a"],
    "tags": ["x", "y", "y"],
    "generated_at": "2026-01-01",
}


def test_equal_up_to_order_tolerance_and_ignored_fields() -> None:
    actual = {
        "functions": [
            {"name": "b", "avg_ms": 20.4, "last_modified": "z"},
            {"name": "a", "avg_ms": 10.0, "last_modified": "q"},
        ],
        "top": ["b", "a"],
        "tags": ["y", "x", "y"],
        "generated_at": "2030-01-01",
    }
    assert compare_outputs(EXPECTED, actual, RULES) == []


def test_differences_are_located_by_identity() -> None:
    actual = {
        "functions": [
            {"name": "a", "avg_ms": 11.0, "last_modified": "x"},
            {"name": "c", "avg_ms": 1.0, "last_modified": "x"},
        ],
        "top": ["a", "b"],
        "tags": ["x", "y"],
        "generated_at": "x",
        "extra": True,
    }
    rendered = {d.render() for d in compare_outputs(EXPECTED, actual, RULES)}
    assert "functions[name=a].avg_ms: wrong value (expected 10.0, got 11.0)" in rendered
    assert any(r.startswith("functions[name=b]: missing") for r in rendered)
    assert any(r.startswith("functions[name=c]: unexpected") for r in rendered)
    assert 'top[0]: wrong value (expected "b", got "a")' in rendered
    assert 'tags[]: missing (expected "y")' in rendered
    assert "extra: unexpected true" in rendered


def test_hidden_expected_values_for_repair_prompts() -> None:
    diffs = compare_outputs({"count": 3}, {"count": 4})
    assert diffs[0].render(show_expected=False) == "count: wrong value (got 4)"


def test_integers_are_exact_and_types_matter() -> None:
    assert compare_outputs({"n": 3}, {"n": 3.0000001}) == []  # default relative tolerance applies to floats
    assert compare_outputs({"n": 3}, {"n": 4}) != []
    assert compare_outputs({"n": 3}, {"n": "3"})[0].kind == "type"
    assert compare_outputs({"flag": True}, {"flag": 1})[0].kind == "type"
    assert compare_outputs({"v": None}, {"v": 0})[0].kind == "changed"


def test_unkeyed_lists_of_objects_are_multisets() -> None:
    exp = {"rows": [{"a": 1.0}, {"a": 2.0}]}
    assert compare_outputs(exp, {"rows": [{"a": 2.0}, {"a": 1.0}]}) == []
    kinds = sorted(d.kind for d in compare_outputs(exp, {"rows": [{"a": 2.0}, {"a": 3.0}]}))
    assert kinds == ["extra", "missing"]
