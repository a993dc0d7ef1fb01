"""Reading a benchmark directory back (the real BenchStore), and `cloudinspect report DIR`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudinspect.bench.metrics import write_summary
from cloudinspect.bench.store import BenchStore
from cloudinspect.report import REPORT_FILES, load_benchmark, write_reports
from cloudinspect.store import RunInfo
from tests._cli import run
from tests.report.factories import TASKS, Bench, make_bench


def _store(bench: Bench, directory: Path, *, summary: bool = True) -> Path:
    """A benchmark directory as the runner leaves it: bench.sqlite with runs, attempts and cells (+ summary.json)."""
    with BenchStore(directory) as store:
        store.save_config(bench.config)
        for result in bench.results:
            assert result.run_id is not None
            store.runs.create_run(
                RunInfo(
                    run_id=result.run_id,
                    prompt_id=result.cell.prompt_id,
                    model_id=result.cell.model_id,
                    target="emulator:baseline",
                )
            )
            for attempt in bench.attempts[result.run_id]:
                store.runs.record_attempt(result.run_id, attempt)
            store.record(result)
    if summary:
        write_summary(directory, bench.summary)
    return directory


@pytest.fixture(scope="module")
def bench() -> Bench:
    return make_bench()


def test_load_reads_cells_and_attempts_from_the_store(bench: Bench, tmp_path: Path) -> None:
    loaded = load_benchmark(_store(bench, tmp_path))
    assert loaded.source == "bench.sqlite"
    assert {r.cell.key: r for r in loaded.results} == {r.cell.key: r for r in bench.results}
    assert loaded.summary.models.keys() == bench.summary.models.keys()
    assert loaded.attempts.keys() == bench.attempts.keys()
    for run_id, attempts in bench.attempts.items():
        assert [(a.n, a.code, a.error_class) for a in loaded.attempts[run_id]] == [
            (a.n, a.code, a.error_class) for a in attempts
        ]
    assert load_benchmark(tmp_path, with_attempts=False).attempts == {}


def test_a_benchmark_without_summary_is_summarised_from_its_store(bench: Bench, tmp_path: Path) -> None:
    partial = Bench(bench.config, bench.summary, bench.results[:5], bench.attempts)
    loaded = load_benchmark(_store(partial, tmp_path, summary=False))
    assert [t.prompt_id for t in loaded.summary.tasks] == sorted(t.prompt_id for t in TASKS)
    assert not loaded.summary.complete
    assert loaded.summary.models["gpt-test"].solved == 4
    assert loaded.summary.models["claude-test"].solved == 1


def test_cli_report_rewrites_the_reports_from_the_store(
    bench: Bench, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(bench, tmp_path)
    code, out, err = run(["report", str(tmp_path)], capsys)
    assert code == 0, err
    assert out.splitlines() == [str(tmp_path / name) for name in REPORT_FILES]
    page = (tmp_path / "report.html").read_text()
    assert page.count('<details class="attempt"') == sum(len(a) for a in bench.attempts.values())
    code, out, _ = run(["report", str(tmp_path), "--open-path"], capsys)
    assert code == 0
    assert out == f"{(tmp_path / 'report.html').resolve()}\n"


def test_cli_report_falls_back_to_cells_json_without_the_database(
    bench: Bench, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_summary(tmp_path, bench.summary)
    write_reports(tmp_path, bench.summary, bench.results, {})
    (tmp_path / "report.html").unlink()
    code, out, err = run(["report", str(tmp_path)], capsys)
    assert code == 0
    assert "cells read from cells.json, without attempts" in err
    assert (tmp_path / "report.html").is_file()
    assert len(out.splitlines()) == len(REPORT_FILES)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "not a benchmark directory"),
        (lambda d: (d / "cells.json").write_text("[]"), "no summary.json"),
        (lambda d: (d / "cells.json").write_text("{oops"), "cannot read the cells"),
    ],
)
def test_cli_report_explains_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: object, message: str
) -> None:
    setup(tmp_path)  # type: ignore[operator]
    code, _, err = run(["report", str(tmp_path)], capsys)
    assert code == 2
    assert message in err
    assert str(tmp_path) in err
