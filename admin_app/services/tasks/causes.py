"""What the admin tasks are about right now: one finder per kind of task, each one query.

A finder returns the **causes** of its kind present today: a kind, a subject (the id of what
caused it, or a month), the client and therapist concerned where there is one, and the params the
task's text needs (ids and figures, never names: the list names them in the reader's language).
The scan (services.tasks.scan) compares them with the live tasks; the finders never write.

Each finder reads the figures from the service that owns them (the authorization counts and
status, the ledger's open amounts) rather than working them out again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from flask import current_app
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Authorization,
    BadFitEntry,
    BadFitState,
    BilledTo,
    ClientRequest,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    MessageStatus,
    OutboundMessage,
    Participant,
    Payer,
    PayoutStatement,
    PayoutStatus,
    RequestStatus,
    TaskKind,
)
from admin_app.services.billing.authorizations import AuthorizationStatus, authorization_rows, counts_query
from admin_app.services.billing.ledger import invoice_figures_query
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.money import from_cents
from admin_app.services.rooms.room_use import low_reservations

DRAFTS_SUBJECT = "drafts"
FAILED_SUBJECT = "failed"


@dataclasses.dataclass(frozen=True)
class Cause:
    """Why a task of `kind` about `subject` should be live (see the model's TaskKind for subjects)."""

    kind: TaskKind
    subject: str
    params: dict
    client_id: int | None = None
    therapist_id: int | None = None


def authorization_low(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Authorizations whose status is low: few sessions left, or the end date near."""
    return [
        Cause(
            TaskKind.AUTHORIZATION_LOW,
            str(row.id),
            {"reference": row.reference, "remaining": row.remaining, "valid_until": row.valid_until.isoformat()},
            client_id=row.client_id,
            therapist_id=row.therapist_id,
        )
        for row in authorization_rows(session, today=today)
        if row.status == AuthorizationStatus.LOW
    ]


def extension_requested(
    session: Session, *, today: dt.date, now: dt.datetime, ids: list[int] | None = None
) -> list[Cause]:
    """Authorizations waiting for the payer's answer: an extension was requested and none is recorded
    (of `ids` only, when given: the one a therapist just said documents were submitted for).

    Their status is "extension requested" (`authorizations.status_case`: not closed, not expired,
    requested), which needs no counts, so this reads the three columns instead of every count."""
    extension = aliased(Authorization)
    query = select(
        Authorization.id,
        Authorization.reference,
        Authorization.client_id,
        Authorization.therapist_id,
        Authorization.extension_requested_at,
    ).where(
        Authorization.extension_requested_at.is_not(None),
        Authorization.closed_at.is_(None),
        Authorization.valid_until >= today,
        ~exists().where(extension.extends_id == Authorization.id),
    )
    if ids is not None:
        query = query.where(Authorization.id.in_(ids))
    return [
        Cause(
            TaskKind.EXTENSION_REQUESTED,
            str(row.id),
            {"reference": row.reference, "requested_on": to_local(row.extension_requested_at).date().isoformat()},
            client_id=row.client_id,
            therapist_id=row.therapist_id,
        )
        for row in session.execute(query)
    ]


def authorization_expired(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Expired authorizations (not closed, not extended) with sessions still booked: their linked
    participants still expected, plus the client's expected sessions billed to that payer that no
    authorization covers, booked after the end date (`booked` counts both).

    One query: each expired authorization's counts (`counts_query`) beside the client's waiting
    sessions with that payer; which of those fall after the end date is read on the local date
    of their start, here."""
    extension = aliased(Authorization)
    expired = (
        Authorization.closed_at.is_(None),
        Authorization.valid_until < today,
        ~exists().where(extension.extends_id == Authorization.id),
    )
    counted = counts_query(*expired).subquery("counted")
    waiting = (
        select(Participant.client_id, Participant.payer_id, Appointment.starts_at)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(
            Participant.attendance == Attendance.EXPECTED,
            Participant.billed_to == BilledTo.PAYER,
            Participant.authorization_id.is_(None),
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .subquery("waiting")
    )
    query = (
        select(
            Authorization.id,
            Authorization.reference,
            Authorization.client_id,
            Authorization.therapist_id,
            Authorization.valid_until,
            counted.c.scheduled,
            waiting.c.starts_at,
        )
        .join(counted, counted.c.authorization_id == Authorization.id)
        .outerjoin(
            waiting,
            and_(waiting.c.client_id == Authorization.client_id, waiting.c.payer_id == Authorization.payer_id),
        )
        .where((counted.c.scheduled > 0) | waiting.c.starts_at.is_not(None))
        .order_by(Authorization.id)
    )
    found: dict[int, object] = {}
    booked: dict[int, int] = defaultdict(int)
    for row in session.execute(query):
        if row.id not in found:
            found[row.id] = row
            booked[row.id] += row.scheduled
        if row.starts_at is not None and to_local(row.starts_at).date() > row.valid_until:
            booked[row.id] += 1
    return [
        Cause(
            TaskKind.AUTHORIZATION_EXPIRED,
            str(row.id),
            {"reference": row.reference, "valid_until": row.valid_until.isoformat(), "booked": booked[row.id]},
            client_id=row.client_id,
            therapist_id=row.therapist_id,
        )
        for row in found.values()
        if booked[row.id]
    ]


def invoice_overdue(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Per payer, its issued invoices with an open balance (the ledger's) past its terms: due on the
    invoice date + the payer's payment terms, overdue from the day after. One task per payer (staff
    chase a payer, not each of its invoices): how many, the oldest due date, what is open per currency."""
    candidates = select(Invoice.id).where(
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.payer_id.is_not(None),
        Invoice.invoice_date < today,  # terms are 0 days or more: nothing dated today is overdue
    )
    figures = invoice_figures_query(candidates).subquery("figures")
    query = (
        select(
            Invoice.payer_id,
            Payer.name,
            Invoice.invoice_date,
            Payer.payment_terms_days,
            figures.c.open_cents,
            figures.c.currency,
        )
        .join(figures, figures.c.invoice_id == Invoice.id)
        .join(Payer, Payer.id == Invoice.payer_id)
        .where(figures.c.open_cents > 0)
    )
    overdue: dict[int, dict] = {}
    for row in session.execute(query):
        due_on = row.invoice_date + dt.timedelta(days=row.payment_terms_days)
        if due_on >= today:
            continue
        payer = overdue.setdefault(
            row.payer_id, {"name": row.name, "count": 0, "due_on": due_on, "open": defaultdict(int)}
        )
        payer["count"] += 1
        payer["due_on"] = min(payer["due_on"], due_on)
        payer["open"][row.currency] += row.open_cents
    return [
        Cause(
            TaskKind.INVOICE_OVERDUE,
            str(payer_id),
            {
                "payer": figures_of["name"],
                "count": figures_of["count"],
                "due_on": figures_of["due_on"].isoformat(),
                "balances": {
                    currency: str(from_cents(cents)) for currency, cents in sorted(figures_of["open"].items())
                },
            },
        )
        for payer_id, figures_of in sorted(overdue.items())
    ]


def message_failed(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """The messages that failed for good, as one task (a mail server that refuses for an hour fails
    hundreds at once: staff read why and send them again from the outbox, not task by task). Sending
    one again makes it queued: when none is left failed, the cause is gone."""
    count, oldest = session.execute(
        select(func.count(OutboundMessage.id), func.min(OutboundMessage.created_at)).where(
            OutboundMessage.status == MessageStatus.FAILED
        )
    ).one()
    if not count:
        return []
    oldest_on = to_local(oldest).date().isoformat()
    return [Cause(TaskKind.MESSAGE_FAILED, FAILED_SUBJECT, {"count": count, "oldest": oldest_on})]


def bad_fit(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Bad Fit entries still to review."""
    query = select(
        BadFitEntry.id, BadFitEntry.client_id, BadFitEntry.therapist_id, BadFitEntry.reason, BadFitEntry.on
    ).where(BadFitEntry.state == BadFitState.OPEN)
    return [
        Cause(
            TaskKind.BAD_FIT,
            str(row.id),
            {"reason": str(row.reason), "on": row.on.isoformat()},
            client_id=row.client_id,
            therapist_id=row.therapist_id,
        )
        for row in session.execute(query)
    ]


def client_request(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Therapists' requests to activate or deactivate a client, not answered yet."""
    query = select(ClientRequest.id, ClientRequest.client_id, ClientRequest.therapist_id, ClientRequest.action).where(
        ClientRequest.status == RequestStatus.OPEN
    )
    return [
        Cause(
            TaskKind.CLIENT_REQUEST,
            str(row.id),
            {"action": str(row.action)},
            client_id=row.client_id,
            therapist_id=row.therapist_id,
        )
        for row in session.execute(query)
    ]


def payouts_waiting(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Months with payout statements still in draft (waiting for approval), one task per month."""
    query = (
        select(PayoutStatement.month, func.count(PayoutStatement.id).label("count"))
        .where(PayoutStatement.status == PayoutStatus.DRAFT)
        .group_by(PayoutStatement.month)
    )
    return [
        Cause(TaskKind.PAYOUTS_WAITING, row.month, {"month": row.month, "count": row.count})
        for row in session.execute(query)
    ]


def invoice_drafts_old(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Draft invoices created more than INVOICE_DRAFT_TASK_DAYS ago: one task for them all."""
    days = current_app.config["INVOICE_DRAFT_TASK_DAYS"]
    count, oldest = session.execute(
        select(func.count(Invoice.id), func.min(Invoice.created_at)).where(
            Invoice.status == InvoiceStatus.DRAFT, Invoice.created_at < now - dt.timedelta(days=days)
        )
    ).one()
    if not count:
        return []
    params = {"count": count, "oldest": to_local(oldest).date().isoformat(), "days": days}
    return [Cause(TaskKind.INVOICE_DRAFTS_OLD, DRAFTS_SUBJECT, params)]


def reservation_low_use(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Reservations in force whose use over the last 8 weeks is under ROOM_USE_LOW_PERCENT (the
    room-use rule, `room_use.low_reservations`): "release part of this reservation?". One judged on no
    occurrence yet (just created) is not low; one the office released during those weeks is left
    alone until the weeks judged are all after the release (its use before says nothing of what is
    left)."""
    return [
        Cause(
            TaskKind.RESERVATION_LOW_USE,
            str(line.reservation_id),
            {
                "reservation": line.reservation_id,
                "use": str(line.figures.use),
                "reserved_hours": str(line.figures.reserved_hours),
                "used_hours": str(line.figures.used_hours),
                "first_day": line.first_day.isoformat(),
                "last_day": line.last_day.isoformat(),
            },
            therapist_id=line.therapist_id,
        )
        for line in low_reservations(session, today)
        if line.released_on is None or line.released_on < line.first_day
    ]


FINDERS: tuple[Callable[..., list[Cause]], ...] = (
    authorization_low,
    extension_requested,
    authorization_expired,
    invoice_overdue,
    message_failed,
    bad_fit,
    client_request,
    payouts_waiting,
    invoice_drafts_old,
    reservation_low_use,
)


def current_causes(session: Session, *, today: dt.date, now: dt.datetime) -> list[Cause]:
    """Every kind's causes (one query per kind)."""
    return [cause for finder in FINDERS for cause in finder(session, today=today, now=now)]
