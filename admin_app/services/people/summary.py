"""A client at a glance, for the staff's client page (issue 21): the next appointments and the
history, who pays and the authorizations, the linked clients, the Bad Fit entries and the messages
sent.

Each part is one statement, whatever the number of the client's appointments or messages: a long
list is cut to its first rows (`SHOWN`), its full length counted in the same statement (a window
count), and the page links to the whole list. The figures come from their owners: authorizations
from `billing.authorizations`, the payer of new bookings by `billing.linking.default_payer`'s rule, the
Bad Fit entries from `tasks.bad_fit`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    BadFitEntry,
    BadFitState,
    BilledTo,
    Channel,
    Client,
    ClientLink,
    LinkKind,
    MessageStatus,
    Modality,
    OutboundMessage,
    Participant,
    Payer,
    PaymentSource,
    Room,
    Site,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.billing.authorizations import AuthorizationRow, authorization_rows
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.platform.labels import INVERSE_LINK, choice_label
from admin_app.services.tasks.bad_fit import entries_of_client

SHOWN = 20  # rows of the history and of the messages; the rest are on the lists the page links to
NEXT_SHOWN = 10  # next appointments (a weekly series booked for a year would be 52)

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Shown(Generic[T]):
    """The first rows of a list, and how many it has in all."""

    rows: list[T]
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


@dataclasses.dataclass(frozen=True)
class AppointmentLine:
    """One of the client's appointments, as the client took part in it."""

    appointment_id: int
    starts_at: dt.datetime  # clinic time
    ends_at: dt.datetime  # clinic time
    therapist: str
    kind: AppointmentKind
    modality: Modality
    room: str | None  # "Site · Room", for on-site appointments
    status: AppointmentStatus
    attendance: Attendance
    fee: Decimal
    currency: str
    payer: str | None  # who is billed; None: the client


@dataclasses.dataclass(frozen=True)
class SourceLine:
    """One of the client's payment sources; `payer` None is self-pay."""

    payer: str | None
    member_number: str | None
    policy_number: str | None
    active: bool
    bills_new_appointments: bool  # the payer a booking today is billed to


@dataclasses.dataclass(frozen=True)
class LinkLine:
    """Another client linked to this one, and what they are to each other, read from this client's side."""

    kind: LinkKind
    from_this_client: bool  # "this client <kind> the other"; else "this client <inverse of kind> the other"
    client_id: int
    full_name: str
    client_number: str

    @property
    def relation(self):
        """ "guardian of" (this client is Luis's guardian) or "in the care of" (Ana is this client's guardian)."""
        return choice_label(self.kind) if self.from_this_client else INVERSE_LINK[self.kind.value]


@dataclasses.dataclass(frozen=True)
class MessageLine:
    """An email or SMS written for the client (a reminder, a survey invitation, a receipt ...)."""

    id: int
    template: str
    channel: Channel
    recipient: str
    status: MessageStatus
    created_at: dt.datetime  # clinic time
    sent_at: dt.datetime | None  # clinic time


@dataclasses.dataclass(frozen=True)
class ClientSummary:
    next_appointments: Shown[AppointmentLine]
    history: Shown[AppointmentLine]  # past appointments, newest first
    payment_sources: list[SourceLine]  # active first
    authorizations: list[AuthorizationRow]
    links: list[LinkLine]
    bad_fit: list[BadFitEntry]  # open first, with their therapist and resolver loaded
    messages: Shown[MessageLine]  # newest first

    @property
    def self_pay(self) -> bool:
        """New appointments are billed to the client: no active source names an active payer."""
        return not any(source.bills_new_appointments for source in self.payment_sources)

    @property
    def on_bad_fit_list(self) -> bool:
        return any(entry.state == BadFitState.OPEN for entry in self.bad_fit)


def client_summary(session: Session, client_id: int, *, now: dt.datetime | None = None) -> ClientSummary:
    """What the client's page shows besides the record, in eight statements whatever the client's
    history. `now` (default the clock) splits the next appointments from the history."""
    now = now or utcnow()
    return ClientSummary(
        next_appointments=_appointments(session, client_id, coming=True, now=now),
        history=_appointments(session, client_id, coming=False, now=now),
        payment_sources=_payment_sources(session, client_id),
        authorizations=authorization_rows(session, client_id=client_id, today=to_local(now).date()),
        links=_links(session, client_id),
        bad_fit=entries_of_client(session, client_id),
        messages=_messages(session, client_id),
    )


