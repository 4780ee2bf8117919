"""Payers (insurers, employer programmes) and their authorizations."""

from __future__ import annotations

import datetime as dt

from admin_app.extensions import db
from admin_app.models import Authorization, Client, Payer, PayerKind, PaymentSource
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
