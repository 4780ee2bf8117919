"""Editing a draft invoice: remove a line, adjust a line's amount with a reason, add a note, change
the invoice date, or discard the draft. Every change is refused once the invoice is issued: an
issued invoice never changes (DESIGN.md); void it instead.

A removed line, or a discarded draft, gives its charges back to the uninvoiced: the next run
invoices them again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext
from sqlalchemy.orm import Session

from admin_app.models import Invoice, InvoiceLine, InvoiceStatus
from admin_app.services.billing.invoice_run import line_tax
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.money import round_amount


def check_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise RuleViolation(
            lazy_gettext(
                "Invoice %(number)s is issued and can no longer change; void it instead.", number=invoice.number
            )
        )


def remove_line(session: Session, line: InvoiceLine) -> None:
    check_draft(line.invoice)
    session.delete(line)
    session.flush()


def adjust_line(line: InvoiceLine, amount: str | Decimal | None, reason: str | None) -> None:
    """Bill `amount` instead of the charge, for the reason given; the line's tax follows."""
    check_draft(line.invoice)
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, AttributeError):
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise RuleViolation(lazy_gettext("Enter the amount as a number, 0 or more."), field="amount")
    if value != round_amount(value, line.invoice.currency) or value >= Decimal("1E10"):
        raise RuleViolation(lazy_gettext("The amount has too many decimals or digits."), field="amount")
    reason = (reason or "").strip()
    if value != line.charge_amount and not reason:
        raise RuleViolation(lazy_gettext("Give the reason for changing the amount."), field="adjustment_reason")
    line.amount = value
    line.adjustment_reason = reason[:255] if value != line.charge_amount else None
    line.tax = line_tax(value, line.tax_rate, line.invoice.currency)


def set_notes(invoice: Invoice, notes: str | None) -> None:
    check_draft(invoice)
    invoice.notes = (notes or "").strip() or None


def set_invoice_date(invoice: Invoice, day: dt.date | None) -> None:
    """The date the invoice will carry; issuing checks it is neither after today nor before a date of service."""
    check_draft(invoice)
    if day is None:
        raise RuleViolation(lazy_gettext("Enter the invoice date."), field="invoice_date")
    invoice.invoice_date = day


def discard(session: Session, invoice: Invoice) -> None:
    check_draft(invoice)
    for line in invoice.lines:
        session.delete(line)
    session.delete(invoice)
    session.flush()
