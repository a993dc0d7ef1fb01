"""`report.html`: one self-contained page (inline CSS and SVG, no network) from a benchmark's summary and cells.

The template (`resources/templates/report/report.html.jinja2`) is rendered with autoescaping: model output (code,
stdout, error messages) is untrusted text and must never become markup. Only the charts, built in
`cloudinspect.report.charts` from escaped pieces, are inserted as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import jinja2

from cloudinspect import __version__
from cloudinspect.bench.types import BenchSummary, CellResult
from cloudinspect.config import resources_dir
from cloudinspect.loop.state import Attempt
from cloudinspect.report import charts, views


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(resources_dir() / "templates" / "report"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(summary: BenchSummary, results: Sequence[CellResult], attempts: Mapping[str, list[Attempt]]) -> str:
    """The whole report page as a string."""
    models = views.model_order(summary, results)
    colours = charts.model_colours(models)
    board = views.leaderboard(summary, colours)
    services, service_values = views.service_pass_rates(summary, results, models)
    summarised = [m for m in models if m in summary.models]
    scatter = charts.scatter_chart(
        [
            charts.ScatterPoint(m, summary.models[m].cost_usd, summary.models[m].pass_rate, colours[m])
            for m in summarised
        ]
    )
    curves = charts.curves_chart({m: summary.models[m].pass_at_attempt for m in summarised}, colours)
    heatmap = charts.heatmap_chart(models, services, service_values)
    outcomes = charts.stacked_bars_chart(models, views.outcome_counts(summary, results, models))
    expected = len(summary.tasks) * summary.config.repeat * len(summary.config.models)
    return (
        _environment()
        .get_template("report.html.jinja2")
        .render(
            summary=summary,
            config=summary.config,
            version=__version__,
            generated_at=summary.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
            cells_present=len(results),
            cells_expected=expected,
            leaderboard=board,
            charts={"scatter": scatter, "curves": curves, "heatmap": heatmap, "outcomes": outcomes},
            tasks=views.task_views(summary, results, attempts, colours, models),
        )
    )
