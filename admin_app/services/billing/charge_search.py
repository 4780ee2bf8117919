"""The appointment search for billing: the charges of a period with who they concern and where each
stands (services.billing.ledger, the one owner of the figures): uninvoiced, on a draft, invoiced,
partly paid, paid (on its date) or written off.

A page of results is two statements whatever its length: the rows (the page's charge positions
joined to their client, therapist and payer), and the count and totals per currency of the whole
filtered set (the positions alone). The amount is what the charge is billed (on an issued invoice, its line's total).
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
    filtered = _filtered(search).subquery("filtered")
    shown = (
        select(filtered)
        .order_by(filtered.c.starts_at, filtered.c.participant_id)
        .limit(per_page)
        .offset(page * per_page)
        .subquery("shown")
    )
    rows = session.execute(_named(shown).order_by(shown.c.starts_at, shown.c.participant_id))
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


def _filtered(search: ChargeSearch) -> Select:
    """The positions `search` keeps, without the names shown: the count and totals of a month's
    charges need no client or therapist row (joined for every charge, 10,477 client lookups were
    half of the totals' time at full size); a part of a client's name keeps the clients it matches."""
    position = charge_positions_query(
        since=search.since,
        until=search.until,
        therapist_id=search.therapist_id,
        payer_id=search.payer_id,
        billed_to=search.billed_to,
    ).order_by(None)
    kept = position.selected_columns
    if search.state is not None:
        position = position.where(kept.state == search.state.value)
    if search.invoice_number.strip():
        position = position.where(func.upper(kept.invoice_number) == search.invoice_number.strip().upper())
    if search.client.strip():
        named = select(Client.id).where(Client.full_name.icontains(search.client.strip(), autoescape=True))
        position = position.where(kept.client_id.in_(named))
    return position


def _named(shown) -> Select:
    """The page's charges with the names of their client, therapist and payer."""
    return (
        select(
            shown.c.participant_id,
            shown.c.starts_at,
            shown.c.client_id,
            shown.c.billed_cents,
            shown.c.currency,
            shown.c.billed_to,
            shown.c.invoice_id,
            shown.c.invoice_number,
            shown.c.state,
            shown.c.paid_on,
            Client.full_name.label("client_name"),
            Therapist.full_name.label("therapist_name"),
            Payer.name.label("payer_name"),
        )
        .join(Client, Client.id == shown.c.client_id)
        .join(Therapist, Therapist.id == shown.c.therapist_id)
        .outerjoin(Payer, Payer.id == shown.c.payer_id)
    )
