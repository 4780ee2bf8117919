"""The appointment search for billing: the charges of a period with who they concern and where each
stands (services.billing.ledger, the one owner of the figures): uninvoiced, on a draft, invoiced,
partly paid, paid (on its date) or written off.

A page of results is two statements whatever its length: the rows (the ledger's charge positions
joined to their client, therapist and payer), and the count and totals per currency of the whole
filtered set. The amount is what the charge is billed (on an issued invoice, its line's total).
Amounts of different currencies are never added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from admin_app.models import BilledTo, Client, Payer, Therapist
from admin_app.services.billing.ledger import ChargeState, as_date, charge_positions_query
from admin_app.services.platform import clinic_time
from admin_app.services.platform.money import from_cents


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
    state: ChargeState
    paid_on: dt.date | None

    @property
    def date_of_service(self) -> dt.date:
        return clinic_time.to_local(self.starts_at).date()


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
            amount=from_cents(row.billed_cents),
            currency=row.currency,
            invoice_id=row.invoice_id,
            invoice_number=row.invoice_number,
            state=ChargeState(row.state),
            paid_on=as_date(row.paid_on),
        )
        for row in rows
    ]
    filtered = found.subquery()
    per_currency = session.execute(
        select(filtered.c.currency, func.count(), func.sum(filtered.c.billed_cents))
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
    position = charge_positions_query(
        since=search.since,
        until=search.until,
        therapist_id=search.therapist_id,
        payer_id=search.payer_id,
        billed_to=search.billed_to,
    ).order_by(None)
    if search.state is not None:
        position = position.where(position.selected_columns.state == search.state.value)
    if search.invoice_number.strip():
        position = position.where(
            func.upper(position.selected_columns.invoice_number) == search.invoice_number.strip().upper()
        )
    charges = position.subquery("position")
    query = (
        select(
            charges.c.participant_id,
            charges.c.starts_at,
            charges.c.client_id,
            charges.c.billed_cents,
            charges.c.currency,
            charges.c.billed_to,
            charges.c.invoice_id,
            charges.c.invoice_number,
            charges.c.state,
            charges.c.paid_on,
            Client.full_name.label("client_name"),
            Therapist.full_name.label("therapist_name"),
            Payer.name.label("payer_name"),
        )
        .join(Client, Client.id == charges.c.client_id)
        .join(Therapist, Therapist.id == charges.c.therapist_id)
        .outerjoin(Payer, Payer.id == charges.c.payer_id)
    )
    if search.client.strip():
        query = query.where(Client.full_name.icontains(search.client.strip(), autoescape=True))
    return query
