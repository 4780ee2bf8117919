"""The yearly figures drawn from plain series: gaps stay gaps, currencies stay apart."""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path

import plotly.graph_objects as go
import pytest

from admin_app.charts import yearly

D = Decimal
MONTHS = ["Jan", "Feb", "Mar"]


def test_nps_is_a_line_with_a_gap_for_a_month_without_responses():
    figure = yearly.nps_line(MONTHS, [D("33.3"), None, D("-20.0")], title="NPS per month", axis_title="NPS")

    assert isinstance(figure, go.Figure)
    [line] = figure.data
    assert line.type == "scatter" and line.connectgaps is False
    assert list(line.x) == MONTHS
    assert list(line.y) == [33.3, None, -20.0]  # None is a gap, not a zero
    assert tuple(figure.layout.yaxis.range) == (-100, 100)
    assert figure.layout.title.text == "NPS per month"
    assert json.loads(figure.to_json())["data"][0]["y"] == [33.3, None, -20.0]


def test_an_nps_of_zero_is_drawn_as_zero():
    [line] = yearly.nps_line(MONTHS, [D("0.0"), None, None], title="t", axis_title="NPS").data

    assert list(line.y) == [0.0, None, None]


def test_new_and_recurrent_clients_are_stacked_bars_with_the_given_labels():
    figure = yearly.client_bars(
        MONTHS, [1, 0, 2], [0, 3, 1], title="Clients", new_label="Nuevos", recurrent_label="Recurrentes", axis_title="n"
    )

    assert [(bar.type, bar.name, list(bar.y)) for bar in figure.data] == [
        ("bar", "Nuevos", [1, 0, 2]),
        ("bar", "Recurrentes", [0, 3, 1]),
    ]
    assert figure.layout.barmode == "stack"
    assert figure.layout.yaxis.dtick == 1  # a few clients: no "0.5 clients" tick


def test_virtual_and_on_site_clients_are_side_by_side():
    figure = yearly.modality_bars(
        MONTHS, [2, 0, 40], [1, 1, 0], title="Modality", virtual_label="Virtual", onsite_label="On-site", axis_title="n"
    )

    assert [(bar.name, list(bar.y)) for bar in figure.data] == [("Virtual", [2, 0, 40]), ("On-site", [1, 1, 0])]
    assert figure.layout.barmode == "group"  # a client seen both ways counts in both bars
    assert figure.layout.yaxis.dtick is None


def test_income_has_one_trace_and_one_axis_per_currency_never_a_sum():
    gross = {"PEN": [D("360.10"), D("0.00"), D("100.00")], "USD": [D("80.00"), D("0.00"), D("0.00")]}

    figure = yearly.income_bars(MONTHS, gross, title="Gross income")

    assert [(trace.name, list(trace.y)) for trace in figure.data] == [
        ("PEN", [360.10, 0.0, 100.0]),
        ("USD", [80.0, 0.0, 0.0]),
    ]
    assert [trace.yaxis for trace in figure.data] == ["y", "y2"]  # each on its own scale
    assert figure.layout.yaxis.title.text == "PEN" and figure.layout.yaxis2.title.text == "USD"
    assert "USD" in figure.data[1].hovertemplate


def test_a_year_without_currencies_is_an_empty_income_chart():
    figure = yearly.income_bars(MONTHS, {}, title="Gross income")

    assert figure.data == ()
    assert figure.layout.title.text == "Gross income"


def test_a_series_that_does_not_match_the_months_is_refused():
    with pytest.raises(ValueError, match="2 values for 3 months"):
        yearly.nps_line(MONTHS, [1, 2], title="t", axis_title="NPS")


def test_the_charts_import_nothing_of_ours():
    """Charts are pure (DESIGN.md): no Flask, no Babel, no database, no services (only each other)."""
    package = Path(yearly.__file__).parent
    for path in package.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        forbidden = {
            name
            for name in imported
            if name.split(".")[0] in {"admin_app", "flask", "flask_babel", "sqlalchemy"}
            and not name.startswith("admin_app.charts.")
        }
        assert not forbidden, f"{path.name} imports {sorted(forbidden)}"
