"""The rooms and sites a dropdown offers: one rule for every screen.

The same rule as for therapists (`services.people.choices`): a form that writes a record offers the
active rooms of the active sites plus the one it already holds; a filter over history offers every
site. An on-site booking offers first the rooms its therapist has reserved at that time
(`booking_rooms`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from flask_babel import gettext
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin_app.models import Room, RoomReservation, Site, Therapist
from admin_app.services.platform.bounds import record_id
from admin_app.services.rooms.booking import falls_in


def room_choices(session: Session, *, selected=None) -> list[tuple[int, str]]:
    """(id, "Site · Room") of the rooms a new or edited record may name: the active rooms of the
    active sites, by site and room. `selected` is the form's current value as typed (anything that
    is no id is ignored)."""
    return [(option.id, option.label) for option in booking_rooms(session, selected=selected)]


def site_filter_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every site, by name: what a filter over past records offers."""
    return [(row.id, row.name) for row in session.execute(select(Site.id, Site.name).order_by(Site.name))]


def room_filter_choices(session: Session) -> list[tuple[int, str]]:
    """(id, "Site · Room") of every room, in use or not: what a filter over reservations offers."""
    query = select(Room.id, Room.name, Site.name.label("site")).join(Site, Room.site_id == Site.id)
    return [(row.id, f"{row.site} · {row.name}") for row in session.execute(query.order_by(Site.name, Room.name))]


@dataclasses.dataclass(frozen=True)
class RoomOption:
    """A room an on-site booking may take: `label` is "Site · Room", followed by the therapist's
    reservation when they hold the room then (`reserved`)."""

    id: int
    label: str
    reserved: bool = False


def booking_rooms(
    session: Session,
    *,
    therapist_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    selected=None,
) -> list[RoomOption]:
    """The rooms an on-site appointment of this therapist from `start` to `end` (clinic wall
    times) may take, in the order a booking offers them: first the rooms the therapist has
    reserved at that time (by the reservation's start, then site and room), then every other
    active room of every active site (a network's therapist works at several), by site and room.
    Without a therapist or a time, simply the active rooms by site and room.

    A reservation counts when it is in force on the start's date and its hours overlap the
    appointment's, even partly: the rule that warns when the room is someone else's
    (`booking.falls_in`), so a room is never offered as the therapist's and, booked by another,
    not warned about. `selected` (the form's value as typed) keeps the room a record already
    holds, even one no longer in use.
    """
    chosen = record_id(selected)
    in_use = Room.active & Site.active
    query = (
        select(Room.id, Room.name, Site.name.label("site"))
        .join(Site, Room.site_id == Site.id)
        .where(or_(in_use, Room.id == chosen) if chosen else in_use)
        .order_by(Site.name, Room.name)
    )
    rooms = {row.id: f"{row.site} · {row.name}" for row in session.execute(query)}
    candidates = _reservations_on(session, therapist_id, start) if therapist_id and start and end else []
    return reserved_first(rooms, candidates, therapist_id=therapist_id, start=start, end=end)


def reserved_first(
    rooms: dict[int, str],
    reservations: Iterable[tuple[RoomReservation, str]],
    *,
    therapist_id: int | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[RoomOption]:
    """`rooms` ({id: "Site · Room"}, in their order) with those the therapist holds over [start,
    end) first: the order `booking_rooms` gives, from reservations given with their holder's name."""
    held: dict[int, tuple[str, RoomReservation]] = {}
    if therapist_id is not None and start is not None and end is not None and end > start:
        found = [
            (reservation, name)
            for reservation, name in reservations
            if reservation.therapist_id == therapist_id
            and reservation.room_id in rooms
            and falls_in(reservation, start, end)
        ]
        found.sort(key=lambda pair: (pair[0].starts_time, rooms[pair[0].room_id]))
        for reservation, name in found:
            held.setdefault(reservation.room_id, (name, reservation))
    first = [RoomOption(id_, _reserved_label(rooms[id_], *holder), True) for id_, holder in held.items()]
    return first + [RoomOption(id_, label) for id_, label in rooms.items() if id_ not in held]


def _reservations_on(session: Session, therapist_id: int, start: dt.datetime) -> list:
    """The therapist's reservations in force on the start's date, with the therapist's name."""
    day = start.date()
    query = (
        select(RoomReservation, Therapist.full_name)
        .join(Therapist, Therapist.id == RoomReservation.therapist_id)
        .where(
            RoomReservation.therapist_id == therapist_id,
            RoomReservation.weekday == day.isoweekday(),
            RoomReservation.valid_from <= day,
            or_(RoomReservation.valid_until.is_(None), RoomReservation.valid_until >= day),
        )
    )
    return [(reservation, name) for reservation, name in session.execute(query)]


def _reserved_label(room: str, therapist: str, reservation: RoomReservation) -> str:
    return gettext(
        "%(room)s · reserved by %(therapist)s, %(start)s–%(end)s",
        room=room,
        therapist=therapist,
        start=f"{reservation.starts_time:%H:%M}",
        end=f"{reservation.ends_time:%H:%M}",
    )
