"""The SVG charts: one data mark per datum, at the right place, and nothing unescaped."""

from __future__ import annotations

import re

from cloudinspect.report import charts


def _circles(svg: str) -> list[tuple[float, float, str]]:
    return [
        (float(x), float(y), fill)
        for x, y, fill in re.findall(r'<circle class="mark"[^>]*cx="([\d.]+)" cy="([\d.]+)" r="\d+" fill="(#\w+)"', svg)
    ]


def test_scatter_places_cost_on_a_log_axis_and_free_models_in_their_own_column() -> None:
    svg = charts.scatter_chart(
        [
            charts.ScatterPoint("cheap", 0.01, 0.5, "#1f77b4"),
            charts.ScatterPoint("dear", 1.0, 0.9, "#d62728"),
            charts.ScatterPoint("mid", 0.1, 0.2, "#2ca02c"),
            charts.ScatterPoint("free", 0.0, 0.1, "#9467bd"),
        ]
    )
    points = {fill: (x, y) for x, y, fill in _circles(svg)}
    assert len(points) == 4
    free_x = points["#9467bd"][0]
    cheap_x, mid_x, dear_x = points["#1f77b4"][0], points["#2ca02c"][0], points["#d62728"][0]
    separator = float(re.search(r'<line x1="([\d.]+)"[^>]*stroke-dasharray', svg).group(1))  # type: ignore[union-attr]
    assert free_x < separator < cheap_x < mid_x < dear_x
    # log scale: equal ratios are equal distances
    assert abs((mid_x - cheap_x) - (dear_x - mid_x)) < 0.2
    # higher pass rate is higher on the page (smaller y)
    assert points["#d62728"][1] < points["#1f77b4"][1] < points["#2ca02c"][1] < points["#9467bd"][1]
    for label in ("cheap", "dear", "mid", "free"):
        assert f">{label}</text>" in svg
    assert ">free</text>" in svg
    assert "$0.01" in svg
    assert "$1" in svg


def test_scatter_labels_of_coinciding_points_do_not_overprint() -> None:
    svg = charts.scatter_chart([charts.ScatterPoint(f"m{i}", 0.0, 0.0, "#1f77b4") for i in range(3)])
    ys = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)"[^>]*class="point-label"', svg)]
    assert len(ys) == 3
    assert len(set(ys)) == 3


def test_curves_draw_one_line_per_model_with_a_point_per_attempt() -> None:
    svg = charts.curves_chart({"a": [0.5, 0.75, 1.0], "b": [0.0, 0.25, 0.25]}, {"a": "#1f77b4", "b": "#d62728"})
    paths = re.findall(r'<path class="curve" data-model="(\w)" d="([^"]+)"[^>]*stroke="(#\w+)"', svg)
    assert [(m, colour) for m, _, colour in paths] == [("a", "#1f77b4"), ("b", "#d62728")]
    assert all(d.count("L") == 2 for _, d, _ in paths)
    assert len(_circles(svg)) == 6


def test_heatmap_has_a_coloured_cell_with_its_number_per_model_and_service() -> None:
    values = {("a", "s3"): (1.0, 2), ("a", "ec2"): (0.0, 1), ("b", "s3"): (0.5, 2), ("b", "ec2"): None}
    svg = charts.heatmap_chart(["a", "b"], ["ec2", "s3"], values)
    fills = re.findall(r'<rect class="cell"[^>]*fill="(#\w+)"', svg)
    assert len(fills) == 3
    assert fills[0] != fills[1]  # 0% and 100% are told apart by colour
    assert ">100%</text>" in svg
    assert ">0%</text>" in svg
    assert ">50%</text>" in svg
    assert "no tasks" in svg


def test_stacked_bars_split_each_model_by_outcome() -> None:
    svg = charts.stacked_bars_chart(
        ["a", "b"], {"a": {"solved": 3, "wrong_output": 1}, "b": {"syntax": 2, "timeout": 1, "solved": 1}}
    )
    bars = re.findall(r'<rect class="bar" data-class="(\w+)"[^>]*width="([\d.]+)"', svg)
    assert [name for name, _ in bars] == ["solved", "wrong_output", "solved", "syntax", "timeout"]
    widths = [float(w) for _, w in bars]
    assert abs(widths[0] - 3 * widths[1]) < 0.5  # proportional to counts
    assert abs(sum(widths[:2]) - sum(widths[2:])) < 0.5  # every bar spans the same width


def test_labels_are_escaped() -> None:
    svg = charts.scatter_chart([charts.ScatterPoint("<script>x</script>&", 0.5, 0.5, "#1f77b4")])
    assert "<script>" not in svg
    assert "&lt;script&gt;x&lt;/script&gt;&amp;" in svg


def test_long_model_names_are_shortened_in_charts_only() -> None:
    name = "replay:tests/fixtures/bench/canonical.yaml"
    assert charts.short_label(name) == "replay:…/canonical.yaml"
    assert charts.short_label("gpt-test") == "gpt-test"
    assert len(charts.short_label("x" * 60)) == 26
    svg = charts.heatmap_chart([name], ["s3"], {(name, "s3"): (1.0, 1)})
    assert ">replay:…/canonical.yaml</text>" in svg
    assert f"{name} / s3: 100% of 1 cell(s)" in svg  # the tooltip keeps the full name


def test_labels_of_free_models_that_all_fail_stay_inside_the_plot() -> None:
    svg = str(
        charts.scatter_chart(
            [
                charts.ScatterPoint("smollm2-135m", 0.0, 0.0, "#1f77b4"),
                charts.ScatterPoint("gemma3-270m", 0.0, 0.0, "#d62728"),
                charts.ScatterPoint("tiny-model", 0.0, 0.0, "#2ca02c"),
            ],
            height=360,
        )
    )
    ys = [float(y) for y in re.findall(r'<text[^>]*y="([0-9.]+)"[^>]*class="point-label"', svg)]
    ys += [float(y) for y in re.findall(r'<text[^>]*class="point-label"[^>]*y="([0-9.]+)"', svg)]
    assert len(ys) == 3
    bottom = 360 - 50  # the plot's bottom edge: below it are the axis ticks and title
    assert all(y <= bottom + 5 for y in ys), ys
    assert len(set(ys)) == 3  # and they do not overprint each other
