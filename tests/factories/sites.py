"""Sites and their rooms."""

from __future__ import annotations

import datetime as dt

from admin_app.extensions import db
from admin_app.models import Room, RoomReservation, Site, Therapist
from tests.factories.sequence import next_number


def make_site(name: str | None = None, rooms: tuple[str, ...] = ("Room 1",)) -> Site:
    site = Site(name=name or f"Site {next_number()}", rooms=[Room(name=room) for room in rooms])
    db.session.add(site)
    db.session.flush()
    return site


def make_room(name: str = "Room 1") -> Room:
    """A room of a site of its own: where an on-site appointment takes place."""
    return make_site(rooms=(name,)).rooms[0]


def make_reservation(
    room: Room,
    therapist: Therapist,
    weekday: int,
    hours: tuple[str, str],
    valid_from: dt.date,
    valid_until: dt.date | None = None,
) -> RoomReservation:
    """`therapist` holds `room` every ISO `weekday` (1 Monday) between two local "HH:MM" times."""
    reservation = RoomReservation(
        room=room,
        therapist=therapist,
        weekday=weekday,
        starts_time=dt.time.fromisoformat(hours[0]),
        ends_time=dt.time.fromisoformat(hours[1]),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    db.session.add(reservation)
    db.session.flush()
    return reservation
