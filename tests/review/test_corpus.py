"""The review corpus (tests/fixtures/review): every broken script is caught by the right rule, every valid
script reviews without an error; and every catalogue reference script reviews clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.review import review_code
from cloudinspect.review.types import Severity
from tests.review.expectations import corpus_files, expectations

BROKEN = corpus_files("broken", "")
VALID = corpus_files("valid", "")
# The checks whose errors must all be expected: another error from them on a broken script is a false positive.
STRICT = {"syntax", "api"}


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_corpus_is_large_enough() -> None:
    mine_broken = [p for p in BROKEN if p.name.startswith(("api_", "syntax_"))]
    mine_valid = [p for p in VALID if p.name.startswith("api_")]
    assert len(mine_broken) >= 25
    assert len(mine_valid) >= 25
    assert all(expectations(p) for p in BROKEN), "every broken script declares what must be found"


@pytest.mark.parametrize("path", BROKEN, ids=_ids(BROKEN))
def test_broken_script_is_caught(path: Path) -> None:
    review = review_code(path.read_text(encoding="utf-8"))
    found = {(f.rule, f.severity) for f in review.findings}
    expected = expectations(path)
    missing = [e for e in expected if e not in found]
    assert not missing, f"{path.name}: missing {missing}; found {sorted(found)}"
    if any(severity is Severity.error for _, severity in expected):
        assert not review.ok
    unexpected = [f for f in review.errors() if f.check in STRICT and (f.rule, Severity.error) not in expected]
    assert not unexpected, f"{path.name}: unexpected errors {unexpected}"


@pytest.mark.parametrize("path", VALID, ids=_ids(VALID))
def test_valid_script_has_no_error(path: Path) -> None:
    review = review_code(path.read_text(encoding="utf-8"))
    assert review.errors() == [], f"{path.name}: {review.errors()}"


CATALOG = load_catalog([])
REFERENCES = sorted((prompt.id, prompt.reference_path) for prompt in CATALOG.values() if prompt.reference_path)


@pytest.mark.parametrize(("prompt_id", "path"), REFERENCES, ids=[i for i, _ in REFERENCES])
def test_reference_script_reviews_clean(prompt_id: str, path: Path) -> None:
    review = review_code(path.read_text(encoding="utf-8"))
    assert review.errors() == [], f"{prompt_id}: {review.errors()}"
    assert review.api_calls, f"{prompt_id}: no AWS call found"
    assert all(c.valid for c in review.api_calls), review.api_calls
    assert not [f for f in review.findings if f.check in STRICT], review.findings
