"""Payments for the staff: the list (what each payment was applied to and what is left of it, read
for the page in one query), and the forms that record a payer's payment (to chosen invoices, else
the oldest open ones) and a client's payment (first in first out, with a receipt sent by email).

A payment is money history: it is never edited nor deleted here. The rules are in
services.billing.payments; a refusal is shown beside its field and nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, flash, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.form import BaseForm
from flask_admin.model.fields import AjaxSelectField
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import InputRequired

from admin_app.extensions import db
from admin_app.models import Payer, Payment, PaymentMethod
from admin_app.services.billing import ledger, payer_payments, payments, receipts
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.labels import FIELDS, choices_for
from admin_app.services.platform.money import format_money
from admin_app.views.audit.reads import AuditedReads
from admin_app.views.people.records import client_loader
from admin_app.views.platform.base import PracticeModelView, RoleRequired, id_arg
from admin_app.views.platform.formatting import NO_VALUE
from admin_app.views.platform.rules import commit_or_flash
from admin_app.views.platform.search import lookup_response

CLIENT_LOADER = client_loader("client")


def _from_cell(_view, _context, payment: Payment, _name) -> str:
    return payment.payer.name if payment.payer else payment.client.full_name


def _amount_cell(_view, _context, payment: Payment, _name) -> str:
    return format_money(payment.amount, payment.currency)


def _applied_cell(view, _context, payment: Payment, _name) -> str:
    return format_money(payment.amount - view.unapplied(payment), payment.currency)


def _unapplied_cell(view, _context, payment: Payment, _name) -> str:
    return format_money(view.unapplied(payment), payment.currency)


def _receipt_cell(_view, _context, payment: Payment, _name) -> str:
    if payment.receipt_number is None:
        return NO_VALUE
    return Markup('<a href="{url}">{number}</a>').format(
        url=url_for("receipts.pdf", payment_id=payment.id), number=payment.receipt_number
    )


class PaymentView(AuditedReads, PracticeModelView):
    """Read-only: payments are recorded through the forms below and applied by the payment rules."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_list = (
        "received_on",
        "from",
        "amount",
        "currency",
        "method",
        "reference",
        "applied",
        "unapplied",
        "receipt_number",
    )
    column_details_list = column_list
    column_labels = {
        **FIELDS,
        "from": _l("From"),
        "applied": _l("Applied"),
        "unapplied": _l("Unapplied"),
        "receipt_number": _l("Receipt"),
        "client.full_name": FIELDS["client"],
        "payer.name": FIELDS["payer"],
    }
    column_searchable_list = ("reference", "client.full_name")
    column_filters = ("payer.name", "client.full_name", "method", "received_on", "currency")
    column_sortable_list = ("received_on", "currency", "method", "receipt_number")
    column_default_sort = [("received_on", True), ("id", True)]
    column_formatters = {
        "from": _from_cell,
        "amount": _amount_cell,
        "applied": _applied_cell,
        "unapplied": _unapplied_cell,
        "receipt_number": _receipt_cell,
    }
    column_formatters_detail = column_formatters

    def get_query(self):
        # The payer and the client of every row come with it (the From cell reads them).
        return super().get_query().options(joinedload(Payment.payer), joinedload(Payment.client))

    def rows_loaded(self, session, records) -> None:
        g.unapplied = ledger.unapplied(session, [record.id for record in records]) if records else {}

    def unapplied(self, payment: Payment) -> Decimal:
        found = g.setdefault("unapplied", {})
        if payment.id not in found:
            found.update(ledger.unapplied(db.session, [payment.id]))
        return found[payment.id]


class PaymentForm(BaseForm):
    """What every payment has; a payer's form carries the payer as a hidden field of its page."""

    received_on = DateField(FIELDS["received_on"], validators=[InputRequired()])
    amount = DecimalField(FIELDS["amount"], places=2, validators=[InputRequired()])
    currency = SelectField(FIELDS["currency"], choices=[])
    method = SelectField(FIELDS["method"], choices=[])
    reference = StringField(FIELDS["reference"])


class ClientPaymentForm(PaymentForm):
    client = AjaxSelectField(CLIENT_LOADER, FIELDS["client"], validators=[InputRequired()])


def _payment_form(form_class, formdata=None):
    form = form_class(formdata)
    form.currency.choices = [(code, code) for code in current_app.config["CURRENCIES"]]
    form.method.choices = choices_for(PaymentMethod)
    if formdata is None:
        form.received_on.data = clinic_time.today()
    return form


