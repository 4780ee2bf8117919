"""What a booking says about reservations: an on-site appointment in a room another therapist has
reserved at that time is saved, and the person booking is warned, naming the reservation.

A reservation holds a room on a weekday between two clinic-local times from a date until an optional
one (models.rooms); an appointment falls in it when its local date is within those dates, on that
weekday, and its local times overlap the reservation's. The saved appointments are read with their
rooms' reservations in two statements, whatever their number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AppointmentStatus, Modality, RoomReservation, Therapist
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.rooms.reservations import weekday_name


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
    if not appointments:
        return []
    reservations = defaultdict(list)
    query = (
        select(RoomReservation, Therapist.full_name)
        .join(Therapist, Therapist.id == RoomReservation.therapist_id)
        .where(RoomReservation.room_id.in_({a.room_id for a in appointments}))
    )
    for reservation, holder in session.execute(query):
        reservations[reservation.room_id].append((reservation, holder))
    warnings = []
    for appointment in appointments:
        start, end = to_local(appointment.starts_at), to_local(appointment.ends_at)
        for reservation, holder in reservations[appointment.room_id]:
            if reservation.therapist_id != appointment.therapist_id and falls_in(reservation, start, end):
                warnings.append(
                    _l(
                        "Room %(room)s is reserved by %(therapist)s on %(weekday)s from %(start)s to %(end)s: "
                        "the appointment of %(when)s is saved; agree on the room with them.",
                        room=str(reservation.room),
                        therapist=holder,
                        weekday=weekday_name(reservation.weekday),
                        start=f"{reservation.starts_time:%H:%M}",
                        end=f"{reservation.ends_time:%H:%M}",
                        when=f"{start:%Y-%m-%d %H:%M}",
                    )
                )
    return warnings


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
