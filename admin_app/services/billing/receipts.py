"""Receipts of a client's payments: what a Canadian benefit plan accepts (BILLING-NOTES.md).

A receipt lists, by date of service, the `paid` allocations of one client payment: each session it
covers, the service, the therapist's name, designation and registration number (and the
supervisor's, for a provisional registrant), and the amount. Where a payer paid part of a session,
only the client's share is on it, since that is what this payment's allocations hold. The total is
the sum of those lines; what the payment did not cover is shown as credit, never as paid for a session.
It is written in the client's language, with the practice's name, address and phone.

The client gets it as an expiring link (`LINK`, DESIGN.md "Secrets and public links"), never as an
attachment: each sending issues a new `ReceiptLink` and queues an email through the outbox. Every
open of the link and every print by the staff is recorded in the audit trail (entity `payment`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from decimal import Decimal

from babel.dates import format_date
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import (
    Allocation,
    AllocationKind,
    Appointment,
    AppointmentKind,
    Attendance,
    Channel,
    Client,
    Participant,
    Payment,
    PaymentMethod,
    ReceiptLink,
    Therapist,
)
from admin_app.models.audit import Actor, AuditAction, record_event
from admin_app.models.base import utcnow
from admin_app.services.billing import payments
from admin_app.services.billing.invoice_run import description
from admin_app.services.messaging import outbox
from admin_app.services.platform import documents, tokens
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.errors import NoLongerDue, NotFound
from admin_app.services.platform.labels import choice_label

TEMPLATE = "receipt"
PDF_TEMPLATE = "pdf/receipt.html"
LINK = tokens.PublicLink(purpose="receipt", path="/receipts/{token}")
AUDITED_ENTITY = Payment.__tablename__
# Who the audit trail names when a client opens their link (nobody is signed in).
LINK_ACTOR: Actor = (None, "receipt link")


@dataclasses.dataclass(frozen=True)
class Practitioner:
    name: str
    designation: str | None
    registration_number: str | None
    registration_body: str | None


@dataclasses.dataclass(frozen=True)
class ReceiptLine:
    """One session the payment covers: the client's share of it paid by this payment."""

    date_of_service: dt.date
    attendance: Attendance
    kind: AppointmentKind
    minutes: int
    therapist: Practitioner
    supervisor: Practitioner | None  # only for a provisional registrant
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class Receipt:
    payment_id: int
    number: str
    received_on: dt.date
    method: PaymentMethod
    currency: str
    received: Decimal  # the payment's amount
    client_name: str
    client_email: str | None
    language: str
    lines: list[ReceiptLine]

    @property
    def total(self) -> Decimal:
        """The sum of the lines (each already to the cent): what the payment paid for sessions."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def credit(self) -> Decimal:
        """What the payment did not cover, kept for later sessions."""
        return self.received - self.total


class LinkState(enum.StrEnum):
    OPEN = "open"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def receipt_language(language: str | None) -> str:
    return language if language in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]


def receipt_of(session: Session, payment_id: int) -> Receipt:
    """The receipt of a client's payment, in two queries whatever the number of sessions;
    NotFound for an unknown payment or one without a receipt (a payer's)."""
    found = session.execute(
        select(Payment, Client.full_name, Client.email, Client.preferred_language)
        .join(Client, Client.id == Payment.client_id)
        .where(Payment.id == payment_id, Payment.receipt_number.is_not(None))
    ).one_or_none()
    if found is None:
        raise NotFound(_l("This payment has no receipt."))
    payment, client_name, client_email, language = found
    return Receipt(
        payment_id=payment.id,
        number=payment.receipt_number,
        received_on=payment.received_on,
        method=payment.method,
        currency=payment.currency,
        received=payment.amount,
        client_name=client_name,
        client_email=client_email,
        language=receipt_language(language),
        lines=_lines(session, payment_id),
    )


def _lines(session: Session, payment_id: int) -> list[ReceiptLine]:
    supervisor = aliased(Therapist)
    rows = session.execute(
        select(
            Allocation.amount,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.kind,
            Participant.attendance,
            Therapist.full_name,
            Therapist.designation,
            Therapist.registration_number,
            Therapist.registration_body,
            Therapist.provisional,
            supervisor.full_name.label("supervisor_name"),
            supervisor.designation.label("supervisor_designation"),
            supervisor.registration_number.label("supervisor_number"),
            supervisor.registration_body.label("supervisor_body"),
        )
        .join(Participant, Participant.id == Allocation.participant_id)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .outerjoin(supervisor, supervisor.id == Therapist.supervisor_id)
        .where(Allocation.payment_id == payment_id, Allocation.kind == AllocationKind.PAID)
        .order_by(Appointment.starts_at, Participant.id, Allocation.id)
    )
    return [
        ReceiptLine(
            date_of_service=to_local(row.starts_at).date(),
            attendance=row.attendance,
            kind=row.kind,
            minutes=round((row.ends_at - row.starts_at).total_seconds() / 60),
            therapist=Practitioner(row.full_name, row.designation, row.registration_number, row.registration_body),
            supervisor=Practitioner(
                row.supervisor_name, row.supervisor_designation, row.supervisor_number, row.supervisor_body
            )
            if row.provisional and row.supervisor_name
            else None,
            amount=row.amount,
        )
        for row in rows
    ]


def receipt_filename(receipt: Receipt) -> str:
    """ "receipt-000042.pdf": the number only, never the client's name."""
    return documents.file_name("receipt", receipt.number, extension="pdf")


def receipt_html(receipt: Receipt, *, now: dt.datetime | None = None) -> str:
    """The receipt as a complete HTML document for the PDF writer, in the client's language."""
    config = current_app.config
    with force_locale(receipt.language):
        return render_template(
            PDF_TEMPLATE,
            language=receipt.language,
            receipt=receipt,
            method=choice_label(receipt.method),
            services=[description(line.attendance, line.kind, line.minutes) for line in receipt.lines],
            practice_name=config["PRACTICE_NAME"],
            practice_address=config["PRACTICE_ADDRESS"],
            practice_phone=config["PRACTICE_PHONE"],
            issued_on=to_local(now or utcnow()).date(),
        )


def receipt_pdf(session: Session, payment_id: int, *, actor: Actor | None = None) -> documents.Document:
    """The receipt's PDF, recorded in the audit trail: as the signed-in user's export, or, for a
    client's link (`actor` LINK_ACTOR), as a view by that link."""
    receipt = receipt_of(session, payment_id)
    document = documents.pdf_document(
        session,
        receipt_html(receipt),
        filename=receipt_filename(receipt),
        export=None if actor else documents.Export(AUDITED_ENTITY, payment_id),
    )
    if actor:
        record_event(session, action=AuditAction.VIEW, entity=AUDITED_ENTITY, entity_id=payment_id, actor=actor)
    return document


@dataclasses.dataclass(frozen=True)
class DeskPayment:
    """A client's payment taken by the staff: the payment, its receipt, the emailed link (None: no email)."""

    payment: Payment
    receipt: Receipt
    link: ReceiptLink | None


def take_client_payment(session: Session, **values) -> DeskPayment:
    """Record a client's payment (`payments.record_client_payment`: first in, first out, with a
    receipt number) and email its receipt; the caller commits. The payments import records
    payments without emailing (its receipts are sent from the receipts screen)."""
    payment = payments.record_client_payment(session, **values)
    receipt = receipt_of(session, payment.id)
    return DeskPayment(payment, receipt, _email_link(session, payment, receipt))


def send_receipt(session: Session, payment: Payment, now: dt.datetime | None = None) -> ReceiptLink | None:
    """Email the client a new link to the payment's receipt (through the outbox, after the
    caller commits). None when the client has no email address: no link, nothing queued."""
    return _email_link(session, payment, receipt_of(session, payment.id), now)


def _email_link(
    session: Session, payment: Payment, receipt: Receipt, now: dt.datetime | None = None
) -> ReceiptLink | None:
    now = now or utcnow()
    if not receipt.client_email:
        return None
    link = LINK.issue(
        session,
        ReceiptLink(
            payment_id=payment.id,
            created_at=now,
            expires_at=now + dt.timedelta(days=current_app.config["RECEIPT_LINK_VALID_DAYS"]),
        ),
    )
    outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=receipt.client_email,
        template=TEMPLATE,
        language=receipt.language,
        context={"receipt_link_id": link.id},
        dedupe_key=f"receipt:{link.id}",
        client_id=payment.client_id,
        now=now,
    )
    return link


