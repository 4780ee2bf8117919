"""Invoices and credit notes for the staff: the list (totals and sendings read for the page in one
query), bulk *Issue* and *Discard draft*, and the invoice page, where a draft is edited (remove a
line, adjust an amount with a reason, notes, invoice date) and an issued invoice is voided.

The rules are in services.billing.drafts and services.billing.issuing; every change here is one
transaction: refused, it is rolled back and the reason is shown beside its field.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.form import BaseForm
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import DateField, StringField, TextAreaField

from admin_app.extensions import db
from admin_app.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from admin_app.services.billing import drafts, issuing, ledger, payments, sending
from admin_app.services.billing.invoice_figures import NO_FIGURES, InvoiceFigures, invoice_figures
from admin_app.services.billing.invoice_lines import ShownLine, shown_lines
from admin_app.services.platform import bounds
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import FIELDS, INVOICE_STATES, field_label
from admin_app.services.platform.money import format_money
from admin_app.views.audit.reads import AuditedReads
from admin_app.views.platform.base import PracticeModelView, id_arg
from admin_app.views.platform.formatting import NO_VALUE
from admin_app.views.platform.rules import commit_or_flash

LIST_COLUMNS = (
    "number",
    "kind",
    "status",
    "invoice_date",
    "bill_to",
    "client",
    "currency",
    "total",
    "paid",
    "open",
    "sent",
)


class AdjustForm(BaseForm):
    amount = StringField(field_label("amount"))
    adjustment_reason = StringField(field_label("adjustment_reason"))


class NotesForm(BaseForm):
    notes = TextAreaField(field_label("notes"))


class InvoiceDateForm(BaseForm):
    invoice_date = DateField(field_label("invoice_date"))


class VoidForm(BaseForm):
    void_reason = StringField(field_label("void_reason"))


class SettleForm(BaseForm):
    """The reason for writing off, or moving to the client, what is still open."""

    reason = StringField(field_label("reason"))


def adjust_form(line: InvoiceLine | ShownLine, formdata=None) -> AdjustForm:
    """The adjust form of one line (its own prefix: a page has one per line)."""
    form = AdjustForm(formdata, prefix=f"line-{line.id}-")
    if formdata is None:
        form.amount.data = f"{line.amount}"
        form.adjustment_reason.data = line.adjustment_reason or ""
    return form


def bill_to(invoice: Invoice) -> str:
    """The payer, else the client billed."""
    return invoice.payer.name if invoice.payer else invoice.client.full_name


class RunFilter(BaseSQLAFilter):
    """The drafts (and invoices) of one invoice run, by its id: the link the run and the search give."""

    def __init__(self) -> None:
        super().__init__(Invoice.run_id, field_label("run"))

    def validate(self, value) -> bool:
        return bounds.record_id(value) is not None

    def clean(self, value):
        return bounds.record_id(value)

    def apply(self, query, value, alias=None):
        return query.filter(Invoice.run_id == value)

    def operation(self):
        return _l("equals")


def _number_cell(_view, _context, invoice: Invoice, _name) -> str:
    return invoice.number or gettext("Draft")


def _bill_to_cell(_view, _context, invoice: Invoice, _name) -> str:
    return bill_to(invoice)


def _client_cell(_view, _context, invoice: Invoice, _name) -> str:
    return invoice.client.full_name if invoice.client else NO_VALUE


def _total_cell(view, _context, invoice: Invoice, _name) -> str:
    return format_money(view.figures(invoice).total, invoice.currency)


def _paid_cell(view, _context, invoice: Invoice, _name) -> str:
    return format_money(view.ledger_figures(invoice).paid, invoice.currency)


def _open_cell(view, _context, invoice: Invoice, _name) -> str:
    return format_money(view.ledger_figures(invoice).open, invoice.currency)


def _sent_cell(view, _context, invoice: Invoice, _name) -> str:
    return gettext("Yes") if view.figures(invoice).sendings else gettext("No")


def _vendor_number_cell(_view, _context, invoice: Invoice, _name) -> str:
    return (invoice.payer.provider_number or NO_VALUE) if invoice.payer else NO_VALUE


def _send_one(invoice_id: int) -> None:
    """Send one invoice of a batch; a refusal names the invoice it is about."""
    try:
        sending.send_invoice(db.session, invoice_id, user_id=current_user.id)
    except RuleViolation as error:
        invoice = db.session.get(Invoice, invoice_id)
        label = (invoice.number or gettext("Draft %(id)s", id=invoice_id)) if invoice else str(invoice_id)
        raise RuleViolation(f"{label}: {error}") from None


class InvoiceView(AuditedReads, PracticeModelView):
    """Read-only as a record: invoices are made by runs and changed only through the draft rules."""

    details_template = "admin/billing/invoice.html"
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_list = LIST_COLUMNS
    column_details_list = (
        "number",
        "kind",
        "status",
        "invoice_date",
        "bill_to",
        "client",
        "provider_number",
        "currency",
        "period_start",
        "period_end",
        "issued_at",
        "voided_at",
        "void_reason",
        "notes",
    )
    column_labels = {**FIELDS, "client.full_name": FIELDS["client"], "payer.name": FIELDS["payer"]}
    column_searchable_list = ("number", "client.full_name")
    column_filters = ("status", "kind", "payer", "client.full_name", "invoice_date", RunFilter())
    column_sortable_list = ("number", "kind", "status", "invoice_date", "currency")
    column_default_sort = ("id", True)
    column_formatters = {
        "number": _number_cell,
        "bill_to": _bill_to_cell,
        "client": _client_cell,
        "total": _total_cell,
        "paid": _paid_cell,
        "open": _open_cell,
        "sent": _sent_cell,
    }
    column_formatters_detail = {**column_formatters, "provider_number": _vendor_number_cell}

    def get_query(self):
        # The payer and client of every row come with it (each cell reads them).
        return super().get_query().options(joinedload(Invoice.payer), joinedload(Invoice.client))

    def rows_loaded(self, session, records) -> None:
        g.invoice_figures = invoice_figures(session, [record.id for record in records])
        g.ledger_figures = ledger.invoice_figures(session, [record.id for record in records])

    def figures(self, invoice: Invoice) -> InvoiceFigures:
        figures = g.setdefault("invoice_figures", {})
        if invoice.id not in figures:
            figures.update(invoice_figures(db.session, [invoice.id]))
        return figures.get(invoice.id, NO_FIGURES)

    def ledger_figures(self, invoice: Invoice) -> ledger.InvoiceFigures:
        """Paid, written off, moved and open (services.billing.ledger), read for the page at once."""
        figures = g.setdefault("ledger_figures", {})
        if invoice.id not in figures:
            figures.update(ledger.invoice_figures(db.session, [invoice.id]))
        return figures[invoice.id]

    def drafts_of_run_url(self, run_id: int) -> str:
        """The list of one run's invoices (the `RunFilter`, whose argument Flask-Admin numbers)."""
        [arg] = [arg for arg, (_index, flt) in self._filter_args.items() if isinstance(flt, RunFilter)]
        return self.get_url(".index_view", **{f"flt0_{arg}": run_id})

    # --- bulk actions ------------------------------------------------------------------------

    @action("issue", _l("Issue"), _l("Issue the selected drafts? An issued invoice can no longer change."))
    def action_issue(self, ids):
        keys = [key for key in map(bounds.record_id, ids) if key is not None]
        with commit_or_flash() as outcome:
            issued = issuing.issue(db.session, keys)
        if outcome.refusal is None:
            flash(
                ngettext(
                    "Issued %(num)d invoice: %(numbers)s.",
                    "Issued %(num)d invoices: %(numbers)s.",
                    len(issued),
                    numbers=", ".join(invoice.number for invoice in issued),
                ),
                "success",
            )

    @action("send", _l("Send"), _l("Email the selected invoices, each with its PDF, to whom it is billed?"))
    def action_send(self, ids):
        """All or none: an invoice that cannot be sent (a draft, no address) stops the batch, named."""
        keys = sorted(key for key in map(bounds.record_id, ids) if key is not None)
        with commit_or_flash() as outcome:
            for key in keys:
                _send_one(key)
        if outcome.refusal is None:
            sent = ngettext("%(num)d invoice is on its way.", "%(num)d invoices are on their way.", len(keys))
            flash(sent, "success")

    @action("discard", _l("Discard draft"), _l("Discard the selected drafts? Their sessions become uninvoiced."))
    def action_discard(self, ids):
        keys = [key for key in map(bounds.record_id, ids) if key is not None]
        with commit_or_flash() as outcome:
            found = db.session.scalars(select(Invoice).where(Invoice.id.in_(keys))).all() if keys else []
            for invoice in found:
                drafts.discard(db.session, invoice)
        if outcome.refusal is None:
            flash(ngettext("%(num)d draft discarded.", "%(num)d drafts discarded.", len(found)), "success")

    # --- the invoice page --------------------------------------------------------------------

    @expose("/details/")
    def details_view(self):
        invoice = self.get_one(request.args.get("id"))
        if invoice is None:
            flash(admin_gettext("Record does not exist."), "error")
            return redirect(self.get_url(".index_view"))
        return self._page(invoice)  # its reading recorded as the page is made (AuditedReads)

    @expose("/run/")
    def run_view(self):
        """`?id=<run>`: the list of the drafts that run made or extended."""
        run_id = id_arg("id")
        if run_id is None:
            return redirect(self.get_url(".index_view"))
        return redirect(self.drafts_of_run_url(run_id))

    @expose("/remove-line/", methods=("POST",))
    def remove_line_view(self):
        invoice = self._requested()
        line = self._line_of(invoice)
        with commit_or_flash() as outcome:
            drafts.remove_line(db.session, line)
        if outcome.refusal is None:
            flash(gettext("The line was removed; its session is uninvoiced again."), "success")
        return self._back(invoice)

    @expose("/adjust-line/", methods=("POST",))
    def adjust_line_view(self):
        invoice = self._requested()
        line = self._line_of(invoice)
        form = adjust_form(line, request.form)
        return self._submit(
            invoice,
            line.id,
            form,
            lambda: drafts.adjust_line(line, form.amount.data, form.adjustment_reason.data),
            lambda _done: gettext("The line's amount was changed."),
        )

    @expose("/notes/", methods=("POST",))
    def notes_view(self):
        invoice = self._requested()
        form = NotesForm(request.form)
        return self._submit(
            invoice,
            "notes",
            form,
            lambda: drafts.set_notes(invoice, form.notes.data),
            lambda _done: gettext("The notes were saved."),
        )

    @expose("/invoice-date/", methods=("POST",))
    def invoice_date_view(self):
        invoice = self._requested()
        form = InvoiceDateForm(request.form)
        with commit_or_flash(form) as outcome:
            drafts.check_draft(invoice)  # an issued invoice's date is refused as such, whatever was typed
            if form.validate():
                drafts.set_invoice_date(invoice, form.invoice_date.data)
        if outcome.refusal is not None or form.errors:
            return self._page(self._requested(), forms={"invoice_date": form})
        flash(gettext("The invoice date was changed."), "success")
        return self._back(invoice)

    @expose("/void/", methods=("POST",))
    def void_view(self):
        invoice = self._requested()
        form = VoidForm(request.form)
        return self._submit(
            invoice,
            "void",
            form,
            lambda: issuing.void(db.session, invoice, form.void_reason.data),
            lambda credit: gettext(
                "Invoice %(number)s is void; credit note %(credit)s was issued.",
                number=invoice.number,
                credit=credit.number,
            ),
        )

    @expose("/write-off/", methods=("POST",))
    def write_off_view(self):
        return self._settle(
            "write_off", payments.write_off_rest, lambda amount: gettext("%(amount)s written off.", amount=amount)
        )

    @expose("/move-to-client/", methods=("POST",))
    def move_to_client_view(self):
        return self._settle(
            "move",
            payments.move_rest_to_client,
            lambda amount: gettext("%(amount)s is now the client's to pay.", amount=amount),
        )

    def _settle(self, name: str, settle, done):
        """Write off or move what is still open, with the reason typed in the form `name`."""
        invoice = self._requested()
        form = SettleForm(request.form, prefix=f"{name}-")
        return self._submit(
            invoice,
            name,
            form,
            lambda: settle(db.session, invoice_id=invoice.id, reason=form.reason.data),
            lambda amount: done(format_money(amount, invoice.currency)),
        )

    def _submit(self, invoice: Invoice, key, form, change: Callable[[], object], done: Callable[[object], str]):
        """Make `change` (a rule of services/) with what `form` holds: refused, the page again with the
        form as typed and the reason; made, back to the page with `done(result)`."""
        with commit_or_flash(form) as outcome:
            result = change()
        if outcome.refusal is not None:
            return self._page(self._requested(), forms={key: form})
        flash(done(result), "success")
        return self._back(invoice)

    def _requested(self) -> Invoice:
        invoice = self.get_one(request.args.get("id"))
        if invoice is None:
            abort(404)
        return invoice

    @staticmethod
    def _line_of(invoice: Invoice) -> InvoiceLine:
        line_id = id_arg("line")
        line = db.session.get(InvoiceLine, line_id) if line_id is not None else None
        if line is None or line.invoice_id != invoice.id:
            abort(404)
        return line

    def _back(self, invoice: Invoice):
        return redirect(self.get_url(".details_view", id=invoice.id))

    def _page(self, invoice: Invoice, forms: dict | None = None):
        """The invoice page; `forms` are the forms just refused, shown with what was typed and why."""
        forms = forms or {}
        lines = shown_lines(db.session, invoice.id)
        editable = invoice.status == InvoiceStatus.DRAFT
        credit_note = db.session.scalar(select(Invoice).where(Invoice.credits_id == invoice.id))
        return self.render(
            self.details_template,
            model=invoice,
            invoice=invoice,
            details_columns=self._details_columns,
            get_value=self.get_detail_value,
            return_url=self.get_url(".index_view"),
            lines=lines,
            figures=self.figures(invoice),
            editable=editable,
            adjust_forms={line.id: forms.get(line.id) or adjust_form(line) for line in lines} if editable else {},
            notes_form=forms.get("notes") or NotesForm(data={"notes": invoice.notes or ""}),
            date_form=forms.get("invoice_date") or InvoiceDateForm(data={"invoice_date": invoice.invoice_date}),
            void_form=forms.get("void") or VoidForm(),
            ledger_figures=self.ledger_figures(invoice),
            invoice_states=INVOICE_STATES,
            settle_forms={name: forms.get(name) or SettleForm(prefix=f"{name}-") for name in ("write_off", "move")},
            credit_note=credit_note,
            voidable=invoice.status == InvoiceStatus.ISSUED and invoice.kind == InvoiceKind.INVOICE,
        )
