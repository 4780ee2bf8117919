"""Room use per site and month: the share of reserved room time really used.

Use arrives as a fraction (0.217) per site and month, None where the site reserved nothing that
month (a gap, not a zero); the practice's threshold is drawn as a dashed line so a site under it
stands out. Number formats follow the reader's language through `separators` (decimal then
thousands, as Plotly wants them), which the view hands in with the translated titles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from admin_app.charts.monthly import COLOURS, Number, layout, values


def use_bars(
    months: Sequence[str],
    use: Mapping[str, Sequence[Number | None]],
    *,
    threshold: Number,
    title: str,
    axis_title: str,
    threshold_label: str,
    separators: str,
) -> go.Figure:
    """A bar per site and month (grouped by month), the y axis in percent from 0 to at least 100 %."""
    figure = go.Figure(
        [
            go.Bar(
                x=list(months),
                y=values(months, series, site),
                name=site,
                marker_color=COLOURS[index % len(COLOURS)],
                hovertemplate="%{y:.1%}",
            )
            for index, (site, series) in enumerate(use.items())
        ]
    )
    highest = max((value for series in use.values() for value in series if value is not None), default=0)
    figure.update_layout(barmode="group", separators=separators)
    figure.update_yaxes(title_text=axis_title, tickformat=".0%", range=[0, max(1.0, float(highest) * 1.05)])
    figure.add_hline(
        y=float(threshold),
        line_dash="dash",
        line_color="#d62728",
        annotation_text=threshold_label,
        annotation_position="top left",
    )
    return layout(figure, title)