def open_link(
    session: Session, token: str | None, now: dt.datetime | None = None, *, mark_opened: bool = True
) -> tuple[LinkState, int | None]:
    """Where this token leads: (OPEN, the payment's id), marking the link opened the first time
    (unless only checked); (EXPIRED, None) past its date; (UNKNOWN, None) for anything else."""
    now = now or utcnow()
    link = LINK.find(session, ReceiptLink, token)
    if link is None:
        return LinkState.UNKNOWN, None
    if link.expires_at <= now:
        return LinkState.EXPIRED, None
    if mark_opened and link.opened_at is None:
        link.opened_at = now
    return LinkState.OPEN, link.payment_id


def receipt_variables(session: Session, context: dict, language: str) -> dict:
    """What the receipt email says (builder of the outbox's renderer), or NoLongerDue once the
    link has expired."""
    link = session.get(ReceiptLink, context["receipt_link_id"])
    if link is None:
        raise NoLongerDue(_l("the receipt link was deleted"))
    if link.expires_at <= utcnow():
        raise NoLongerDue(_l("the receipt link has expired"))
    payment = session.get(Payment, link.payment_id)
    return {
        "client_name": payment.client.full_name,
        "receipt_number": payment.receipt_number,
        "receipt_url": LINK.url(link),
        "valid_until": format_date(to_local(link.expires_at).date(), format="long", locale=language),
    }


@dataclasses.dataclass(frozen=True)
class ReceiptRow:
    payment_id: int
    number: str
    received_on: dt.date
    client_name: str
    amount: Decimal
    currency: str


def latest_receipts(session: Session, limit: int = 100) -> list[ReceiptRow]:
    """The newest receipts (by payment date, then number), for the staff's list, in one query."""
    rows = session.execute(
        select(
            Payment.id, Payment.receipt_number, Payment.received_on, Client.full_name, Payment.amount, Payment.currency
        )
        .join(Client, Client.id == Payment.client_id)
        .where(Payment.receipt_number.is_not(None))
        .order_by(Payment.received_on.desc(), Payment.id.desc())
        .limit(limit)
    )
    return [ReceiptRow(*row) for row in rows]
