"""Payers (insurers, employer programmes), their authorizations, and issued invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from admin_app.extensions import db
from admin_app.models import (
    INVOICE_SERIES,
    Authorization,
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Participant,
    Payer,
    PayerKind,
    PaymentSource,
)
from admin_app.models.base import utcnow
from admin_app.services.billing.charges import charge_of, missed_session_percent
from admin_app.services.platform import clinic_time
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


def issued_invoice(
    bill_to: Payer | Client,
    participants: Iterable[Participant],
    *,
    number: str | None = None,
    invoice_date: dt.date | None = None,
    currency: str | None = None,
) -> Invoice:
    """An issued invoice to a payer (one per client: the first participant's) or to a client, written
    as rows: one holding line per participant, billed its charge under the rule, no tax. A stand-in
    for the invoice run and issuing where a test needs issued invoices and nothing else of them."""
    participants = list(participants)
    percent = missed_session_percent()
    charges = [(participant, charge_of(participant, percent)) for participant in participants]
    days = [clinic_time.to_local(participant.appointment.starts_at).date() for participant in participants]
    to_payer = isinstance(bill_to, Payer)
    invoice = Invoice(
        status=InvoiceStatus.ISSUED,
        series=INVOICE_SERIES,
        number=number or f"INV-{next_number():06d}",
        payer=bill_to if to_payer else None,
        client=participants[0].client if to_payer else bill_to,
        currency=currency or charges[0][1].currency,
        invoice_date=invoice_date or max(days),
        period_start=min(days),
        period_end=max(days),
        issued_at=utcnow(),
        lines=[
            InvoiceLine(
                participant=participant,
                date_of_service=day,
                therapist_id=participant.appointment.therapist_id,
                client_id=participant.client_id,
                description="Psychotherapy session",
                charge_amount=charge.amount,
                amount=charge.amount,
            )
            for (participant, charge), day in zip(charges, days, strict=True)
        ],
    )
    db.session.add(invoice)
    db.session.flush()
    return invoice
