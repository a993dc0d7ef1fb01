"""Inline SVG charts for the HTML report, drawn in Python.

The report must open offline and read the same in ten years, so there is no charting library and no script: each
chart is one `<svg>` element with plain shapes. Every data mark carries a class (`mark`, `curve`, `cell`, `bar`)
and a `<title>` tooltip with its exact figures, so that tests (and curious readers) can find them. No `xmlns`:
inline SVG in HTML does not need one, and the report then holds no URL at all.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

MODEL_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
"""One colour per model, in the order models appear in the benchmark's config (cycled beyond ten)."""

FAILURE_COLOURS: Mapping[str, str] = {
    "solved": "#1a9850",
    "syntax": "#762a83",
    "generation": "#9970ab",
    "review": "#c2a5cf",
    "hallucinated_api": "#d73027",
    "parameter_validation": "#f46d43",
    "import": "#e08214",
    "runtime": "#fdae61",
    "output_not_json": "#fee090",
    "contract": "#abd9e9",
    "wrong_output": "#4575b4",
    "timeout": "#313695",
    "resource_limit": "#542788",
    "read_only_violation": "#b2182b",
    "access_denied": "#8c510a",
    "throttling": "#bf812d",
    "emulator_unsupported": "#80cdc1",
    "error": "#4d4d4d",
    "missing": "#e0e0e0",
}
_OTHER_COLOURS = ("#878787", "#bababa", "#35978f", "#01665e", "#dfc27d")

_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_AXIS = "#444"
_GRID = "#ddd"


def model_colours(model_ids: Sequence[str]) -> dict[str, str]:
    """A stable colour per model: its position in `model_ids`."""
    return {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(model_ids)}


def short_label(label: str, limit: int = 26) -> str:
    """A label that fits a chart's margin: `replay:tests/fixtures/canonical.yaml` becomes `replay:…/canonical.yaml`.
    The full name stays in the tooltips and tables."""
    if len(label) <= limit:
        return label
    if "/" in label:
        head = label.split(":", 1)[0] + ":" if ":" in label.split("/", 1)[0] else ""
        candidate = f"{head}…/{label.rstrip('/').rsplit('/', 1)[-1]}"
        if len(candidate) <= limit:
            return candidate
    return "…" + label[-(limit - 1) :]


def ink_on(fill: str) -> str:
    """Black or white text, whichever reads better on `fill` (#rrggbb)."""
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def failure_colour(name: str, index: int = 0) -> str:
    """The colour of a failure class; classes we do not know get a neutral one."""
    return FAILURE_COLOURS.get(name, _OTHER_COLOURS[index % len(_OTHER_COLOURS)])


@dataclass(frozen=True)
class ScatterPoint:
    """One model on the pass-rate vs cost chart."""

    label: str
    cost_usd: float
    pass_rate: float
    colour: str


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}" {_FONT}>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (every piece is built from escaped text)


def _text(x: float, y: float, text: str, *, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}</text>'


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _usd_tick(value: float) -> str:
    if value >= 1:
        return f"${value:,.0f}"
    return f"${value:.{max(0, -math.floor(math.log10(value)))}f}"


def _y_axis(body: list[str], left: float, right: float, top: float, bottom: float, title: str) -> None:
    """Gridlines and labels for a 0-100 % vertical axis."""
    for step in range(5):
        share = step / 4
        y = bottom - share * (bottom - top)
        body.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_GRID}"/>')
        body.append(_text(left - 6, y + 4, _percent(share), anchor="end"))
    body.append(
        _text(14, (top + bottom) / 2, title, anchor="middle", extra=f'transform="rotate(-90 14 {(top + bottom) / 2})"')
    )


