"""Room reservations from a spreadsheet: one row per reservation (a therapist, by email, holds a
site's room on a weekday between two local times, from a date until an optional one).

Every row goes through the rule of the screen (`services.rooms.reservations.prepare_reservation`),
against the stored reservations, and against the file's earlier rows with the same overlap rule.
Nothing is matched: importing the same file twice refuses its rows as overlapping themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from babel.dates import get_day_names
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models import Room, RoomReservation, Site, Therapist
from admin_app.services.imports import values
from admin_app.services.imports.reading import Table, header_key
from admin_app.services.imports.report import Action, ImportPlan
from admin_app.services.imports.rows import Cells, chunks, report_missing_columns
from admin_app.services.imports.values import CellError
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.rooms import reservations

COLUMNS: dict[str, tuple[str, ...]] = {
    "therapist_email": ("correo_terapeuta",),
    "site": ("sede",),
    "room": ("consultorio",),
    "weekday": ("dia",),
    "from": ("desde",),
    "to": ("hasta",),
    "valid_from": ("vigente_desde",),
    "valid_until": ("vigente_hasta",),
}
REQUIRED: tuple[str, ...] = ("therapist_email", "site", "room", "weekday", "from", "to", "valid_from")
KEY_COLUMNS: tuple[str, ...] = ("therapist_email", "site", "room", "weekday", "from", "to")  # what tells the rows apart
# The rule's field -> the file's column.
FIELD_COLUMNS = {
    "room": "room",
    "therapist": "therapist_email",
    "weekday": "weekday",
    "starts_time": "from",
    "ends_time": "to",
    "valid_from": "valid_from",
    "valid_until": "valid_until",
}
DAY_LANGUAGES = ("en", "es", "fr")
# "3", "miercoles", "Mercredi", "WEDNESDAY": the ISO weekday, names folded like headers.
WEEKDAY_NAMES = {str(day): day for day in range(1, 8)} | {
    header_key(name): index + 1
    for language in DAY_LANGUAGES
    for index, name in get_day_names("wide", locale=language).items()
}
TIME_FORMATS = ("%H:%M", "%H:%M:%S")  # an Excel time cell reads as HH:MM:SS


@dataclasses.dataclass(frozen=True)
class Planned:
    row: int
    reservation: RoomReservation
    therapist_name: str


def weekday(value: str) -> int:
    found = WEEKDAY_NAMES.get(header_key(values.required(value)))
    if found is None:
        raise CellError(_l("%(value)s is not a day of the week (1 Monday to 7 Sunday, or its name)", value=value))
    return found


def local_time(value: str) -> dt.time:
    values.required(value)
    for pattern in TIME_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).time()
        except ValueError:
            continue
    raise CellError(_l("%(value)s is not a time as HH:MM", value=value))


def plan(session: Session, table: Table) -> ImportPlan:
    result = ImportPlan(kind="reservations")
    report_missing_columns(result, table, REQUIRED, COLUMNS)
    parsed = []
    for row in table.checked_rows():
        cells = Cells(result, table, row)
        fields = {
            "email": cells("therapist_email", values.email, is_required=True),
            "site": cells("site", values.text, max_length=120),
            "room": cells("room", values.text, max_length=120),
            "weekday": cells("weekday", weekday),
            "starts_time": cells("from", local_time),
            "ends_time": cells("to", local_time),
            "valid_from": cells("valid_from", values.local_date),
            "valid_until": cells("valid_until", values.local_date) if row.values.get("valid_until") else None,
        }
        parsed.append((row, cells, fields))

    therapists = _therapists(session, {fields["email"] for _row, cells, fields in parsed if cells.ok})
    rooms = _rooms(session)
    planned: list[Planned] = []
    for row, cells, fields in parsed:
        if not cells.ok:
            continue
        therapist = therapists.get(fields["email"])
        if therapist is None:
            cells.fail("therapist_email", _l("no therapist has the email %(value)s", value=fields["email"]))
        room = rooms.get((header_key(fields["site"]), header_key(fields["room"])))
        if room is None:
            cells.fail(
                "room",
                _l("%(site)s has no room %(room)s (import the rooms first)", site=fields["site"], room=fields["room"]),
            )
        if not cells.ok:
            continue
        reservation = RoomReservation(
            room_id=room.id,
            therapist_id=therapist.id,
            weekday=fields["weekday"],
            starts_time=fields["starts_time"],
            ends_time=fields["ends_time"],
            valid_from=fields["valid_from"],
            valid_until=fields["valid_until"],
        )
        reservation.room, reservation.therapist = room, therapist
        try:
            reservations.prepare_reservation(session, reservation)
        except RuleViolation as error:
            cells.fail(FIELD_COLUMNS.get(error.field, "room"), error.message)
            continue
        earlier = next((p for p in planned if reservations.overlaps(reservation, p.reservation)), None)
        if earlier is not None:
            message = reservations.overlap_message(room, earlier.therapist_name, earlier.reservation)
            cells.fail("from", _l("%(message)s (row %(row)d)", message=message, row=earlier.row))
            continue
        planned.append(Planned(row.number, reservation, therapist.full_name))
        result.actions[row.number] = Action.CREATE
        result.changes.append(reservation)
    return result


def apply(session: Session, plan: ImportPlan) -> None:
    session.add_all(plan.changes)
    session.flush()


def _therapists(session: Session, emails: set[str]) -> dict[str, Therapist]:
    found: dict[str, Therapist] = {}
    for chunk in chunks(emails):
        for therapist in session.scalars(select(Therapist).where(func.lower(Therapist.email).in_(chunk))):
            found[therapist.email.lower()] = therapist
    return found


def _rooms(session: Session) -> dict[tuple[str, str], Room]:
    """Every room by (site, room) name folded like a header (accents aside): a practice has few."""
    query = select(Room).join(Site, Room.site_id == Site.id)
    return {(header_key(room.site.name), header_key(room.name)): room for room in session.scalars(query)}
