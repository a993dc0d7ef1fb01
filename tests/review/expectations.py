"""The review corpus (tests/fixtures/review): files by prefix, and the findings each broken file declares."""

from __future__ import annotations

from pathlib import Path

from cloudinspect.review.types import Severity

CORPUS = Path(__file__).parent.parent / "fixtures" / "review"


def corpus_files(kind: str, prefix: str) -> list[Path]:
    """`broken` or `valid` files whose name starts with `prefix`."""
    return sorted((CORPUS / kind).glob(f"{prefix}*.py"))


def expectations(path: Path) -> list[tuple[str, Severity]]:
    """The `# expect: rule [severity]` lines at the top of a corpus file (severity defaults to error)."""
    expected = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            continue
        rule, *severity = line.removeprefix("# expect:").split()
        expected.append((rule, Severity(severity[0]) if severity else Severity.error))
    return expected
