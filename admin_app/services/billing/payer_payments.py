"""What the payment screens read around a payment: a payer's open invoices to choose from, and the
invoices a payment was applied to. Figures come from the ledger (services.billing.ledger), each in
one statement whatever the number of invoices or charges.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from admin_app.models import Allocation, AllocationKind, Client, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from admin_app.services.billing.ledger import invoice_figures_query
from admin_app.services.platform.money import cents_sql, from_cents


@dataclasses.dataclass(frozen=True)
class OpenInvoice:
    invoice_id: int
    number: str
    invoice_date: dt.date
    client_name: str | None
    currency: str
    open: Decimal


@dataclasses.dataclass(frozen=True)
class AppliedPart:
    """What a payment paid of one invoice (or of charges on none: `number` None)."""

    number: str | None
    amount: Decimal


def open_invoices(session: Session, payer_id: int) -> list[OpenInvoice]:
    """The payer's issued invoices with something still open, oldest first (the order a payment
    naming none settles them in, services.billing.payments)."""
    ids = select(Invoice.id).where(
        Invoice.payer_id == payer_id, Invoice.kind == InvoiceKind.INVOICE, Invoice.status == InvoiceStatus.ISSUED
    )
    figures = invoice_figures_query(ids).order_by(None).subquery("figures")
    rows = session.execute(
        select(
            Invoice.id, Invoice.number, Invoice.invoice_date, Client.full_name, Invoice.currency, figures.c.open_cents
        )
        .join(figures, figures.c.invoice_id == Invoice.id)
        .outerjoin(Client, Client.id == Invoice.client_id)
        .where(figures.c.open_cents > 0)
        .order_by(Invoice.invoice_date, Invoice.number)
    )
    return [
        OpenInvoice(
            invoice_id=row.id,
            number=row.number,
            invoice_date=row.invoice_date,
            client_name=row.full_name,
            currency=row.currency,
            open=from_cents(row.open_cents),
        )
        for row in rows
    ]


def applied_to_invoices(session: Session, payment_id: int) -> list[AppliedPart]:
    """What the payment paid, per invoice holding the charges (by number), in one statement."""
    rows = session.execute(
        select(Invoice.number, func.sum(cents_sql(Allocation.amount)))
        .select_from(Allocation)
        .outerjoin(InvoiceLine, and_(InvoiceLine.participant_id == Allocation.participant_id, InvoiceLine.holds))
        .outerjoin(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Allocation.payment_id == payment_id, Allocation.kind == AllocationKind.PAID)
        .group_by(Invoice.number)
        .order_by(Invoice.number)
    )
    return [AppliedPart(number=number, amount=from_cents(cents)) for number, cents in rows]
