"""The staff's reports screens: the year at a glance (four charts, each with its numbers as CSV)
and the new clients of a period with their CSV export.

The charts reach the browser as Plotly JSON in `<script type="application/json">` blocks drawn by
`static/js/charts.js`, with plotly.js served from the installed Python package (no CDN, no inline
script, so a strict Content-Security-Policy holds).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import plotly
from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from plotly.offline import get_plotlyjs_version

from admin_app.charts import yearly
from admin_app.extensions import db
from admin_app.services.platform import clinic_time, documents
from admin_app.services.platform.bounds import calendar_day
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import FIELDS
from admin_app.services.platform.months import FIRST, LAST, Month, check_year, parse_year
from admin_app.services.reports import figures as stats
from admin_app.services.reports import summaries as reports
from admin_app.views.platform.base import RoleRequired, parsed_arg
from admin_app.views.platform.downloads import attachment
from admin_app.views.platform.formatting import medium_date
from admin_app.views.surveys.staff.cells import NO_VALUE, one_decimal

CHARTS = ("nps", "clients", "modality", "income")
ONE_YEAR = 365 * 24 * 60 * 60

# --- plotly.js, from the installed package --------------------------------------------------------

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PLOTLY_JS_VERSION = get_plotlyjs_version()

blueprint = Blueprint("chart_assets", __name__)


# The version is in the path, so the file can be cached for a year: an upgrade changes the URL.
@blueprint.get(f"/assets/plotly-{PLOTLY_JS_VERSION}.min.js")
def plotly_js():
    response = send_file(PLOTLY_JS, mimetype="text/javascript", max_age=ONE_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


# --- the year at a glance -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Chart:
    key: str
    title: str
    figure_json: Markup


def script_json(text: str) -> Markup:
    """JSON that can sit inside a <script> element: `<`, `>` and `&` only occur within JSON
    strings, where their \\u escapes mean the same, so no text can close the element."""
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def year_currencies(months: list[stats.YearMonth], configured) -> list[str]:
    return stats.currencies_shown({currency for month in months for currency in month.gross}, configured)


def gross_of(month: stats.YearMonth, currency: str) -> Decimal:
    return month.gross.get(currency, Decimal("0.00"))


def year_charts(year: int, months: list[stats.YearMonth], currencies: list[str]) -> list[Chart]:
    labels = [format_date(dt.date(year, n, 1), "LLL") for n in range(1, 13)]
    clients = gettext("Clients")
    figures = {
        "nps": yearly.nps_line(
            labels,
            [month.nps for month in months],
            title=gettext("Net Promoter Score per month"),
            axis_title=gettext("NPS"),
        ),
        "clients": yearly.client_bars(
            labels,
            [month.new_clients for month in months],
            [month.recurrent_clients for month in months],
            title=gettext("New and recurrent clients"),
            new_label=gettext("New clients"),
            recurrent_label=gettext("Recurrent clients"),
            axis_title=clients,
        ),
        "modality": yearly.modality_bars(
            labels,
            [month.virtual_clients for month in months],
            [month.onsite_clients for month in months],
            title=gettext("Virtual and on-site clients"),
            virtual_label=gettext("Virtual"),
            onsite_label=gettext("On-site"),
            axis_title=clients,
        ),
        "income": yearly.income_bars(
            labels,
            {currency: [gross_of(month, currency) for month in months] for currency in currencies},
            title=gettext("Gross income per currency"),
        ),
    }
    return [
        Chart(key=key, title=figure.layout.title.text, figure_json=script_json(figure.to_json()))
        for key, figure in figures.items()
    ]


def chart_table(chart: str, months: list[stats.YearMonth], currencies: list[str]) -> tuple[tuple, list[tuple]]:
    """The numbers behind one chart, a month per row (the header is a machine name, like the
    other CSV exports). A month without survey responses has an empty NPS cell."""
    if chart == "nps":
        return ("month", "responses", "nps"), [(m.month, m.responses, m.nps) for m in months]
    if chart == "clients":
        return ("month", "new_clients", "recurrent_clients"), [
            (m.month, m.new_clients, m.recurrent_clients) for m in months
        ]
    if chart == "modality":
        return ("month", "virtual_clients", "onsite_clients"), [
            (m.month, m.virtual_clients, m.onsite_clients) for m in months
        ]
    header = ("month", *(f"gross_{currency}" for currency in currencies))
    return header, [(m.month, *(gross_of(m, currency) for currency in currencies)) for m in months]


def requested_year() -> int:
    """The `year` of the query string; absent → this year (clinic time); a bad value → a
    message naming the field, and this year."""
    this_year = clinic_time.today().year
    return parsed_arg(
        "year", lambda raw: parse_year(raw, field="year", label=_l("Year")), default=this_year, refused=this_year
    )


class StatisticsView(RoleRequired, BaseView):
    """Year at a glance: NPS, new/recurrent and virtual/on-site clients, gross per currency."""

    @expose("/")
    def index(self):
        year = requested_year()
        months = stats.year_figures(db.session, year)
        currencies = year_currencies(months, current_app.config["CURRENCIES"])
        return self.render(
            "admin/statistics_year.html",
            year=year,
            first_year=FIRST.year,
            last_year=LAST.year,
            months=months,
            currencies=currencies,
            charts=year_charts(year, months, currencies),
            gross_of=gross_of,
            one_decimal=one_decimal,
            plotly_js_url=url_for("chart_assets.plotly_js"),
        )

    @expose(f"/<int:year>/<any({', '.join(CHARTS)}):chart>.csv")
    def download(self, year: int, chart: str):
        try:
            check_year(year, field="year")
        except RuleViolation:
            abort(404)
        months = stats.year_figures(db.session, year)
        header, rows = chart_table(chart, months, year_currencies(months, current_app.config["CURRENCIES"]))
        filename = documents.file_name("statistics", year, chart, extension="csv")
        # The practice's figures per month, no one's personal data: not an audited export.
        return attachment(documents.csv_document(db.session, header, rows, filename=filename, export=None))


# --- new clients ----------------------------------------------------------------------------------


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month before `today`'s."""
    month = Month.containing(today).previous()
    return month.first_day, month.last_day