def _payment_values(form: PaymentForm) -> dict:
    return {
        "received_on": form.received_on.data,
        "amount": form.amount.data,
        "currency": form.currency.data,
        "method": form.method.data,
        "reference": form.reference.data,
    }


def _unapplied_message(payment: Payment) -> str | None:
    left = ledger.unapplied(db.session, [payment.id])[payment.id]
    if left <= 0:
        return None
    return gettext("%(amount)s was not applied: it stays on the payment as credit.", amount=_money(left, payment))


def _money(amount: Decimal, payment: Payment) -> str:
    return format_money(amount, payment.currency)


class PayerPaymentView(RoleRequired, BaseView):
    """`?payer=<id>` shows the payer's open invoices to tick (`&invoice=<id>` ticks one)."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        payer = self._payer()
        form = _payment_form(PaymentForm, request.form if request.method == "POST" else None)
        ticked = {id_arg("invoice")} if request.method == "GET" else set()
        if request.method == "POST" and payer is None:
            flash(gettext("%(field)s: choose the payer first.", field=FIELDS["payer"]), "error")
        elif request.method == "POST":
            ticked = {key for key in map(bounds.record_id, request.form.getlist("invoices")) if key is not None}
            if form.validate():
                with commit_or_flash(form) as outcome:
                    payment = payments.record_payer_payment(
                        db.session, payer_id=payer.id, invoice_ids=sorted(ticked), **_payment_values(form)
                    )
                    applied = payer_payments.applied_to_invoices(db.session, payment.id)
                    left = _unapplied_message(payment)
                if outcome.refusal is None:
                    self._flash_applied(payment, applied, left)
                    return redirect(url_for("payment.index_view"))
        return self.render(
            "admin/billing/payer_payment.html",
            form=form,
            payer=payer,
            payers=db.session.execute(select(Payer.id, Payer.name).order_by(Payer.name)).all(),
            invoices=payer_payments.open_invoices(db.session, payer.id) if payer else [],
            ticked=ticked,
        )

    @staticmethod
    def _payer() -> Payer | None:
        key = bounds.record_id(request.form.get("payer") if request.method == "POST" else request.args.get("payer"))
        return db.session.get(Payer, key) if key is not None else None

    @staticmethod
    def _flash_applied(payment: Payment, applied, left: str | None) -> None:
        no_invoice = gettext("no invoice")
        parts = ", ".join(f"{part.number or no_invoice} {_money(part.amount, payment)}" for part in applied)
        if parts:
            flash(gettext("Payment recorded: applied to %(parts)s.", parts=parts), "success")
        else:
            flash(gettext("Payment recorded: no open invoice was left to apply it to."), "success")
        if left:
            flash(left, "info")


class ClientPaymentView(RoleRequired, BaseView):
    """A client's payment: applied first in first out, its receipt emailed as a link."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = _payment_form(ClientPaymentForm, request.form if request.method == "POST" else None)
        if request.method == "GET" and (client_id := id_arg("client")) is not None:
            form.client.data = CLIENT_LOADER.get_one(client_id)
        if request.method == "POST" and form.validate():
            with commit_or_flash(form) as outcome:
                taken = receipts.take_client_payment(db.session, client_id=form.client.data.id, **_payment_values(form))
                left = _unapplied_message(taken.payment)
            if outcome.refusal is None:
                dates = [line.date_of_service for line in taken.receipt.lines]
                self._flash_receipt(taken.payment, dates, left, sent=taken.link is not None)
                return redirect(url_for("payment.index_view"))
        return self.render("admin/billing/client_payment.html", form=form)

    @expose("/ajax/lookup/", methods=("POST",))
    def ajax_lookup(self):
        return lookup_response(CLIENT_LOADER)

    @staticmethod
    def _flash_receipt(payment: Payment, dates, left: str | None, *, sent: bool) -> None:
        covered = ", ".join(day.isoformat() for day in dict.fromkeys(dates)) or gettext("none yet")
        flash(
            gettext(
                "Receipt %(number)s: %(amount)s; sessions covered: %(dates)s.",
                number=payment.receipt_number,
                amount=_money(payment.amount, payment),
                dates=covered,
            ),
            "success",
        )
        if left:
            flash(left, "info")
        if not sent:
            flash(gettext("The receipt was not emailed: the client has no email address."), "warning")
