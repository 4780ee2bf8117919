"""The therapist's *My payments*: their sessions of a month with where each charge stands, and their
sent and paid payout statements with the PDFs (rules in services.payouts.therapist_payments).

A statement id that is not the therapist's final statement (another therapist's, a draft or an
approved one, one that does not exist) answers 404. The PDF is the staff's (`statement_pdf`, in the
reader's language), whose making records the download as an export in the audit trail.
"""

from __future__ import annotations

from functools import partial

from flask import abort, redirect, request, url_for
from flask_admin import BaseView, expose

from admin_app.extensions import db
from admin_app.models import HeldReason, PayoutStatus
from admin_app.services.payouts import statement_files, therapist_payments
from admin_app.services.platform.labels import CHOICES
from admin_app.views.payouts.statements import chosen_month, currencies_of
from admin_app.views.platform.downloads import download_or_back
from admin_app.views.platform.portal import TherapistPortal, current_therapist_id
from admin_app.views.reports.monthly import neighbour, reader_language


class MyPaymentsView(TherapistPortal, BaseView):
    @expose("/")
    def index(self):
        month = chosen_month(request.args)
        if month is None:
            return redirect(url_for(".index"))
        therapist_id = current_therapist_id()
        payments = therapist_payments.month_payments(db.session, therapist_id, month)
        by_state = payments.by_state
        return self.render(
            "portal/payments.html",
            month=month,
            month_label=month.label(reader_language()),
            previous_month=neighbour(month, -1),
            next_month=neighbour(month, 1),
            payments=payments,
            totals=payments.totals,
            by_state=by_state,
            currencies=currencies_of(payments.totals),
            state_label=therapist_payments.state_label,
            held_reasons=CHOICES[HeldReason],
            statuses=CHOICES[PayoutStatus],
            statements=therapist_payments.final_statements(db.session, therapist_id),
            language=reader_language(),
        )

    @expose("/export.csv")
    def export_csv(self):
        month = chosen_month(request.args)
        if month is None:
            return redirect(url_for(".index"))
        make = partial(therapist_payments.month_csv, db.session, current_therapist_id(), month)
        return download_or_back(make, url_for(".index", month=str(month)), f"my payments of {month}")

    @expose("/statement/<int:statement_id>/pdf")
    def statement_pdf(self, statement_id: int):
        if not therapist_payments.is_final_statement_of(db.session, current_therapist_id(), statement_id):
            abort(404)
        make = partial(statement_files.statement_pdf, db.session, statement_id, language=reader_language())
        return download_or_back(make, url_for(".index"), f"payout statement {statement_id}")