def scatter_chart(points: Sequence[ScatterPoint], *, width: int = 600, height: int = 360) -> Markup:
    """Pass rate (y) against cost (x, log scale). Models that cost nothing sit in a separate "free" column at the
    left, since zero has no place on a log axis."""
    left, right, top, bottom = 60.0, width - 20.0, 20.0, height - 50.0
    free_right = left + 70.0
    log_left = free_right + 45.0
    body: list[str] = []
    _y_axis(body, left, right, top, bottom, "pass rate")
    paid = [p.cost_usd for p in points if p.cost_usd > 0]
    low = math.floor(math.log10(min(paid))) if paid else -3
    high = math.ceil(math.log10(max(paid))) if paid else 0
    if high <= low:
        high = low + 1

    def x_of(cost: float) -> float:
        if cost <= 0:
            return (left + free_right) / 2
        return log_left + (math.log10(cost) - low) / (high - low) * (right - log_left)

    body.append(
        f'<line x1="{free_right + 15}" x2="{free_right + 15}" y1="{top}" y2="{bottom}" '
        f'stroke="{_AXIS}" stroke-dasharray="4 3"/>'
    )
    body.append(_text((left + free_right) / 2, bottom + 18, "free", anchor="middle"))
    for exponent in range(low, high + 1):
        x = x_of(10.0**exponent)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{_GRID}"/>')
        body.append(_text(x, bottom + 18, _usd_tick(10.0**exponent), anchor="middle"))
    body.append(_text((left + right) / 2, height - 10, "cost (USD, whole benchmark, log scale)", anchor="middle"))
    placed: list[tuple[float, float]] = []
    for p in sorted(points, key=lambda p: (-p.pass_rate, p.cost_usd, p.label)):
        x, y = x_of(p.cost_usd), bottom - p.pass_rate * (bottom - top)
        tip = f"{p.label}: pass rate {_percent(p.pass_rate)}, cost ${p.cost_usd:.4f}"
        body.append(
            f'<circle class="mark" data-model="{escape(p.label)}" cx="{x:.1f}" cy="{y:.1f}" r="7" '
            f'fill="{p.colour}" stroke="#fff" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
        )
        # labels of points at the same place would overprint: move each away from the nearer edge of the plot
        # (down from the top half, up from the bottom half, where the axis labels are) until it is clear
        label_y = y + 4
        step = 14 if y < (top + bottom) / 2 else -14
        while any(abs(px - x) < 90 and abs(py - label_y) < 13 for px, py in placed):
            label_y += step
        placed.append((x, label_y))
        anchor, dx = ("end", -11) if x > right - 120 else ("start", 11)
        body.append(_text(x + dx, label_y, short_label(p.label), anchor=anchor, extra='class="point-label"'))
    return _svg(width, height, "pass rate against cost per model", body)


def curves_chart(
    series: Mapping[str, Sequence[float]], colours: Mapping[str, str], *, width: int = 600, height: int = 360
) -> Markup:
    """Pass rate after attempt 1..N, one line per model: how much the repair loop adds to each model."""
    left, right, top, bottom = 60.0, width - 185.0, 20.0, height - 50.0
    body: list[str] = []
    _y_axis(body, left, right, top, bottom, "solved by attempt k")
    n = max((len(v) for v in series.values()), default=1)

    def x_of(k: int) -> float:
        return (left + right) / 2 if n == 1 else left + 20 + (k - 1) / (n - 1) * (right - left - 40)

    for k in range(1, n + 1):
        body.append(_text(x_of(k), bottom + 18, str(k), anchor="middle"))
    body.append(_text((left + right) / 2, height - 10, "attempt", anchor="middle"))
    for i, (model, values) in enumerate(series.items()):
        colour = colours.get(model, MODEL_COLOURS[i % len(MODEL_COLOURS)])
        coords = [(x_of(k), bottom - v * (bottom - top)) for k, v in enumerate(values, start=1)]
        if coords:
            d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(coords))
            body.append(
                f'<path class="curve" data-model="{escape(model)}" d="{d}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"/>'
            )
        for k, ((x, y), v) in enumerate(zip(coords, values, strict=True), start=1):
            tip = f"{model}: {_percent(v)} solved by attempt {k}"
            body.append(
                f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"><title>{escape(tip)}</title>'
                "</circle>"
            )
        legend_y = top + 10 + i * 18
        body.append(f'<rect x="{right + 15}" y="{legend_y - 9}" width="12" height="12" fill="{colour}"/>')
        body.append(_text(right + 32, legend_y + 1, short_label(model, 24)))
    return _svg(width, height, "pass rate by attempt per model", body)


