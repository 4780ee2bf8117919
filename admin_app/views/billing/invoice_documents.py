"""Invoice documents for the staff: each invoice or credit note as a PDF or a workbook, a category (a
run, or a payer and a period) as one ZIP of PDFs or one workbook, and *Send* (the PDF by email).

The rules and the files are the billing services' (invoice_files, sending); this view reads the
query string, hands out the file (no cache keeps it: it holds client data) and commits the export's
audit event, or shows why not. URLs carry ids and dates only, never a name.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_security import current_user

from admin_app.extensions import db
from admin_app.models import JobKind
from admin_app.services.billing import invoice_files, sending
from admin_app.services.billing.invoice_documents import Category, category_invoice_ids
from admin_app.services.billing.payers import payer_choices
from admin_app.services.platform.documents import Document
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.views.job_runs.start import start_run
from admin_app.views.platform.base import RoleRequired, local_path
from admin_app.views.platform.downloads import download_or_back
from admin_app.views.reports.monthly import reader_language


class InvoiceDocumentsView(RoleRequired, BaseView):
    """Downloads and sending of invoices; the index offers the downloads of a category."""

    @expose("/")
    def index(self):
        return self.render(
            "admin/billing/invoice_documents.html",
            payers=payer_choices(db.session),
            chosen=request.args,
        )

    @expose("/<int:invoice_id>.pdf")
    def pdf(self, invoice_id: int):
        return self._download(lambda: invoice_files.invoice_pdf(db.session, invoice_id, language=reader_language()))

    @expose("/<int:invoice_id>.xlsx")
    def workbook(self, invoice_id: int):
        return self._download(
            lambda: invoice_files.invoice_workbook(db.session, invoice_id, language=reader_language())
        )

    @expose("/category.zip")
    def category_pdfs(self):
        """`?run=ID`, or `?payer=ID&since=YYYY-MM-DD&until=YYYY-MM-DD`: made in the background, one
        PDF after the other, and downloaded from the run's page."""
        try:
            category = Category.parse(request.args)
            category_invoice_ids(db.session, category)  # refused at once when it holds no invoice
        except RuleViolation as refusal:
            flash(str(refusal), "error")
            return redirect(url_for(".index", **request.args))
        key = f"{JobKind.INVOICE_ZIP}:{invoice_files.category_file_name(category, 'zip')}"
        return start_run(JobKind.INVOICE_ZIP, key, {"category": category.args(), "language": reader_language()})

    @expose("/category.xlsx")
    def category_workbook(self):
        """The same choice as `category_pdfs`, as one workbook."""
        return self._download(
            lambda: invoice_files.category_workbook(
                db.session, Category.parse(request.args), language=reader_language()
            )
        )

    @expose("/<int:invoice_id>/send", methods=("POST",))
    def send(self, invoice_id: int):
        """Email the invoice's PDF to its bill-to (CSRF-checked POST), then back to the invoice's page."""
        try:
            done = sending.send_invoice(db.session, invoice_id, user_id=current_user.id)
        except NotFound:
            db.session.rollback()
            abort(404)
        except RuleViolation as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            recipient = done.recipient
            db.session.commit()
            flash(gettext("The invoice is on its way to %(recipient)s.", recipient=recipient), "success")
        return redirect(local_path(request.form.get("next")) or url_for(".index"))

    def _download(self, make: Callable[[], Document]):
        """The document `make` gives (its export recorded with it), or back with the reason it could
        not be made (an invoice that does not exist among them)."""
        return download_or_back(make, url_for(".index", **request.args), "invoice documents")
