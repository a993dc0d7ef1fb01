"""write_reports: the four files, self-contained and escaped HTML with its charts, Markdown tables, CSV/JSON rows."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from cloudinspect.report import REPORT_FILES, write_reports
from cloudinspect.report.export import cells_from_json, unflatten_cell
from tests.report.factories import HUGE_STDOUT, MODELS, TASKS, Bench, make_bench


@pytest.fixture(scope="module")
def bench() -> Bench:
    return make_bench()


@pytest.fixture(scope="module")
def written(bench: Bench, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("bench")
    paths = write_reports(directory, bench.summary, bench.results, bench.attempts)
    assert [p.name for p in paths] == list(REPORT_FILES)
    assert all(p.parent == directory and p.stat().st_size > 0 for p in paths)
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_html_references_nothing_outside_the_file(written: dict[str, str]) -> None:
    page = written["report.html"]
    assert not re.search(r"""\b(?:src|href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    assert not re.search(r"<link\b|@import|url\(", page, re.I)
    assert "http://" not in page
    assert "https://" not in page
    # the only script is ours (expand/collapse), inline
    assert re.findall(r"<script\b[^>]*>", page) == ["<script>"]


def test_html_escapes_model_output(written: dict[str, str]) -> None:
    page = written["report.html"]
    assert "<script>alert" not in page
    assert "</pre><script>" not in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert "True &amp;&amp; False" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page
    # error messages, feedback, findings, differences and grades' details are escaped too
    for text in (
        "it went <wrong> & stayed wrong",
        "fix the <call> & retry",
        "<did you mean list_buckets?>",
        "buckets[0]: 'a<b>' missing",
        "functions: 1 missing <daily-digest>",
        "the <script> did not pass & gave up",
    ):
        assert str(escape(text)) in page, text


def test_html_has_the_sections_and_charts_with_their_data_marks(written: dict[str, str], bench: Bench) -> None:
    page = written["report.html"]
    for section in ("leaderboard", "chart-scatter", "chart-curves", "chart-heatmap", "chart-outcomes", "tasks"):
        assert f'id="{section}"' in page
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(svgs) == 4
    scatter, curves, heatmap, outcomes = svgs
    assert len(re.findall(r'<circle class="mark"', scatter)) == len(MODELS)
    assert len(re.findall(r'<path class="curve"', curves)) == len(MODELS)
    assert len(re.findall(r'<circle class="mark"', curves)) == len(MODELS) * bench.config.max_attempts
    services = {t.service for t in TASKS}
    assert len(re.findall(r'<rect class="cell"', heatmap)) == len(MODELS) * len(services)
    classes = set(re.findall(r'<rect class="bar" data-class="(\w+)"', outcomes))
    assert {"solved", "wrong_output", "hallucinated_api", "syntax", "timeout", "runtime"} <= classes


def test_html_leaderboard_ranks_by_pass_rate(written: dict[str, str]) -> None:
    board = re.search(r'<section id="leaderboard">.*?</section>', written["report.html"], re.S)
    assert board is not None
    rows = re.findall(r"</span>([\w.-]+)</td>", board.group(0))
    assert rows == ["gpt-test", "claude-test", "smollm2-135m"]
    assert "100%" in board.group(0)
    assert "75%" in board.group(0)
    assert "$0.0050" in board.group(0)


def test_html_shows_every_task_cell_and_attempt(written: dict[str, str], bench: Bench) -> None:
    page = written["report.html"]
    assert page.count('<details class="task"') == len(TASKS)
    assert page.count('<details class="cell"') == len(bench.results)
    assert page.count('<details class="attempt"') == sum(len(a) for a in bench.attempts.values())
    assert page.count('<pre class="code">') == sum(len(a) for a in bench.attempts.values())
    assert '<span class="add">+print(&#39;&lt;new&gt; &amp; more&#39;)</span>' in page
    assert '<span class="del">-print(&lt;old&gt;)</span>' in page
    assert "Feedback sent to the model" in page
    assert "Not executed" in page  # the syntax failures never reached the sandbox


def test_html_caps_huge_output_with_a_note(written: dict[str, str]) -> None:
    page = written["report.html"]
    assert HUGE_STDOUT not in page
    assert f"showing the first 4,000 of {len(HUGE_STDOUT):,} characters" in page


def test_html_says_when_a_benchmark_is_incomplete(tmp_path: Path) -> None:
    partial = make_bench(skip=frozenset({("smollm2-135m", "s3-largest-buckets")}))
    write_reports(tmp_path, partial.summary, partial.results, {})
    page = (tmp_path / "report.html").read_text()
    assert "incomplete: 11 of 12 cells" in page
    assert 'data-class="missing"' in page
    assert "The attempts of this run are not in this report." in page


def _md_table(markdown: str, heading: str) -> list[list[str]]:
    block = markdown.split(f"## {heading}\n", 1)[1]
    lines = [line for line in block.split("\n## ", 1)[0].splitlines() if line.startswith("|")]
    assert re.fullmatch(r"\|( ---:? \|)+", lines[1]), lines[1]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in [lines[0], *lines[2:]]]


