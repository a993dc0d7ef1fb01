"""The HTML report in a real browser: headless Chromium renders it offline to a PNG, and the charts show."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cloudinspect.report import write_reports
from cloudinspect.report.charts import FAILURE_COLOURS, model_colours
from tests.report.factories import MODELS, make_bench
from tests.report.png import read_png

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1400, 2400

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (`make system-deps` installs it)"
)


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    bench = make_bench()
    write_reports(directory, bench.summary, bench.results, bench.attempts)
    png = directory / "report.png"
    # No network at all: the page must render from the file alone.
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={directory / 'profile'}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        (directory / "report.html").as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False, cwd=directory)
    assert done.returncode == 0, done.stderr[-2000:]
    return png


def test_chromium_renders_the_report_to_a_full_size_page(screenshot: Path) -> None:
    image = read_png(screenshot)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    assert image.distinct_colours() > 100  # text, tables and charts, not a blank or error page


def test_the_charts_are_visible_in_their_colours(screenshot: Path) -> None:
    image = read_png(screenshot)
    models = list(model_colours(MODELS).values())
    outcomes = [FAILURE_COLOURS[name] for name in ("solved", "syntax", "timeout", "hallucinated_api", "runtime")]
    counts = image.colour_counts(models + outcomes)
    # A model's colour covers its scatter point, its curve and legend: far more than its 11x11 table swatch.
    for colour in models:
        assert counts[colour] > 400, (colour, counts)
    # The outcome bars: each failure class is a solid block of at least one cell's width.
    for colour in outcomes:
        assert counts[colour] > 1000, (colour, counts)
