"""What a booking says about reservations: an on-site appointment in a room another therapist has
reserved at that time is saved, and the person booking is warned, naming the reservation.

A reservation holds a room on a weekday between two clinic-local times from a date until an optional
one (models.rooms); an appointment falls in it when its local date is within those dates, on that
weekday, and its local times overlap the reservation's. The saved appointments are read with their
rooms' reservations in two statements, whatever their number; an import's rows
(`clashes_with_reservations`) in one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AppointmentStatus, Modality, RoomReservation, Therapist
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.rooms.reservations import weekday_name


@dataclasses.dataclass(frozen=True)
class RoomBooking:
    """An on-site booking of a room, saved or about to be (an import's row)."""

    room_id: int
    therapist_id: int
    starts_at: dt.datetime  # aware
    ends_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Clash:
    """A booking inside another therapist's reservation of its room."""

    booking: RoomBooking
    reservation: RoomReservation
    holder: str  # the reservation's therapist

    @property
    def local_start(self) -> dt.datetime:
        return to_local(self.booking.starts_at)

    def params(self) -> dict[str, str]:
        """What a message about it names: the room, the holder, the reserved day and hours, when."""
        return {
            "room": str(self.reservation.room),
            "therapist": self.holder,
            "weekday": weekday_name(self.reservation.weekday),
            "start": f"{self.reservation.starts_time:%H:%M}",
            "end": f"{self.reservation.ends_time:%H:%M}",
            "when": f"{self.local_start:%Y-%m-%d %H:%M}",
        }


def reserved_by_others(session: Session, appointment_ids: Iterable[int]) -> list[str]:
    """One warning per saved on-site appointment that falls in another therapist's reservation."""
    ids = sorted(set(appointment_ids))
    if not ids:
        return []
    appointments = session.scalars(
        select(Appointment).where(
            Appointment.id.in_(ids),
            Appointment.modality == Modality.ON_SITE,
            Appointment.room_id.is_not(None),
            Appointment.status != AppointmentStatus.CANCELLED,
        )
    ).all()
    bookings = [RoomBooking(a.room_id, a.therapist_id, a.starts_at, a.ends_at) for a in appointments]
    return [
        _l(
            "Room %(room)s is reserved by %(therapist)s on %(weekday)s from %(start)s to %(end)s: "
            "the appointment of %(when)s is saved; agree on the room with them.",
            **clash.params(),
        )
        for clash in clashes_with_reservations(session, bookings)
    ]


def clashes_with_reservations(session: Session, bookings: Sequence[RoomBooking]) -> list[Clash]:
    """Each booking that falls in a reservation of its room held by another therapist, in the
    order of `bookings`; the reservations of all their rooms are read in one statement."""
    if not bookings:
        return []
    reservations = defaultdict(list)
    query = (
        select(RoomReservation, Therapist.full_name)
        .join(Therapist, Therapist.id == RoomReservation.therapist_id)
        .where(RoomReservation.room_id.in_({booking.room_id for booking in bookings}))
    )
    for reservation, holder in session.execute(query):
        reservations[reservation.room_id].append((reservation, holder))
    clashes = []
    for booking in bookings:
        start, end = to_local(booking.starts_at), to_local(booking.ends_at)
        for reservation, holder in reservations[booking.room_id]:
            if reservation.therapist_id != booking.therapist_id and falls_in(reservation, start, end):
                clashes.append(Clash(booking, reservation, holder))
    return clashes


def in_force(reservation: RoomReservation, day: dt.date) -> bool:
    """The reservation holds its room on this clinic date."""
    return (
        day.isoweekday() == reservation.weekday
        and reservation.valid_from <= day
        and (reservation.valid_until is None or day <= reservation.valid_until)
    )


def falls_in(reservation: RoomReservation, start: dt.datetime, end: dt.datetime) -> bool:
    """The clinic-local [start, end) overlaps the reservation's occurrence on the start's date."""
    return (
        in_force(reservation, start.date())
        and start.time() < reservation.ends_time
        and (end.time() > reservation.starts_time or end.date() > start.date())
    )
