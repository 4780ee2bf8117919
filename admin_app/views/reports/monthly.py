"""The monthly totals screen: sessions, gross and commission per therapist and per currency for a
month, each therapist's month report as a PDF, and all of them in one ZIP.

The table is `stats.month_totals` (two queries whatever the number of therapists), and each
therapist's payout statement of the month, where there is one, is linked from their row (one more
query: `statements.statement_ids_of`). Downloads name
the month and the therapist by id only (a URL ends up in logs; a name would be client-adjacent
data), are written in the reader's language, and each one is an EXPORT in the audit trail (recorded
by the documents service that makes it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import get_locale, gettext

from admin_app.extensions import db
from admin_app.services.payouts import statements as payout_statements
from admin_app.services.platform import clinic_time
from admin_app.services.platform.documents import Document
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.reports import figures as stats
from admin_app.services.reports import therapist_month as month_reports
from admin_app.views.platform.base import RoleRequired, id_arg
from admin_app.views.platform.downloads import download_or_back


def neighbour(month: Month, steps: int) -> Month | None:
    """The month `steps` away, None beyond the months a report may cover."""
    found = month.shift(steps)
    return found if found.in_window else None


def requested_month() -> Month | None:
    """The `month` of the query string; None, after a message naming the field, when it is
    missing or wrong."""
    try:
        return Month.parse(request.args.get("month", ""), field=gettext("Month"))
    except RuleViolation as error:
        flash(str(error), "error")  # plain text: a lazy string would be stored as markup
        return None


def reader_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


class MonthlyReportView(RoleRequired, BaseView):
    """Monthly totals per therapist, with the therapists' month reports as PDFs."""

    @expose("/")
    def index(self):
        chosen = requested_month() if request.args.get("month", "").strip() else None
        month = chosen or Month.containing(clinic_time.today()).previous()
        totals = stats.month_totals(db.session, month)
        payouts = payout_statements.statement_ids_of(
            db.session, (line.therapist_id for line in totals.therapists), month
        )
        return self.render(
            "admin/report_month.html",
            month=month,
            month_label=month.label(reader_language()),
            previous_month=neighbour(month, -1),
            next_month=neighbour(month, 1),
            totals=totals,
            payouts=payouts,
            currencies=stats.currencies_shown({*totals.gross, *totals.commission}, current_app.config["CURRENCIES"]),
        )

    @expose("/therapist.pdf")
    def therapist_pdf(self):
        """One therapist's month report, `?month=YYYY-MM&therapist=<id>` (no lines for an idle month)."""
        chosen = requested_month()
        therapist_id = id_arg("therapist")
        if chosen is not None and therapist_id is None:
            flash(gettext("Choose a therapist for the month report."), "error")
        if chosen is None or therapist_id is None:
            return self._back(chosen)
        return self._download(
            chosen,
            partial(month_reports.month_report_pdf, db.session, chosen, therapist_id, language=reader_language()),
        )

    @expose("/month-reports.zip")
    def month_reports_zip(self):
        """Every month report of the month (`?month=YYYY-MM`): one PDF per therapist with sessions."""
        chosen = requested_month()
        if chosen is None:
            return self._back(chosen)
        return self._download(
            chosen, partial(month_reports.month_reports_zip, db.session, chosen, language=reader_language())
        )

    @expose("/statements.zip")
    def statements_zip(self):
        """The ZIP's address before month reports had their name: bookmarks and old links keep working."""
        query = request.query_string.decode("latin-1")
        return redirect(url_for(".month_reports_zip") + (f"?{query}" if query else ""), code=301)

    def _back(self, chosen: Month | None):
        if chosen is None:
            return redirect(url_for(".index"))
        return redirect(url_for(".index", month=str(chosen)))

    def _download(self, chosen: Month, make: Callable[[], Document]):
        """The document `make` gives, or back to the month with the reason it could not be made."""
        back = url_for(".index", month=str(chosen))
        return download_or_back(make, back, f"month report PDFs for {chosen}")
