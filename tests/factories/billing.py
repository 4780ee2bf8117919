"""Payers (insurers, employer programmes), their authorizations, issued invoices and clients' payments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from admin_app.extensions import db
from admin_app.models import (
    INVOICE_SERIES,
    Allocation,
    AllocationKind,
    Authorization,
    Client,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Participant,
    Payer,
    PayerKind,
    Payment,
    PaymentMethod,
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
