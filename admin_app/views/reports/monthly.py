"""The monthly totals screen: sessions, gross and commission per therapist and per currency for a
month, each therapist's statement as a PDF, and all of them in one ZIP.

The table is `stats.month_totals` (two queries whatever the number of therapists). Downloads name
the month and the therapist by id only (a URL ends up in logs; a name would be client-adjacent
data), are written in the reader's language, and each one is an EXPORT in the audit trail.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import get_locale, gettext

from admin_app.extensions import db
from admin_app.models import AuditAction
from admin_app.models.audit import record_event
from admin_app.services.platform import clinic_time
from admin_app.services.platform.documents.pdf import PdfError
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.reports import figures as stats
from admin_app.services.reports import therapist_month as statements
from admin_app.services.surveys import invitations as surveys
from admin_app.views.platform.base import RoleRequired, id_arg
from admin_app.views.platform.downloads import attachment

AUDITED_ENTITY = "therapist"  # a statement exports one therapist's month (the ZIP: every therapist's)


def shifted(year: int, month: int, steps: int) -> str | None:
    """The month `steps` away as "YYYY-MM", None beyond the years a report may cover."""
    year, month = clinic_time.shift_month(year, month, steps)
    if not statements.FIRST_YEAR <= year <= statements.LAST_YEAR:
        return None
    return surveys.month_key(year, month)


def requested_month() -> tuple[int, int] | None:
    """The `month` of the query string; None, after a message naming the field, when it is
    missing or wrong."""
    try:
        return statements.report_month(request.args.get("month", ""), field=gettext("Month"))
    except RuleViolation as error:
        flash(str(error), "error")  # plain text: a lazy string would be stored as markup
        return None


def reader_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


class MonthlyReportView(RoleRequired, BaseView):
    """Monthly totals per therapist, with the therapists' statements as PDFs."""

    @expose("/")
    def index(self):
        chosen = requested_month() if request.args.get("month", "").strip() else None
        year, month = chosen or clinic_time.previous_month(clinic_time.today())
        totals = stats.month_totals(db.session, year, month)
        return self.render(
            "admin/report_month.html",
            month=surveys.month_key(year, month),
            month_label=clinic_time.month_label(year, month, reader_language()),
            previous_month=shifted(year, month, -1),
            next_month=shifted(year, month, 1),
            totals=totals,
            currencies=stats.currencies_shown({*totals.gross, *totals.commission}, current_app.config["CURRENCIES"]),
        )

    @expose("/therapist.pdf")
    def therapist_pdf(self):
        """One therapist's statement, `?month=YYYY-MM&therapist=<id>` (no lines for an idle month)."""
        chosen = requested_month()
        therapist_id = id_arg("therapist")
        if chosen is not None and therapist_id is None:
            flash(gettext("Choose a therapist for the statement."), "error")
        if chosen is None or therapist_id is None:
            return self._back(chosen)
        year, month = chosen
        try:
            statement = statements.therapist_statement(db.session, year, month, therapist_id)
            document = statements.statement_pdf(statement, language=reader_language())
        except RuleViolation as error:
            flash(str(error), "error")
            return self._back(chosen)
        except PdfError:
            return self._pdf_failed(chosen)
        record_event(db.session, action=AuditAction.EXPORT, entity=AUDITED_ENTITY, entity_id=therapist_id)
        db.session.commit()
        filename = statements.statement_filename(year, month, statement.therapist.full_name)
        return attachment(document, "application/pdf", filename)

    @expose("/statements.zip")
    def statements_zip(self):
        """Every statement of the month (`?month=YYYY-MM`): one PDF per therapist with sessions."""
        chosen = requested_month()
        if chosen is None:
            return self._back(chosen)
        year, month = chosen
        try:
            archive = statements.month_pdfs_zip(db.session, year, month, language=reader_language())
        except RuleViolation as error:
            flash(str(error), "error")
            return self._back(chosen)
        except PdfError:
            return self._pdf_failed(chosen)
        record_event(db.session, action=AuditAction.EXPORT, entity=AUDITED_ENTITY)
        db.session.commit()
        return attachment(archive, "application/zip", statements.zip_filename(year, month))

    def _back(self, chosen: tuple[int, int] | None):
        if chosen is None:
            return redirect(url_for(".index"))
        return redirect(url_for(".index", month=surveys.month_key(*chosen)))

    def _pdf_failed(self, chosen: tuple[int, int]):
        current_app.logger.exception("monthly statement PDFs for %s failed", surveys.month_key(*chosen))
        flash(
            gettext("The PDF could not be produced. Try again; if it keeps failing, see the application log."), "error"
        )
        return self._back(chosen)
