"""What the book already holds around the file's rows, in a handful of queries: the appointments
of the file's therapists in its time span (with all their participants), those of its clients with
other therapists (with that client's participation only, all a clash needs), and those in the
rooms that updated appointments keep.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    BilledTo,
    CancelledBy,
    Client,
    Modality,
    Participant,
    Room,
    Site,
    Therapist,
)

# Ids per IN (...) list: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
CHUNK = 10_000
Span = tuple[dt.datetime, dt.datetime | None]  # a start, and its end when known


@dataclasses.dataclass
class Seat:
    """A participant as the database holds it."""

    id: int
    client_id: int
    client_name: str
    attendance: Attendance
    fee: Decimal
    currency: str
    cancelled_by: CancelledBy | None
    cancellation_reason: str | None
    billed_to: BilledTo
    payer_id: int | None
    authorization_id: int | None
    authorization_chosen: bool


@dataclasses.dataclass
class Booked:
    """An appointment as the database holds it (participants: all of them, or, for one found
    through a client, that client's)."""

    id: int
    therapist_id: int
    therapist_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: AppointmentKind
    status: AppointmentStatus
    modality: Modality
    room_id: int | None
    room_name: str | None
    seats: list[Seat] = dataclasses.field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.status != AppointmentStatus.CANCELLED


def chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    items = sorted(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _booked_query(spans: Iterable[Span]):
    """Appointments in the time span of `spans` (start, end or None), a day wider at the end: a
    row that keeps an existing appointment's end does not know it yet."""
    timed = list(spans)
    span_start = min(start for start, _ in timed)
    span_end = max(end or start for start, end in timed) + dt.timedelta(days=1)
    return (
        select(
            Appointment.id,
            Appointment.therapist_id,
            Therapist.full_name.label("therapist_name"),
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.kind,
            Appointment.status,
            Appointment.modality,
            Appointment.room_id,
            Site.name.label("site_name"),
            Room.name.label("room_name"),
            Participant.id.label("participant_id"),
            Participant.client_id,
            Client.full_name.label("client_name"),
            Participant.attendance,
            Participant.fee,
            Participant.currency,
            Participant.cancelled_by,
            Participant.cancellation_reason,
            Participant.billed_to,
            Participant.payer_id,
            Participant.authorization_id,
            Participant.authorization_chosen,
        )
        .select_from(Appointment)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .outerjoin(Room, Room.id == Appointment.room_id)
        .outerjoin(Site, Site.id == Room.site_id)
        .where(Appointment.starts_at < span_end, Appointment.ends_at > span_start)
    )


def load_booked(
    session: Session, spans: list[Span], therapist_ids: set[int], client_ids: set[int]
) -> dict[int, Booked]:
    """The appointments the file's rows (their `spans`, therapists and clients) could match or
    clash with, by id.

    Those of the file's therapists come with all their participants; those found through a
    client (another therapist's appointment) with that client's participation only, which is
    all a clash needs.
    """
    booked: dict[int, Booked] = {}
    if not spans:
        return booked
    query = _booked_query(spans)
    for chunk in chunks(therapist_ids):
        rows = session.execute(
            query.outerjoin(Participant, Participant.appointment_id == Appointment.id)
            .outerjoin(Client, Client.id == Participant.client_id)
            .where(Appointment.therapist_id.in_(chunk))
        )
        _collect(booked, rows)
    load_through_clients(session, booked, spans, therapist_ids, client_ids)
    return booked


def load_through_clients(
    session: Session, booked: dict[int, Booked], spans: list[Span], therapist_ids: set[int], client_ids: set[int]
) -> None:
    """Other therapists' appointments of these clients in the time of `spans` (the file's
    therapists' are all read)."""
    by_client = (
        _booked_query(spans)
        .join(Participant, Participant.appointment_id == Appointment.id)
        .join(Client, Client.id == Participant.client_id)
    )
    if len(therapist_ids) <= CHUNK:  # what is read already need not be read again
        by_client = by_client.where(Appointment.therapist_id.not_in(sorted(therapist_ids)))
    for chunk in chunks(client_ids):
        rows = session.execute(by_client.where(Participant.client_id.in_(chunk)))
        _collect(booked, (row for row in rows if row.therapist_id not in therapist_ids))


def load_rooms(session: Session, booked: dict[int, Booked], spans: list[Span], room_ids: set[int]) -> None:
    """The appointments in these rooms in the time of `spans` (the rooms that updated
    appointments keep: their times may change)."""
    query = _booked_query(spans)
    known = set(booked)
    for chunk in chunks(room_ids):
        rows = session.execute(
            query.outerjoin(Participant, Participant.appointment_id == Appointment.id)
            .outerjoin(Client, Client.id == Participant.client_id)
            .where(Appointment.room_id.in_(chunk))
        )
        _collect(booked, (row for row in rows if row.id not in known))


def _collect(booked: dict[int, Booked], rows) -> None:
    for row in rows:
        appointment = booked.get(row.id)
        if appointment is None:
            appointment = booked[row.id] = Booked(
                id=row.id,
                therapist_id=row.therapist_id,
                therapist_name=row.therapist_name,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                kind=row.kind,
                status=row.status,
                modality=row.modality,
                room_id=row.room_id,
                room_name=f"{row.site_name} · {row.room_name}" if row.room_id is not None else None,
            )
        if row.participant_id is not None:
            appointment.seats.append(
                Seat(
                    id=row.participant_id,
                    client_id=row.client_id,
                    client_name=row.client_name,
                    attendance=row.attendance,
                    fee=row.fee,
                    currency=row.currency,
                    cancelled_by=row.cancelled_by,
                    cancellation_reason=row.cancellation_reason,
                    billed_to=row.billed_to,
                    payer_id=row.payer_id,
                    authorization_id=row.authorization_id,
                    authorization_chosen=row.authorization_chosen,
                )
            )