def _shown(session: Session, query: Select, limit: int, line: Callable) -> Shown:
    """The first `limit` rows of `query` made into lines, and the count of all its rows (a window
    count, read before the limit applies: one statement)."""
    rows = session.execute(query.add_columns(func.count().over().label("total")).limit(limit)).all()
    return Shown(rows=[line(row) for row in rows], total=rows[0].total if rows else 0)


def _appointments(session: Session, client_id: int, *, coming: bool, now: dt.datetime) -> Shown[AppointmentLine]:
    """The next appointments (not cancelled, the client still expected), soonest first; or the past
    ones, whatever became of them, the latest first."""
    query = (
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.ends_at,
            Therapist.full_name.label("therapist"),
            Appointment.kind,
            Appointment.modality,
            Room.name.label("room"),
            Site.name.label("site"),
            Appointment.status,
            Participant.attendance,
            Participant.fee,
            Participant.currency,
            case((Participant.billed_to == BilledTo.PAYER, Payer.name)).label("payer"),
        )
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .outerjoin(Room, Room.id == Appointment.room_id)
        .outerjoin(Site, Site.id == Room.site_id)
        .outerjoin(Payer, Payer.id == Participant.payer_id)
        .where(Participant.client_id == client_id)
    )
    if coming:
        query = query.where(
            Appointment.starts_at >= now,
            Appointment.status != AppointmentStatus.CANCELLED,
            Participant.attendance == Attendance.EXPECTED,
        ).order_by(Appointment.starts_at, Appointment.id)
        return _shown(session, query, NEXT_SHOWN, _appointment_line)
    query = query.where(Appointment.starts_at < now).order_by(Appointment.starts_at.desc(), Appointment.id.desc())
    return _shown(session, query, SHOWN, _appointment_line)


def _appointment_line(row) -> AppointmentLine:
    return AppointmentLine(
        appointment_id=row.id,
        starts_at=to_local(row.starts_at),
        ends_at=to_local(row.ends_at),
        therapist=row.therapist,
        kind=row.kind,
        modality=row.modality,
        room=None if row.room is None else f"{row.site} · {row.room}",
        status=row.status,
        attendance=row.attendance,
        fee=row.fee,
        currency=row.currency,
        payer=row.payer,
    )


def _payment_sources(session: Session, client_id: int) -> list[SourceLine]:
    """The client's sources, active first; the one new bookings are billed to is marked: the first
    active source, by id, of an active payer (`linking.default_payer`'s pick, read off these rows)."""
    rows = session.execute(
        select(
            PaymentSource.payer_id,
            Payer.name,
            PaymentSource.member_number,
            PaymentSource.policy_number,
            PaymentSource.active,
            Payer.active,
        )
        .outerjoin(Payer, Payer.id == PaymentSource.payer_id)
        .where(PaymentSource.client_id == client_id)
        .order_by(PaymentSource.active.desc(), PaymentSource.id)
    ).all()
    billing = next((index for index, row in enumerate(rows) if row[4] and row[5]), None)
    return [
        SourceLine(name, member_number, policy_number, active, index == billing)
        for index, (_payer_id, name, member_number, policy_number, active, _payer_active) in enumerate(rows)
    ]


def _links(session: Session, client_id: int) -> list[LinkLine]:
    """Both sides of each link (this client's `links` and `linked_from`), by the other client's name."""
    from_this_client = ClientLink.client_id == client_id
    other = case((from_this_client, ClientLink.related_client_id), else_=ClientLink.client_id)
    rows = session.execute(
        select(ClientLink.kind, from_this_client.label("mine"), Client.id, Client.full_name, Client.client_number)
        .join(Client, Client.id == other)
        .where(or_(from_this_client, ClientLink.related_client_id == client_id))
        .order_by(Client.full_name, Client.id, ClientLink.kind)
    )
    return [LinkLine(kind, bool(mine), other_id, name, number) for kind, mine, other_id, name, number in rows]


def _messages(session: Session, client_id: int) -> Shown[MessageLine]:
    query = (
        select(
            OutboundMessage.id,
            OutboundMessage.template,
            OutboundMessage.channel,
            OutboundMessage.recipient,
            OutboundMessage.status,
            OutboundMessage.created_at,
            OutboundMessage.sent_at,
        )
        .where(OutboundMessage.client_id == client_id)
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
    )
    return _shown(
        session,
        query,
        SHOWN,
        lambda row: MessageLine(
            id=row.id,
            template=row.template,
            channel=row.channel,
            recipient=row.recipient,
            status=row.status,
            created_at=to_local(row.created_at),
            sent_at=None if row.sent_at is None else to_local(row.sent_at),
        ),
    )
