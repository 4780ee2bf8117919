"""What the invoice screens show beside each invoice, read for a whole page of invoices in one
statement: the sums of its lines (each line already rounded, so the total is the sum a document
lists; DESIGN.md "Money") and how many times it was sent.

Paid and open amounts come from the payments (services.billing.ledger), not from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models import Invoice, InvoiceLine, InvoiceSending
from admin_app.services.platform.money import cents_sql, from_cents


@dataclasses.dataclass(frozen=True)
class InvoiceFigures:
    amount: Decimal
    tax: Decimal
    lines: int
    sendings: int

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


NO_FIGURES = InvoiceFigures(amount=Decimal("0.00"), tax=Decimal("0.00"), lines=0, sendings=0)


def invoice_figures(session: Session, invoice_ids: Sequence[int]) -> dict[int, InvoiceFigures]:
    """Invoice id → its figures, for these invoices, in one statement (in whole cents: SQLite sums
    Numeric columns as binary floats)."""
    if not invoice_ids:
        return {}
    sendings = (
        select(func.count(InvoiceSending.id))
        .where(InvoiceSending.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Invoice.id,
            func.coalesce(func.sum(cents_sql(InvoiceLine.amount)), 0).label("amount_cents"),
            func.coalesce(func.sum(cents_sql(InvoiceLine.tax)), 0).label("tax_cents"),
            func.count(InvoiceLine.id).label("lines"),
            sendings.label("sendings"),
        )
        .outerjoin(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(Invoice.id.in_(list(invoice_ids)))
        .group_by(Invoice.id)
    )
    return {
        row.id: InvoiceFigures(
            amount=from_cents(row.amount_cents),
            tax=from_cents(row.tax_cents),
            lines=row.lines,
            sendings=row.sendings,
        )
        for row in rows
    }
