"""The year at a glance: NPS, new and recurrent clients, virtual and on-site clients, gross income.

Every builder takes the x labels (one per month) and same-length series of numbers, with the
titles already translated. `None` means "no value" and stays a gap (a month without survey
responses has no NPS, which is not an NPS of zero); money arrives per currency and is never
added across currencies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from admin_app.charts.monthly import COLOURS, HEIGHT, Number, layout, values

NPS_RANGE = (-100, 100)
CURRENCY_ROW_HEIGHT = 220
# Up to this many clients, one tick per client (no "0.5 clients" on the axis).
UNIT_TICKS_UP_TO = 10


def _count_axis(figure: go.Figure, title: str, highest: float) -> None:
    figure.update_yaxes(title_text=title, rangemode="tozero", tickformat=",d")
    if highest <= UNIT_TICKS_UP_TO:
        figure.update_yaxes(dtick=1, range=[0, max(highest, 1) + 0.5])


def nps_line(months: Sequence[str], nps: Sequence[Number | None], *, title: str, axis_title: str) -> go.Figure:
    """NPS per month on a fixed −100..100 scale; a month without responses is a gap in the line."""
    figure = go.Figure(
        go.Scatter(
            x=list(months),
            y=values(months, nps, "nps"),
            name=axis_title,
            mode="lines+markers",
            connectgaps=False,
            line={"color": COLOURS[0]},
            hovertemplate="%{y:.1f}<extra></extra>",
        )
    )
    figure.update_yaxes(title_text=axis_title, range=list(NPS_RANGE), zeroline=True, dtick=50)
    return layout(figure, title)


def client_bars(
    months: Sequence[str],
    new: Sequence[int],
    recurrent: Sequence[int],
    *,
    title: str,
    new_label: str,
    recurrent_label: str,
    axis_title: str,
) -> go.Figure:
    """New and recurrent clients stacked: together they are the month's attending clients
    (each client is one or the other in a month)."""
    new_values, recurrent_values = values(months, new, "new"), values(months, recurrent, "recurrent")
    figure = go.Figure(
        [
            go.Bar(x=list(months), y=new_values, name=new_label, marker_color=COLOURS[2]),
            go.Bar(x=list(months), y=recurrent_values, name=recurrent_label, marker_color=COLOURS[0]),
        ]
    )
    figure.update_layout(barmode="stack")
    highest = max((n + r for n, r in zip(new_values, recurrent_values, strict=True)), default=0)
    _count_axis(figure, axis_title, highest)
    return layout(figure, title)


def modality_bars(
    months: Sequence[str],
    virtual: Sequence[int],
    onsite: Sequence[int],
    *,
    title: str,
    virtual_label: str,
    onsite_label: str,
    axis_title: str,
) -> go.Figure:
    """Virtual and on-site clients side by side, not stacked: a client seen both ways in a
    month counts in both bars, so their sum is not a number of clients."""
    virtual_values, onsite_values = values(months, virtual, "virtual"), values(months, onsite, "onsite")
    figure = go.Figure(
        [
            go.Bar(x=list(months), y=virtual_values, name=virtual_label, marker_color=COLOURS[3]),
            go.Bar(x=list(months), y=onsite_values, name=onsite_label, marker_color=COLOURS[1]),
        ]
    )
    figure.update_layout(barmode="group")
    _count_axis(figure, axis_title, max([*virtual_values, *onsite_values], default=0))
    return layout(figure, title)


def income_bars(
    months: Sequence[str],
    gross: Mapping[str, Sequence[Number]],
    *,
    title: str,
) -> go.Figure:
    """Gross income per month, one trace and one y axis per currency (PEN and USD have
    different scales and are never summed); the panels share the month axis."""
    currencies = list(gross)
    rows = max(len(currencies), 1)
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12 if rows > 1 else 0.0,
        subplot_titles=currencies or None,
    )
    for row, currency in enumerate(currencies, start=1):
        figure.add_trace(
            go.Bar(
                x=list(months),
                y=values(months, gross[currency], currency),
                name=currency,
                marker_color=COLOURS[(row - 1) % len(COLOURS)],
                hovertemplate=f"%{{y:,.2f}} {currency}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(title_text=currency, rangemode="tozero", tickformat=",.0f", row=row, col=1)
    layout(figure, title, height=max(HEIGHT, 100 + CURRENCY_ROW_HEIGHT * rows))
    figure.update_layout(showlegend=False)  # each panel is titled with its currency
    return figure
