"""Benchmark reports: a self-contained HTML page with charts, a Markdown summary, CSV/JSON exports of the cells,
and a comparison of two benchmark runs.

    from cloudinspect.report import compare_benchmarks, load_benchmark, write_reports

    bench = load_benchmark(Path("out"))                    # summary.json + the cells and attempts in bench.sqlite
    write_reports(bench.directory, bench.summary, bench.results, bench.attempts)
    print(compare_benchmarks(Path("before"), Path("out")).render_text())
"""

from cloudinspect.report.compare import CellChange, Comparison, ModelDelta, compare_benchmarks
from cloudinspect.report.load import Benchmark, load_benchmark
from cloudinspect.report.write import REPORT_FILES, write_reports

__all__ = [
    "REPORT_FILES",
    "Benchmark",
    "CellChange",
    "Comparison",
    "ModelDelta",
    "compare_benchmarks",
    "load_benchmark",
    "write_reports",
]
