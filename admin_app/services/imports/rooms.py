"""Sites and their rooms from a spreadsheet, one row per room, matched by name (any case).

A missing site or room is created. A site's address is filled in only when the site has none: an
address that differs from the stored one (beyond case, accents and spacing) is an error, never an
overwrite; the screen changes addresses. Rooms are never renamed, deactivated or moved here.
"""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from admin_app.models import Room, Site
from admin_app.services.imports import values
from admin_app.services.imports.reading import Table, header_key
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import Cells, report_missing_columns

COLUMNS: dict[str, tuple[str, ...]] = {
    "site": ("sede",),
    "room": ("consultorio",),
    "address": ("direccion",),
}
REQUIRED: tuple[str, ...] = ("site", "room")
KEY_COLUMNS: tuple[str, ...] = ("site", "room")  # what tells the rows apart
NAME_LENGTH = 120  # Site.name, Room.name


@dataclasses.dataclass
class NewSite:
    """A site the file creates: its name and address as first written."""

    name: str
    address: str | None


@dataclasses.dataclass(frozen=True)
class Change:
    site: Site | NewSite
    room: str | None  # a room to create in the site; None: the row only fills in the address
    address: str | None  # the address to fill in on a stored site


def same_text(one: str, other: str) -> bool:
    """Two spellings of the same address or name: case, accents and spacing aside."""
    return header_key(one) == header_key(other)


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="rooms")
    report_missing_columns(result, table, REQUIRED, COLUMNS)
    parsed = []
    for row in table.checked_rows():
        cells = Cells(result, table, row)
        site = cells("site", values.text, max_length=NAME_LENGTH)
        room = cells("room", values.text, max_length=NAME_LENGTH)
        address = cells("address", values.text, max_length=500, is_required=False)
        parsed.append((row, cells, site, room, address))

    stored = existing_sites(session, {header_key(site) for _row, _c, site, _r, _a in parsed if site})
    new_sites: dict[str, NewSite] = {}
    first_row: dict[tuple[str, str], int] = {}
    filled: dict[int, str] = {}  # id() of a stored site -> the address an earlier row fills in
    for row, cells, site_name, room_name, address in parsed:
        if not cells.ok:
            continue
        key = (header_key(site_name), header_key(room_name))
        if key in first_row:
            cells.fail("room", _l("%(value)s is already on row %(row)d", value=room_name, row=first_row[key]))
            continue
        first_row[key] = row.number
        site = stored.get(key[0]) or new_sites.get(key[0])
        known_address = None if site is None else site.address or filled.get(id(site))
        if address and known_address and not same_text(address, known_address):
            cells.fail(
                "address",
                _l(
                    "%(site)s already has the address %(address)s; change it on the Sites screen",
                    site=site.name,
                    address=known_address,
                ),
            )
            continue
        if site is None:
            site = new_sites[key[0]] = NewSite(site_name, address)
        elif isinstance(site, NewSite) and address and not site.address:
            site.address = address
        fill_address = address if isinstance(site, Site) and address and not known_address else None
        if fill_address:
            filled[id(site)] = fill_address
        if isinstance(site, Site) and any(same_text(room.name, room_name) for room in site.rooms):
            result.actions[row.number] = Action.UPDATE if fill_address else Action.UNCHANGED
            if fill_address:
                result.changes.append(Change(site, None, fill_address))
            continue
        result.actions[row.number] = Action.CREATE
        result.changes.append(Change(site, room_name, fill_address))
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    created: dict[int, Site] = {}
    for change in plan.changes:
        site = change.site
        if isinstance(site, NewSite):
            if id(site) not in created:
                created[id(site)] = Site(name=site.name, address=site.address)
                session.add(created[id(site)])
            site = created[id(site)]
        if change.address is not None:
            site.address = change.address
        if change.room is not None:
            site.rooms.append(Room(name=change.room))
    session.flush()


def existing_sites(session: Session, keys: set[str]) -> dict[str, Site]:
    """Stored sites by `header_key` of their name, with their rooms. Names are compared in Python:
    the key folds accents, which SQL cannot do on both databases; the practice has few sites."""
    sites = session.scalars(select(Site).options(selectinload(Site.rooms))).all()
    return {key: site for site in sites if (key := header_key(site.name)) in keys}
