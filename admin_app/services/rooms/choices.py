"""The rooms and sites a dropdown offers: one rule for every screen.

The same rule as for therapists (`services.people.choices`): a form that writes a record offers the
active rooms plus the one it already holds; a filter over history offers every site.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin_app.models import Room, Site
from admin_app.services.platform.bounds import record_id


def room_choices(session: Session, *, selected=None) -> list[tuple[int, str]]:
    """(id, "Site · Room") of the rooms a new or edited record may name, by site and room.
    `selected` is the form's current value as typed (anything that is no id is ignored)."""
    chosen = record_id(selected)
    query = (
        select(Room.id, Room.name, Site.name.label("site"))
        .join(Site, Room.site_id == Site.id)
        .where(or_(Room.active, Room.id == chosen) if chosen else Room.active)
        .order_by(Site.name, Room.name)
    )
    return [(row.id, f"{row.site} · {row.name}") for row in session.execute(query)]


def site_filter_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every site, by name: what a filter over past records offers."""
    return [(row.id, row.name) for row in session.execute(select(Site.id, Site.name).order_by(Site.name))]


def room_filter_choices(session: Session) -> list[tuple[int, str]]:
    """(id, "Site · Room") of every room, in use or not: what a filter over reservations offers."""
    query = select(Room.id, Room.name, Site.name.label("site")).join(Site, Room.site_id == Site.id)
    return [(row.id, f"{row.site} · {row.name}") for row in session.execute(query.order_by(Site.name, Room.name))]
