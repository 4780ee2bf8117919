"""The Room use screen (Reports): reserved against really used room time per site, room and
therapist for a month or a range of months, each site's use per month as a chart, the same
figures as CSV and Excel (services/rooms/use_report.py, each download an export in the audit
trail), and the reservations used under the practice's threshold over the last 8 weeks, each
with its Release button.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import current_app, flash, request, url_for
from flask_admin import BaseView, expose
from flask_babel import format_decimal, get_locale, gettext

from admin_app.charts.room_use import use_bars
from admin_app.extensions import db
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.rooms import use_report
from admin_app.services.rooms.reservations import weekday_name
from admin_app.services.rooms.room_use import LOW_USE_DAYS, low_reservations, room_use
from admin_app.views.platform.base import RoleRequired, parsed_arg
from admin_app.views.platform.downloads import download_or_back
from admin_app.views.platform.formatting import percent
from admin_app.views.reports.monthly import reader_language
from admin_app.views.reports.statistics import script_json


def requested_months() -> tuple[Month, Month]:
    """`from` and `to` of the query string (YYYY-MM); absent → last month, `to` absent → `from`;
    a wrong value → a message naming the field, and last month."""
    last_month = Month.containing(clinic_time.today()).previous()

    def month_of(name: str, label: str, default: Month) -> Month | None:
        return parsed_arg(name, partial(Month.parse, field=label), default=default, refused=None)

    first = month_of("from", gettext("From"), last_month)
    last = month_of("to", gettext("To"), first or last_month)
    if first is None or last is None:
        return last_month, last_month
    return first, last


def hours(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.00")


def plotly_separators() -> str:
    """The reader's decimal then thousands separator, as Plotly's `separators` wants them."""
    locale = get_locale()
    return get_decimal_symbol(locale) + get_group_symbol(locale)


class RoomUseView(RoleRequired, BaseView):
    """Room use: reserved, booked, used, no-show, cancelled and unreserved hours, and use."""

    @expose("/")
    def index(self):
        first, last = requested_months()
        try:
            use = room_use(db.session, first, last)
        except RuleViolation as error:  # a backwards or too long range
            flash(str(error), "error")
            first = last = Month.containing(clinic_time.today()).previous()
            use = room_use(db.session, first, last)
        today = clinic_time.today()
        threshold = Decimal(current_app.config["ROOM_USE_LOW_PERCENT"]) / 100
        return self.render(
            "admin/rooms/room_use.html",
            first=first,
            last=last,
            use=use,
            threshold=threshold,
            chart=self._chart(use, threshold),
            low=low_reservations(db.session, today),
            window=(today - dt.timedelta(days=LOW_USE_DAYS), today - dt.timedelta(days=1)),
            hours=hours,
            percent=percent,
            weekday_name=weekday_name,
            back=request.full_path,
            language=reader_language(),
            plotly_js_url=url_for("chart_assets.plotly_js"),
        )

    @expose("/room-use.csv")
    def csv(self):
        return self._download(lambda first, last: use_report.room_use_csv(db.session, first, last))

    @expose("/room-use.xlsx")
    def workbook(self):
        return self._download(lambda first, last: use_report.room_use_xlsx(db.session, first, last, reader_language()))

    def _download(self, make):
        """The range's file, or back to the screen with the reason it was refused."""
        first, last = requested_months()
        back = url_for(".index", **{"from": str(first), "to": str(last)})
        return download_or_back(partial(make, first, last), back, f"room use {first}..{last}")

    @staticmethod
    def _chart(use, threshold: Decimal):
        labels = [month.label(reader_language()) for month in use.months]
        figure = use_bars(
            labels,
            use_report.site_use_by_month(use),
            threshold=threshold,
            title=gettext("Room use by site and month"),
            axis_title=gettext("Use"),
            threshold_label=gettext("Low use: under %(percent)s", percent=percent(threshold)),
            separators=plotly_separators(),
        )
        return script_json(figure.to_json())