def _date_arg(name: str, label, default: dt.date, errors: list[str]) -> dt.date:
    """The date in the query string; the default when absent, or when wrong (with a message)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return calendar_day(raw)
    except ValueError:
        message = _l("%(field)s: expected a date as YYYY-MM-DD, got %(value)s", field=label, value=raw)
        errors.append(str(message))  # plain text: a lazy string would be stored as markup
        return default


def requested_days() -> tuple[dt.date, dt.date, list[str]]:
    """`from` and `to` of the query string (default: the previous month) and what is wrong with
    them; a wrong date sends the whole period back to the previous month."""
    default_first, default_last = previous_month(clinic_time.today())
    errors: list[str] = []
    first = _date_arg("from", _l("From"), default_first, errors)
    last = _date_arg("to", _l("To"), default_last, errors)
    if errors:
        return default_first, default_last, errors
    return first, last, errors


class NewClientsView(RoleRequired, BaseView):
    """Clients whose first ever attended session falls in a period, with their first therapist."""

    @expose("/")
    def index(self):
        first, last, errors = requested_days()
        try:
            rows = reports.new_clients(db.session, first, last)
        except RuleViolation as error:  # the period ends before it starts
            errors.append(str(error))
            first, last = previous_month(clinic_time.today())
            rows = reports.new_clients(db.session, first, last)
        for error in errors:
            flash(error, "error")
        return self.render(
            "admin/new_clients.html",
            first=first,
            last=last,
            rows=rows,
            labels=FIELDS,
            no_value=NO_VALUE,
            long_date=medium_date,
        )

    @expose("/csv")
    def download(self):
        """The period's CSV, recorded in the audit trail (it carries clients' personal data).
        Wrong dates lead back to the page, which says what is wrong."""
        first, last, errors = requested_days()
        page = url_for(".index", **{key: request.args.get(key, "") for key in ("from", "to")})
        if errors:
            return redirect(page)
        try:
            document = reports.new_clients_csv(db.session, first, last)
        except RuleViolation:  # the period ends before it starts
            return redirect(page)
        db.session.commit()
        return attachment(document)
