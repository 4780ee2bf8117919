"""The ageing screen: what each payer and self-paying client owes on issued invoices, by age, per
currency, as of a day (default today), with the same figures as PDF and Excel
(services/billing/ageing_report.py; each download is an export in the audit trail)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext

from admin_app.extensions import db
from admin_app.services.billing import ageing, ageing_report
from admin_app.services.platform import bounds, clinic_time
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.downloads import download_or_back
from admin_app.views.reports.monthly import reader_language


def requested_day() -> dt.date | None:
    """The `as_of` of the query string, else today; None, after a message naming the field, when it
    is not a date."""
    text = request.args.get("as_of", "").strip()
    if not text:
        return clinic_time.today()
    try:
        return bounds.calendar_day(text)
    except ValueError:
        flash(gettext("As of: %(value)s is not a date (YYYY-MM-DD).", value=text[:20]), "error")
        return None


class AgeingView(RoleRequired, BaseView):
    @expose("/")
    def index(self):
        day = requested_day() or clinic_time.today()
        found = ageing.ageing_page(db.session, day, request.args.get("page", 0, type=int))
        return self.render(
            "admin/billing/ageing.html",
            as_of=day,
            found=found,
            buckets=[(bucket, ageing.BUCKET_LABELS[bucket]) for bucket in ageing.BUCKETS],
            language=reader_language(),
            page_url=lambda number: url_for(".index", as_of=day.isoformat(), page=number),
        )

    @expose("/ageing.pdf")
    def pdf(self):
        return self._download(ageing_report.ageing_pdf)

    @expose("/ageing.xlsx")
    def workbook(self):
        return self._download(ageing_report.ageing_xlsx)

    def _download(self, make):
        """The report as of the requested day, or back to the screen with the reason."""
        day = requested_day()
        if day is None:
            return redirect(url_for(".index"))
        document = partial(make, db.session, day, reader_language())
        return download_or_back(document, url_for(".index", as_of=day.isoformat()), f"ageing as of {day}")
