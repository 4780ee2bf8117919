"""What every chart with a month axis shares: the numbers it accepts, its look and its layout."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import plotly.graph_objects as go

Number = int | float | Decimal

TEMPLATE = "plotly_white"
HEIGHT = 380
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")


def number(value: Number | None) -> float | int | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def values(months: Sequence[str], series: Sequence[Number | None], name: str) -> list:
    """The series as plain numbers, one per month (a missing value stays None: a gap)."""
    if len(series) != len(months):
        raise ValueError(f"{name}: {len(series)} values for {len(months)} months")
    return [number(value) for value in series]


def layout(figure: go.Figure, title: str, *, height: int = HEIGHT) -> go.Figure:
    figure.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    figure.update_xaxes(type="category")
    return figure
