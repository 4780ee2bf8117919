"""An invoice's lines as its page shows them: one statement, a row per line with its client's and
therapist's names, in order of service.

Rows, not records: a payer's monthly invoice holds a thousand lines and more, and loading each as a
record with its client and therapist (then expiring them all when the page's reading is recorded)
took longer than drawing the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Client, InvoiceLine, Therapist


@dataclass(frozen=True, slots=True)
class ShownLine:
    id: int
    date_of_service: dt.date
    client: str  # the client's name
    therapist: str  # the therapist's name
    description: str
    amount: Decimal
    adjustment_reason: str | None
    tax_rate: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


def shown_lines(session: Session, invoice_id: int) -> list[ShownLine]:
    """The invoice's lines in order of service (then as they were added)."""
    rows = session.execute(
        select(
            InvoiceLine.id,
            InvoiceLine.date_of_service,
            Client.full_name,
            Therapist.full_name,
            InvoiceLine.description,
            InvoiceLine.amount,
            InvoiceLine.adjustment_reason,
            InvoiceLine.tax_rate,
            InvoiceLine.tax,
        )
        .join(Client, Client.id == InvoiceLine.client_id)
        .join(Therapist, Therapist.id == InvoiceLine.therapist_id)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.date_of_service, InvoiceLine.id)
    )
    return [ShownLine(*row) for row in rows]
