"""Sites and their rooms."""

from __future__ import annotations

from admin_app.extensions import db
from admin_app.models import Room, Site
from tests.factories.sequence import next_number


def make_site(name: str | None = None, rooms: tuple[str, ...] = ("Room 1",)) -> Site:
    site = Site(name=name or f"Site {next_number()}", rooms=[Room(name=room) for room in rooms])
    db.session.add(site)
    db.session.flush()
    return site


def make_room(name: str = "Room 1") -> Room:
    """A room of a site of its own: where an on-site appointment takes place."""
    return make_site(rooms=(name,)).rooms[0]