def test_markdown_has_leaderboard_outcome_and_service_tables(written: dict[str, str]) -> None:
    md = written["report.md"]
    board = _md_table(md, "Leaderboard")
    assert board[0][:3] == ["model", "solved / tasks", "pass rate"]
    assert [row[0] for row in board[1:]] == ["gpt-test", "claude-test", "smollm2-135m"]
    assert board[1][1:3] == ["4/4", "100%"]
    assert board[3][1:3] == ["0/4", "0%"]
    outcomes = _md_table(md, "Outcomes and failure classes")
    header = outcomes[0]
    assert header[:2] == ["model", "solved"]
    smol = dict(zip(header, next(r for r in outcomes if r[0] == "smollm2-135m"), strict=True))
    assert smol["solved"] == "0"
    assert smol["hallucinated_api"] == "1"
    assert smol["timeout"] == "1"
    services = _md_table(md, "Pass rate per service")
    assert services[0] == ["model", "ec2", "lambda", "s3"]
    assert next(r for r in services if r[0] == "claude-test") == ["claude-test", "100%", "0%", "100%"]
    assert "[report.html](report.html)" in md


def test_csv_has_one_row_per_cell_with_a_grade_column_per_scenario(written: dict[str, str], bench: Bench) -> None:
    rows = list(csv.DictReader(written["cells.csv"].splitlines()))
    assert len(rows) == len(bench.results)
    assert len({r["key"] for r in rows}) == len(rows)
    claude = next(r for r in rows if r["key"] == "claude-test|lambda-error-rate|0")
    assert claude["solved"] == "False"
    assert claude["status"] == "failed"
    assert claude["grade:baseline"] == "pass"
    assert claude["grade:startup"] == "wrong_output"
    assert claude["attempt_error_classes"] == "none"
    smol = next(r for r in rows if r["key"] == "smollm2-135m|ec2-instances-missing-tags|0")
    assert smol["attempt_error_classes"] == "timeout;timeout;timeout"
    assert smol["grade:startup"] == ""


def test_json_rows_are_flat_and_read_back_to_the_same_cells(written: dict[str, str], bench: Bench) -> None:
    rows = json.loads(written["cells.json"])
    assert len(rows) == len(bench.results)
    assert list(rows[0])[:4] == ["key", "model_id", "prompt_id", "repeat"]
    assert "cell" not in rows[0]
    by_key = {r.cell.key: r for r in bench.results}
    assert {row["key"]: unflatten_cell(row) for row in rows} == by_key


def test_cells_from_json_names_the_file_when_malformed(tmp_path: Path) -> None:
    from cloudinspect.errors import InputError

    bad = tmp_path / "cells.json"
    bad.write_text('[{"key": "x"}]')
    with pytest.raises(InputError, match="not a list of benchmark cells") as caught:
        cells_from_json(bad)
    assert str(bad) in str(caught.value)
