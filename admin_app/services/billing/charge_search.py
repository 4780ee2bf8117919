"""The appointment search for billing: the charges of a period (services.billing.charges, the one
rule) with who they concern and where each stands: uninvoiced, on a draft, or on issued invoice N.

A page of results is two statements whatever its length: the rows (charges joined to their client,
therapist, payer and the invoice line that holds them), and the count and totals per currency of
the whole filtered set. Amounts of different currencies are never added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from admin_app.models import BilledTo, Client, Invoice, InvoiceLine, InvoiceStatus, Payer, Therapist
from admin_app.services.billing.charges import charges_query, missed_session_percent
from admin_app.services.platform import clinic_time
from admin_app.services.platform.money import from_cents


class ChargeState(enum.StrEnum):
    UNINVOICED = "uninvoiced"
    DRAFT = "draft"
    ISSUED = "issued"


CHARGE_STATES = {
    ChargeState.UNINVOICED: _l("Uninvoiced"),
    ChargeState.DRAFT: _l("On a draft"),
    ChargeState.ISSUED: _l("On an issued invoice"),
}


@dataclasses.dataclass(frozen=True)
class ChargeSearch:
    """What the staff asked for: a period of dates of service (both included) and the filters."""

    since: dt.date
    until: dt.date
    client: str = ""  # part of the client's name
    therapist_id: int | None = None
    payer_id: int | None = None
    billed_to: BilledTo | None = None
    state: ChargeState | None = None
    invoice_number: str = ""


@dataclasses.dataclass(frozen=True)
class FoundCharge:
    participant_id: int
    starts_at: dt.datetime
    client_id: int
    client_name: str
    therapist_name: str
    billed_to: BilledTo
    payer_name: str | None
    amount: Decimal
    currency: str
    invoice_id: int | None
    invoice_number: str | None
    invoice_status: InvoiceStatus | None

    @property
    def date_of_service(self) -> dt.date:
        return clinic_time.to_local(self.starts_at).date()

    @property
    def state(self) -> ChargeState:
        if self.invoice_id is None:
            return ChargeState.UNINVOICED
        return ChargeState.DRAFT if self.invoice_status == InvoiceStatus.DRAFT else ChargeState.ISSUED


@dataclasses.dataclass(frozen=True)
class ChargePage:
    charges: list[FoundCharge]
    count: int  # of the whole filtered set
    totals: dict[str, Decimal]  # per currency, of the whole filtered set
    page: int  # from 0
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def search_charges(session: Session, search: ChargeSearch, *, page: int = 0, per_page: int = 50) -> ChargePage:
    """One page of the charges `search` selects, by start, with the count and totals of them all."""
    found = _found(search)
    rows = session.execute(
        found.order_by(found.selected_columns.starts_at, found.selected_columns.participant_id)
        .limit(per_page)
        .offset(page * per_page)
    )
    charges = [
        FoundCharge(
            participant_id=row.participant_id,
            starts_at=row.starts_at,
            client_id=row.client_id,
            client_name=row.client_name,
            therapist_name=row.therapist_name,
            billed_to=BilledTo(row.billed_to),
            payer_name=row.payer_name,
            amount=from_cents(row.amount_cents),
            currency=row.currency,
            invoice_id=row.invoice_id,
            invoice_number=row.invoice_number,
            invoice_status=InvoiceStatus(row.invoice_status) if row.invoice_status else None,
        )
        for row in rows
    ]
    filtered = found.subquery()
    per_currency = session.execute(
        select(filtered.c.currency, func.count(), func.sum(filtered.c.amount_cents))
        .group_by(filtered.c.currency)
        .order_by(filtered.c.currency)
    ).all()
    return ChargePage(
        charges=charges,
        count=sum(count for _currency, count, _cents in per_currency),
        totals={currency: from_cents(cents) for currency, _count, cents in per_currency},
        page=page,
        per_page=per_page,
    )


def _found(search: ChargeSearch) -> Select:
    charges = (
        charges_query(
            missed_session_percent(),
            since=search.since,
            until=search.until,
            therapist_id=search.therapist_id,
            payer_id=search.payer_id,
            billed_to=search.billed_to,
        )
        .order_by(None)
        .subquery()
    )
    query = (
        select(
            charges.c.participant_id,
            charges.c.starts_at,
            charges.c.client_id,
            charges.c.amount_cents,
            charges.c.currency,
            charges.c.billed_to,
            Client.full_name.label("client_name"),
            Therapist.full_name.label("therapist_name"),
            Payer.name.label("payer_name"),
            Invoice.id.label("invoice_id"),
            Invoice.number.label("invoice_number"),
            Invoice.status.label("invoice_status"),
        )
        .join(Client, Client.id == charges.c.client_id)
        .join(Therapist, Therapist.id == charges.c.therapist_id)
        .outerjoin(Payer, Payer.id == charges.c.payer_id)
        .outerjoin(InvoiceLine, and_(InvoiceLine.participant_id == charges.c.participant_id, InvoiceLine.holds))
        .outerjoin(Invoice, Invoice.id == InvoiceLine.invoice_id)
    )
    if search.client.strip():
        query = query.where(Client.full_name.icontains(search.client.strip(), autoescape=True))
    if search.state == ChargeState.UNINVOICED:
        query = query.where(InvoiceLine.id.is_(None))
    elif search.state == ChargeState.DRAFT:
        query = query.where(Invoice.status == InvoiceStatus.DRAFT)
    elif search.state == ChargeState.ISSUED:
        query = query.where(Invoice.status == InvoiceStatus.ISSUED)
    if search.invoice_number.strip():
        query = query.where(func.upper(Invoice.number) == search.invoice_number.strip().upper())
    return query
