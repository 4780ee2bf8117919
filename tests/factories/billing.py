"""Payers (insurers, employer programmes), their authorizations, and clients' payments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import (
    Allocation,
    AllocationKind,
    Authorization,
    Client,
    Participant,
    Payer,
    PayerKind,
    Payment,
    PaymentMethod,
    PaymentSource,
)
from tests.factories.sequence import next_number


def make_payer(name: str | None = None, kind: PayerKind = PayerKind.INSURER, **settings) -> Payer:
    """A payer; `settings` such as refuses_over_approved=True, counts_missed_sessions=True."""
    payer = Payer(name=name or f"Payer {next_number()}", kind=kind, **settings)
    db.session.add(payer)
    db.session.flush()
    return payer


def pays_for(client: Client, payer: Payer) -> PaymentSource:
    """The client's sessions are paid by this payer: new bookings are billed to it."""
    source = PaymentSource(client=client, payer=payer)
    db.session.add(source)
    db.session.flush()
    return source


def make_authorization(
    client: Client,
    payer: Payer,
    approved: int,
    valid_from: dt.date,
    valid_until: dt.date,
    *,
    reference: str | None = None,
    **fields,
) -> Authorization:
    authorization = Authorization(
        client=client,
        payer=payer,
        reference=reference or f"A-{next_number()}",
        approved_sessions=approved,
        valid_from=valid_from,
        valid_until=valid_until,
        **fields,
    )
    db.session.add(authorization)
    db.session.flush()
    return authorization


def client_payment(
    client: Client,
    amount: Decimal | str,
    on: dt.date,
    method: PaymentMethod = PaymentMethod.CARD,
    *,
    allocations: Iterable[tuple[Participant, Decimal | str]] = (),
    receipt_number: str | None = None,
    currency: str | None = None,
) -> Payment:
    """A client's payment with its receipt number, applied as `paid` allocations of the given
    amounts to those participants, written as rows (a stand-in for recording it FIFO)."""
    allocations = list(allocations)
    currency = currency or (allocations[0][0].currency if allocations else "PEN")
    payment = Payment(
        client=client,
        received_on=on,
        amount=Decimal(amount),
        currency=currency,
        method=method,
        receipt_number=receipt_number or str(next_number()),
        allocations=[
            Allocation(
                participant=participant,
                kind=AllocationKind.PAID,
                amount=Decimal(paid),
                currency=currency,
                applied_on=on,
            )
            for participant, paid in allocations
        ],
    )
    db.session.add(payment)
    db.session.flush()
    return payment