def _heat(rate: float) -> str:
    """Red (0) through yellow (0.5) to green (1)."""
    stops = ((0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80)))
    rate = min(1.0, max(0.0, rate))
    for (a, ca), (b, cb) in itertools.pairwise(stops):
        if rate <= b:
            t = (rate - a) / (b - a)
            r, g, bl = (round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True))
            return f"#{r:02x}{g:02x}{bl:02x}"
    return "#1a9850"


def heatmap_chart(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Mapping[tuple[str, str], tuple[float, int] | None],
    *,
    label: str = "pass rate per model and service",
    empty: str = "no tasks",
) -> Markup:
    """A rate per model (row) and column (a service; a fault scenario): `values[(row, column)] = (rate, cells)` or
    None. `label` is the chart's accessible name, `empty` the tooltip of a cell without data."""
    cell_w, cell_h, left, top = 64, 30, 180, 90
    width, height = left + cell_w * max(1, len(columns)) + 20, top + cell_h * max(1, len(rows)) + 20
    body: list[str] = []
    for j, column in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        body.append(_text(x, top - 8, column, extra=f'transform="rotate(-45 {x:.1f} {top - 8})"'))
    for i, row in enumerate(rows):
        y = top + i * cell_h
        body.append(_text(left - 8, y + cell_h / 2 + 4, short_label(row), anchor="end"))
        for j, column in enumerate(columns):
            x = left + j * cell_w
            value = values.get((row, column))
            if value is None:
                body.append(
                    f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="#f0f0f0">'
                    f"<title>{escape(f'{row} / {column}: {empty}')}</title></rect>"
                )
                continue
            rate, cells = value
            tip = f"{row} / {column}: {_percent(rate)} of {cells} cell(s)"
            body.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{_heat(rate)}"><title>{escape(tip)}</title></rect>'
            )
            ink = ink_on(_heat(rate))
            body.append(
                _text(
                    x + (cell_w - 2) / 2,
                    y + cell_h / 2 + 4,
                    _percent(rate),
                    anchor="middle",
                    extra=f'style="fill: {ink}"',
                )
            )
    return _svg(width, height, label, body)


def stacked_bars_chart(
    rows: Sequence[str], counts: Mapping[str, Mapping[str, int]], *, width: int = 760, bar_h: int = 26
) -> Markup:
    """One horizontal bar per model, split into its cells' outcomes (solved, then each failure class)."""
    classes: list[str] = []
    for row in rows:
        for name in counts.get(row, {}):
            if name not in classes:
                classes.append(name)
    classes.sort(key=lambda c: (c != "solved", c == "missing", c))
    colours = {c: failure_colour(c, i) for i, c in enumerate(classes)}
    left, right, top = 180.0, width - 20.0, 10.0
    legend_rows = math.ceil(len(classes) / 5) if classes else 0
    height = int(top + len(rows) * (bar_h + 10) + 20 + legend_rows * 20)
    body: list[str] = []
    for i, row in enumerate(rows):
        y = top + i * (bar_h + 10)
        body.append(_text(left - 8, y + bar_h / 2 + 4, short_label(row), anchor="end"))
        row_counts = counts.get(row, {})
        total = sum(row_counts.values())
        x = left
        for name in classes:
            count = row_counts.get(name, 0)
            if not count or not total:
                continue
            w = count / total * (right - left)
            tip = f"{row}: {name} {count} of {total}"
            body.append(
                f'<rect class="bar" data-class="{escape(name)}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                f'height="{bar_h}" fill="{colours[name]}" stroke="#fff"><title>{escape(tip)}</title></rect>'
            )
            if w > 24:
                ink = ink_on(colours[name])
                body.append(
                    _text(x + w / 2, y + bar_h / 2 + 4, str(count), anchor="middle", extra=f'style="fill: {ink}"')
                )
            x += w
    legend_top = top + len(rows) * (bar_h + 10) + 10
    for k, name in enumerate(classes):
        x, y = left + (k % 5) * 140, legend_top + (k // 5) * 20
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colours[name]}"/>')
        body.append(_text(x + 17, y + 10, name))
    return _svg(width, height, "outcome of each model's cells", body)
