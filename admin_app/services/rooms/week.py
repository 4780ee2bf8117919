"""A room's week: its reservations and the appointments held in it, day by day in clinic time.

Two statements whatever the size: the reservations in force on some day of the week, and the
room's appointments starting that week (not cancelled). Each appointment says whose reservation it
falls in, if any (`services.rooms.booking` reads the same rule at booking time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin_app.models import Appointment, AppointmentStatus, Room, RoomReservation, Therapist
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import NotFound
from admin_app.services.rooms.booking import falls_in, in_force


@dataclasses.dataclass(frozen=True)
class Block:
    reservation_id: int
    therapist: str
    starts: dt.time
    ends: dt.time


@dataclasses.dataclass(frozen=True)
class Booked:
    appointment_id: int
    therapist: str
    starts: dt.datetime  # clinic-local
    ends: dt.datetime
    status: AppointmentStatus
    reserved_by: str | None  # whose reservation it falls in; None: outside any


@dataclasses.dataclass(frozen=True)
class RoomDay:
    day: dt.date
    blocks: tuple[Block, ...]
    appointments: tuple[Booked, ...]


@dataclasses.dataclass(frozen=True)
class RoomWeek:
    room_id: int
    room: str
    monday: dt.date
    days: tuple[RoomDay, ...]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.isoweekday() - 1)


def room_week(session: Session, room_id: int, day: dt.date) -> RoomWeek:
    """The week (Monday to Sunday, clinic dates) holding `day` of room `room_id`; NotFound for no room."""
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound(_l("This room does not exist."))
    monday = monday_of(day)
    sunday = monday + dt.timedelta(days=6)
    reservations = session.execute(
        select(RoomReservation, Therapist.full_name)
        .join(Therapist, Therapist.id == RoomReservation.therapist_id)
        .where(
            RoomReservation.room_id == room_id,
            RoomReservation.valid_from <= sunday,
            or_(RoomReservation.valid_until.is_(None), RoomReservation.valid_until >= monday),
        )
        .order_by(RoomReservation.starts_time)
    ).all()
    appointments = session.execute(
        select(Appointment, Therapist.full_name)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .where(
            Appointment.room_id == room_id,
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.starts_at >= clinic_time.day_start(monday),
            Appointment.starts_at < clinic_time.day_start(sunday + dt.timedelta(days=1)),
        )
        .order_by(Appointment.starts_at)
    ).all()
    days = []
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        held = [(r, name) for r, name in reservations if in_force(r, date)]
        booked = []
        for appointment, name in appointments:
            starts, ends = clinic_time.to_local(appointment.starts_at), clinic_time.to_local(appointment.ends_at)
            if starts.date() != date:
                continue
            holder = next((n for r, n in held if falls_in(r, starts, ends)), None)
            booked.append(Booked(appointment.id, name, starts, ends, appointment.status, holder))
        blocks = tuple(Block(r.id, name, r.starts_time, r.ends_time) for r, name in held)
        days.append(RoomDay(date, blocks, tuple(booked)))
    return RoomWeek(room.id, str(room), monday, tuple(days))
